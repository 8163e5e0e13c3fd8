from odoo import api, fields, models


class CrmLeadLost(models.TransientModel):
    _inherit = "crm.lead.lost"

    funnel_abandon = fields.Boolean(
        string="Abandoning Funnel Customers",
        compute="_compute_funnel_abandon",
        help="Funnel customers are abandoned (the funnel's eighth layer), with the "
        "Abandoned layer's reasons.",
    )

    @api.depends("lead_ids.funnel_layer")
    def _compute_funnel_abandon(self):
        for wizard in self:
            wizard.funnel_abandon = any(lead.funnel_layer for lead in wizard.lead_ids)
