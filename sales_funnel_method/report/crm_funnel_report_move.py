from odoo import fields, models
from odoo.tools import SQL

from ..models.crm_funnel_move import MOVE_TYPES
from ..models.crm_stage import FUNNEL_LAYERS


class CrmFunnelReportMove(models.Model):
    """Moves between layers (SPEC 2, 6): per transition and period, how many
    customers left a layer, the share that moved on (step rate) against the
    ideal, and the days they took, mean and median, against the ideal days."""

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
            "days_in_layer",
            "from_ideal_days",
            "user_id",
            "team_id",
            "company_id",
        ],
        "crm.stage": ["funnel_layer", "funnel_ideal_reach_rate"],
    }
    _funnel_ratios = {
        "step_rate": ("SUM(%(table)s.forward_count)", "SUM(%(table)s.leaving_count)"),
    }
    _funnel_medians = {"days_median": "days_in_layer"}

    lead_id = fields.Many2one("crm.lead", string="Customer", readonly=True)
    date = fields.Datetime(readonly=True)
    user_id = fields.Many2one("res.users", string="Rep", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    from_layer = fields.Selection(FUNNEL_LAYERS, readonly=True)
    to_layer = fields.Selection(FUNNEL_LAYERS, readonly=True)
    move_type = fields.Selection(MOVE_TYPES, string="Move", readonly=True)
    move_count = fields.Integer(string="Moves", readonly=True, aggregator="sum")
    leaving_count = fields.Integer(
        string="Left the Layer", readonly=True, aggregator="sum"
    )
    forward_count = fields.Integer(string="Moved On", readonly=True, aggregator="sum")
    step_rate = fields.Float(
        readonly=True,
        aggregator="avg",
        digits=(16, 2),
        help="Share of the customers leaving the layer that moved on down the funnel.",
    )
    ideal_step_rate = fields.Float(
        readonly=True,
        aggregator="avg",
        digits=(16, 2),
        help="The ideal reach rate of the next layer over the ideal reach rate of this one.",
    )
    days_in_layer = fields.Float(
        string="Days (Mean)", readonly=True, aggregator="avg", digits=(16, 2)
    )
    days_median = fields.Float(
        string="Days (Median)", readonly=True, aggregator="avg", digits=(16, 2)
    )
    ideal_days = fields.Float(readonly=True, aggregator="avg", digits=(16, 2))

    def _query(self):
        layer_keys = [key for key, _label in FUNNEL_LAYERS]
        following = SQL(" ").join(
            [SQL("CASE move.from_layer")]
            + [
                SQL("WHEN %s THEN %s", key, layer_keys[index + 1])
                for index, key in enumerate(layer_keys[:6])
            ]
            + [SQL("END")]
        )
        return SQL(
            """
            WITH reach AS (
                SELECT funnel_layer AS layer, MAX(funnel_ideal_reach_rate) AS rate
                  FROM crm_stage WHERE funnel_layer IS NOT NULL GROUP BY funnel_layer
            )
            SELECT move.id, move.lead_id, move.date, move.user_id, move.team_id, move.company_id,
                   move.from_layer, move.to_layer, move.move_type,
                   1 AS move_count,
                   CASE WHEN move.move_type IN ('forward', 'backward', 'abandon') THEN 1 ELSE 0 END
                       AS leaving_count,
                   CASE WHEN move.move_type = 'forward' THEN 1 ELSE 0 END AS forward_count,
                   CASE WHEN move.move_type = 'forward' THEN 1.0 ELSE 0.0 END AS step_rate,
                   COALESCE(next_reach.rate / NULLIF(from_reach.rate, 0), 0) AS ideal_step_rate,
                   move.days_in_layer, move.days_in_layer AS days_median,
                   move.from_ideal_days AS ideal_days
              FROM crm_funnel_move move
         LEFT JOIN reach from_reach ON from_reach.layer = move.from_layer
         LEFT JOIN reach next_reach ON next_reach.layer = %s
             WHERE move.from_layer IS NOT NULL
            """,
            following,
        )
