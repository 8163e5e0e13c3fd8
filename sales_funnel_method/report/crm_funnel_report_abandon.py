from odoo import fields, models
from odoo.tools import SQL


class CrmFunnelReportAbandon(models.Model):
    """Abandoned / received customers per rep and team (METHOD 4: 放弃数量和领取数量的比例)."""

    _name = "crm.funnel.report.abandon"
    _inherit = ["crm.funnel.report.mixin"]
    _description = "Funnel Abandon / Received Ratio"
    _auto = False
    _order = "date desc"
    _rec_name = "lead_id"
    _depends = {
        "crm.funnel.move": [
            "lead_id",
            "date",
            "move_type",
            "user_id",
            "team_id",
            "company_id",
        ],
        "crm.funnel.assignment": [
            "lead_id",
            "date",
            "user_id",
            "team_id",
            "company_id",
        ],
        "crm.team": ["use_funnel"],
    }
    _funnel_ratios = {
        "abandon_ratio": (
            "SUM(%(table)s.abandoned_count)",
            "SUM(%(table)s.received_count)",
        ),
    }

    lead_id = fields.Many2one("crm.lead", string="Customer", readonly=True)
    date = fields.Datetime(readonly=True)
    user_id = fields.Many2one("res.users", string="Rep", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    abandoned_count = fields.Integer(
        string="Abandoned", readonly=True, aggregator="sum"
    )
    received_count = fields.Integer(string="Received", readonly=True, aggregator="sum")
    abandon_ratio = fields.Float(
        string="Abandoned / Received",
        readonly=True,
        aggregator="avg",
        digits=(16, 2),
        help="Customers abandoned per customer received (every way a rep receives one: "
        "allocated, claimed, handed over or assigned by a manager).",
    )

    def _query(self):
        Team = self.env["crm.team"]
        # ids come from the sources (a row number over the union would keep the
        # date filter from reaching the tables); every kind of assignment is a
        # customer received
        return SQL(
            """
            SELECT move.id * 2 AS id, move.lead_id, move.date,
                   move.user_id, move.team_id, move.company_id,
                   1 AS abandoned_count, 0 AS received_count, NULL::float AS abandon_ratio
              FROM crm_funnel_move move
             WHERE move.move_type = 'abandon' AND move.user_id IS NOT NULL
               AND (move.team_id IS NULL OR %s)
            UNION ALL
            SELECT assignment.id * 2 + 1, assignment.lead_id, assignment.date,
                   assignment.user_id, assignment.team_id, assignment.company_id,
                   0, 1, NULL::float
              FROM crm_funnel_assignment assignment
             WHERE assignment.user_id IS NOT NULL
               AND (assignment.team_id IS NULL OR %s)
            """,
            Team._funnel_team_sql(SQL("move.team_id"), active=False),
            Team._funnel_team_sql(SQL("assignment.team_id"), active=False),
        )
