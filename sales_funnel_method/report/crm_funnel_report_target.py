from odoo import fields, models
from odoo.tools import SQL

from ..models.crm_funnel_target import MONTH_FIELDS, TARGET_KINDS, TARGET_LEVELS


class CrmFunnelReportTarget(models.Model):
    """Targets against actual (业绩目标 / 完成率), per month, quarter or year, per rep
    and per team.

    Each monthly target is one row; each signing, won customer and arrival in
    Intent is one row for its rep and one for its team (``level``), from the move
    history. What counts is the allocation service's: a signing is
    ``_funnel_signing_sql``, and won revenue its ``_funnel_won_sql``, as the sales
    totals and the ranking boards count it: the expected revenue of a customer,
    counted once at its latest signing, for the rep and the team of that signing,
    while the customer is still won. Compare one level at a time: a team's target and its
    reps' targets are two views of the same figures.

    A monthly target is dated on the 15th at noon (UTC), so that every time zone
    puts it in its month, quarter and year.
    """

    _name = "crm.funnel.report.target"
    _inherit = ["crm.funnel.report.mixin"]
    _description = "Funnel Targets against Actual"
    _auto = False
    _order = "date desc"
    _depends = {
        "crm.funnel.move": [
            "lead_id",
            "date",
            "from_layer",
            "to_layer",
            "move_type",
            "user_id",
            "team_id",
            "company_id",
        ],
        "crm.lead": ["active", "funnel_layer", "expected_revenue"],
        "crm.funnel.target": [
            "active",
            "year",
            "kind",
            "level",
            "user_id",
            "team_id",
            "company_id",
            *MONTH_FIELDS,
        ],
    }
    _funnel_ratios = {
        "completion_rate": (
            "100.0 * SUM(%(table)s.actual)",
            "SUM(%(table)s.target)",
        ),
    }

    date = fields.Datetime(readonly=True)
    kind = fields.Selection(TARGET_KINDS, string="Figure", readonly=True)
    level = fields.Selection(TARGET_LEVELS, readonly=True)
    user_id = fields.Many2one("res.users", string="Rep", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    target = fields.Float(readonly=True, aggregator="sum")
    actual = fields.Float(readonly=True, aggregator="sum")
    completion_rate = fields.Float(
        string="Completion (%)",
        readonly=True,
        aggregator="avg",
        digits=(16, 1),
        help="Actual over target, in percent (完成率), for the figures grouped.",
    )

    def _query(self):
        service = self.env["crm.funnel.allocation"]
        months = SQL(", ").join(SQL.identifier("target", name) for name in MONTH_FIELDS)
        # ids: even for the actual figures (from the moves), odd for the targets;
        # the kind and level of both branches of the same type (text), or a filter
        # on them (the level of every opening) stays above the union instead of
        # reaching each branch
        return SQL(
            """
            WITH actual AS (
                -- a won customer's revenue, at its latest signing (no later one)
                SELECT won.id * 4 AS id, won.date, won.user_id, won.team_id,
                       won.company_id, 'revenue' AS kind, won.revenue AS value
                  FROM (%(won)s) won
                UNION ALL
                SELECT move.id * 4 + 1, move.date, move.user_id, move.team_id,
                       move.company_id, 'signings', 1
                  FROM crm_funnel_move move
                 WHERE %(signing)s
                UNION ALL
                SELECT move.id * 4 + 2, move.date, move.user_id, move.team_id,
                       move.company_id, 'intent', 1
                  FROM crm_funnel_move move
                 WHERE move.to_layer = 'intent' AND move.move_type IN ('forward', 'entry', 'reopen')
            )
            SELECT (actual.id * 2 + level.rank) * 2 AS id, actual.date, actual.kind,
                   level.level, CASE WHEN level.level = 'rep' THEN actual.user_id END AS user_id,
                   actual.team_id, actual.company_id,
                   0.0::float AS target, actual.value::float AS actual, NULL::float AS completion_rate
              FROM actual
             CROSS JOIN (VALUES ('rep', 0), ('team', 1)) AS level(level, rank)
            UNION ALL
            SELECT (target.id * 16 + month.number) * 2 + 1,
                   make_timestamp(target.year, month.number, 15, 12, 0, 0), target.kind::text,
                   target.level::text, target.user_id, target.team_id, target.company_id,
                   month.value::float, 0.0::float, NULL::float
              FROM crm_funnel_target target
             CROSS JOIN LATERAL unnest(
                   ARRAY[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], ARRAY[%(months)s]
                   ) AS month(number, value)
             WHERE target.active
            """,
            won=service._funnel_won_sql(),
            signing=service._funnel_signing_sql("move"),
            months=months,
        )
