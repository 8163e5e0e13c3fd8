#!/usr/bin/env python3
"""Benchmark: allocating the customer pool, the addon against Odoo's own assignment.

One run, one database, the same data for both:

* the addon: ``crm.funnel.allocation._funnel_allocate()`` (fat-first, METHOD 5);
* Odoo: ``crm.team._action_assign_leads(force_quota=True, creation_delta_days=0)``,
  what the "Assign Leads" button and the assignment cron run.

Each side runs in the same transaction on the committed data, is timed up to
and including the commit-time work (``flush_all()`` and ``cr.precommit.run()``:
tracking messages and followers are written there), then rolled back, so that
the other side finds the pool unassigned again. Odoo's assignment commits every
100 leads outside tests: the thread is marked as testing while it runs, as
Odoo's test runner does, and a commit during a measure is refused.

The data are ``datagen.generate_pool``'s, regenerated and committed on every
run. The pool customers already have a sales team (spread over 5 teams in
proportion to their members), so Odoo goes straight to the assignment of
members (``_assign_and_convert_leads``); its allocation to teams
(``_allocate_leads``) finds nothing to do. Both sides have the same room: the
company's quota is ``ceil(customers / reps) + 10`` and each member's
``assignment_max`` is 30 times that, Odoo's daily quota being a thirtieth.

With ``--floor``, a third side times, on the same pool, only the calls the
allocation must make through the ORM (issue 16): per rep, crm's ``write`` of
the salesperson and the team, ``_message_log_batch`` of a note per customer and
``message_subscribe``, and nothing else of the allocation (no plan, no
assignment records, no notices). Its ratio to Odoo's time is the lowest the
allocation's could be.

Run from the repository root:

    .venv/bin/python benchmarks/bench_allocation.py --customers 2000 --reps 50

The last line printed is the time ratio, e.g. ``ratio addon/odoo time: 0.043``.
"""

import argparse
import time
from collections import defaultdict

import common
import datagen
from markupsafe import Markup

from odoo.tools import SQL

TEAM_COUNT = datagen.TEAM_COUNT
# the calls of the floor (run_floor), each timed
FLOOR_CALLS = ("write", "_message_log_batch", "message_subscribe")


# ------------------------------------------------------------
# MEASURE
# ------------------------------------------------------------


def pool_figures(cr):
    """(customers assigned, reps who received some, largest share) of the pool."""
    cr.execute(
        SQL(
            """SELECT COUNT(*), COUNT(DISTINCT user_id),
                      COALESCE(MAX(per_user), 0)
                 FROM (SELECT user_id, COUNT(*) OVER (PARTITION BY user_id) AS per_user
                         FROM crm_lead
                        WHERE name LIKE %s AND user_id IS NOT NULL) assigned""",
            f"{datagen.PREFIX} Pool %",
        )
    )
    return cr.fetchone()


def measure(env, label, run):
    """Time ``run()`` with the commit-time work, count its queries, then roll back."""
    cr = env.cr
    env.flush_all()
    env.invalidate_all()
    messages_before = common.table_max_id(cr, "mail_message")
    mails_before = common.table_max_id(cr, "mail_mail")
    with common.commit_refused(cr, label), common.measured(cr) as measure:
        run()
        common.commit_work(env)
    elapsed, queries = measure["time"], measure["queries"]

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
    with common.without_autocommit():
        teams._action_assign_leads(force_quota=True, creation_delta_days=0)


def run_addon(env):
    env["crm.funnel.allocation"]._funnel_allocate()


