from odoo import fields, models
from odoo.tools import SQL

from ..models.crm_stage import FUNNEL_LAYERS


class CrmFunnelReportHolding(models.Model):
    """Holdings against the ideal (SPEC 2, 6): per rep, team and layer, how many
    customers the rep holds, how many they should hold, and the shortfall."""

    _name = "crm.funnel.report.holding"
    _inherit = ["crm.funnel.report.mixin"]
    _description = "Funnel Holdings against the Ideal"
    _auto = False
    _order = "team_id, user_id, layer_sequence"
    _rec_name = "user_id"
    # what the view reads: flushed before the report is queried
    _depends = {
        "crm.lead": ["active", "user_id", "funnel_layer", "stage_id"],
        "crm.stage": ["funnel_layer", "funnel_ideal_holding"],
        "crm.team.member": ["active", "user_id", "crm_team_id"],
        "crm.team": ["active", "company_id"],
        "res.users": ["active", "company_id"],
    }

    user_id = fields.Many2one("res.users", string="Rep", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    layer = fields.Selection(FUNNEL_LAYERS, readonly=True)
    layer_sequence = fields.Integer(string="Layer Order", readonly=True)
    held_count = fields.Integer(string="Held", readonly=True, aggregator="sum")
    ideal_count = fields.Integer(string="Ideal", readonly=True, aggregator="sum")
    shortfall_count = fields.Integer(
        string="Shortfall",
        readonly=True,
        aggregator="sum",
        help="How many customers the rep lacks in this layer to reach the ideal holding.",
    )

    def _query(self):
        layer_order = SQL(" ").join(
            [SQL("CASE stage.funnel_layer")]
            + [
                SQL("WHEN %s THEN %s", key, rank)
                for rank, (key, _label) in enumerate(FUNNEL_LAYERS, 1)
            ]
            + [SQL("END")]
        )
        return SQL(
            """
            WITH ideal AS (
                SELECT stage.funnel_layer AS layer, MAX(stage.funnel_ideal_holding) AS ideal,
                       MIN(%(layer_order)s) AS layer_sequence
                  FROM crm_stage stage
                 WHERE stage.funnel_layer IS NOT NULL AND stage.funnel_ideal_holding > 0
              GROUP BY stage.funnel_layer
            ), reps AS (
                SELECT DISTINCT ON (member.user_id) member.user_id, member.crm_team_id AS team_id,
                       COALESCE(team.company_id, users.company_id) AS company_id
                  FROM crm_team_member member
                  JOIN crm_team team ON team.id = member.crm_team_id AND team.active
                  JOIN res_users users ON users.id = member.user_id AND users.active
                 WHERE member.active
              ORDER BY member.user_id, member.id
            ), held AS (
                SELECT lead.user_id, lead.funnel_layer AS layer, COUNT(*) AS held
                  FROM crm_lead lead
                 WHERE lead.active AND lead.user_id IS NOT NULL AND lead.funnel_layer IS NOT NULL
              GROUP BY lead.user_id, lead.funnel_layer
            )
            SELECT ROW_NUMBER() OVER (ORDER BY reps.user_id, ideal.layer_sequence) AS id,
                   reps.user_id, reps.team_id, reps.company_id,
                   ideal.layer, ideal.layer_sequence,
                   COALESCE(held.held, 0) AS held_count,
                   ideal.ideal AS ideal_count,
                   GREATEST(ideal.ideal - COALESCE(held.held, 0), 0) AS shortfall_count
              FROM reps
             CROSS JOIN ideal
              LEFT JOIN held ON held.user_id = reps.user_id AND held.layer = ideal.layer
            """,
            layer_order=layer_order,
        )
