#!/usr/bin/env python3
"""The benchmarks' data generator: a sales force and the history of a funnel.

``generate(env, customers=N, reps=R, teams=T, moves_per_customer=M,
contacts_per_customer=C, seed=S)`` writes, and commits:

* R reps ``bench_rep_000`` ... (funnel role Rep; reused by login from run to
  run), rep i in team i % T of T teams ``[bench] Reports Team 1..T``;
* N customers ``[bench] Customer 0000123``, opportunities ending in the
  layers in METHOD 2's proportions (many resources and graded customers, few
  intents and signings; ``FINAL_LAYERS``): resource 28%, graded 24%,
  contacted 17%, lead 11%, intent 6%, signed 4%, implemented 2%, abandoned 8%
  (archived, as Odoo's "lost"). Each is in the addon's stage of its layer, with
  ``funnel_layer``, ``funnel_layer_date``, a grade (always past Graded),
  probability and prorated revenue by layer, dates, company;
* exactly M moves a customer (``crm_funnel_move``), along a path walked back
  from its final layer (``PREDECESSORS``): mostly down the funnel, some skipped
  layers, moves back up, abandonments followed by a reopening into Resource;
  dated at random over the last 8 weeks, with the fields
  ``crm.lead._funnel_record_moves`` fills (an abandon counts for the rep who
  held the customer, a reopening has no rep);
* who held each customer (``crm_funnel_assignment``): a rep from its entry,
  nobody after an abandon, a new rep allocated or claiming it after its
  reopening (half of those reopened last are still in the pool): about 1.35
  assignments a customer;
* 1 to 2C-1 contacts a customer (C on average, ``crm_funnel_contact``), while a
  rep held it, in the layer it was in then, with the date the rep received it;
  about half of them plan the next contact (a next contact date 1 to 14 days
  on, ``PLAN_SHARE``), drawn from a second random stream so the rest of the
  data is the same as without the plans.

The rows are written with ``COPY``, not through the ORM (about 2-2.5 minutes
for 100,000 customers, 10-30 s for 10,000). The options and the day are kept
in the system parameter ``sales_funnel_bench_reports.data``: a later call with
the same options on the same day reuses the data (the reports' default date
filters are relative to today); any other first deletes the previous
``[bench] Customer`` leads with their moves, contacts and assignments
(set-based) and ``VACUUM``s the tables, then writes the new data and
``VACUUM ANALYZE``s them.

``generate_pool(env, customers=N, reps=R, teams=T, seed=S)`` writes the
allocation benchmark's data instead, through the ORM: the same reps in T teams
``[bench] Team 1..T`` set up for Odoo's lead assignment, N unassigned
customers ``[bench] Customer 00123`` in the Resource layer (grades A/B/C/none
at random, each team getting customers in proportion to its members), and
signed customers (grade A, won revenue, closed in the last 60 days) for two
reps in three, so that the fat-first ranking matters.

From the repository root, to fill a database (created with the addon when
missing) for a look in the web client or a benchmark:

    .venv/bin/python benchmarks/datagen.py --customers 10000 --reps 50 --db NAME
    .venv/bin/python benchmarks/datagen.py --pool --customers 2000 --db NAME
"""

import argparse
import io
import math
import random
import time
from datetime import datetime, timedelta

import common

import odoo
from odoo import Command, fields
from odoo.tools import SQL

TEAM_COUNT = 5  # the default number of teams
# every record the generator creates is named with this prefix, so that a later
# run can remove it; the moves, contacts and assignments hang on their customer
PREFIX = "[bench]"
REP_LOGIN = "bench_rep_%03d"
CUSTOMER_NAME = PREFIX + " Customer %07d"
TEAM_NAME = PREFIX + " Reports Team %d"
POOL_CUSTOMER_NAME = PREFIX + " Pool %05d"
POOL_TEAM_NAME = PREFIX + " Team %d"
# what the data in the database were generated with: reused when it matches
DATA_PARAM = "sales_funnel_bench_reports.data"
# the share of the contacts that plan the next one (a next contact date, read by
# the contact time curve's planned contacts), and how many days on at most
PLAN_SHARE = 0.5
PLAN_MOST_DAYS = 14
PLAN_SEED_OFFSET = 1
WINDOW_DAYS = 56  # the moves are spread over the last 8 weeks

