#!/usr/bin/env python3
"""Benchmark: opening the addon's report pivots, against Odoo's Pipeline Analysis pivot.

One run, one database, the same customers for all:

* the addon: the pivot view of each of its five reports (crm.funnel.report.overview,
  .holding, .move, .abandon, .contact), opened from the report's action with its
  default filters;
* Odoo: the pivot of crm's *Pipeline Analysis* (``crm.crm_opportunity_report_action``
  on crm.lead, view ``crm.crm_opportunity_report_view_pivot``), over the same
  customers.

Opening a pivot, the web client calls ``read_group(domain, measures, groupby,
lazy=False)`` once per pair of (row groupby prefix, column groupby prefix) of
the view (``sections(rows) x sections(cols)`` in ``pivot_model.js``: 4 calls for
one row and one column groupby). The benchmark makes the same calls, with the
measures, groupbys and intervals read from the pivot view's arch and the domain
of the action's ``search_default_*`` filters, as superuser in one cursor, and
times their sum (the server time of opening the pivot).

The data (N customers, N*M moves, about 3N contacts, about N assignments) are
written with COPY, not through the ORM, and kept for the next run with the same
options on the same day (``--regenerate`` forces a new set).

Run from the repository root:

    .venv/bin/python benchmarks/bench_reports.py --customers 10000

The last line printed is the time ratio of the slowest report to Odoo's pivot,
e.g. ``ratio slowest report/odoo pipeline pivot: 1.8``.
"""

import argparse
import io
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta

from lxml import etree

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ODOO_PATH = os.environ.get("ODOO_PATH", "/opt/odoo")
# the project runs Odoo from source with PYTHONPATH=/opt/odoo (scripts/lib.sh)
if ODOO_PATH not in sys.path:
    sys.path.insert(0, ODOO_PATH)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# the database, the Odoo configuration and the reps are handled as in the allocation benchmark
from bench_allocation import (  # noqa: E402
    add_database_options,
    create_reps,
    drop_database,
    ensure_database,
    write_conf,
)

import odoo  # noqa: E402
from odoo import Command  # noqa: E402
from odoo.osv import expression  # noqa: E402
from odoo.tools import SQL  # noqa: E402
from odoo.tools.safe_eval import safe_eval  # noqa: E402

TEAM_COUNT = 5
# every customer the benchmark creates is named with this prefix; its moves,
# contacts and assignments hang on it, so a later run can remove them all
PREFIX = "[bench]"
CUSTOMER_NAME = PREFIX + " Customer %07d"
TEAM_NAME = PREFIX + " Reports Team %d"
# what the data in the database were generated with: reused when it matches
DATA_PARAM = "sales_funnel_bench_reports.data"
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
# where the customers are at the end (SPEC 2: many resources and graded ones,
# fewer with an intent or signed); the abandoned ones are archived (Odoo's "lost")
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

# the reports, as the menu opens them: (label, action, pivot view)
REPORTS = [
    (
        "overview",
        "sales_funnel_method.crm_funnel_report_overview_action",
        "sales_funnel_method.crm_funnel_report_overview_view_pivot",
    ),
    (
        "holding",
        "sales_funnel_method.crm_funnel_report_holding_action",
        "sales_funnel_method.crm_funnel_report_holding_view_pivot",
    ),
    (
        "move",
        "sales_funnel_method.crm_funnel_report_move_action",
        "sales_funnel_method.crm_funnel_report_move_view_pivot",
    ),
    (
        "abandon",
        "sales_funnel_method.crm_funnel_report_abandon_action",
        "sales_funnel_method.crm_funnel_report_abandon_view_pivot",
    ),
    (
        "contact",
        "sales_funnel_method.crm_funnel_report_contact_action",
        "sales_funnel_method.crm_funnel_report_contact_view_pivot",
    ),
]
ODOO_REPORT = (
    "odoo pipeline",
    "crm.crm_opportunity_report_action",
    "crm.crm_opportunity_report_view_pivot",
)


