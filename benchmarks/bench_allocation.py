#!/usr/bin/env python3
"""Benchmark: allocating the customer pool, the addon against Odoo's own assignment.

One run, one database, the same data for both:

* the addon: ``crm.funnel.allocation._funnel_allocate()`` (fat-first, SPEC 5);
* Odoo: ``crm.team._action_assign_leads(force_quota=True, creation_delta_days=0)``,
  what the "Assign Leads" button and the assignment cron run.

Each side runs in the same transaction on the committed data, is timed up to
and including the commit-time work (``flush_all()`` and ``cr.precommit.run()``:
tracking messages and followers are written there), then rolled back, so that
the other side finds the pool unassigned again. Odoo's assignment commits every
100 leads outside tests: the thread is marked as testing while it runs, as
Odoo's test runner does, and a commit during a measure is refused.

The pool customers already have a sales team (spread over 5 teams in
proportion to their members), so Odoo goes straight to the assignment of
members (``_assign_and_convert_leads``); its allocation to teams
(``_allocate_leads``) finds nothing to do. Both sides have the same room: the
company's quota is ``ceil(customers / reps) + 10`` and each member's
``assignment_max`` is 30 times that, Odoo's daily quota being a thirtieth.

Run from the repository root:

    .venv/bin/python benchmarks/bench_allocation.py --customers 2000 --reps 50

The last line printed is the time ratio, e.g. ``ratio addon/odoo time: 0.043``.
"""

import argparse
import contextlib
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from unittest.mock import patch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ODOO_PATH = os.environ.get("ODOO_PATH", "/opt/odoo")
# the project runs Odoo from source with PYTHONPATH=/opt/odoo (scripts/lib.sh)
if ODOO_PATH not in sys.path:
    sys.path.insert(0, ODOO_PATH)

import odoo  # noqa: E402
from odoo import Command, fields  # noqa: E402
from odoo.tools import SQL  # noqa: E402

TEAM_COUNT = 5
# every record the benchmark creates is named with this prefix, so that a later
# run on the same database can remove it before generating its own data
PREFIX = "[bench]"
REP_LOGIN = "bench_rep_%03d"
GRADES = ["a", "b", "c", False]


# ------------------------------------------------------------
# DATABASE
# ------------------------------------------------------------


def write_conf(state_dir):
    """An Odoo configuration like scripts/lib.sh's write_conf, outside the repository."""
    os.makedirs(os.path.join(state_dir, "data"), exist_ok=True)
    conf = os.path.join(state_dir, "odoo.conf")
    addons_path = ",".join([ROOT, os.path.join(ODOO_PATH, "odoo", "addons")])
    with open(conf, "w", encoding="utf-8") as handle:
        handle.write(
            "[options]\n"
            f"addons_path = {addons_path}\n"
            f"data_dir = {os.path.join(state_dir, 'data')}\n"
            "db_host = False\n"
            "db_port = False\n"
            "db_user = False\n"
            "db_password = False\n"
            "log_level = warn\n"
        )
    return conf


def module_state(db):
    """State of sales_funnel_method in ``db``; None when the database does not exist."""
    with odoo.sql_db.db_connect("postgres").cursor() as cr:
        cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db])
        if not cr.fetchone():
            return None
    with odoo.sql_db.db_connect(db).cursor() as cr:
        cr.execute("SELECT to_regclass('ir_module_module') IS NOT NULL")
        if not cr.fetchone()[0]:
            return "uninstalled"
        cr.execute(
            "SELECT state FROM ir_module_module WHERE name = 'sales_funnel_method'"
        )
        row = cr.fetchone()
        return row[0] if row else "uninstalled"


def odoo_bin(conf, db, *options):
    subprocess.run(
        [
            sys.executable,
            os.path.join(ODOO_PATH, "odoo-bin"),
            "-c",
            conf,
            "-d",
            db,
            *options,
            "--stop-after-init",
        ],
        check=True,
        env=dict(os.environ, PYTHONPATH=ODOO_PATH),
    )
    # the database and its connections were made by another process
    odoo.sql_db.close_db(db)