def floor_batches(env, team_ids):
    """The pool dealt evenly to each team's members: [(user, team, lead ids)],
    about as many batches of about as many customers as the allocation writes."""
    leads = env["crm.lead"].search(
        [
            ("name", "=like", f"{datagen.PREFIX} Pool %"),
            ("user_id", "=", False),
            ("team_id", "in", team_ids),
        ],
        order="id",
    )
    by_team = defaultdict(list)
    for lead in leads:
        by_team[lead.team_id.id].append(lead.id)
    batches = []
    for team in env["crm.team"].browse(team_ids):
        users = team.crm_team_member_ids.user_id
        for index, user in enumerate(users):
            lead_ids = by_team[team.id][index :: len(users)]
            if lead_ids:
                batches.append((user, team, lead_ids))
    return batches


def run_floor(env, batches, parts):
    """The calls issue 16 asks the allocation to make, and nothing else of it: per
    rep, crm's ``write`` of the salesperson and the team, ``_message_log_batch``
    of a one-line note per customer and ``message_subscribe``, in the
    allocation's context. Adds each call's time to ``parts``."""
    leads = env["crm.lead"].with_context(
        tracking_disable=True, mail_auto_subscribe_no_notify=True, funnel_assigning=True
    )
    clock = time.perf_counter
    for user, team, lead_ids in batches:
        batch = leads.browse(lead_ids)
        start = clock()
        batch.write({"user_id": user.id, "team_id": team.id})
        batch.flush_model()
        parts["write"] += clock() - start
        start = clock()
        body = Markup("<p>%s</p>") % f"Allocation: received by {user.name}"
        batch._message_log_batch(bodies=dict.fromkeys(lead_ids, body))
        parts["_message_log_batch"] += clock() - start
        start = clock()
        batch.message_subscribe(partner_ids=user.partner_id.ids)
        parts["message_subscribe"] += clock() - start


# ------------------------------------------------------------
# MAIN
# ------------------------------------------------------------


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
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also time the bare calls the allocation must make (crm's write, "
        "_message_log_batch, message_subscribe per rep), without the rest of it",
    )
    common.add_database_options(parser, "creating it takes a minute")
    args = parser.parse_args(argv)
    if args.customers < 1 or args.reps < TEAM_COUNT or args.rounds < 1:
        parser.error(f"--customers >= 1, --reps >= {TEAM_COUNT} and --rounds >= 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    conf = common.setup(args.db)
    common.ensure_database(args.db, conf, update=args.update)

    with common.environment(args.db) as env:
        teams, quota = datagen.generate_pool(env, args.customers, reps=args.reps)
        runs = {
            "odoo": lambda: run_odoo(env, teams.ids),
            "addon": lambda: run_addon(env),
        }
        results = {"odoo": [], "addon": []}
        sides = ["odoo", "addon"]
        if args.floor:
            batches = floor_batches(env, teams.ids)
            parts = {}

            def floor():
                parts.update(dict.fromkeys(FLOOR_CALLS, 0.0))
                run_floor(env, batches, parts)

            runs["floor"] = floor
            results["floor"] = []
            floor_parts = []
            sides.append("floor")
        for round_index in range(args.rounds):
            order = sides if round_index % 2 == 0 else sides[::-1]
            print(
                f"round {round_index + 1}/{args.rounds}: {' then '.join(order)}",
                flush=True,
            )
            for side in order:
                results[side].append(measure(env, side, runs[side]))
                if side == "floor":
                    floor_parts.append(dict(parts))

    if not args.keep:
        common.drop_database(args.db)

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
    if args.floor:
        index = min(range(args.rounds), key=lambda i: results["floor"][i]["time"])
        floor_best = results["floor"][index]
        print(
            f"{'floor: the bare calls':<28}{floor_best['time']:10.2f}"
            f"{floor_best['queries']:10d}{floor_best['assigned']:10d}"
        )
        for name, seconds in floor_parts[index].items():
            print(f"  {name:<26}{seconds:10.2f}")
        print(f"ratio floor/odoo time: {floor_best['time'] / odoo_best['time']:.4f}")
    common.print_ratio("addon/odoo time", addon_best["time"] / odoo_best["time"], 4)


if __name__ == "__main__":
    main()
