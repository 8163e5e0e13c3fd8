#!/usr/bin/env python3
"""Benchmark: the daily exception check at 10,000 and at 100,000 customers.

The same generated funnel as ``bench_reports.py`` (``datagen.generate``:
customers, moves, contacts and assignments in realistic proportions), at two sizes in one run: the check
(``crm.funnel.exception._funnel_run_checks()``, every check of METHOD 7 for the
company) is timed on each, best of ``--repeat``, each run rolled back so that
the next one finds the same open findings (none). The checks aggregate in SQL:
their time should grow with the data, their query count with the reps.

Run from the repository root:

    .venv/bin/python benchmarks/bench_exceptions.py

The last line printed is the ratio of the 100,000 run to the 10,000 run
(target: at most 12).
"""

import argparse

import common
import datagen


def run_checks(env, repeat):
    """(time, queries, findings) of the best of ``repeat`` checks, each rolled back."""
    cr = env.cr
    best = None
    for _round in range(repeat):
        env.invalidate_all()
        with common.measured(cr) as result:
            findings = env["crm.funnel.exception"]._funnel_run_checks(env.company)
            env.flush_all()
        count = len(findings)
        cr.rollback()
        if best is None or result["time"] < best[0]:
            best = (result["time"], result["queries"], count)
    return best


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="10000,100000", help="customer counts, comma-separated"
    )
    parser.add_argument("--moves-per-customer", type=int, default=5)
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", default="sales_funnel_bench_reports")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    conf = common.setup(args.db)
    common.ensure_database(args.db, conf, update=False)
    results = {}
    for size, env in datagen.each_size(args):
        run_checks(env, 1)  # warm the caches
        results[size] = run_checks(env, args.repeat)
        elapsed, queries, count = results[size]
        print(
            f"  {size:7d} customers: {elapsed * 1000:9.1f} ms {queries:5d} queries "
            f"{count} findings",
            flush=True,
        )
    sizes = sorted(results)
    print(f"exception check, best of {args.repeat}, {args.reps} reps")
    for size in sizes:
        elapsed, queries, count = results[size]
        print(
            f"{size:8d} customers {elapsed * 1000:10.1f} ms {queries:6d} queries {count:5d} findings"
        )
    small, large = sizes[0], sizes[-1]
    common.print_ratio(f"{large}/{small} time", results[large][0] / results[small][0])


if __name__ == "__main__":
    main()
