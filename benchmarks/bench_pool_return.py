#!/usr/bin/env python3
"""Benchmark: the daily return to the pool (自动回收) of 10,000 of 100,000 customers.

On a generated funnel (``datagen.generate``: customers in every layer, who holds
them since when, their contacts), the company's "days without contact" is set
to the largest number of days that makes at least ``--returned`` held customers
due, and the daily job's return (``crm.funnel.allocation._funnel_return_due``:
one SQL selection, one write per rep, the chatter lines and "returned"
assignments in bulk, one notice per rep) returns exactly ``--returned`` of them
(its batch size). Beside it, on the same customers, what a manager would do
without the job: select them in a list and empty their salesperson, one
``write({'user_id': False})`` with Odoo's tracking.

Each side runs ``--repeat`` times, alternating which goes first, each run rolled
back (after the work of the commit: tracking messages, followers); the best
times count. Run from the repository root:

    .venv/bin/python benchmarks/bench_pool_return.py

The last line printed is the ratio of the job's time to the list edit's.

With ``--sizes 10000,100000`` it times the job alone at each size in one run
(the data generated for each in turn, a tenth of the customers returned), and
the last line is the largest size's time over the smallest's.
"""

import argparse
from unittest.mock import patch

import common
import datagen

from odoo import fields
from odoo.tools import SQL


def due_ages(env):
    """{whole days since the latest contact or receipt: held customers} of the
    customers a "days without contact" rule would return, read with the job's
    own SQL (at 1 day, ``due`` is that moment plus one day)."""
    env.company.funnel_return_contact_days = 1
    env.flush_all()
    env.cr.execute(
        SQL(
            """SELECT FLOOR(EXTRACT(EPOCH FROM (%s - (due.due - INTERVAL '1 day')))
                            / 86400)::int,
                      COUNT(*)
                 FROM (%s) due GROUP BY 1""",
            fields.Datetime.now(),
            env["crm.funnel.allocation"]._funnel_return_sql(),
        )
    )
    return dict(env.cr.fetchall())


def choose_days(ages, target):
    """The largest number of days that makes at least ``target`` customers due."""
    for days in sorted(ages, reverse=True):
        if days > 0 and sum(n for age, n in ages.items() if age >= days) >= target:
            return days
    raise SystemExit(
        f"fewer than {target} held customers in the data: generate more customers"
    )


def set_days(env, days):
    env.company.funnel_return_contact_days = days
    env.flush_all()
    env.invalidate_all()


def selection(env, target):
    """The customers the job returns first: its own order, its batch size."""
    env.cr.execute(
        SQL(
            """SELECT due.id FROM (%s) due WHERE due.due <= %s
             ORDER BY due.user_id, due.id LIMIT %s""",
            env["crm.funnel.allocation"]._funnel_return_sql(),
            fields.Datetime.now(),
            target,
        )
    )
    return [row[0] for row in env.cr.fetchall()]


def run_job(env, target):
    with common.measured(env.cr) as result:
        returned, _left = env["crm.funnel.allocation"]._funnel_return_due(limit=target)
        common.commit_work(env)
    result["ids"] = sorted(returned.ids)
    return result


def run_list_edit(env, ids):
    leads = env["crm.lead"].browse(ids)
    with common.measured(env.cr) as result:
        leads.write({"user_id": False})
        common.commit_work(env)
    result["ids"] = sorted(ids)
    return result


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100000)
    parser.add_argument("--returned", type=int, default=10000)
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--moves-per-customer", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--db", default="sales_funnel_bench_reports")
    parser.add_argument(
        "--sizes",
        help="the daily job alone at each of these customer counts (comma-separated), "
        "returning a tenth of each; the last line is the largest's time over the "
        "smallest's",
    )
    common.add_database_options(parser, "the generated funnel is reused")
    return parser.parse_args(argv)


def run_sizes(args):
    """The job at several sizes in one run: N customers, N / 10 of them returned."""
    results = {}
    for size, env in datagen.each_size(args):
        returned = size // 10
        # the same moment for every run: the same customers are due
        frozen = fields.Datetime.now()
        with patch.object(fields.Datetime, "now", lambda *_args, at=frozen: at):
            days = choose_days(due_ages(env), returned)
            env.cr.rollback()
            set_days(env, days)
            best = None
            for _round in range(args.repeat):
                with common.commit_refused(env.cr, "job"):
                    result = run_job(env, returned)
                env.cr.rollback()
                set_days(env, days)
                if len(result["ids"]) != returned:
                    raise SystemExit(f"the job returned {len(result['ids'])}")
                if best is None or result["time"] < best["time"]:
                    best = result
        results[size] = best
        print(
            f"  {size:7d} customers: {returned} returned in {best['time']:8.2f} s, "
            f"{best['queries']} queries",
            flush=True,
        )
    print(f"daily return to the pool, best of {args.repeat}, {args.reps} reps")
    for size, result in results.items():
        print(
            f"{size:8d} customers {size // 10:7d} returned {result['time']:9.2f} s "
            f"{result['queries']:6d} queries"
        )
    small, large = min(results), max(results)
    common.print_ratio(
        f"{large}/{small} time", results[large]["time"] / results[small]["time"]
    )


def main(argv=None):
    args = parse_args(argv)
    conf = common.setup(args.db)
    common.ensure_database(args.db, conf, update=args.update)
    if args.sizes:
        run_sizes(args)
        if not args.keep:
            common.drop_database(args.db)
        return
    with common.environment(args.db) as env:
        datagen.generate(
            env,
            args.customers,
            reps=args.reps,
            moves_per_customer=args.moves_per_customer,
            seed=args.seed,
        )
        # the same moment for every run: the same customers are due
        now = fields.Datetime.now()
        frozen = patch.object(fields.Datetime, "now", lambda *_args: now)
        frozen.start()
        ages = due_ages(env)
        days = choose_days(ages, args.returned)
        held = sum(ages.values())
        env.cr.rollback()
        set_days(env, days)
        ids = selection(env, args.returned)
        best = {}
        for round_ in range(args.repeat):
            sides = ["job", "list edit"] if round_ % 2 == 0 else ["list edit", "job"]
            for side in sides:
                with common.commit_refused(env.cr, side):
                    if side == "job":
                        result = run_job(env, args.returned)
                    else:
                        result = run_list_edit(env, ids)
                if result["ids"] != sorted(ids):
                    raise SystemExit(f"{side} did not return the selected customers")
                env.cr.rollback()
                set_days(env, days)
                print(
                    f"  round {round_ + 1} {side:9s} {result['time']:8.2f} s "
                    f"{result['queries']:7d} queries {len(result['ids'])} customers",
                    flush=True,
                )
                if side not in best or result["time"] < best[side]["time"]:
                    best[side] = result
        frozen.stop()
    if not args.keep:
        common.drop_database(args.db)
    job, edit = best["job"], best["list edit"]
    print(
        f"{args.customers} customers, {held} held in the Resource to Intent layers, "
        f"{args.reps} reps; no contact for {days} days returns {len(job['ids'])} "
        f"(batch size {args.returned}); best of {args.repeat}"
    )
    print(f"{'':32s}{'time (s)':>10s}{'queries':>10s}")
    print(f"{'job   _funnel_return_due':32s}{job['time']:10.2f}{job['queries']:10d}")
    print(
        f"{'list  write(user_id=False)':32s}{edit['time']:10.2f}{edit['queries']:10d}"
    )
    common.print_ratio("job/list edit queries", job["queries"] / edit["queries"], 4)
    common.print_ratio("job/list edit time", job["time"] / edit["time"], 4)


if __name__ == "__main__":
    main()