def ensure_database(db, conf, update=True):
    """Create ``db`` with the addon and without demo data; on a database made by
    an earlier run, update the addon so that its schema follows the code."""
    start = time.perf_counter()
    if module_state(db) == "installed":
        if not update:
            print(f"reusing database {db} as it is", flush=True)
            return
        print(f"reusing database {db}: updating sales_funnel_method", flush=True)
        odoo_bin(conf, db, "-u", "sales_funnel_method")
    else:
        print(
            f"installing sales_funnel_method in database {db} (about a minute)",
            flush=True,
        )
        odoo_bin(conf, db, "-i", "sales_funnel_method", "--without-demo=all")
    print(f"database {db} ready in {time.perf_counter() - start:.0f} s", flush=True)


def drop_database(db):
    odoo.modules.registry.Registry.delete(db)
    odoo.sql_db.close_db(db)
    with odoo.sql_db.db_connect("postgres").cursor() as cr:
        cr._cnx.autocommit = True
        cr.execute(SQL("DROP DATABASE %s", SQL.identifier(db)))
    shutil.rmtree(odoo.tools.config.filestore(db), ignore_errors=True)
    print(f"dropped database {db}")


# ------------------------------------------------------------
# DATA
# ------------------------------------------------------------


def remove_previous_data(env):
    """Remove the leads and teams of a previous run (the reps are reused)."""
    leads = (
        env["crm.lead"]
        .with_context(active_test=False)
        .search([("name", "=like", f"{PREFIX}%")])
    )
    teams = (
        env["crm.team"]
        .with_context(active_test=False)
        .search([("name", "=like", f"{PREFIX}%")])
    )
    if leads or teams:
        print(
            f"removing the previous run's data ({len(leads)} leads, {len(teams)} teams)",
            flush=True,
        )
    leads.unlink()
    teams.unlink()  # their memberships go with them (ondelete cascade)


def create_reps(env, count):
    """``count`` reps (funnel role Rep), reusing those of a previous run by login."""
    Users = env["res.users"].with_context(
        no_reset_password=True,
        mail_create_nolog=True,
        tracking_disable=True,
        active_test=False,
    )
    logins = [REP_LOGIN % index for index in range(count)]
    existing = {user.login: user for user in Users.search([("login", "in", logins)])}
    group = env.ref("sales_funnel_method.sales_funnel_method_group_rep")
    missing = [login for login in logins if login not in existing]
    if missing:
        created = Users.create(
            [
                {
                    "name": f"Bench Rep {login[-3:]}",
                    "login": login,
                    "email": f"{login}@example.com",
                    "groups_id": [Command.set(group.ids)],
                }
                for login in missing
            ]
        )
        existing.update({user.login: user for user in created})
    reps = Users.browse([existing[login].id for login in logins])
    reps.filtered(lambda user: not user.active).write({"active": True})
    return reps


def create_teams(env, reps, quota):
    """Five teams; rep i joins team i % 5.

    Odoo gives a member ``round(assignment_max / 30)`` leads per run: the
    members' capacity is set so that this daily quota equals the addon's quota,
    and both sides have the same room.
    """
    return (
        env["crm.team"]
        .with_context(tracking_disable=True)
        .create(
            [
                {
                    "name": f"{PREFIX} Team {index + 1}",
                    "use_leads": True,
                    "use_opportunities": True,
                    "assignment_optout": False,
                    "assignment_domain": False,  # every unassigned lead of the team
                    "crm_team_member_ids": [
                        Command.create(
                            {"user_id": rep.id, "assignment_max": 30 * quota}
                        )
                        for rep in reps[index::TEAM_COUNT]
                    ],
                }
                for index in range(TEAM_COUNT)
            ]
        )
    )


def create_won_revenue(env, reps, teams, rng):
    """Signed customers for two reps in three, so that the fat-first ranking matters."""
    signed = env.ref("sales_funnel_method.crm_stage_signed")
    now = fields.Datetime.now()
    vals_list = []
    for index, rep in enumerate(reps):
        if index % 3 == 2:
            continue
        for number in range(1 + index % 3):
            vals_list.append(
                {
                    "name": f"{PREFIX} Signed {index:03d}-{number}",
                    "type": "opportunity",
                    "stage_id": signed.id,
                    "funnel_grade": "a",
                    "user_id": rep.id,
                    "team_id": teams[index % TEAM_COUNT].id,
                    "expected_revenue": rng.randrange(5, 200) * 1000,
                    "date_closed": now - timedelta(days=rng.randrange(1, 60)),
                }
            )
    won = env["crm.lead"].with_context(tracking_disable=True).create(vals_list)
    # crm may stamp date_closed with "now" when a lead is won: make sure the dates are ours
    for lead, vals in zip(won, vals_list, strict=True):
        lead.date_closed = vals["date_closed"]
    return won


