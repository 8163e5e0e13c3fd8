#!/usr/bin/env python3
"""Benchmark: opening the addon's report pivots, against Odoo's Pipeline Analysis pivot.

One run, one database, the same customers for all:

* the addon: the pivot view of each of its seven reports (crm.funnel.report.overview,
  .holding, .move, .abandon, .contact, .target, .support), opened from the report's
  action with its default filters, the ranking boards of this month (every
  board, per rep and per team, as their screen computes them) and the funnel
  dashboard as it opens (the whole company, its default period);
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

The data (N customers, N*M moves, about 3N contacts, about 1.35N assignments)
are ``datagen.generate``'s, written with COPY, not through the ORM, and kept for the next run with the same
options on the same day (``--regenerate`` forces a new set).

Run from the repository root:

    .venv/bin/python benchmarks/bench_reports.py --customers 10000

The last line printed is the time ratio of the slowest report to Odoo's pivot,
e.g. ``ratio slowest report/odoo pipeline pivot: 1.8``. With ``--sizes
10000,100000``, the pivots are opened at each size in turn (the data generated
again for each) and the last line is the growth of the fastest-growing report,
e.g. ``ratio 100000/10000 time, move: 9.2`` (target: at most 12).
"""

import argparse
from datetime import datetime, timedelta

import common
import datagen
from dateutil.relativedelta import relativedelta
from lxml import etree

from odoo.osv import expression
from odoo.tools.safe_eval import safe_eval

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
    (
        "target",
        "sales_funnel_method.crm_funnel_report_target_action",
        "sales_funnel_method.crm_funnel_report_target_view_pivot",
    ),
    (
        "support",
        "sales_funnel_method.crm_funnel_report_support_action",
        "sales_funnel_method.crm_funnel_report_support_view_pivot",
    ),
]
ODOO_REPORT = (
    "odoo pipeline",
    "crm.crm_opportunity_report_action",
    "crm.crm_opportunity_report_view_pivot",
)


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
                    {
                        "uid": env.uid,
                        "context_today": datetime.today,
                        "relativedelta": relativedelta,
                    },
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


def ensure_targets(env, reps, teams):
    """This year's monthly targets of every bench rep and team, for the three
    figures (created once and committed): the targets report then has as many
    target lines as a real sales force."""
    Target = env["crm.funnel.target"]
    year = datetime.now().year
    if Target.search_count([("year", "=", year), ("team_id", "in", teams.ids)]):
        return
    months = [f"month_{month:02d}" for month in range(1, 13)]
    vals_list = []
    for team in teams:
        members = team.crm_team_member_ids.user_id & reps
        for kind, amount in (("revenue", 40000), ("signings", 2), ("intent", 4)):
            vals_list += [
                {
                    "year": year,
                    "kind": kind,
                    "team_id": team.id,
                    "user_id": user.id,
                    **dict.fromkeys(months, amount),
                }
                for user in members
            ]
            vals_list.append(
                {
                    "year": year,
                    "kind": kind,
                    "team_id": team.id,
                    **dict.fromkeys(months, amount * len(members)),
                }
            )
    Target.create(vals_list)
    env.cr.commit()


# the ranking boards and the dashboard are no pivots: opened beside them, as their
# screens open them
BOARDS = dict(
    label="ranking boards",
    rows=["rep", "team"],
    cols=[],
    measures=["8 boards"],
    filters=["this month"],
)
DASHBOARD = dict(
    label="dashboard",
    rows=[],
    cols=[],
    measures=["every card"],
    filters=["whole company, default period"],
)


def open_boards(env):
    """The ranking boards of this month (every board, per rep then per team), as
    the Ranking Boards screen computes them: (calls, lines)."""
    Ranking = env["crm.funnel.report.ranking"]
    now = datetime.now()
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    lines = sum(
        len(board)
        for level in ("rep", "team")
        for board in Ranking._funnel_boards(
            env.company, start, now, level=level
        ).values()
    )
    return 2, lines


