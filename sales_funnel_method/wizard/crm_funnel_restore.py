from odoo import api, fields, models


class CrmFunnelRestore(models.TransientModel):
    """The sales manager's evaluation of an abandon (METHOD 5, 冷处理): bring abandoned
    customers back to the pool before their cool-down ends, saying why."""

    _name = "crm.funnel.restore"
    _description = "Restore Abandoned Customers Early"

    lead_ids = fields.Many2many(
        "crm.lead",
        string="Customers",
        required=True,
        context={"active_test": False},
        domain=[("active", "=", False), ("funnel_layer", "=", "abandoned")],
    )
    reason = fields.Text(
        string="Why Now",
        required=True,
        help="Why these customers come back before the end of their cool-down: it is "
        "written in their chatter and move history.",
    )
    cooldown_until = fields.Datetime(
        string="Cool-down Until", compute="_compute_cooldown_until"
    )

    @api.depends("lead_ids")
    def _compute_cooldown_until(self):
        for wizard in self:
            dates = [
                date for date in wizard.lead_ids.mapped("funnel_cooldown_until") if date
            ]
            wizard.cooldown_until = max(dates) if dates else False

    def action_restore(self):
        self.ensure_one()
        self.env["crm.funnel.allocation"]._funnel_restore_early(
            self.lead_ids, self.reason
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._(
                    "%(count)s customers are back in the pool as resources.",
                    count=len(self.lead_ids),
                ),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }
