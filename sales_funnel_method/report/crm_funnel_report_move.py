from odoo import fields, models
from odoo.tools import SQL

from ..models.crm_stage import FUNNEL_LAYERS

REPORT_KINDS = [("actual", "Actual"), ("ideal", "Ideal")]


class CrmFunnelReportMove(models.Model):
    """Step rates and cycle times (METHOD 2, 6, 11), cohort by cohort.

    Each customer reaching a layer is a row, dated when it got there: of the
    customers that reached a layer in the period, the share that went on to a
    lower layer is the step rate (30 of 50 that reached Lead reached Intent:
    60 %), whether the others left the layer or stalled in it; the days they
    took to move on, mean and median, stand beside the layer's ideal days.

    Every row has an ideal twin (kind "ideal") carrying the layer's ideal step
    rate and ideal days, so that a graph split by kind shows the ideal beside the
    actual; groups that are not split show the actual (see the mixin).
    """

    _name = "crm.funnel.report.move"
    _inherit = ["crm.funnel.report.mixin"]
    _description = "Funnel Moves Analysis"
    _auto = False
    _order = "date desc"
    _rec_name = "lead_id"
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
            "reached",
            "moved_on_date",
        ],
        "crm.stage": ["funnel_layer", "funnel_ideal_reach_rate", "funnel_ideal_days"],
        "crm.team": ["use_funnel"],
    }
    _funnel_by_kind = ("step_rate", "days_in_layer", "days_median")
    # where an actual row and its ideal twin agree
    _funnel_twin_fields = (
        "lead_id",
        "date",
        "user_id",
        "team_id",
        "company_id",
        "layer",
        "ideal_step_rate",
        "ideal_days",
    )
    _funnel_medians = {"days_median": "days_in_layer"}

    lead_id = fields.Many2one("crm.lead", string="Customer", readonly=True)
    date = fields.Datetime(
        string="Reached On",
        readonly=True,
        help="When the customer reached the layer.",
    )
    user_id = fields.Many2one("res.users", string="Rep", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    layer = fields.Selection(FUNNEL_LAYERS[:6], readonly=True)
    kind = fields.Selection(REPORT_KINDS, string="Funnel", readonly=True)
    reached_count = fields.Integer(
        string="Reached",
        readonly=True,
        aggregator="sum",
        help="Customers that reached the layer in the period.",
    )
    moved_on_count = fields.Integer(
        string="Moved Down",
        readonly=True,
        aggregator="sum",
        help="Of the customers that reached the layer, those that went on to a lower "
        "layer since.",
    )
    step_rate = fields.Float(
        string="Step Rate (%)",
        readonly=True,
        aggregator="avg",
        digits=(16, 1),
        help="Of the customers that reached the layer in the period, the share that went "
        "on to a lower layer: customers that stall in the layer lower it.",
    )
    ideal_step_rate = fields.Float(
        string="Ideal Step Rate (%)",
        readonly=True,
        aggregator="avg",
        digits=(16, 1),
        help="The ideal reach rate of the next layer over the ideal reach rate of this one.",
    )
    days_in_layer = fields.Float(
        string="Days to Move On (Mean)",
        readonly=True,
        aggregator="avg",
        digits=(16, 1),
        help="Days the customers that moved on took, from reaching the layer to reaching "
        "a lower one.",
    )
    days_median = fields.Float(
        string="Days to Move On (Median)",
        readonly=True,
        aggregator="avg",
        digits=(16, 1),
    )
    ideal_days = fields.Float(
        string="Ideal Move Days", readonly=True, aggregator="avg", digits=(16, 1)
    )

    def _query(self):
        Move = self.env["crm.funnel.move"]
        layers = [key for key, _label in FUNNEL_LAYERS[:6]]
        next_layers = [key for key, _label in FUNNEL_LAYERS[1:7]]
        # ids come from the moves (a row number would keep the date filter from
        # reaching them); the ideal row of a customer is built in the same scan.
        # The ideal figures are a subquery, not a WITH: PostgreSQL folds a view
        # without WITH into the query that reads it, and plans the joins and the
        # grouping as one query. The subquery itself is kept whole (OFFSET 0):
        # pulled up into the join, its step rate (a numeric division) would be
        # worked out again for every arrival, not once per layer
        return SQL(
            """
            SELECT move.id * 2 + kind.rank AS id, move.lead_id, move.date,
                   move.user_id, move.team_id, move.company_id,
                   move.to_layer AS layer, kind.kind,
                   1 - kind.rank AS reached_count,
                   CASE WHEN kind.rank = 0 AND moved_on.date IS NOT NULL THEN 1 ELSE 0 END
                       AS moved_on_count,
                   CASE WHEN kind.rank = 1 THEN ideal.step_rate
                        WHEN moved_on.date IS NOT NULL THEN 100.0 ELSE 0.0 END AS step_rate,
                   ideal.step_rate AS ideal_step_rate,
                   days.days AS days_in_layer, days.days AS days_median,
                   ideal.days AS ideal_days
              FROM crm_funnel_move move
              JOIN (
                   SELECT layer.key AS layer,
                          100.0 * NULLIF(next_rate.rate, 0) / NULLIF(rate.rate, 0)
                              AS step_rate,
                          NULLIF(rate.days, 0) AS days
                     FROM unnest(%(layers)s::varchar[], %(next_layers)s::varchar[])
                          AS layer(key, next_key)
                LEFT JOIN (SELECT funnel_layer, MAX(funnel_ideal_reach_rate) AS rate,
                                  MAX(funnel_ideal_days) AS days
                             FROM crm_stage WHERE funnel_layer IS NOT NULL
                         GROUP BY funnel_layer) rate ON rate.funnel_layer = layer.key
                LEFT JOIN (SELECT funnel_layer, MAX(funnel_ideal_reach_rate) AS rate
                             FROM crm_stage WHERE funnel_layer IS NOT NULL
                         GROUP BY funnel_layer) next_rate
                          ON next_rate.funnel_layer = layer.next_key
                   OFFSET 0
                   ) ideal ON ideal.layer = move.to_layer
             CROSS JOIN (VALUES (0, 'actual'), (1, 'ideal')) AS kind(rank, kind)
                   %(moved_on)s
             CROSS JOIN LATERAL (
                   SELECT CASE WHEN kind.rank = 1 THEN ideal.days
                               ELSE date_part('epoch', moved_on.date - move.date) / 86400
                          END AS days
                   ) days
             WHERE %(reached)s
               AND (move.team_id IS NULL OR %(funnel_team)s)
            """,
            layers=layers,
            next_layers=next_layers,
            moved_on=Move._funnel_moved_on_join_sql("move", "moved_on"),
            reached=Move._funnel_reached_sql("move"),
            funnel_team=self.env["crm.team"]._funnel_team_sql(
                SQL("move.team_id"), active=False
            ),
        )