def create_pool(env, count, reps, teams, rng, batch_size=1000):
    """``count`` unassigned customers in the Resource layer.

    Customer i belongs to the team of rep i % len(reps), so that each team
    receives customers in proportion to its members.
    """
    resource = env.ref("sales_funnel_method.crm_stage_resource")
    Lead = env["crm.lead"].with_context(tracking_disable=True, mail_create_nolog=True)
    for start in range(0, count, batch_size):
        Lead.create(
            [
                {
                    "name": f"{PREFIX} Customer {index:05d}",
                    "type": "opportunity",
                    "stage_id": resource.id,
                    "user_id": False,
                    "team_id": teams[(index % len(reps)) % TEAM_COUNT].id,
                    "funnel_grade": rng.choice(GRADES),
                    "email_from": f"customer{index:05d}@bench.example.com",
                    "expected_revenue": rng.randrange(1, 100) * 1000,
                }
                for index in range(start, min(start + batch_size, count))
            ]
        )
        env.flush_all()
        env.invalidate_all()
        print(f"  {min(start + batch_size, count)}/{count} customers", flush=True)


def prepare_data(env, customers, reps_count, seed=42):
    """Generate the sales force and the pool, and commit them."""
    start = time.perf_counter()
    rng = random.Random(seed)
    remove_previous_data(env)
    quota = math.ceil(customers / reps_count) + 10
    env.company.funnel_quota = quota
    reps = create_reps(env, reps_count)
    teams = create_teams(env, reps, quota)
    won = create_won_revenue(env, reps, teams, rng)
    create_pool(env, customers, reps, teams, rng)
    env.flush_all()
    env.cr.commit()
    print(
        f"data ready in {time.perf_counter() - start:.0f} s: {customers} pool customers, "
        f"{len(reps)} reps in {len(teams)} teams, quota {quota} per rep, "
        f"{len(won)} signed customers for {len(won.user_id)} reps",
        flush=True,
    )
    return teams, quota


# ------------------------------------------------------------
# MEASURE
# ------------------------------------------------------------


@contextlib.contextmanager
def without_autocommit():
    """Odoo's assignment commits every 100 leads unless the thread is marked as
    testing (what its test runner does): mark it, so that it can be rolled back."""
    thread = threading.current_thread()
    previous = getattr(thread, "testing", False)
    thread.testing = True
    try:
        yield
    finally:
        thread.testing = previous


def pool_figures(cr):
    """(customers assigned, reps who received some, largest share) of the pool."""
    cr.execute(
        SQL(
            """SELECT COUNT(*), COUNT(DISTINCT user_id),
                      COALESCE(MAX(per_user), 0)
                 FROM (SELECT user_id, COUNT(*) OVER (PARTITION BY user_id) AS per_user
                         FROM crm_lead
                        WHERE name LIKE %s AND user_id IS NOT NULL) assigned""",
            f"{PREFIX} Customer %",
        )
    )
    return cr.fetchone()


def table_max_id(cr, table):
    cr.execute(SQL("SELECT COALESCE(MAX(id), 0) FROM %s", SQL.identifier(table)))
    return cr.fetchone()[0]


def measure(env, label, run):
    """Time ``run()`` with the commit-time work, count its queries, then roll back."""
    cr = env.cr
    env.flush_all()
    env.invalidate_all()
    messages_before = table_max_id(cr, "mail_message")
    mails_before = table_max_id(cr, "mail_mail")

    def refuse_commit():
        raise RuntimeError(f"{label} committed: the benchmark could not roll it back")

    with patch.object(cr, "commit", refuse_commit):
        queries_before = cr.sql_log_count
        start = time.perf_counter()
        run()
        # what a commit would do before COMMIT itself: pending writes, then the
        # precommit hooks (tracking messages, followers)
        env.flush_all()
        cr.precommit.run()
        elapsed = time.perf_counter() - start
        queries = cr.sql_log_count - queries_before

    assigned, receivers, largest = pool_figures(cr)
    cr.execute(SQL("SELECT COUNT(*) FROM mail_message WHERE id > %s", messages_before))
    messages = cr.fetchone()[0]
    cr.execute(SQL("SELECT COUNT(*) FROM mail_mail WHERE id > %s", mails_before))
    mails = cr.fetchone()[0]
    cr.rollback()
    env.invalidate_all()
    # the pool is whole again for the other side
    still_assigned = pool_figures(cr)[0]
    if still_assigned:
        raise RuntimeError(
            f"{still_assigned} customers still assigned after the rollback of {label}"
        )
    result = {
        "label": label,
        "time": elapsed,
        "queries": queries,
        "assigned": assigned,
        "receivers": receivers,
        "largest": largest,
        "messages": messages,
        "mails": mails,
    }
    print(
        f"  {label:<6} {elapsed:9.2f} s {queries:9d} queries  {assigned:6d} assigned to "
        f"{receivers} reps (at most {largest} each), {messages} messages, {mails} mails",
        flush=True,
    )
    return result


