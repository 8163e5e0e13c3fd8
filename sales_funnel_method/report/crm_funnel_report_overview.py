from odoo import fields, models
from odoo.tools import SQL

from ..models.crm_stage import FUNNEL_LAYERS


class CrmFunnelReportOverview(models.Model):
    """The funnel at a glance (METHOD 2): layer by layer, how many customers reached
    it against how many should have, given the resources that entered the
    funnel and the ideal reach rates (of 100 resources, 90 contacted ... 10 signed)."""

    _name = "crm.funnel.report.overview"
    _inherit = ["crm.funnel.report.mixin"]
    _description = "Funnel Overview: Actual against Ideal"
    _auto = False
    _order = "date desc"
    _depends = {
        "crm.funnel.move": [
            "lead_id",
            "date",
            "to_layer",
            "move_type",
            "user_id",
            "team_id",
            "company_id",
        ],
        "crm.stage": ["funnel_layer", "funnel_ideal_reach_rate"],
        "crm.team": ["use_funnel"],
    }
    _funnel_ratios = {
        "reach_rate": (
            "SUM(%(table)s.actual_count)",
            "SUM(%(table)s.entered_count)",
            100,
        ),
        "ideal_reach_rate": (
            "SUM(%(table)s.ideal_count)",
            "SUM(%(table)s.entered_count)",
            100,
        ),
    }

    date = fields.Datetime(readonly=True)
    user_id = fields.Many2one("res.users", string="Rep", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    layer = fields.Selection(FUNNEL_LAYERS[:6], readonly=True)
    kind = fields.Selection(
        [("actual", "Actual"), ("ideal", "Ideal")], string="Funnel", readonly=True
    )
    customer_count = fields.Float(
        string="Customers",
        readonly=True,
        aggregator="sum",
        digits=(16, 1),
        help="Actual: customers that reached the layer. Ideal: the resources that entered "
        "the funnel times the layer's ideal reach rate. Split it by Funnel (actual, "
        "ideal): the pivot's Actual and Ideal measures show both side by side.",
    )
    actual_count = fields.Integer(
        string="Actual",
        readonly=True,
        aggregator="sum",
        help="Customers that reached the layer in the period.",
    )
    ideal_count = fields.Float(
        string="Ideal",
        readonly=True,
        aggregator="sum",
        digits=(16, 1),
        help="The resources that entered the funnel in the period times the layer's "
        "ideal reach rate.",
    )
    entered_count = fields.Integer(
        string="Resources Entered",
        readonly=True,
        aggregator="sum",
        help="Resources that entered the funnel in the period (the base of the reach rates).",
    )
    reach_rate = fields.Float(
        string="Reach Rate (%)",
        readonly=True,
        aggregator="avg",
        digits=(16, 1),
        help="Customers that reached the layer per resource that entered the funnel in "
        "the period.",
    )
    ideal_reach_rate = fields.Float(
        string="Ideal Reach Rate (%)",
        readonly=True,
        aggregator="avg",
        digits=(16, 1),
    )

    def _query(self):
        layers = [key for key, _label in FUNNEL_LAYERS[:6]]
        # ids come from the moves (a row number over the union would keep the
        # date filter from reaching the moves); the ideal rows of an entry are
        # built in the same scan, from the reach rates gathered in one row
        return SQL(
            """
            WITH reach AS (
                SELECT ARRAY_AGG(layer ORDER BY layer) AS layers,
                       ARRAY_AGG(rate ORDER BY layer) AS rates,
                       ARRAY_AGG(rank ORDER BY layer) AS ranks
                  FROM (
                    SELECT stage.funnel_layer AS layer,
                           MAX(stage.funnel_ideal_reach_rate) / 100.0 AS rate,
                           ARRAY_POSITION(%(layers)s::varchar[], stage.funnel_layer::varchar) AS rank
                      FROM crm_stage stage
                     WHERE stage.funnel_layer = ANY(%(layers)s)
                       AND stage.funnel_ideal_reach_rate > 0
                  GROUP BY stage.funnel_layer
                  ) rate
            )
            SELECT move.id * 8 AS id, move.date, move.user_id, move.team_id, move.company_id,
                   move.to_layer AS layer, 'actual' AS kind, 1.0 AS customer_count,
                   1 AS actual_count, 0.0 AS ideal_count, 0 AS entered_count,
                   NULL::float AS reach_rate, NULL::float AS ideal_reach_rate
              FROM crm_funnel_move move
             WHERE move.move_type IN ('forward', 'entry', 'reopen')
               AND move.to_layer = ANY(%(layers)s)
               AND (move.team_id IS NULL OR %(funnel_team)s)
            UNION ALL
            SELECT move.id * 8 + ideal.rank, move.date, move.user_id, move.team_id, move.company_id,
                   ideal.layer, 'ideal', ideal.rate,
                   0, ideal.rate, 1, NULL, NULL
              FROM crm_funnel_move move
             CROSS JOIN reach
             CROSS JOIN LATERAL unnest(reach.layers, reach.rates, reach.ranks)
                   AS ideal(layer, rate, rank)
             WHERE move.move_type IN ('entry', 'reopen') AND move.to_layer = 'resource'
               AND (move.team_id IS NULL OR %(funnel_team)s)
            """,
            layers=layers,
            funnel_team=self.env["crm.team"]._funnel_team_sql(
                SQL("move.team_id"), active=False
            ),
        )
