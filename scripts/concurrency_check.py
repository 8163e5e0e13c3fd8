#!/usr/bin/env python3
"""Several workers, concurrent users: the pool stays consistent (issue 7).

Runs Odoo as users run it when one process is not enough: two HTTP worker
processes and a cron worker on one PostgreSQL. Against it, eight reps, each a
JSON-RPC client in a process of its own, claim, abandon and move customers of a
pool of two hundred, while the allocation cron is triggered every few seconds.
Then it checks:

* no customer was given twice: at most one assignment per customer during the
  run (an abandoned customer cools down, it cannot come back meanwhile), and
  no two reps were both told they got the same customer;
* no rep ever held more than quota plus discoverer allowance (sampled from
  committed data every few hundred milliseconds, and at the end);
* no customer was lost: the same customers before and after, each in the pool,
  with a rep, or abandoned in cold storage;
* every refusal was a business error (UserError, ValidationError, AccessError,
  MissingError with its message), never a server error; the server log has no
  ERROR or CRITICAL line;
* the run really overlapped: claims and allocations succeeded during it, and
  the serialization failures Odoo retried are counted.

Usage (scripts/check_concurrency.sh sets up the database and calls this):

    python scripts/concurrency_check.py --conf .odoo/concurrency.conf \\
        --db sales_funnel_concurrency --port 8269 --duration 40

Exits non-zero when a check fails.
"""

import argparse
import json
import multiprocessing
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from queue import Empty

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# where scripts/lib.sh found Odoo (find_odoo exports both; odoo is on PYTHONPATH)
ODOO_PATH = os.environ.get("ODOO_PATH", "/opt/odoo")
ODOO_BIN = os.environ.get("ODOO_BIN", os.path.join(ODOO_PATH, "odoo-bin"))
if ODOO_PATH not in sys.path:
    sys.path.insert(0, ODOO_PATH)

CLIENTS = 8
REPS_PER_TEAM = 5  # 2 teams: 10 reps, the first 4 of each team are clients
POOL_SIZE = 200
HELD_PER_REP = 5
QUOTA = 10
ALLOWANCE = 2
PASSWORD = "concurrency"
LOGIN = "concurrency_rep_%02d"
HOLDING_LAYERS = ("resource", "graded", "contacted", "lead", "intent")
LAYER_ORDER = HOLDING_LAYERS + ("signed",)
# what a rep may be told: a business refusal with its message. An AccessError
# or MissingError would mean the addon let a rep act on what is not theirs.
BUSINESS_ERRORS = {
    "odoo.exceptions.UserError",
    "odoo.exceptions.ValidationError",
}
MARK = "[concurrency]"


def say(message):
    print(f"[concurrency] {message}", flush=True)


# ------------------------------------------------------------
# SEED
# ------------------------------------------------------------


