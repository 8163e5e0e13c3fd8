from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models.crm_funnel_allocation import HANDOVER_FAT_FIRST_LAYERS


class CrmFunnelHandoverWizard(models.TransientModel):
    """Hand over the customers of a rep who leaves (METHOD 5, 人员变动)."""

    _name = "crm.funnel.handover.wizard"
    _description = "Hand Over a Leaving Rep's Customers"
    _check_company_auto = True

    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda self: self.env.company,
        readonly=True,
    )
    user_id = fields.Many2one(
        "res.users",
        string="Leaving Rep",
        required=True,
        domain="[('share', '=', False), ('company_ids', 'in', company_id)]",
    )
    others_to = fields.Selection(
        [("pool", "Back to the pool"), ("colleague", "To a colleague")],
        string="Other Customers Go",
        required=True,
        default="pool",
        help="Intent, signed and implemented customers (renewals) always go fat-first to "
        "the top-ranked reps with capacity; this decides where the other customers go.",
    )
    colleague_id = fields.Many2one(
        "res.users",
        domain="[('share', '=', False), ('company_ids', 'in', company_id), ('id', '!=', user_id)]",
    )
    keep_lead_ids = fields.Many2many(
        "crm.lead",
        string="Keep with the Leaving Rep",
        check_company=True,
        domain="[('user_id', '=', user_id)]",
        help="Customers that stay with the leaving rep, e.g. a contract they finish themselves.",
    )
    fat_first_count = fields.Integer(
        string="Intent, Signed and Implemented",
        compute="_compute_counts",
        help="Customers that go fat-first to the best sellers with capacity.",
    )
    other_count = fields.Integer(string="Other Customers", compute="_compute_counts")

    @api.depends("user_id", "keep_lead_ids")
    def _compute_counts(self):
        for wizard in self:
            leads = (
                self.env["crm.lead"]
                .sudo()
                .search(
                    [
                        ("user_id", "=", wizard.user_id.id),
                        ("active", "=", True),
                        ("company_id", "in", [wizard.company_id.id, False]),
                    ]
                )
                - wizard.keep_lead_ids.sudo()
                if wizard.user_id
                else self.env["crm.lead"]
            )
            fat_first = leads.filtered(
                lambda lead: lead.funnel_layer in HANDOVER_FAT_FIRST_LAYERS
            )
            wizard.fat_first_count = len(fat_first)
            wizard.other_count = len(leads) - len(fat_first)

    def action_handover(self):
        self.ensure_one()
        if self.others_to == "colleague" and not self.colleague_id:
            raise UserError(
                self.env._("Choose the colleague who receives the other customers.")
            )
        handover = self.env["crm.funnel.allocation"]._funnel_handover(
            self.user_id,
            colleague=self.colleague_id if self.others_to == "colleague" else None,
            keep=self.keep_lead_ids,
            company=self.company_id,
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.funnel.handover",
            "res_id": handover.id,
            "view_mode": "form",
            "target": "current",
        }