LAYERS = [
    "resource",
    "graded",
    "contacted",
    "lead",
    "intent",
    "signed",
    "implemented",
    "abandoned",
]
RANK = {layer: rank for rank, layer in enumerate(LAYERS, start=1)}
PAST_GRADED = {"contacted", "lead", "intent", "signed", "implemented"}
# where the customers are at the end, in percent (METHOD 2: many resources and
# graded ones, fewer with an intent or signed); the abandoned ones are archived
# (Odoo's "lost")
FINAL_LAYERS = {
    "resource": 28,
    "graded": 24,
    "contacted": 17,
    "lead": 11,
    "intent": 6,
    "signed": 4,
    "implemented": 2,
    "abandoned": 8,
}
# the layer a customer was in before it reached a layer, walking its path back:
# mostly the layer above (a move down the funnel), sometimes two above (a
# skipped layer), the layer below (it came back up) or, for a resource, the
# abandoned layer (reopened after its cool-down)
PREDECESSORS = {
    "resource": {"abandoned": 50, "graded": 50},
    "graded": {"resource": 85, "contacted": 15},
    "contacted": {"graded": 75, "resource": 10, "lead": 15},
    "lead": {"contacted": 80, "graded": 5, "intent": 15},
    "intent": {"lead": 90, "contacted": 10},
    "signed": {"intent": 90, "lead": 10},
    "implemented": {"signed": 100},
    "abandoned": {
        "resource": 30,
        "graded": 30,
        "contacted": 20,
        "lead": 15,
        "intent": 5,
    },
}
PROBABILITY = {
    "resource": 10,
    "graded": 20,
    "contacted": 30,
    "lead": 50,
    "intent": 70,
    "signed": 100,
    "implemented": 100,
    "abandoned": 0,
}
CONTACT_KINDS = {
    "phone": 50,
    "email": 20,
    "visit": 10,
    "demo": 8,
    "fax_mail": 5,
    "salon": 4,
    "other": 3,
}
CONTACT_SOURCES = {"log": 70, "activity": 20, "email": 10}
# the pool's grades (False: not graded yet)
GRADES = ["a", "b", "c", False]


def weighted(rng, choices):
    return rng.choices(list(choices), weights=list(choices.values()))[0]


# ------------------------------------------------------------
# SALES FORCE
# ------------------------------------------------------------


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


def ensure_teams(env, reps, count=TEAM_COUNT, name=TEAM_NAME, team_vals=None):
    """``count`` teams named ``name % 1`` ..., reused by name; rep i is the only
    member of team i % count among the reps.

    ``team_vals`` are written on the teams. A rep belongs to one of these teams
    only: any other membership of the reps is removed first (Odoo refuses a
    second active one), then the teams' other members."""
    Team = env["crm.team"].with_context(tracking_disable=True, active_test=False)
    names = [name % (index + 1) for index in range(count)]
    env["crm.team.member"].with_context(active_test=False).search(
        [("user_id", "in", reps.ids), ("crm_team_id.name", "not in", names)]
    ).unlink()
    teams = Team.browse()
    for index, team_name in enumerate(names):
        members = reps[index::count]
        team = Team.search([("name", "=", team_name)], limit=1)
        if not team:
            team = Team.create(
                dict(
                    team_vals or {},
                    name=team_name,
                    use_leads=True,
                    use_opportunities=True,
                )
            )
        team.write(dict(team_vals or {}, active=True))
        current = team.crm_team_member_all_ids
        stale = current.filtered(
            lambda member, members=members: (
                member.user_id not in members or not member.active
            )
        )
        stale.unlink()
        missing = members - (current - stale).user_id
        if missing:
            team.write(
                {
                    "crm_team_member_ids": [
                        Command.create({"user_id": rep.id}) for rep in missing
                    ]
                }
            )
        teams |= team
    return teams


# ------------------------------------------------------------
# HISTORY
# ------------------------------------------------------------


def data_signature(**options):
    """What the data were generated with: the options and the day."""
    return " ".join(f"{key}={value}" for key, value in options.items())


def bench_counts(cr):
    """(customers, moves, contacts, assignments) of the benchmark's customers."""
    cr.execute(
        SQL(
            """SELECT (SELECT COUNT(*) FROM bench_lead),
                  (SELECT COUNT(*) FROM crm_funnel_move m JOIN bench_lead l ON l.id = m.lead_id),
                  (SELECT COUNT(*) FROM crm_funnel_contact c JOIN bench_lead l ON l.id = c.lead_id),
                  (SELECT COUNT(*) FROM crm_funnel_assignment a JOIN bench_lead l ON l.id = a.lead_id)""",
        )
    )
    return cr.fetchone()