def seed(conf, db):
    """Reps in two teams, their customers and a pool of POOL_SIZE customers."""
    import odoo
    from odoo import Command, api

    odoo.tools.config.parse_config(["-c", conf, "-d", db])
    registry = odoo.modules.registry.Registry(db)
    rng = random.Random(7)
    with registry.cursor() as cr:
        env = api.Environment(
            cr, api.SUPERUSER_ID, {"tracking_disable": True, "mail_create_nolog": True}
        )
        if env["res.users"].search_count([("login", "=", LOGIN % 1)]):
            raise SystemExit(f"{db} was seeded already: use a fresh database")
        company = env.company
        company.write(
            {
                "funnel_quota": QUOTA,
                "funnel_discoverer_allowance": ALLOWANCE,
                "funnel_cooldown_days": 90,
                "funnel_auto_allocate": True,
            }
        )
        # the default team's members (the administrator) are not part of this run
        env["crm.team.member"].search([]).write({"active": False})
        rep_group = env.ref("sales_funnel_method.sales_funnel_method_group_rep")
        stages = {
            stage.funnel_layer: stage
            for stage in env["crm.stage"].search([("funnel_layer", "!=", False)])
        }
        teams, reps = [], []
        for team_index in range(2):
            members = env["res.users"]
            for index in range(REPS_PER_TEAM):
                number = team_index * REPS_PER_TEAM + index + 1
                members |= (
                    env["res.users"]
                    .with_context(no_reset_password=True)
                    .create(
                        {
                            "name": f"Concurrency Rep {number:02d}",
                            "login": LOGIN % number,
                            "password": PASSWORD,
                            "email": f"{LOGIN % number}@example.com",
                            "groups_id": [Command.link(rep_group.id)],
                        }
                    )
                )
            teams.append(
                env["crm.team"].create(
                    {
                        "name": f"{MARK} Team {team_index + 1}",
                        "crm_team_member_ids": [
                            Command.create({"user_id": user.id}) for user in members
                        ],
                    }
                )
            )
            reps.append(members)
        vals = []
        for team, members in zip(teams, reps, strict=True):
            for rep in members:
                for index in range(HELD_PER_REP):
                    vals.append(
                        {
                            "name": f"{MARK} held by {rep.login} {index}",
                            "type": "opportunity",
                            "user_id": rep.id,
                            "team_id": team.id,
                            "funnel_grade": rng.choice("abc"),
                            "stage_id": stages[HOLDING_LAYERS[index]].id,
                        }
                    )
        all_reps = reps[0] | reps[1]
        for index in range(POOL_SIZE):
            team = teams[index % 2]
            vals.append(
                {
                    "name": f"{MARK} pool customer {index:03d}",
                    "type": "opportunity",
                    "user_id": False,
                    "team_id": team.id,
                    "funnel_grade": rng.choice("abc"),
                    "stage_id": stages[rng.choice(("resource", "graded"))].id,
                }
            )
        leads = env["crm.lead"].create(vals)
        # a tenth of the pool was found by a rep: the discoverer allowance applies
        found = leads.filtered(lambda lead: not lead.user_id)[::10]
        for lead in found:
            lead.funnel_discoverer_id = rng.choice(all_reps).id
        # the allocation cron: triggered by the run, not by its daily schedule
        cron = env.ref("sales_funnel_method.ir_cron_funnel_daily")
        cron.write({"active": True, "nextcall": "2099-01-01 00:00:00"})
        # the one cron worker runs only this job: the others would keep it busy
        env["ir.cron"].search([("id", "!=", cron.id)]).write({"active": False})
        cr.commit()
        say(
            f"seeded {len(all_reps)} reps in 2 teams, {len(leads) - POOL_SIZE} held "
            f"customers and a pool of {POOL_SIZE}"
        )
        return cron.id


# ------------------------------------------------------------
# THE SERVER
# ------------------------------------------------------------


def start_server(conf, db, port, logfile):
    command = [
        sys.executable,
        ODOO_BIN,
        "-c",
        conf,
        "-d",
        db,
        "--db-filter",
        f"^{db}$",
        "--workers",
        "2",
        "--max-cron-threads",
        "1",
        "--http-port",
        str(port),
        "--gevent-port",
        str(port + 3),
        "--log-level",
        "info",
        "--logfile",
        logfile,
        "--no-database-list",
    ]
    say("starting Odoo: " + " ".join(command[1:]))
    server = subprocess.Popen(command, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"Odoo stopped at start-up (see {logfile})")
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/web/health", timeout=5
            ) as response:
                if response.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(1)
    stop_server(server)
    raise SystemExit(f"Odoo did not answer on port {port} within 120 s (see {logfile})")


def stop_server(server):
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


# ------------------------------------------------------------
# CLIENTS
# ------------------------------------------------------------


class RpcError(Exception):
    def __init__(self, name, message):
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


