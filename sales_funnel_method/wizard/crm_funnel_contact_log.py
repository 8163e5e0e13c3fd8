from markupsafe import Markup

from odoo import fields, models
from odoo.exceptions import UserError
from odoo.tools import format_date

from ..models.crm_funnel_contact import CONTACT_KINDS


class CrmFunnelContactLog(models.TransientModel):
    """Log a contact with a customer in two clicks: the tracking record (METHOD 9)."""

    _name = "crm.funnel.contact.log"
    _description = "Log a Contact"

    lead_id = fields.Many2one("crm.lead", string="Customer", required=True)
    kind = fields.Selection(CONTACT_KINDS, required=True, default="phone")
    note = fields.Text()
    date = fields.Datetime(required=True, default=fields.Datetime.now)
    next_date = fields.Date(
        string="Next Contact",
        help="When to contact the customer next (下次联系时间): an activity is scheduled "
        "for its rep on that day, and My Funnel lists the customer then.",
    )
    next_note = fields.Char(
        string="Next Contact Plan", help="What to do at the next contact."
    )

    def action_log(self):
        self.ensure_one()
        if self.date > fields.Datetime.now():
            raise UserError(
                self.env._(
                    "A contact is logged once it happened: the date cannot be in the future."
                )
            )
        if self.next_date and self.next_date < fields.Date.context_today(self):
            raise UserError(
                self.env._(
                    "The next contact is planned for today or later, not for %(date)s.",
                    date=format_date(self.env, self.next_date),
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
            lead,
            self.kind,
            note=self.note,
            date=self.date,
            messages={lead.id: message},
            next_date=self.next_date,
            next_note=self.next_note,
        )
        if self.next_date:
            # the rep's reminder: marking it done logs the next contact
            lead.activity_schedule(
                "mail.mail_activity_data_call",
                date_deadline=self.next_date,
                summary=self.next_note or self.env._("Next contact"),
                user_id=lead.user_id.id or self.env.uid,
            )
        return {"type": "ir.actions.act_window_close"}
