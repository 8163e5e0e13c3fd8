#!/usr/bin/env python3
"""Benchmark: the back-fill of the move history at 10,000 and at 100,000 customers.

What installing the addon on a CRM in use, the mapping wizard and a reinstall
run (``crm.funnel.move._funnel_backfill``): the history of customers that have
none, from Odoo's tracking of their stage. For each size, in one transaction
rolled back at the end, it writes N opportunities in the funnel's stages with
1 to 3 tracked stage changes each (``mail_message`` + ``mail_tracking_value``,
as Odoo's tracking writes them; set-based SQL, not timed), then times the
back-fill of all of them (best of ``--repeat``, each rolled back to a
savepoint). Its query count should not grow with the customers.

Run from the repository root:

    .venv/bin/python benchmarks/bench_backfill.py
    .venv/bin/python benchmarks/bench_backfill.py --sizes 10000,50000

The last line printed is the ratio of the largest run to the smallest
(target at 100,000 against 10,000: at most 12).
"""

import argparse

import common

from odoo.tools import SQL

LAYERS = ("resource", "graded", "contacted", "lead")


def write_customers(env, count):
    """``count`` customers without history, each created in Resource 60 days ago
    and moved one layer down every 10 days, 1 to 3 times (Odoo's stage tracking);
    returns their ids."""
    cr = env.cr
    stages = [env.ref(f"sales_funnel_method.crm_stage_{layer}").id for layer in LAYERS]
    field = env["ir.model.fields"]._get("crm.lead", "stage_id")
    author = env.ref("base.partner_admin").id
    cr.execute(
        SQL(
            """INSERT INTO crm_lead (name, type, active, stage_id, funnel_layer, funnel_grade,
                                     user_id, company_id, create_date, write_date,
                                     date_last_stage_update, funnel_layer_date)
               SELECT '[bench] Backfill ' || LPAD(step::text, 7, '0'), 'opportunity', TRUE,
                      (%(stages)s::int[])[2 + MOD(step, 3)], (%(layers)s::varchar[])[2 + MOD(step, 3)],
                      'b', %(user)s, %(company)s, NOW() - INTERVAL '60 days',
                      NOW() - INTERVAL '60 days',
                      NOW() - INTERVAL '1 day' * (50 - 10 * (MOD(step, 3))), NOW()
                 FROM generate_series(1, %(count)s) step
            RETURNING id""",
            stages=stages,
            layers=list(LAYERS),
            user=env.uid,
            company=env.company.id,
            count=count,
        )
    )
    lead_ids = [row[0] for row in cr.fetchall()]
    # the k-th change (k = 1 .. 1 + id % 3) from the layer k-1 to the layer k
    cr.execute(
        SQL(
            """WITH change AS (
                   SELECT lead.id AS lead_id, change.k
                     FROM crm_lead lead
                     JOIN crm_stage stage ON stage.id = lead.stage_id
                    CROSS JOIN LATERAL generate_series(
                          1, ARRAY_POSITION(%(stages)s::int[], stage.id) - 1) AS change(k)
                    WHERE lead.id = ANY(%(leads)s)
               ), message AS (
                   INSERT INTO mail_message (model, res_id, message_type, author_id, date,
                                             create_date, write_date)
                   SELECT 'crm.lead', lead_id, 'notification', %(author)s,
                          NOW() - INTERVAL '1 day' * (60 - 10 * k), NOW(), NOW()
                     FROM change
                RETURNING id, res_id, date
               )
               INSERT INTO mail_tracking_value (mail_message_id, field_id, old_value_integer,
                                                new_value_integer, create_date, write_date)
               SELECT message.id, %(field)s, (%(stages)s::int[])[change.k],
                      (%(stages)s::int[])[change.k + 1], NOW(), NOW()
                 FROM message
                 JOIN change ON change.lead_id = message.res_id
                  AND message.date = NOW() - INTERVAL '1 day' * (60 - 10 * change.k)""",
            stages=stages,
            leads=lead_ids,
            author=author,
            field=field.id,
        )
    )
    cr.execute("ANALYZE crm_lead, mail_message, mail_tracking_value")
    return lead_ids


def measure(env, lead_ids, repeat):
    """(time, queries, moves) of the best of ``repeat`` back-fills."""
    cr = env.cr
    best = None
    for _round in range(repeat):
        env.invalidate_all()
        leads = env["crm.lead"].browse(lead_ids)
        savepoint = cr.savepoint(flush=False)
        with common.measured(cr) as result:
            moves = env["crm.funnel.move"]._funnel_backfill(leads)
            env.flush_all()
        count = len(moves)
        # the customers are back without history for the next round
        savepoint.close(rollback=True)
        env.invalidate_all()
        if best is None or result["time"] < best[0]:
            best = (result["time"], result["queries"], count)
    return best


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="10000,100000", help="customer counts, comma-separated"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", default="sales_funnel_bench_backfill")
    common.add_database_options(parser, "the next run reuses it")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    conf = common.setup(args.db)
    common.ensure_database(args.db, conf, update=args.update)
    results = {}
    for size in [int(size) for size in args.sizes.split(",")]:
        with common.environment(args.db) as env:
            lead_ids = write_customers(env, size)
            measure(env, lead_ids[:100], 1)  # warm the caches
            results[size] = measure(env, lead_ids, args.repeat)
            elapsed, queries, moves = results[size]
            print(
                f"  {size:7d} customers: {elapsed * 1000:9.1f} ms {queries:5d} queries "
                f"{moves} moves",
                flush=True,
            )
            env.cr.rollback()
    sizes = sorted(results)
    print(f"back-fill of the move history, best of {args.repeat}")
    for size in sizes:
        elapsed, queries, moves = results[size]
        print(
            f"{size:8d} customers {elapsed * 1000:10.1f} ms {queries:6d} queries {moves:7d} moves"
        )
    if not args.keep:
        common.drop_database(args.db)
    small, large = sizes[0], sizes[-1]
    common.print_ratio(f"{large}/{small} time", results[large][0] / results[small][0])


if __name__ == "__main__":
    main()
