from odoo import fields, models


class CrmFunnelHandbackWizard(models.TransientModel):
    """Hand customers back to the pool (放入公海) without abandoning them, saying why."""

    _name = "crm.funnel.handback.wizard"
    _description = "Hand Customers Back to the Pool"

    lead_ids = fields.Many2many("crm.lead", string="Customers", required=True)
    reason = fields.Text(
        string="Why",
        required=True,
        help="Why these customers go back to the pool: it is written in their chatter "
        "and assignment history. Other reps can claim them at once.",
    )

    def action_hand_back(self):
        self.ensure_one()
        self.env["crm.funnel.allocation"]._funnel_hand_back(self.lead_ids, self.reason)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._(
                    "%(count)s customers are back in the pool.",
                    count=len(self.lead_ids),
                ),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }
