from odoo import api, fields, models
from odoo.exceptions import ValidationError


class CrmTeamMember(models.Model):
    _inherit = "crm.team.member"

    funnel_quota_override = fields.Integer(
        string="Quota Override",
        help="Customers this rep may hold in the Resource to Intent layers. "
        "0: the company's quota.",
    )
    funnel_can_edit_quota = fields.Boolean(compute="_compute_funnel_can_edit_quota")
    funnel_quota = fields.Integer(string="Quota", compute="_compute_funnel_figures")
    funnel_holding_count = fields.Integer(
        string="Holdings", compute="_compute_funnel_figures"
    )
    funnel_capacity = fields.Integer(
        string="Capacity",
        compute="_compute_funnel_figures",
        help="Quota minus holdings: how many more customers the rep can receive.",
    )
    funnel_received_count = fields.Integer(
        string="Received",
        compute="_compute_funnel_figures",
        groups="sales_funnel_method.sales_funnel_method_group_manager,sales_funnel_method.sales_funnel_method_group_support",
        help="Customers allocated to, claimed by or handed over to the rep.",
    )
    funnel_abandoned_count = fields.Integer(
        string="Abandoned",
        compute="_compute_funnel_figures",
        groups="sales_funnel_method.sales_funnel_method_group_manager,sales_funnel_method.sales_funnel_method_group_support",
    )
    funnel_abandon_ratio = fields.Float(
        string="Abandoned / Received",
        compute="_compute_funnel_figures",
        digits=(16, 2),
        groups="sales_funnel_method.sales_funnel_method_group_manager,sales_funnel_method.sales_funnel_method_group_support",
        help="Customers the rep abandoned per customer received (放弃数量和领取数量的比例).",
    )

    _sql_constraints = [
        (
            "funnel_quota_override_positive",
            "CHECK(funnel_quota_override >= 0)",
            "A rep's quota cannot be negative.",
        ),
    ]

    @api.constrains("funnel_quota_override")
    def _check_funnel_quota_override(self):
        # before the database's own check, which the server would log as an error
        if any(member.funnel_quota_override < 0 for member in self):
            raise ValidationError(
                self.env._(
                    "A rep's quota cannot be negative: enter 0 to use the company's quota."
                )
            )

    @api.depends_context("uid")
    def _compute_funnel_can_edit_quota(self):
        # the support group and directors (sales administrators) set quotas; reps read them
        self.funnel_can_edit_quota = self.env.user.has_group(
            "sales_funnel_method.sales_funnel_method_group_support"
        ) or self.env.user.has_group("sales_team.group_sale_manager")

    @api.depends("user_id", "funnel_quota_override", "crm_team_id.company_id")
    @api.depends_context("company")
    def _compute_funnel_figures(self):
        service = self.env["crm.funnel.allocation"]
        users = self.user_id
        holdings = service._funnel_holdings(users.ids)
        received, abandoned = service._funnel_received_abandoned(users.ids)
        quotas = service._funnel_quotas(users, self.env.company)
        for member in self:
            uid = member.user_id.id
            member.funnel_quota = quotas.get(uid, 0)
            member.funnel_holding_count = holdings.get(uid, 0)
            member.funnel_capacity = max(
                member.funnel_quota - member.funnel_holding_count, 0
            )
            # field groups keep the ratio for managers and the support group
            member.funnel_received_count = received.get(uid, 0)
            member.funnel_abandoned_count = abandoned.get(uid, 0)
            member.funnel_abandon_ratio = (
                abandoned.get(uid, 0) / received[uid] if received.get(uid) else 0.0
            )
