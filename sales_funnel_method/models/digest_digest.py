from collections import defaultdict
from datetime import datetime, time, timedelta

from dateutil.relativedelta import relativedelta

from odoo import fields, models
from odoo.exceptions import AccessError

from .crm_funnel_target import MONTH_FIELDS


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

    # assessment (考核): the period's won revenue, arrivals in Intent, and the won
    # revenue against the teams' targets (each month's counted by its days in the period)
    kpi_funnel_won_revenue = fields.Boolean(string="Funnel Won Revenue")
    kpi_funnel_won_revenue_value = fields.Monetary(
        compute="_compute_kpi_funnel_assessment_values"
    )
    kpi_funnel_intent_moves = fields.Boolean(string="Customers Moved into Intent")
    kpi_funnel_intent_moves_value = fields.Integer(
        compute="_compute_kpi_funnel_assessment_values"
    )
    kpi_funnel_revenue_completion = fields.Boolean(
        string="Revenue Target Completion (%)"
    )
    kpi_funnel_revenue_completion_value = fields.Float(
        compute="_compute_kpi_funnel_assessment_values"
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

    def _compute_kpi_funnel_assessment_values(self):
        if not self.env.user.has_group("sales_team.group_sale_salesman"):
            raise AccessError(
                self.env._("Do not have access, skip this data for user's digest email")
            )
        start, end, companies = self._get_kpi_compute_parameters()
        if start and end:
            start, end = (
                fields.Datetime.to_datetime(start),
                fields.Datetime.to_datetime(end),
            )
        else:  # computed outside of a digest run: the last week
            end = fields.Datetime.now()
            start = end - timedelta(days=7)
        # the teams' figures this recipient may read, in the companies of the digest
        teams = [("level", "=", "team"), ("company_id", "in", companies.ids)]
        actual, targeted_revenue = defaultdict(float), 0.0
        targeted = self._funnel_revenue_targeted_teams(teams, start, end)
        for kind, team, total in self.env["crm.funnel.report.target"]._read_group(
            teams + [("date", ">=", start), ("date", "<", end)],
            ["kind", "team_id"],
            ["actual:sum"],
        ):
            actual[kind] += total
            if kind == "revenue" and team.id in targeted:
                targeted_revenue += total
        targets = self.env["crm.funnel.target"]._funnel_prorated_targets(
            teams, start, end
        )
        revenue = actual.get("revenue", 0.0)
        # completion compares like with like: the revenue of the teams that have a
        # revenue target in the period against those targets
        completion = (
            100.0 * targeted_revenue / targets["revenue"]
            if targets.get("revenue")
            else 0.0
        )
        for digest in self:
            digest.kpi_funnel_won_revenue_value = revenue
            digest.kpi_funnel_intent_moves_value = int(actual.get("intent", 0))
            digest.kpi_funnel_revenue_completion_value = completion

    def _funnel_revenue_targeted_teams(self, domain, start, end):
        """The ids of the teams of the targets of ``domain`` that have a revenue
        target in a month of [start, end), read with the current user's rights."""
        months, month = set(), datetime.combine(start.date().replace(day=1), time.min)
        while month < end:
            months.add((month.year, month.month))
            month += relativedelta(months=1)
        targets = self.env["crm.funnel.target"].search_read(
            list(domain)
            + [
                ("kind", "=", "revenue"),
                ("year", "in", sorted({year for year, _month in months})),
            ],
            ["team_id", "year", *MONTH_FIELDS],
        )
        return {
            target["team_id"][0]
            for target in targets
            if target["team_id"]
            and any(
                target[MONTH_FIELDS[number - 1]]
                for year, number in months
                if year == target["year"]
            )
        }

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
        for kpi in (
            "kpi_funnel_won_revenue",
            "kpi_funnel_intent_moves",
            "kpi_funnel_revenue_completion",
        ):
            res[kpi] = (
                f"sales_funnel_method.crm_funnel_report_target_action_team?menu_id={menu}"
            )
        res["kpi_funnel_open_exceptions"] = (
            f"sales_funnel_method.crm_funnel_exception_action?menu_id={menu}"
        )
        return res