class Client:
    """A rep's JSON-RPC session (the external API: /jsonrpc, execute_kw)."""

    def __init__(self, url, db, login):
        self.url, self.db = url + "/jsonrpc", db
        self.uid = self.call("common", "login", db, login, PASSWORD)
        if not self.uid:
            raise RuntimeError(f"{login} cannot log in")

    def call(self, service, method, *args):
        payload = json.dumps(
            {
                "jsonrpc": "2.0",
                "method": "call",
                "params": {"service": service, "method": method, "args": args},
                "id": random.randint(1, 10**9),
            }
        ).encode()
        request = urllib.request.Request(
            self.url, payload, {"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=300) as response:
                answer = json.load(response)
        except urllib.error.HTTPError as error:
            raise RpcError(f"HTTP {error.code}", error.reason) from error
        if "error" in answer:
            data = answer["error"].get("data") or {}
            raise RpcError(
                data.get("name", "unknown"),
                data.get("message") or answer["error"].get("message"),
            )
        return answer.get("result")  # absent when the method returns None

    def execute(self, model, method, args, **kwargs):
        return self.call(
            "object",
            "execute_kw",
            self.db,
            self.uid,
            PASSWORD,
            model,
            method,
            args,
            kwargs,
        )


def client_main(number, url, db, duration, seed_value, queue):
    """One rep: claim, move and abandon until the time is up."""
    rng = random.Random(seed_value)
    events = []
    try:
        client = Client(url, db, LOGIN % number)
        stage_by_layer = {
            stage["funnel_layer"]: stage["id"]
            for stage in client.execute(
                "crm.stage",
                "search_read",
                [[("funnel_layer", "!=", False)]],
                fields=["funnel_layer"],
            )
        }
        reason_ids = client.execute("crm.lost.reason", "search", [[]])
        end = time.time() + duration
        while time.time() < end:
            action = rng.choices(("claim", "move", "abandon"), (5, 3, 2))[0]
            lead_id = None
            started = time.time()
            try:
                if action == "claim":
                    # most reps go for the same few customers at the top of the pool
                    pool = client.execute(
                        "crm.lead",
                        "search",
                        [[("funnel_in_pool", "=", True)]],
                        limit=4,
                        order="funnel_grade, id",
                    )
                    if not pool:
                        continue
                    lead_id = rng.choice(pool)
                    client.execute("crm.lead", "action_funnel_claim", [[lead_id]])
                else:
                    mine = client.execute(
                        "crm.lead",
                        "search_read",
                        [
                            [
                                ("user_id", "=", client.uid),
                                ("funnel_layer", "in", list(HOLDING_LAYERS)),
                            ]
                        ],
                        fields=["funnel_layer"],
                    )
                    if not mine:
                        continue
                    lead = rng.choice(mine)
                    lead_id = lead["id"]
                    if action == "move":
                        layer = LAYER_ORDER[LAYER_ORDER.index(lead["funnel_layer"]) + 1]
                        client.execute(
                            "crm.lead",
                            "write",
                            [[lead_id], {"stage_id": stage_by_layer[layer]}],
                        )
                    else:
                        client.execute(
                            "crm.lead",
                            "action_set_lost",
                            [[lead_id]],
                            lost_reason_id=rng.choice(reason_ids),
                        )
                events.append((action, lead_id, "ok", "", started, time.time()))
            except RpcError as error:
                kind = "business" if error.name in BUSINESS_ERRORS else "server"
                events.append(
                    (action, lead_id, kind, str(error)[:300], started, time.time())
                )
        queue.put((number, client.uid, events, None))
    except Exception as error:  # noqa: BLE001 - reported to the driver, which fails
        queue.put((number, None, events, repr(error)))


# ------------------------------------------------------------
# DRIVER
# ------------------------------------------------------------


def connect(db):
    import psycopg2

    connection = psycopg2.connect(dbname=db)
    connection.autocommit = True
    return connection


def snapshot(cr):
    """Our customers: {id: (active, user, layer)}."""
    cr.execute(
        """SELECT id, active, user_id, funnel_layer FROM crm_lead
            WHERE name LIKE %s""",
        [MARK + "%"],
    )
    return {row[0]: row[1:] for row in cr.fetchall()}


def holdings(cr, rep_ids):
    """{rep: (customers held, of which not discovered by the rep)}.

    Only customers a rep discovered may take them past the quota (up to the
    discoverer allowance): the others never exceed the quota.
    """
    cr.execute(
        """SELECT user_id, COUNT(*),
                  COUNT(*) FILTER (WHERE funnel_discoverer_id IS DISTINCT FROM user_id)
             FROM crm_lead
            WHERE active AND user_id = ANY(%s) AND funnel_layer = ANY(%s)
         GROUP BY user_id""",
        [rep_ids, list(HOLDING_LAYERS)],
    )
    return {uid: (total, others) for uid, total, others in cr.fetchall()}


class Sampler(threading.Thread):
    """Reads the committed holdings every few hundred milliseconds and triggers
    the allocation cron every few seconds, until stopped."""

    def __init__(self, db, rep_ids, cron_id, every=3.0):
        super().__init__(daemon=True)
        self.db, self.rep_ids, self.cron_id, self.every = db, rep_ids, cron_id, every
        self.stop = threading.Event()
        self.max_holdings = Counter()
        self.max_undiscovered = Counter()
        self.samples = self.triggers = 0

    def trigger_cron(self, cr, notify_cr):
        cr.execute(
            """INSERT INTO ir_cron_trigger (cron_id, call_at, create_uid, write_uid,
                                             create_date, write_date)
               VALUES (%s, now() at time zone 'UTC', 1, 1,
                       now() at time zone 'UTC', now() at time zone 'UTC')""",
            [self.cron_id],
        )
        # Odoo's cron workers listen on the postgres database (ir.cron._notifydb)
        notify_cr.execute("NOTIFY cron_trigger, %s", [self.db])
        self.triggers += 1

    def run(self):
        connection, notify = connect(self.db), connect("postgres")
        next_trigger = 0.0
        with connection.cursor() as cr, notify.cursor() as notify_cr:
            while not self.stop.is_set():
                for uid, (total, others) in holdings(cr, self.rep_ids).items():
                    self.max_holdings[uid] = max(self.max_holdings[uid], total)
                    self.max_undiscovered[uid] = max(self.max_undiscovered[uid], others)
                self.samples += 1
                if time.time() >= next_trigger:
                    self.trigger_cron(cr, notify_cr)
                    next_trigger = time.time() + self.every
                self.stop.wait(0.25)
        connection.close()
        notify.close()


def collect(queue, processes, timeout):
    """The clients' results; a client that died without one is reported as such.

    :param processes: {client number: its process}
    """
    results, deadline = [], time.time() + timeout
    while len(results) < len(processes) and time.time() < deadline:
        try:
            results.append(queue.get(timeout=2))
        except Empty:
            if not any(p.is_alive() for p in processes.values()) and queue.empty():
                break
    for process in processes.values():
        process.join(timeout=10)
    reported = {number for number, *_rest in results}
    for number, process in processes.items():
        if number not in reported:
            results.append((number, None, [], f"died (exit code {process.exitcode})"))
    return results


def read_log(logfile, offset):
    with open(logfile, encoding="utf-8", errors="replace") as handle:
        handle.seek(offset)
        return handle.read()


CONFLICTS = (
    "could not serialize access",
    "deadlock detected",
    "could not obtain lock",
)


def server_log_errors(log):
    """The ERROR and CRITICAL records of the server log, except the conflicts
    Odoo retries: PostgreSQL's serialization failures, deadlocks and lock
    timeouts, which odoo.sql_db logs as a "bad query" ERROR before
    odoo.service.model.retrying runs the request again (it logs "N tries left"
    at INFO, and "maximum number of tries reached" when it gives up).

    :return: (unexpected error records, Counter of retried conflicts by table)
    """
    records, current = [], None
    for line in log.splitlines():
        if line[:4].isdigit() and line[4:5] == "-":  # a new record
            current = [line]
            records.append(current)
        elif current is not None:
            current.append(line)
    errors, conflicts = [], Counter()
    for record in records:
        head = record[0]
        if " ERROR " not in head and " CRITICAL " not in head:
            continue
        text = "\n".join(record)
        if "odoo.sql_db: bad query" in head and any(c in text for c in CONFLICTS):
            table = re.search(r"(?:UPDATE|FROM|INTO)\s+\"?(\w+)", text)
            conflicts[table.group(1) if table else "?"] += 1
        else:
            errors.append(text[:500])
    return errors, conflicts


def check(failures, condition, message):
    say(("ok   " if condition else "FAIL ") + message)
    if not condition:
        failures.append(message)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conf", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--port", type=int, default=8269)
    parser.add_argument("--duration", type=float, default=40.0)
    parser.add_argument("--logfile", default=None)
    args = parser.parse_args(argv)
    logfile = args.logfile or os.path.join(ROOT, ".odoo", f"{args.db}.log")

    def stopped(signum, _frame):
        # so that the server started below is stopped too (finally)
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, stopped)
    if os.path.exists(logfile):
        os.remove(logfile)

    cron_id = seed(args.conf, args.db)
    connection = connect(args.db)
    cr = connection.cursor()
    cr.execute("SELECT id, login FROM res_users WHERE login LIKE 'concurrency_rep_%%'")
    rep_by_login = {login: uid for uid, login in cr.fetchall()}
    rep_ids = sorted(rep_by_login.values())
    before = snapshot(cr)
    cr.execute("SELECT COALESCE(MAX(id), 0) FROM crm_funnel_assignment")
    last_assignment = cr.fetchone()[0]

    server = start_server(args.conf, args.db, args.port, logfile)
    try:
        log_start = os.path.getsize(logfile)
        url = f"http://127.0.0.1:{args.port}"
        clients = [
            team * REPS_PER_TEAM + index + 1
            for team in range(2)
            for index in range(CLIENTS // 2)
        ]
        sampler = Sampler(args.db, rep_ids, cron_id)
        queue = multiprocessing.get_context("fork").Queue()
        processes = {
            number: multiprocessing.get_context("fork").Process(
                target=client_main,
                args=(number, url, args.db, args.duration, 1000 + number, queue),
            )
            for number in clients
        }
        say(
            f"{len(processes)} clients for {args.duration:.0f} s, allocation cron every 3 s"
        )
        # the clients are forked before the sampler thread starts
        for process in processes.values():
            process.start()
        sampler.start()
        results = collect(queue, processes, timeout=args.duration + 600)
        # the last allocation may still run: let the cron finish before counting
        sampler.stop.set()
        sampler.join()
        time.sleep(2)
        deadline = time.time() + 60
        while time.time() < deadline:
            cr.execute(
                "SELECT COUNT(*) FROM ir_cron_trigger WHERE cron_id = %s", [cron_id]
            )
            if not cr.fetchone()[0]:
                break
            time.sleep(1)
        time.sleep(2)
    finally:
        stop_server(server)
    log = read_log(logfile, log_start)

    # ------------------------------------------------------------
    # CHECKS
    # ------------------------------------------------------------
    failures = []
    client_errors = [
        (number, error) for number, _uid, _events, error in results if error
    ]
    check(
        failures,
        not client_errors,
        f"every client ran to the end {client_errors or ''}",
    )
    outcomes = Counter()
    business = Counter()
    server_errors = []
    claims = defaultdict(list)
    for number, uid, events, _error in results:
        for action, lead_id, kind, message, _start, _end in events:
            outcomes[(action, kind)] += 1
            if kind == "business":
                business[
                    message.split(":", 1)[0] + ": " + message.split(":", 1)[1][:70]
                ] += 1
            elif kind == "server":
                server_errors.append((number, action, lead_id, message))
            if action == "claim" and kind == "ok":
                claims[lead_id].append(uid)
    say(
        "outcomes: "
        + ", ".join(f"{a} {k} {n}" for (a, k), n in sorted(outcomes.items()))
    )
    for message, count in business.most_common(8):
        say(f"  refused {count}x: {message}")

    after = snapshot(cr)
    cr.execute(
        """SELECT lead_id, kind, user_id FROM crm_funnel_assignment
            WHERE id > %s ORDER BY id""",
        [last_assignment],
    )
    assignments = defaultdict(list)
    for lead_id, kind, user_id in cr.fetchall():
        assignments[lead_id].append((kind, user_id))
    kinds = Counter(kind for rows in assignments.values() for kind, _u in rows)
    final_holdings = holdings(cr, rep_ids)

    check(
        failures,
        not server_errors,
        f"no server error ({len(server_errors)}: {server_errors[:3]})",
    )
    check(failures, outcomes[("claim", "ok")] > 0, "reps claimed customers")
    check(failures, outcomes[("move", "ok")] > 0, "reps moved customers")
    check(failures, outcomes[("abandon", "ok")] > 0, "reps abandoned customers")
    check(
        failures,
        kinds["allocation"] > 0,
        f"the cron allocated during the run ({kinds['allocation']})",
    )
    twice = {lead: rows for lead, rows in assignments.items() if len(rows) > 1}
    check(
        failures,
        not twice,
        f"no customer assigned twice ({len(twice)}: {list(twice.items())[:3]})",
    )
    double_claims = {lead: uids for lead, uids in claims.items() if len(uids) > 1}
    check(
        failures,
        not double_claims,
        f"no customer claimed by two reps ({double_claims})",
    )
    unrecorded = [
        (lead, uid)
        for lead, uids in claims.items()
        for uid in uids
        if ("claim", uid) not in assignments.get(lead, [])
    ]
    check(
        failures,
        not unrecorded,
        f"every claim a rep was told of is recorded ({unrecorded[:5]})",
    )
    limit = QUOTA + ALLOWANCE
    totals = sampler.max_holdings | Counter(
        {uid: total for uid, (total, _others) in final_holdings.items()}
    )
    undiscovered = sampler.max_undiscovered | Counter(
        {uid: others for uid, (_total, others) in final_holdings.items()}
    )
    over = {uid: count for uid, count in totals.items() if count > limit}
    check(
        failures,
        not over,
        f"no rep above quota plus allowance ({limit}) in {sampler.samples} samples "
        f"and at the end (max {max(totals.values(), default=0)}; over: {over})",
    )
    over = {uid: count for uid, count in undiscovered.items() if count > QUOTA}
    check(
        failures,
        not over,
        f"no rep above quota ({QUOTA}) with customers they did not discover "
        f"(max {max(undiscovered.values(), default=0)}; over: {over})",
    )
    check(
        failures,
        set(before) == set(after),
        f"no customer lost ({len(before)} before, {len(after)} after)",
    )
    misplaced = [
        (lead, state)
        for lead, state in after.items()
        if not (
            (state[0] and state[2] in HOLDING_LAYERS)  # in the pool or with a rep
            or (state[0] and state[1] and state[2] in ("signed", "implemented"))
            or (not state[0] and state[2] == "abandoned" and not state[1])
        )
    ]
    check(
        failures,
        not misplaced,
        f"every customer in the pool, with a rep or abandoned ({misplaced[:5]})",
    )
    errors, conflicts = server_log_errors(log)
    check(
        failures,
        not errors,
        f"no ERROR in the server log but retried conflicts ({errors[:3]})",
    )
    check(
        failures,
        "maximum number of tries reached" not in log,
        "every serialization failure succeeded within Odoo's retries",
    )
    retries = log.count("tries left, try again")
    overlaps = sum(conflicts.values()) + sum(
        count
        for message, count in business.items()
        if "no longer in the pool" in message or "Another rep is claiming" in message
    )
    check(
        failures,
        overlaps > 0,
        "the run overlapped: conflicts retried or customers taken in the meantime "
        f"({overlaps})",
    )
    say(
        f"conflicts PostgreSQL reported and Odoo retried: {sum(conflicts.values())} "
        f"({', '.join(f'{table} {n}' for table, n in conflicts.most_common())})"
    )
    cron_runs = log.count(f"({cron_id}) done in")
    check(
        failures,
        cron_runs > 1,
        f"the allocation cron ran during the run ({cron_runs} times)",
    )
    say(
        f"serialization failures retried by Odoo: {retries}; cron triggers: {sampler.triggers}; "
        f"assignments: {kinds['allocation']} by allocation, {kinds['claim']} by claim"
    )
    connection.close()
    if failures:
        say(f"{len(failures)} check(s) failed; server log: {logfile}")
        return 1
    say("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
