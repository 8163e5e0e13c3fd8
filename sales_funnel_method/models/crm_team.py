from odoo import fields, models
from odoo.tools import SQL


class CrmTeam(models.Model):
    _inherit = "crm.team"

    use_funnel = fields.Boolean(
        string="Sales Funnel",
        default=True,
        help="The team works the sales funnel method: its reps hold customers in the "
        "funnel's layers, and the funnel's checks, reports and dashboard cover it. "
        "Sales teams that existed before the addon was installed (such as Odoo's own "
        "“Sales”) are left out until this is ticked.",
    )

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    def _funnel_team_domain(self):
        """The funnel's teams: active sales teams that work the funnel (the one
        definition of "a funnel team", used by the checks, reports and dashboard)."""
        return [("active", "=", True), ("use_funnel", "=", True)]

    def _funnel_team_sql(self, team_id, active=True):
        """SQL condition: ``team_id`` (an SQL expression) is a funnel team.

        :param bool active: only active teams (today's holdings and checks); the
            history reports keep the moves of a funnel team archived since
        """
        self.flush_model(["active", "use_funnel"])
        # the funnel's teams read once per query (an InitPlan), not a correlated
        # EXISTS per row: PostgreSQL costs the EXISTS as one probe per row even
        # when it runs it hashed, and that estimate (millions on a history of
        # 500,000 moves) switched on its JIT compiler, a second and more per report
        return SQL(
            "COALESCE(%s = ANY(ARRAY(SELECT funnel_team.id FROM crm_team funnel_team"
            " WHERE funnel_team.use_funnel%s)), FALSE)",
            team_id,
            SQL(" AND funnel_team.active") if active else SQL(),
        )
