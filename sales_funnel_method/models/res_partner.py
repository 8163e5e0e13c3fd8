from odoo import api, fields, models

from .masked_fields import MaskedEmail, MaskedPhone


class ResPartner(models.Model):
    _name = "res.partner"
    _inherit = ["res.partner", "crm.funnel.masked.mixin"]

    # the contact details of a pool customer's company and people, masked for reps
    # who hold none of its customers (see masked_fields)
    email = MaskedEmail()
    email_formatted = MaskedEmail()
    email_normalized = MaskedEmail()
    phone = MaskedPhone()
    mobile = MaskedPhone()
    funnel_contact_masked = fields.Boolean(
        string="Contact Details Masked",
        compute="_compute_funnel_contact_masked",
        compute_sudo=False,
        help="The phone, mobile and email of this contact are masked for you: it "
        "belongs to a customer of the pool that you do not hold.",
    )

    @api.depends_context("uid", "company")
    def _compute_funnel_contact_masked(self):
        masked = self.env["crm.funnel.allocation"]._funnel_masked_partners(self)
        for partner in self:
            partner.funnel_contact_masked = partner in masked