def create_bench_lead_table(cr):
    """The benchmark's customers, in a temporary table (ids only)."""
    cr.execute(
        "CREATE TEMPORARY TABLE IF NOT EXISTS bench_lead (id integer PRIMARY KEY)"
    )
    cr.execute("TRUNCATE bench_lead")
    cr.execute(
        SQL(
            "INSERT INTO bench_lead SELECT id FROM crm_lead WHERE name LIKE %s",
            f"{PREFIX} Customer %",
        )
    )


DATA_TABLES = (
    "crm_lead",
    "crm_funnel_move",
    "crm_funnel_contact",
    "crm_funnel_assignment",
)


def vacuum(cr, analyze=False):
    """VACUUM the tables the data live in (outside a transaction)."""
    cr.commit()
    cr._cnx.autocommit = True
    try:
        cr.execute(
            SQL(
                "VACUUM %s %s",
                SQL("ANALYZE") if analyze else SQL(),
                SQL(", ").join(SQL.identifier(table) for table in DATA_TABLES),
            )
        )
    finally:
        cr._cnx.autocommit = False


def remove_previous_data(cr):
    """Delete the previous run's customers with their moves, contacts and assignments.

    The space they took is vacuumed before the new data are written: otherwise the
    next scans of these tables would still read the old rows, dead (a run at 10,000
    customers after one at 100,000 read a 500,000-row move table)."""
    create_bench_lead_table(cr)
    cr.execute("SELECT COUNT(*) FROM bench_lead")
    count = cr.fetchone()[0]
    if not count:
        return
    print(f"removing the previous run's data ({count} customers)", flush=True)
    # the children first, set-based: a cascade would delete them lead by lead
    for table in ("crm_funnel_move", "crm_funnel_contact", "crm_funnel_assignment"):
        cr.execute(
            SQL(
                "DELETE FROM %s WHERE lead_id IN (SELECT id FROM bench_lead)",
                SQL.identifier(table),
            )
        )
    cr.execute("DELETE FROM crm_lead WHERE id IN (SELECT id FROM bench_lead)")
    cr.execute("TRUNCATE bench_lead")
    vacuum(cr)


def customer_path(rng, final, count):
    """The ``count`` layers a customer went through, ending in ``final``: walked back
    from the end. The first is the layer it entered the funnel in."""
    path = [final]
    while len(path) < count:
        layer = path[-1]
        choices = dict(PREDECESSORS[layer])
        if len(path) == count - 1:
            # the entry: never in the abandoned layer
            choices.pop("abandoned", None)
            if not choices:
                choices = {"resource": 1}
        path.append(weighted(rng, choices))
    path.reverse()
    return path


def move_type(from_layer, to_layer):
    """As crm.funnel.move._funnel_move_type."""
    if not from_layer:
        return "entry"
    if to_layer == "abandoned":
        return "abandon"
    if from_layer == "abandoned":
        return "reopen"
    return "forward" if RANK[to_layer] > RANK[from_layer] else "backward"


def skipped_layers(from_layer, to_layer):
    """As crm.funnel.move._funnel_skipped_layers."""
    if to_layer == "abandoned":
        return 0
    if not from_layer:
        return RANK[to_layer] - 1
    if from_layer == "abandoned":
        return 0
    return max(RANK[to_layer] - RANK[from_layer] - 1, 0)


class Copier:
    """Rows for COPY ... FROM STDIN (text format)."""

    def __init__(self, table, columns):
        self.table = table
        self.columns = columns
        self.buffer = io.StringIO()
        self.count = 0

    def add(self, *values):
        self.buffer.write(
            "\t".join("\\N" if value is None else str(value) for value in values)
        )
        self.buffer.write("\n")
        self.count += 1

    def copy(self, cr):
        self.buffer.seek(0)
        cr._obj.copy_expert(
            f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN", self.buffer
        )
        self.buffer = io.StringIO()