def open_dashboard(env):
    """The funnel dashboard as it opens (the whole company, its default period:
    ``get_funnel_dashboard({})``): (calls, cards)."""
    return 1, len(env["crm.funnel.dashboard"].get_funnel_dashboard({}))


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


def measure(env, openings, repeat):
    """Each opening ``repeat`` times, in rounds: every opening once per round, in
    turn, so that all of them, Odoo's pivot among them, are timed over the same
    span of the run, whatever the machine does meanwhile. Each opening's best
    time counts, with its queries, the cache cleared before each.

    :param openings: [(spec, open)], ``open(env)`` returning (calls, groups)
    :return: a result per opening, in their order
    """
    best = [None] * len(openings)
    for _round in range(repeat):
        for index, (spec, opener) in enumerate(openings):
            env.invalidate_all()
            with common.measured(env.cr) as result:
                calls, groups = opener(env)
            if best[index] is None or result["time"] < best[index]["time"]:
                best[index] = dict(spec, **result, calls=calls, groups=groups)
    return best


# ------------------------------------------------------------
# MAIN
# ------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    datagen.add_data_options(parser, 100000)
    parser.add_argument(
        "--db",
        default="sales_funnel_bench_reports",
        help="database (default sales_funnel_bench_reports)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="open each pivot this many times, in rounds (every pivot once a round, "
        "Odoo's among them), and keep the best time (default 3)",
    )
    parser.add_argument(
        "--sizes",
        help="customer counts, comma-separated (e.g. 10000,100000): the pivots opened "
        "at each size in turn, the data generated again for each, and the last line "
        "the growth of the fastest-growing report from the smallest to the largest "
        "(default: --customers alone)",
    )
    parser.add_argument(
        "--all-dates",
        action="store_true",
        help="also open the reports with a default date filter without that filter",
    )
    parser.add_argument(
        "--without-distinct",
        action="store_true",
        help="also open the reports with a count of distinct values among their "
        "measures (the contact curve's contacts per customer) without those "
        "measures: what the distinct counts cost",
    )
    common.add_database_options(parser, "creating it and its data takes minutes")
    args = parser.parse_args(argv)
    try:
        args.size_list = sorted(
            {int(size) for size in (args.sizes or str(args.customers)).split(",")}
        )
    except ValueError:
        parser.error("--sizes: customer counts, comma-separated")
    if args.sizes and len(args.size_list) < 2:
        parser.error("--sizes: at least two different customer counts")
    if (
        args.customers < 1
        or min(args.size_list) < 1
        or args.moves_per_customer < 1
        or args.reps < datagen.TEAM_COUNT
        or args.repeat < 1
    ):
        parser.error(
            "--customers >= 1, --moves-per-customer >= 1, "
            f"--reps >= {datagen.TEAM_COUNT} and --repeat >= 1"
        )
    return args


# the labels of the extra openings (--all-dates, --without-distinct), which are
# not the reports as their menus open them
ALL_DATES = "(all dates)"
WITHOUT_DISTINCT = "(no distinct)"


def sorts(env, model, measure):
    """Whether ``measure`` (``field:aggregate``) of ``model`` counts distinct values."""
    Model = env[model]
    return hasattr(Model, "_funnel_sorts") and Model._funnel_sorts(
        measure.partition(":")[0]
    )


def measure_size(env, args, customers):
    """Every pivot opened on ``customers`` generated customers, the ranking boards
    and the dashboard: (rows of each table, results with Odoo's first)."""
    reps, teams = datagen.generate(
        env,
        customers,
        reps=args.reps,
        moves_per_customer=args.moves_per_customer,
        seed=args.seed,
        regenerate=args.regenerate,
    )
    ensure_targets(env, reps, teams)
    scale = {table: common.table_count(env.cr, table) for table in datagen.DATA_TABLES}
    specs = [pivot_spec(env, *report) for report in [ODOO_REPORT, *REPORTS]]
    if args.all_dates:
        specs += [
            dict(spec, label=f"{spec['label']} {ALL_DATES}", domain=[], filters=[])
            for spec in specs[1:]
            if spec["domain"]
        ]
    if args.without_distinct:
        specs += [
            dict(
                spec,
                label=f"{spec['label']} {WITHOUT_DISTINCT}",
                measures=[
                    measure
                    for measure in spec["measures"]
                    if not sorts(env, spec["model"], measure)
                ],
            )
            for spec in specs[1:]
            if any(sorts(env, spec["model"], measure) for measure in spec["measures"])
        ]
    openings = [(spec, lambda env, spec=spec: open_pivot(env, spec)) for spec in specs]
    openings += [(BOARDS, open_boards), (DASHBOARD, open_dashboard)]
    # a first opening of each, not timed: the ORM's and PostgreSQL's caches warm up
    for _spec, opener in openings:
        opener(env)
    results = measure(env, openings, args.repeat)
    for result in results:
        if result["label"] == BOARDS["label"]:
            detail = f", {result['groups']} lines"
        elif result["label"] == DASHBOARD["label"]:
            detail = ""
        else:
            detail = (
                f" {result['calls']} read_group, {result['groups']} groups; "
                f"rows {result['rows']} cols {result['cols']} {result['measures']} "
                f"filters {result['filters'] or '-'}"
            )
        print(
            f"  {result['label']:<26} {result['time'] * 1000:9.1f} ms "
            f"{result['queries']:4d} queries{detail}",
            flush=True,
        )
    return scale, results


def print_size(args, customers, scale, results):
    """The table of one size; returns the slowest report's ratio to Odoo's pivot."""
    odoo_result, report_results = results[0], results[1:]
    opened = [
        result
        for result in report_results
        if ALL_DATES not in result["label"] and WITHOUT_DISTINCT not in result["label"]
    ]
    print()
    print(
        f"{customers} customers, {args.moves_per_customer} moves each, {args.reps} reps in "
        f"{datagen.TEAM_COUNT} teams, database {args.db}, best of {args.repeat}"
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
    return slowest["time"] / odoo_result["time"]


def main(argv=None):
    args = parse_args(argv)
    conf = common.setup(args.db)
    common.ensure_database(args.db, conf, update=args.update)

    sizes = args.size_list
    measured = {}
    for customers in sizes:
        with common.environment(args.db) as env:
            measured[customers] = measure_size(env, args, customers)

    if not args.keep:
        common.drop_database(args.db)

    ratios = {
        customers: print_size(args, customers, *measured[customers])
        for customers in sizes
    }
    if len(sizes) == 1:
        common.print_ratio("slowest report/odoo pipeline pivot", ratios[sizes[0]])
        return
    # how each pivot grows from the smallest size to the largest (Odoo's too)
    small, large = sizes[0], sizes[-1]
    print()
    print(f"{'pivot':<28}{small:>10}{large:>10}{'growth':>8}")
    growths = {}
    for before, after in zip(measured[small][1], measured[large][1], strict=True):
        growths[after["label"]] = after["time"] / before["time"]
        print(
            f"{after['label']:<28}{before['time'] * 1000:10.1f}{after['time'] * 1000:10.1f}"
            f"{growths[after['label']]:8.2f}"
        )
    fastest_growing = max(
        (
            label
            for label in growths
            if label != ODOO_REPORT[0] and WITHOUT_DISTINCT not in label
        ),
        key=growths.get,
    )
    print(f"slowest report at {large}: {ratios[large]:.2f} times Odoo's pivot")
    print(f"fastest-growing report: {fastest_growing}")
    common.print_ratio(
        f"{large}/{small} time, {fastest_growing}", growths[fastest_growing]
    )


if __name__ == "__main__":
    main()
