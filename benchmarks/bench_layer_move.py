#!/usr/bin/env python3
"""Benchmark: a batch move of customers to the next layer, the addon against plain crm.

One run, two databases with the same data: ``sales_funnel_bench`` with the
addon, and ``sales_funnel_bench_plain`` with crm alone. In each, N
opportunities (1,000 by default) are moved to the next stage with one
``write({'stage_id': ...})``, tracking on, as a kanban drag of a selection or
an import does: Graded to Contacted with the addon (each move is recorded in
the history), New to Qualified in plain crm. Each write is timed up to and
including the commit-time work (``flush_all()`` and ``cr.precommit.run()``:
tracking messages), then rolled back; the sides alternate and the best of
``--rounds`` is kept.

Run from the repository root:

    .venv/bin/python benchmarks/bench_layer_move.py --customers 1000

The last line printed is the time ratio, e.g. ``ratio addon/plain time: 1.21``
(target: at most 1.5, with a fixed number of extra queries).
"""

import argparse
import contextlib

import common

PREFIX = "[bench-move]"


def prepare(env, count, funnel):
    """``count`` opportunities in the first stage, and the stage they move to."""
    Lead = env["crm.lead"].with_context(tracking_disable=True)
    Lead.search([("name", "=like", f"{PREFIX}%")]).with_context(
        active_test=False
    ).unlink()
    if funnel:
        start = env.ref("sales_funnel_method.crm_stage_graded")
        target = env.ref("sales_funnel_method.crm_stage_contacted")
        extra = {"funnel_grade": "b"}
    else:
        start, target = env["crm.stage"].search([], order="sequence, id", limit=2)
        extra = {}
    Lead.create(
        [
            dict(extra, name=f"{PREFIX} {index}", type="opportunity", stage_id=start.id)
            for index in range(count)
        ]
    )
    env.cr.commit()
    return target


def measure(env, target):
    """Time the move with the commit-time work, count its queries, then roll back."""
    cr = env.cr
    leads = env["crm.lead"].search([("name", "=like", f"{PREFIX}%")])
    env.flush_all()
    env.invalidate_all()
    leads = env["crm.lead"].browse(leads.ids)
    with common.commit_refused(cr, "the move"), common.measured(cr) as result:
        leads.write({"stage_id": target.id})
        common.commit_work(env)
    cr.rollback()
    env.invalidate_all()
    return result["time"], result["queries"]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", default="sales_funnel_bench")
    parser.add_argument("--plain-db", default="sales_funnel_bench_plain")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    conf = common.setup()
    common.ensure_database(args.db, conf, update=False)
    # a database with crm and without the addon
    common.ensure_database(args.plain_db, conf, update=False, module="crm")
    sides = {}
    with contextlib.ExitStack() as stack:
        for label, db, funnel in (
            ("addon", args.db, True),
            ("plain", args.plain_db, False),
        ):
            env = stack.enter_context(common.environment(db))
            sides[label] = {
                "env": env,
                "target": prepare(env, args.customers, funnel),
                "runs": [],
            }
        for round_ in range(args.rounds):
            order = ("plain", "addon") if round_ % 2 == 0 else ("addon", "plain")
            for label in order:
                side = sides[label]
                elapsed, queries = measure(side["env"], side["target"])
                side["runs"].append((elapsed, queries))
                print(
                    f"  round {round_ + 1} {label:<5} {elapsed:8.2f} s {queries:7d} queries",
                    flush=True,
                )
        for side in sides.values():
            side["env"]["crm.lead"].search([("name", "=like", f"{PREFIX}%")]).unlink()
            side["env"].cr.commit()
    best = {label: min(side["runs"]) for label, side in sides.items()}
    print(
        f"{args.customers} customers moved one stage down, best of {args.rounds} rounds"
    )
    print(f"plain crm  {best['plain'][0]:8.2f} s {best['plain'][1]:7d} queries")
    print(f"addon      {best['addon'][0]:8.2f} s {best['addon'][1]:7d} queries")
    print(f"extra queries addon - plain: {best['addon'][1] - best['plain'][1]}")
    common.print_ratio("addon/plain time", best["addon"][0] / best["plain"][0])


if __name__ == "__main__":
    main()