def write_history(
    env, customers, moves_per_customer, contacts_per_customer, reps, teams, seed
):
    """Write the customers, their moves, contacts and assignments with COPY.

    Returns the numbers of customers, moves, contacts and assignments written."""
    # the contact time curve's stored days and weeks, as the addon computes them
    from odoo.addons.sales_funnel_method.models.crm_funnel_contact import (
        curve_bucket,
        curve_days,
    )

    cr = env.cr
    rng = random.Random(seed)
    # the next contacts planned, drawn apart: the rest of the data is the same
    # with them as it was without them
    plans = random.Random(seed + PLAN_SEED_OFFSET)
    now = datetime.now().replace(microsecond=0)
    window_start = now - timedelta(days=WINDOW_DAYS)
    window = (WINDOW_DAYS * 86400) - 3600
    company_id = env.company.id
    stages = {
        layer: env.ref(f"sales_funnel_method.crm_stage_{layer}") for layer in LAYERS
    }
    stage_ids = {layer: stage.id for layer, stage in stages.items()}
    ideal_days = {layer: stage.funnel_ideal_days for layer, stage in stages.items()}
    rep_ids = reps.ids
    team_of = {rep.id: teams[index % len(teams)].id for index, rep in enumerate(reps)}
    admin_id = odoo.SUPERUSER_ID

    cr.execute(
        SQL("SELECT nextval('crm_lead_id_seq') FROM generate_series(1, %s)", customers)
    )
    lead_ids = [row[0] for row in cr.fetchall()]

    leads = Copier(
        "crm_lead",
        [
            "id",
            "name",
            "type",
            "active",
            "stage_id",
            "funnel_layer",
            "funnel_layer_date",
            "funnel_grade",
            "user_id",
            "team_id",
            "company_id",
            "probability",
            "automated_probability",
            "expected_revenue",
            "prorated_revenue",
            "priority",
            "color",
            "email_from",
            "email_normalized",
            "partner_name",
            "date_open",
            "date_last_stage_update",
            "date_closed",
            "funnel_abandoned_by_id",
            "create_uid",
            "write_uid",
            "create_date",
            "write_date",
        ],
    )
    moves = Copier(
        "crm_funnel_move",
        [
            "lead_id",
            "date",
            "from_layer",
            "to_layer",
            "from_stage_id",
            "to_stage_id",
            "move_type",
            "skipped_layers",
            "from_ideal_days",
            "days_in_layer",
            "changed_by_id",
            "user_id",
            "team_id",
            "company_id",
            "create_uid",
            "write_uid",
            "create_date",
            "write_date",
        ],
    )
    contacts = Copier(
        "crm_funnel_contact",
        [
            "lead_id",
            "date",
            "kind",
            "user_id",
            "team_id",
            "layer",
            "source",
            "company_id",
            "received_date",
            "days_since_received",
            "days_bucket",
            "next_date",
            "planned_days",
            "planned_bucket",
            "create_uid",
            "write_uid",
            "create_date",
            "write_date",
        ],
    )
    assignments = Copier(
        "crm_funnel_assignment",
        [
            "lead_id",
            "date",
            "kind",
            "user_id",
            "previous_user_id",
            "team_id",
            "assigned_by_id",
            "grade",
            "layer",
            "company_id",
            "create_uid",
            "write_uid",
            "create_date",
            "write_date",
        ],
    )

    for index, lead_id in enumerate(lead_ids):
        final = weighted(rng, FINAL_LAYERS)
        path = customer_path(rng, final, moves_per_customer)
        dates = sorted(
            window_start + timedelta(seconds=rng.randrange(window)) for _i in path
        )
        # a customer needs a grade to go past the graded layer (METHOD 3)
        grade = (
            rng.choice(["a", "b", "c"])
            if PAST_GRADED.intersection(path)
            else rng.choice(["a", "b", "c", None])
        )
        # who held the customer: a rep from its entry, nobody between an abandon and
        # the next assignment after its reopening
        holder = rng.choice(rep_ids)
        team_id = team_of[holder]
        held = []  # (start, end, rep) while a rep held the customer
        held_since = dates[0]
        abandoned_by = None
        date_open = dates[0]
        assignments.add(
            lead_id,
            dates[0],
            "allocation",
            holder,
            None,
            team_id,
            admin_id,
            grade,
            path[0],
            company_id,
            admin_id,
            admin_id,
            dates[0],
            dates[0],
        )
        previous = None
        for step, (layer, date) in enumerate(zip(path, dates, strict=False)):
            kind = move_type(previous, layer)
            if kind == "reopen":
                user_id = None
            else:
                if holder is None:
                    # someone claimed or was allocated the reopened customer before this move
                    holder = rng.choice(rep_ids)
                    team_id = team_of[holder]
                    received = dates[step - 1] + (date - dates[step - 1]) * rng.uniform(
                        0.05, 0.5
                    )
                    assignments.add(
                        lead_id,
                        received,
                        rng.choice(["allocation", "claim"]),
                        holder,
                        None,
                        team_id,
                        admin_id,
                        grade,
                        "resource",
                        company_id,
                        admin_id,
                        admin_id,
                        received,
                        received,
                    )
                    held_since = date_open = received
                user_id = holder
            days = (date - dates[step - 1]).total_seconds() / 86400 if previous else 0.0
            moves.add(
                lead_id,
                date,
                previous,
                layer,
                stage_ids.get(previous),
                stage_ids[layer],
                kind,
                skipped_layers(previous, layer),
                ideal_days[previous] if previous else 0,
                f"{days:.2f}",
                user_id or admin_id,
                user_id,
                team_id,
                company_id,
                admin_id,
                admin_id,
                date,
                date,
            )
            if kind == "abandon":
                held.append((held_since, date, holder, team_id))
                abandoned_by, holder = holder, None
            previous = layer
        if holder is not None:
            held.append((held_since, now, holder, team_id))
        elif final == "resource" and rng.random() < 0.5:
            # reopened last and taken since
            holder = rng.choice(rep_ids)
            team_id = team_of[holder]
            received = dates[-1] + (now - dates[-1]) * rng.uniform(0.05, 0.5)
            assignments.add(
                lead_id,
                received,
                "claim",
                holder,
                None,
                team_id,
                holder,
                grade,
                "resource",
                company_id,
                admin_id,
                admin_id,
                received,
                received,
            )
            held.append((received, now, holder, team_id))
            date_open = received

        # 1 to 2C-1 contacts, while a rep held the customer, in the layer it was in
        length = sum((end - start).total_seconds() for start, end, _rep, _team in held)
        most = 2 * contacts_per_customer - 1
        for _i in range(rng.randint(1, most) if length > 0 and most > 0 else 0):
            offset = rng.uniform(0, length)
            for start, end, rep, rep_team in held:  # noqa: B007 (used after the break)
                span = (end - start).total_seconds()
                if offset <= span:
                    break
                offset -= span
            date = (start + timedelta(seconds=offset)).replace(microsecond=0)
            layer = path[0]
            for step_layer, step_date in zip(path, dates, strict=False):
                if step_date > date:
                    break
                layer = step_layer
            # the rep received the customer when their holding period began
            days = curve_days(start, date)
            # about half the contacts plan the next one, one to two weeks on
            next_date = (
                (date + timedelta(days=plans.randint(1, PLAN_MOST_DAYS))).date()
                if plans.random() < PLAN_SHARE
                else None
            )
            planned = curve_days(start, next_date)
            contacts.add(
                lead_id,
                date,
                weighted(rng, CONTACT_KINDS),
                rep,
                rep_team,
                layer,
                weighted(rng, CONTACT_SOURCES),
                company_id,
                start,
                days,
                curve_bucket(days),
                next_date,
                planned,
                curve_bucket(planned) if next_date else None,
                admin_id,
                admin_id,
                date,
                date,
            )

        revenue = rng.randrange(1, 100) * 1000
        probability = PROBABILITY[final]
        active = final != "abandoned"
        leads.add(
            lead_id,
            CUSTOMER_NAME % index,
            "opportunity",
            "t" if active else "f",
            stage_ids[final],
            final,
            dates[-1],
            grade,
            holder,
            team_id,
            company_id,
            probability,
            probability,
            revenue,
            revenue * probability / 100,
            rng.choice("0001123"),
            0,
            f"customer{index:07d}@bench.example.com",
            f"customer{index:07d}@bench.example.com",
            f"Bench Company {index:07d}",
            date_open,
            dates[-1],
            dates[-1] if final in ("signed", "implemented", "abandoned") else None,
            abandoned_by,
            admin_id,
            admin_id,
            dates[0],
            dates[-1],
        )
        if (index + 1) % 20000 == 0 or index + 1 == customers:
            leads.copy(cr)
            moves.copy(cr)
            contacts.copy(cr)
            assignments.copy(cr)
            print(f"  {index + 1}/{customers} customers", flush=True)
    return leads.count, moves.count, contacts.count, assignments.count


