from odoo import fields, models


class CrmLostReason(models.Model):
    _inherit = "crm.lost.reason"

    funnel_reason = fields.Boolean(
        help="Offered when a funnel customer is abandoned: the reasons of the Abandoned "
        "layer. The other reasons are offered to the teams outside the funnel.",
    )
