from odoo import fields, models
from odoo.tools import SQL

from ..models.crm_funnel_move import create_index_as
from ..models.crm_stage import FUNNEL_LAYERS

# an index on who holds a funnel customer, the expression the view groups by: a
# filter on the rep (My Funnel's header, a rep's holdings board) reads the rep's
# customers through it instead of every customer of the database (kept by name:
# a change of holder_sql() needs a new name, and the old index dropped in init())
HOLDER_INDEX = "crm_lead_funnel_holder_index"


def holder_sql(lead=None):
    """SQL: who holds the customer in the holdings: its rep while it is active, the
    rep who abandoned it while it cools down in Abandoned (archived). ``lead`` is
    the alias of crm_lead (none in the index's definition): the view and the index
    must word it the same, or the planner cannot use the index."""

    def column(name):
        return SQL.identifier(lead, name) if lead else SQL.identifier(name)

    return SQL(
        "CASE WHEN %s THEN %s WHEN %s = 'abandoned' THEN %s END",
        column("active"),
        column("user_id"),
        column("funnel_layer"),
        column("funnel_abandoned_by_id"),
    )


class CrmFunnelReportHolding(models.Model):
    """Holdings against the ideal (METHOD 2, 6): per rep of a funnel team and per
    layer, how many customers the rep holds, how many they should hold, and the
    shortfall. Every layer has its row; those without an ideal holding (Resource,
    Signed, Implemented) have an ideal of 0, and the Abandoned row counts the
    customers the rep abandoned that are still out of the pool, cooling down
    (冷处理)."""

    _name = "crm.funnel.report.holding"
    _inherit = ["crm.funnel.report.mixin"]
    _description = "Funnel Holdings against the Ideal"
    _auto = False
    _order = "team_id, user_id, layer_sequence"
    _rec_name = "user_id"
    # what the view reads: flushed before the report is queried
    _depends = {
        "crm.lead": [
            "active",
            "user_id",
            "funnel_layer",
            "stage_id",
            "funnel_abandoned_by_id",
        ],
        "crm.stage": ["funnel_layer", "funnel_ideal_holding"],
        "crm.team.member": ["active", "user_id", "crm_team_id"],
        "crm.team": ["active", "company_id", "use_funnel"],
        "res.users": ["active", "company_id", "share", "company_ids"],
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
        layers = [key for key, _label in FUNNEL_LAYERS]
        # ids from the rep and the layer (not a row number): a filter on the rep
        # then reaches the tables
        return SQL(
            """
            WITH ideal AS (
                SELECT layer.key AS layer, layer.rank AS layer_sequence,
                       COALESCE(MAX(stage.funnel_ideal_holding), 0) AS ideal
                  FROM unnest(%(layers)s::varchar[]) WITH ORDINALITY AS layer(key, rank)
             LEFT JOIN crm_stage stage ON stage.funnel_layer = layer.key
              GROUP BY layer.key, layer.rank
            ), reps AS (
                SELECT DISTINCT ON (member.user_id) member.user_id, member.crm_team_id AS team_id,
                       COALESCE(team.company_id, users.company_id) AS company_id
                  FROM crm_team_member member
                  JOIN crm_team team ON team.id = member.crm_team_id
                  JOIN res_users users ON users.id = member.user_id
                 WHERE %(membership)s
              ORDER BY member.user_id, member.id
            ), held AS (
                -- in one pass over the customers: a rep's active customers per
                -- layer, and those the rep abandoned, cooling down (archived)
                SELECT holder.user_id, lead.funnel_layer AS layer, COUNT(*) AS held
                  FROM crm_lead lead
                 CROSS JOIN LATERAL (SELECT %(holder)s AS user_id) holder
                 WHERE lead.funnel_layer IS NOT NULL AND holder.user_id IS NOT NULL
              GROUP BY holder.user_id, lead.funnel_layer
            )
            SELECT reps.user_id * 10 + ideal.layer_sequence AS id,
                   reps.user_id, reps.team_id, reps.company_id,
                   ideal.layer, ideal.layer_sequence,
                   COALESCE(held.held, 0) AS held_count,
                   ideal.ideal AS ideal_count,
                   GREATEST(ideal.ideal - COALESCE(held.held, 0), 0) AS shortfall_count
              FROM reps
             CROSS JOIN ideal
              LEFT JOIN held ON held.user_id = reps.user_id AND held.layer = ideal.layer
            """,
            layers=layers,
            holder=holder_sql("lead"),
            # a rep's teams, as the allocation service defines them (active
            # members, users and teams: the joins only read the company); the
            # first (oldest) is the rep's main team
            membership=self.env["crm.team.member"]._funnel_membership_sql("member"),
        )

    def init(self):
        res = super().init()
        create_index_as(
            self.env.cr,
            HOLDER_INDEX,
            SQL("crm_lead ((%s)) WHERE funnel_layer IS NOT NULL", holder_sql()),
        )
        return res