def generate(
    env,
    customers,
    reps=50,
    teams=TEAM_COUNT,
    moves_per_customer=5,
    contacts_per_customer=3,
    seed=42,
    regenerate=False,
):
    """The sales force and a history of ``customers`` customers (see the module's
    docstring), committed; those of an earlier call are reused when its options
    and day match, unless ``regenerate``. Returns the reps and the teams."""
    start = time.perf_counter()
    cr = env.cr
    rep_users = create_reps(env, reps)
    team_records = ensure_teams(env, rep_users, teams)
    env.flush_all()
    signature = data_signature(
        # the data's format: 2 since the moves store their path facts, 3 since
        # the contacts plan the next one
        format=3,
        customers=customers,
        moves_per_customer=moves_per_customer,
        contacts_per_customer=contacts_per_customer,
        reps=reps,
        teams=teams,
        seed=seed,
        day=datetime.now().date(),
    )
    create_bench_lead_table(cr)
    expected = (customers, customers * moves_per_customer)
    Param = env["ir.config_parameter"].sudo()
    if (
        not regenerate
        and Param.get_param(DATA_PARAM) == signature
        and bench_counts(cr)[:2] == expected
    ):
        cr.commit()
        print(f"reusing the data of an earlier run ({signature})", flush=True)
        return rep_users, team_records
    remove_previous_data(cr)
    Param.set_param(DATA_PARAM, False)
    print(
        f"generating {customers} customers, {customers * moves_per_customer} moves",
        flush=True,
    )
    counts = write_history(
        env,
        customers,
        moves_per_customer,
        contacts_per_customer,
        rep_users,
        team_records,
        seed,
    )
    # the moves' path facts, as the move recorder stores them (one statement)
    create_bench_lead_table(cr)
    cr.execute("SELECT id FROM bench_lead")
    env["crm.funnel.move"]._funnel_refresh_paths([row[0] for row in cr.fetchall()])
    env.invalidate_all()
    Param.set_param(DATA_PARAM, signature)
    env.flush_all()
    generated = time.perf_counter() - start
    # the new rows went first into the space of the old ones: VACUUM cuts off the
    # empty end of the tables, and ANALYZE gives the planner the new figures
    vacuum(cr, analyze=True)
    print(
        f"data ready in {time.perf_counter() - start:.0f} s "
        f"(written in {generated:.0f} s, then VACUUM ANALYZE): "
        "%d customers, %d moves, %d contacts, %d assignments" % counts,
        flush=True,
    )
    return rep_users, team_records


