from datetime import timedelta

from odoo import fields, models
from odoo.exceptions import AccessError


class DigestDigest(models.Model):
    _inherit = "digest.digest"

    kpi_funnel_signings = fields.Boolean(string="Funnel Signings")
    kpi_funnel_signings_value = fields.Integer(compute="_compute_kpi_funnel_values")
    kpi_funnel_moves = fields.Boolean(string="Moves down the Funnel")
    kpi_funnel_moves_value = fields.Integer(compute="_compute_kpi_funnel_values")
    kpi_funnel_abandon_ratio = fields.Boolean(string="Abandoned / Received")
    kpi_funnel_abandon_ratio_value = fields.Float(compute="_compute_kpi_funnel_values")
    kpi_funnel_open_exceptions = fields.Boolean(string="Open Funnel Exceptions")
    kpi_funnel_open_exceptions_value = fields.Integer(
        compute="_compute_kpi_funnel_values"
    )

    def _compute_kpi_funnel_values(self):
        if not self.env.user.has_group("sales_team.group_sale_salesman"):
            raise AccessError(
                self.env._("Do not have access, skip this data for user's digest email")
            )
        start, end, companies = self._get_kpi_compute_parameters()
        if not start or not end:  # computed outside of a digest run: the last week
            end = fields.Datetime.now()
            start = end - timedelta(days=7)
        # what this recipient may read, in the companies of the digest
        figures = self.env["crm.funnel.move"]._funnel_period_figures(
            start, end, companies, readable=True
        )
        exceptions = self.env["crm.funnel.exception"].search_count(
            [("state", "=", "open"), ("company_id", "in", companies.ids)]
        )
        for digest in self:
            digest.kpi_funnel_signings_value = figures["signings"]
            digest.kpi_funnel_moves_value = figures["forward"]
            digest.kpi_funnel_abandon_ratio_value = figures["abandon_ratio"]
            digest.kpi_funnel_open_exceptions_value = exceptions

    def _compute_kpis_actions(self, company, user):
        res = super()._compute_kpis_actions(company, user)
        menu = self.env.ref("crm.crm_menu_root").id
        res["kpi_funnel_signings"] = (
            f"sales_funnel_method.crm_funnel_report_overview_action?menu_id={menu}"
        )
        res["kpi_funnel_moves"] = (
            f"sales_funnel_method.crm_funnel_report_move_action?menu_id={menu}"
        )
        res["kpi_funnel_abandon_ratio"] = (
            f"sales_funnel_method.crm_funnel_report_abandon_action?menu_id={menu}"
        )
        res["kpi_funnel_open_exceptions"] = (
            f"sales_funnel_method.crm_funnel_exception_action?menu_id={menu}"
        )
        return res