def run_odoo(env, team_ids):
    teams = env["crm.team"].search([("id", "in", team_ids)])
    with without_autocommit():
        teams._action_assign_leads(force_quota=True, creation_delta_days=0)


def run_addon(env):
    env["crm.funnel.allocation"]._funnel_allocate()


# ------------------------------------------------------------
# MAIN
# ------------------------------------------------------------


def add_database_options(parser, why_keep):
    """--no-update, --keep and --drop, shared by the benchmarks."""
    parser.add_argument(
        "--no-update",
        dest="update",
        action="store_false",
        help="reuse an existing database without updating the addon first",
    )
    keep = parser.add_mutually_exclusive_group()
    keep.add_argument(
        "--keep",
        dest="keep",
        action="store_true",
        default=True,
        help=f"keep the database at the end (default: {why_keep})",
    )
    keep.add_argument(
        "--drop", dest="keep", action="store_false", help="drop the database at the end"
    )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--customers", type=int, default=10000, help="pool customers (default 10000)"
    )
    parser.add_argument(
        "--reps", type=int, default=50, help="reps, spread over 5 teams (default 50)"
    )
    parser.add_argument(
        "--db",
        default="sales_funnel_bench",
        help="database (default sales_funnel_bench)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure each side this many times, alternating which goes first; "
        "the best time of each side is compared (default 1: Odoo, then the addon)",
    )
    add_database_options(parser, "creating it takes a minute")
    args = parser.parse_args(argv)
    if args.customers < 1 or args.reps < TEAM_COUNT or args.rounds < 1:
        parser.error(f"--customers >= 1, --reps >= {TEAM_COUNT} and --rounds >= 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    conf = write_conf(os.path.join(tempfile.gettempdir(), "sales_funnel_bench"))
    odoo.tools.config.parse_config(["-c", conf, "-d", args.db], setup_logging=True)
    ensure_database(args.db, conf, update=args.update)

    registry = odoo.modules.registry.Registry(args.db)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        teams, quota = prepare_data(env, args.customers, args.reps)
        runs = {
            "odoo": lambda: run_odoo(env, teams.ids),
            "addon": lambda: run_addon(env),
        }
        results = {"odoo": [], "addon": []}
        for round_index in range(args.rounds):
            order = ["odoo", "addon"] if round_index % 2 == 0 else ["addon", "odoo"]
            print(
                f"round {round_index + 1}/{args.rounds}: {' then '.join(order)}",
                flush=True,
            )
            for side in order:
                results[side].append(measure(env, side, runs[side]))
        cr.rollback()

    if not args.keep:
        drop_database(args.db)

    odoo_best = min(results["odoo"], key=lambda result: result["time"])
    addon_best = min(results["addon"], key=lambda result: result["time"])
    print()
    print(
        f"{args.customers} pool customers, {args.reps} reps in {TEAM_COUNT} teams, quota {quota}, "
        f"database {args.db}"
        + (f", best of {args.rounds} rounds" if args.rounds > 1 else "")
    )
    print(f"{'':28}{'time (s)':>10}{'queries':>10}{'assigned':>10}")
    for name, result in (
        ("odoo  _action_assign_leads", odoo_best),
        ("addon _funnel_allocate", addon_best),
    ):
        print(
            f"{name:<28}{result['time']:10.2f}{result['queries']:10d}{result['assigned']:10d}"
        )
    print(
        f"ratio addon/odoo queries: {addon_best['queries'] / odoo_best['queries']:.4f}"
    )
    print(f"ratio addon/odoo time: {addon_best['time'] / odoo_best['time']:.4f}")


if __name__ == "__main__":
    main()