# ------------------------------------------------------------
# DATA
# ------------------------------------------------------------


def weighted(rng, choices):
    return rng.choices(list(choices), weights=list(choices.values()))[0]


def data_signature(customers, moves_per_customer, reps, seed, today):
    return (
        f"customers={customers} moves_per_customer={moves_per_customer} reps={reps} "
        f"seed={seed} day={today}"
    )


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


def ensure_teams(env, reps):
    """Five teams, reused by name; rep i is the only member of team i % 5 among the reps."""
    Team = env["crm.team"].with_context(tracking_disable=True, active_test=False)
    # a rep belongs to one of these teams only: first remove any other membership
    # (Odoo refuses a second active one), then the teams' other members
    env["crm.team.member"].with_context(active_test=False).search(
        [
            ("user_id", "in", reps.ids),
            (
                "crm_team_id.name",
                "not in",
                [TEAM_NAME % (i + 1) for i in range(TEAM_COUNT)],
            ),
        ]
    ).unlink()
    teams = Team.browse()
    for index in range(TEAM_COUNT):
        name = TEAM_NAME % (index + 1)
        members = reps[index::TEAM_COUNT]
        team = Team.search([("name", "=", name)], limit=1)
        if not team:
            team = Team.create(
                {"name": name, "use_leads": True, "use_opportunities": True}
            )
        team.active = True
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


def generate(env, customers, moves_per_customer, reps, teams, seed):
    """Write the customers, their moves, contacts and assignments with COPY."""
    cr = env.cr
    rng = random.Random(seed)
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
    team_of = {rep.id: teams[index % TEAM_COUNT].id for index, rep in enumerate(reps)}
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
        # a customer needs a grade to go past the graded layer (SPEC 3)
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

        # about three contacts, while a rep held the customer, in the layer it was in
        length = sum((end - start).total_seconds() for start, end, _rep, _team in held)
        for _i in range(rng.randint(1, 5) if length > 0 else 0):
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


def prepare_data(env, args):
    """Generate the data unless those of an earlier run match the options; commit."""
    start = time.perf_counter()
    cr = env.cr
    reps = create_reps(env, args.reps)
    teams = ensure_teams(env, reps)
    env.flush_all()
    signature = data_signature(
        args.customers,
        args.moves_per_customer,
        args.reps,
        args.seed,
        datetime.now().date(),
    )
    create_bench_lead_table(cr)
    expected = (args.customers, args.customers * args.moves_per_customer)
    Param = env["ir.config_parameter"].sudo()
    if (
        not args.regenerate
        and Param.get_param(DATA_PARAM) == signature
        and bench_counts(cr)[:2] == expected
    ):
        print(f"reusing the data of an earlier run ({signature})", flush=True)
        return reps, teams
    remove_previous_data(cr)
    Param.set_param(DATA_PARAM, False)
    print(
        f"generating {args.customers} customers, {args.customers * args.moves_per_customer} moves",
        flush=True,
    )
    counts = generate(
        env, args.customers, args.moves_per_customer, reps, teams, args.seed
    )
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
    return reps, teams


# ------------------------------------------------------------
# MEASURE
# ------------------------------------------------------------


def period_domain(field, period, now):
    """The domain of a date filter's default period, as the web client builds it
    (``search/utils/dates.js``), in UTC."""
    if period == "month":
        first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(seconds=1)
    elif period == "year":
        first = now.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
        last = first.replace(year=first.year + 1) - timedelta(seconds=1)
    else:
        raise ValueError(f"default period {period!r} not supported by the benchmark")
    return [
        "&",
        (field, ">=", first.strftime("%Y-%m-%d %H:%M:%S")),
        (field, "<=", last.strftime("%Y-%m-%d %H:%M:%S")),
    ]


