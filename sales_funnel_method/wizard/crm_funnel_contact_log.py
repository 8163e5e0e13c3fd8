from markupsafe import Markup

from odoo import fields, models
from odoo.exceptions import UserError

from ..models.crm_funnel_contact import CONTACT_KINDS


class CrmFunnelContactLog(models.TransientModel):
    """Log a contact with a customer in two clicks: the tracking record (SPEC 9)."""

    _name = "crm.funnel.contact.log"
    _description = "Log a Contact"

    lead_id = fields.Many2one("crm.lead", string="Customer", required=True)
    kind = fields.Selection(CONTACT_KINDS, required=True, default="phone")
    note = fields.Text()
    date = fields.Datetime(required=True, default=fields.Datetime.now)

    def action_log(self):
        self.ensure_one()
        if self.date > fields.Datetime.now():
            raise UserError(
                self.env._(
                    "A contact is logged once it happened: the date cannot be in the future."
                )
            )
        lead = self.lead_id
        lead.check_access("write")
        # the pool's customers are worked once received
        self.env["crm.funnel.allocation"]._funnel_check_work(lead)
        kind = dict(self._fields["kind"]._description_selection(self.env))[self.kind]
        body = Markup("<p><b>%s</b></p>") % self.env._("Contact: %(kind)s", kind=kind)
        if self.note:
            body += Markup("<p>%s</p>") % self.note
        message = lead.message_post(
            body=body, subtype_xmlid="mail.mt_note", message_type="comment"
        )
        self.env["crm.funnel.contact"]._funnel_record(
            lead, self.kind, note=self.note, date=self.date, messages={lead.id: message}
        )
        return {"type": "ir.actions.act_window_close"}