# ------------------------------------------------------------
# POOL
# ------------------------------------------------------------


def remove_pool(env):
    """Remove the pool leads, signed deals and teams of a previous run (the reps
    are reused); a funnel history generated in the same database stays."""
    leads = (
        env["crm.lead"]
        .with_context(active_test=False)
        .search(
            [
                "|",
                ("name", "=like", f"{PREFIX} Pool %"),
                ("name", "=like", f"{PREFIX} Signed %"),
            ]
        )
    )
    teams = (
        env["crm.team"]
        .with_context(active_test=False)
        .search([("name", "=like", f"{PREFIX} Team %")])
    )
    if leads or teams:
        print(
            f"removing the previous run's data ({len(leads)} leads, {len(teams)} teams)",
            flush=True,
        )
    leads.unlink()
    teams.unlink()  # their memberships go with them (ondelete cascade)


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
                    "team_id": teams[index % len(teams)].id,
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
                    "name": POOL_CUSTOMER_NAME % index,
                    "type": "opportunity",
                    "stage_id": resource.id,
                    "user_id": False,
                    "team_id": teams[(index % len(reps)) % len(teams)].id,
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


def generate_pool(env, customers, reps=50, teams=TEAM_COUNT, seed=42):
    """The allocation's data (see the module's docstring), committed, instead of
    any the generators wrote before. Returns the teams and the quota per rep.

    Both Odoo's assignment and the addon's allocation have the same room: the
    company's quota is ``ceil(customers / reps) + 10``, and each member's
    ``assignment_max`` 30 times that (Odoo gives a member a thirtieth of it a run).
    """
    start = time.perf_counter()
    rng = random.Random(seed)
    remove_pool(env)
    quota = math.ceil(customers / reps) + 10
    env.company.funnel_quota = quota
    rep_users = create_reps(env, reps)
    team_records = ensure_teams(
        env,
        rep_users,
        teams,
        POOL_TEAM_NAME,
        # every unassigned lead of the team
        team_vals={"assignment_optout": False, "assignment_domain": False},
    )
    team_records.crm_team_member_ids.write({"assignment_max": 30 * quota})
    won = create_won_revenue(env, rep_users, team_records, rng)
    create_pool(env, customers, rep_users, team_records, rng)
    env.flush_all()
    env.cr.commit()
    print(
        f"data ready in {time.perf_counter() - start:.0f} s: {customers} pool customers, "
        f"{len(rep_users)} reps in {len(team_records)} teams, quota {quota} per rep, "
        f"{len(won)} signed customers for {len(won.user_id)} reps",
        flush=True,
    )
    return team_records, quota