def pivot_spec(env, label, action_xmlid, view_xmlid):
    """What the web client asks when it opens the action's pivot view: the model,
    the domain of the default filters, the measures and the groupbys."""
    action = env.ref(action_xmlid)
    model = env[action.res_model]
    view = env.ref(view_xmlid)
    arch = etree.fromstring(
        model.get_views([(view.id, "pivot")])["views"]["pivot"]["arch"]
    )
    rows, cols, measures = [], [], []
    for node in arch.iter("field"):
        name, kind = node.get("name"), node.get("type")
        if node.get("invisible") in ("1", "True"):
            continue
        groupby = f"{name}:{node.get('interval')}" if node.get("interval") else name
        if kind == "row":
            rows.append(groupby)
        elif kind == "col":
            cols.append(groupby)
        elif kind == "measure":
            field = model._fields[name]
            measures.append(
                f"{name}:{'count_distinct' if field.type == 'many2one' else field.aggregator}"
            )
    measures = measures or ["__count"]

    context = safe_eval(
        action.context or "{}", {"uid": env.uid, "context_today": datetime.today}
    )
    search_view = action.search_view_id
    search_arch = etree.fromstring(
        model.get_views([(search_view.id if search_view else False, "search")])[
            "views"
        ]["search"]["arch"]
    )
    # the client's default filters: those of the search view named in the action's
    # search_default_* keys (a filter hidden from the user by its groups is not there)
    filters = {
        node.get("name"): node
        for node in search_arch.iter("filter")
        if node.get("name")
    }
    domains, applied = [], []
    for key, value in context.items():
        if not key.startswith("search_default_") or not value:
            continue
        node = filters.get(key[len("search_default_") :])
        if node is None:
            continue
        if node.get("date"):
            domains.append(
                period_domain(
                    node.get("date"),
                    node.get("default_period") or "month",
                    datetime.now(),
                )
            )
            applied.append(
                f"{node.get('name')} (this {node.get('default_period') or 'month'})"
            )
        elif node.get("domain"):
            domains.append(
                safe_eval(
                    node.get("domain"),
                    {"uid": env.uid, "context_today": datetime.today},
                )
            )
            applied.append(node.get("name"))
    domain = expression.AND(domains) if domains else []
    return {
        "label": label,
        "model": action.res_model,
        "domain": domain,
        "filters": applied,
        "rows": rows,
        "cols": cols,
        "measures": measures,
        "context": {
            key: value
            for key, value in context.items()
            if not key.startswith("search_default_")
        },
    }


def sections(groupbys):
    """As the web client's ``sections``: every prefix, the empty one first."""
    return [groupbys[:index] for index in range(len(groupbys) + 1)]


def open_pivot(env, spec):
    """The read_group calls of the pivot: the total first, then every other pair of
    row and column groupby prefixes. Returns (calls, groups of the fullest call)."""
    Model = env[spec["model"]].with_context(**spec["context"])
    divisors = [
        (rows, cols)
        for rows in sections(spec["rows"])
        for cols in sections(spec["cols"])
    ]
    groups = 0
    for rows, cols in divisors:
        result = Model.read_group(
            spec["domain"], spec["measures"], rows + cols, lazy=False
        )
        groups = len(result)
    return len(divisors), groups


def measure(env, spec, repeat):
    """Best server time of ``repeat`` openings, with its queries, cache cleared before each."""
    cr = env.cr
    best = None
    for _run in range(repeat):
        env.invalidate_all()
        queries_before = cr.sql_log_count
        start = time.perf_counter()
        calls, groups = open_pivot(env, spec)
        elapsed = time.perf_counter() - start
        queries = cr.sql_log_count - queries_before
        if best is None or elapsed < best["time"]:
            best = {
                "time": elapsed,
                "queries": queries,
                "calls": calls,
                "groups": groups,
            }
    return dict(spec, **best)


def table_count(cr, table):
    cr.execute(SQL("SELECT COUNT(*) FROM %s", SQL.identifier(table)))
    return cr.fetchone()[0]


