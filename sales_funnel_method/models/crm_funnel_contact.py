from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import SQL, create_index

from .crm_stage import FUNNEL_LAYERS

CONTACT_KINDS = [
    ("phone", "Phone"),
    ("fax_mail", "Fax or mailed material"),
    ("visit", "Visit"),
    ("demo", "Demonstration"),
    ("salon", "Salon or meeting"),
    ("email", "Email"),
    ("other", "Other"),
]


class CrmFunnelContact(models.Model):
    """The tracking record (跟踪记录 / 行为记录, METHOD 9): one row per contact with a
    customer, logged by the rep or counted from Odoo's own calls, emails and done
    activities. The contact time curve and the workbook read it."""

    _name = "crm.funnel.contact"
    _description = "Funnel Contact (Tracking Record)"
    _check_company_auto = True
    _order = "date desc, id desc"
    _rec_name = "lead_id"

    lead_id = fields.Many2one(
        "crm.lead",
        check_company=True,
        string="Customer",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
    )
    date = fields.Datetime(
        required=True,
        index=True,
        default=fields.Datetime.now,
        readonly=True,
    )
    kind = fields.Selection(
        CONTACT_KINDS, required=True, default="phone", readonly=True
    )
    note = fields.Text(readonly=True)
    user_id = fields.Many2one("res.users", string="Rep", index=True, readonly=True)
    team_id = fields.Many2one(
        "crm.team", string="Sales Team", index=True, readonly=True, check_company=True
    )
    layer = fields.Selection(
        FUNNEL_LAYERS,
        readonly=True,
        help="The customer's layer when it was contacted.",
    )
    received_date = fields.Datetime(
        readonly=True,
        help="When the rep received the customer (its latest allocation, claim or hand-over "
        "to this rep before the contact, else when the customer was opened): the origin of "
        "the contact time curve.",
    )
    source = fields.Selection(
        [
            ("log", "Logged by the rep"),
            ("activity", "Done activity"),
            ("email", "Email"),
        ],
        default="log",
        readonly=True,
    )
    message_id = fields.Many2one(
        "mail.message", string="Chatter Message", readonly=True, ondelete="set null"
    )
    next_date = fields.Date(
        string="Next Contact",
        readonly=True,
        help="When the rep planned to contact the customer next (下次联系时间).",
    )
    next_note = fields.Char(string="Next Contact Plan", readonly=True)
    company_id = fields.Many2one("res.company", index=True, readonly=True)

    def init(self):
        res = super().init()
        # the contact time curve's planned contacts are dated by their next contact
        # date (as a timestamp): its period is read from this index, not from a
        # scan of every contact (most plan nothing)
        create_index(
            self.env.cr,
            "crm_funnel_contact_planned_date_index",
            self._table,
            ["(next_date::timestamp)"],
            where="next_date IS NOT NULL",
        )
        return res

    @api.model_create_multi
    def create(self, vals_list):
        contacts = super().create(vals_list)
        contacts.filtered(
            lambda contact: not contact.received_date
        )._funnel_set_received_date()
        contacts._funnel_set_next_contact()
        return contacts

    def _funnel_set_next_contact(self):
        """The customer's next contact is the one its latest contact planned: a new
        contact replaces the plan (or clears it), unless it was logged with a date
        older than the customer's latest contact."""
        if not self:
            return
        self.flush_recordset(["lead_id", "date"])
        self.env.cr.execute(
            SQL(
                """SELECT DISTINCT ON (lead_id) lead_id, id FROM crm_funnel_contact
                    WHERE lead_id = ANY(%s)
                 ORDER BY lead_id, date DESC, id DESC""",
                list(set(self.lead_id.ids)),
            )
        )
        latest = self.browse([row[1] for row in self.env.cr.fetchall()]) & self
        plans = defaultdict(list)
        for contact in latest:
            plans[(contact.next_date, contact.next_note)].append(contact.lead_id.id)
        for (date, note), lead_ids in plans.items():
            # written as superuser: the plan follows the contact, whoever logged it
            leads = (
                self.env["crm.lead"]
                .sudo()
                .browse(lead_ids)
                .filtered(
                    lambda lead, date=date, note=note: (
                        lead.funnel_next_contact_date != (date or False)
                        or (lead.funnel_next_contact_note or False) != (note or False)
                    )
                )
            )
            if leads:
                leads.write(
                    {
                        "funnel_next_contact_date": date or False,
                        "funnel_next_contact_note": note or False,
                    }
                )

    def _funnel_set_received_date(self):
        """Date each contact from the moment its rep received the customer, with one
        query for the whole batch."""
        if not self:
            return
        self.env["crm.funnel.assignment"].flush_model(["lead_id", "user_id", "date"])
        self.env.cr.execute(
            SQL(
                """SELECT lead_id, user_id, date FROM crm_funnel_assignment
                    WHERE lead_id = ANY(%s) AND user_id IS NOT NULL
                 ORDER BY date""",
                list(set(self.lead_id.ids)),
            )
        )
        received = defaultdict(list)
        for lead_id, user_id, date in self.env.cr.fetchall():
            received[(lead_id, user_id)].append(date)
        for contact in self:
            dates = [
                date
                for date in received.get((contact.lead_id.id, contact.user_id.id), [])
                if date <= contact.date
            ]
            contact.received_date = (
                dates[-1]
                if dates
                else contact.lead_id.date_open or contact.lead_id.create_date
            )

    @api.model
    def _funnel_record(
        self,
        leads,
        kind,
        note=False,
        date=None,
        source="log",
        messages=None,
        next_date=False,
        next_note=False,
    ):
        """Record one contact per lead (batch); ``messages`` maps lead id to its chatter
        message; ``next_date`` and ``next_note`` plan the next contact."""
        messages = messages or {}
        return self.sudo().create(
            [
                {
                    "lead_id": lead.id,
                    "date": date or fields.Datetime.now(),
                    "kind": kind,
                    "note": note or False,
                    "user_id": lead.user_id.id or self.env.uid,
                    "team_id": lead.team_id.id,
                    "layer": lead.funnel_layer,
                    "source": source,
                    "message_id": messages.get(lead.id, self.env["mail.message"]).id,
                    "company_id": lead.company_id.id,
                    "next_date": next_date or False,
                    "next_note": next_note or False,
                }
                for lead in leads
            ]
        )