# ------------------------------------------------------------
# COMMAND LINE
# ------------------------------------------------------------


def each_size(args):
    """For each size of ``args.sizes`` (customer counts, comma-separated), the
    smallest first: ``(size, env)``, a superuser environment on ``args.db`` holding
    ``generate``'s funnel of that many customers (``args.reps``,
    ``args.moves_per_customer``, ``args.seed``); its cursor closes at the next."""
    for size in sorted(int(size) for size in args.sizes.split(",")):
        with common.environment(args.db) as env:
            generate(
                env,
                size,
                reps=args.reps,
                moves_per_customer=args.moves_per_customer,
                seed=args.seed,
            )
            yield size, env


def add_data_options(parser, customers):
    """The generator's options, shared with the benchmarks built on it."""
    parser.add_argument(
        "--customers",
        type=int,
        default=customers,
        help=f"customers (default {customers})",
    )
    parser.add_argument(
        "--moves-per-customer",
        type=int,
        default=5,
        help="funnel moves per customer (default 5)",
    )
    parser.add_argument(
        "--reps",
        type=int,
        default=50,
        help=f"reps, spread over {TEAM_COUNT} teams (default 50)",
    )
    parser.add_argument(
        "--seed", type=int, default=42, help="random seed of the data (default 42)"
    )
    parser.add_argument(
        "--regenerate",
        action="store_true",
        help="generate the data again even when those in the database match",
    )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_data_options(parser, 10000)
    parser.add_argument(
        "--teams",
        type=int,
        default=TEAM_COUNT,
        help=f"sales teams (default {TEAM_COUNT})",
    )
    parser.add_argument(
        "--contacts-per-customer",
        type=int,
        default=3,
        help="contacts per customer on average, 1 to 2C-1 each (default 3)",
    )
    parser.add_argument(
        "--pool",
        action="store_true",
        help="the allocation benchmark's data instead: CUSTOMERS unassigned "
        "customers in the Resource layer (--moves-per-customer and "
        "--contacts-per-customer do not apply)",
    )
    parser.add_argument(
        "--db",
        default="sales_funnel_bench_data",
        help="database, created with the addon when missing (default sales_funnel_bench_data)",
    )
    parser.add_argument(
        "--no-update",
        dest="update",
        action="store_false",
        help="reuse an existing database without updating the addon first",
    )
    args = parser.parse_args(argv)
    if (
        args.customers < 1
        or args.moves_per_customer < 1
        or args.contacts_per_customer < 0
        or args.teams < 1
        or args.reps < args.teams
    ):
        parser.error(
            "--customers >= 1, --moves-per-customer >= 1, --contacts-per-customer >= 0, "
            "--teams >= 1 and --reps >= --teams"
        )
    return args


def main(argv=None):
    args = parse_args(argv)
    conf = common.setup(args.db)
    common.ensure_database(args.db, conf, update=args.update)
    with common.environment(args.db) as env:
        if args.pool:
            generate_pool(
                env, args.customers, reps=args.reps, teams=args.teams, seed=args.seed
            )
        else:
            generate(
                env,
                args.customers,
                reps=args.reps,
                teams=args.teams,
                moves_per_customer=args.moves_per_customer,
                contacts_per_customer=args.contacts_per_customer,
                seed=args.seed,
                regenerate=args.regenerate,
            )


if __name__ == "__main__":
    main()