# ------------------------------------------------------------
# MAIN
# ------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--customers", type=int, default=100000, help="customers (default 100000)"
    )
    parser.add_argument(
        "--moves-per-customer",
        type=int,
        default=5,
        help="funnel moves per customer (default 5)",
    )
    parser.add_argument(
        "--reps", type=int, default=50, help="reps, spread over 5 teams (default 50)"
    )
    parser.add_argument(
        "--db",
        default="sales_funnel_bench_reports",
        help="database (default sales_funnel_bench_reports)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="open each pivot this many times and keep the best time (default 3)",
    )
    parser.add_argument(
        "--seed", type=int, default=42, help="random seed of the data (default 42)"
    )
    parser.add_argument(
        "--regenerate",
        action="store_true",
        help="generate the data again even when those in the database match",
    )
    parser.add_argument(
        "--all-dates",
        action="store_true",
        help="also open the reports with a default date filter without that filter",
    )
    add_database_options(parser, "creating it and its data takes minutes")
    args = parser.parse_args(argv)
    if (
        args.customers < 1
        or args.moves_per_customer < 1
        or args.reps < TEAM_COUNT
        or args.repeat < 1
    ):
        parser.error(
            f"--customers >= 1, --moves-per-customer >= 1, --reps >= {TEAM_COUNT} and --repeat >= 1"
        )
    return args


def main(argv=None):
    args = parse_args(argv)
    conf = write_conf(os.path.join(tempfile.gettempdir(), "sales_funnel_bench"))
    odoo.tools.config.parse_config(["-c", conf, "-d", args.db], setup_logging=True)
    ensure_database(args.db, conf, update=args.update)

    registry = odoo.modules.registry.Registry(args.db)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        prepare_data(env, args)
        scale = {table: table_count(cr, table) for table in DATA_TABLES}
        specs = [pivot_spec(env, *report) for report in [ODOO_REPORT, *REPORTS]]
        if args.all_dates:
            specs += [
                dict(spec, label=f"{spec['label']} (all dates)", domain=[], filters=[])
                for spec in specs[1:]
                if spec["domain"]
            ]
        # a first opening of each, not timed: the ORM's and PostgreSQL's caches warm up
        for spec in specs:
            open_pivot(env, spec)
        results = []
        for spec in specs:
            result = measure(env, spec, args.repeat)
            results.append(result)
            print(
                f"  {result['label']:<26} {result['time'] * 1000:9.1f} ms {result['queries']:4d} queries "
                f"{result['calls']} read_group, {result['groups']} groups; "
                f"rows {result['rows']} cols {result['cols']} {result['measures']} "
                f"filters {result['filters'] or '-'}",
                flush=True,
            )
        cr.rollback()

    if not args.keep:
        drop_database(args.db)

    odoo_result, report_results = results[0], results[1:]
    opened = [
        result for result in report_results if "(all dates)" not in result["label"]
    ]
    print()
    print(
        f"{args.customers} customers, {args.moves_per_customer} moves each, {args.reps} reps in "
        f"{TEAM_COUNT} teams, database {args.db}, best of {args.repeat}"
    )
    print("rows: " + ", ".join(f"{table} {count}" for table, count in scale.items()))
    print(f"{'pivot':<28}{'time (ms)':>10}{'queries':>9}{'/odoo':>8}")
    for result in [odoo_result, *report_results]:
        print(
            f"{result['label']:<28}{result['time'] * 1000:10.1f}{result['queries']:9d}"
            f"{result['time'] / odoo_result['time']:8.2f}"
        )
    slowest = max(opened, key=lambda result: result["time"])
    print(f"slowest report: {slowest['label']}")
    print(
        f"ratio slowest report/odoo pipeline pivot: {slowest['time'] / odoo_result['time']:.2f}"
    )


if __name__ == "__main__":
    main()
