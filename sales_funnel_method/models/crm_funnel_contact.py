import math
from collections import defaultdict
from datetime import datetime, time

from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.sql import column_exists, create_column, drop_index, table_exists

from .crm_funnel_move import create_index_as
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

# the contact time curve reads the period's planned contacts from it (see init),
# with the columns it reads of them
PLANNED_INDEX = "crm_funnel_contact_planned_index"
PLANNED_INDEX_COLUMNS = (
    "id",
    "lead_id",
    "user_id",
    "team_id",
    "company_id",
    "layer",
    "next_date",
    "received_date",
    "planned_days",
    "planned_bucket",
)
# the same index of earlier versions, by the date alone
REPLACED_PLANNED_INDEX = "crm_funnel_contact_planned_date_index"

# the contact time curve's x axis (METHOD 6): even buckets of a week since the
# rep received the customer, then all that came later
BUCKET_DAYS = 7
BUCKET_COUNT = 8
DAY_BUCKETS = [
    ("w1", "Days 0-6"),
    ("w2", "Days 7-13"),
    ("w3", "Days 14-20"),
    ("w4", "Days 21-27"),
    ("w5", "Days 28-34"),
    ("w6", "Days 35-41"),
    ("w7", "Days 42-48"),
    ("w8", "Days 49-55"),
    ("w9", "Day 56 and later"),
]
# the curve's stored columns, each with the SQL that words it for a row of
# crm_funnel_contact (the upgrade fills them with it; a row written in SQL
# without them is read with it), and the same in Python (curve_days,
# curve_bucket) for the ORM: whole days from the rep receiving the customer to
# the contact, and to the next contact it planned, never below 0. A missing
# date counts as 0 days (GREATEST ignores NULL; an Integer field stores 0): a
# contact always has a week, a planned week only with a next contact date
CURVE_DAYS_SQL = {
    "days_since_received": "GREATEST(FLOOR(date_part('epoch', {table}.date "
    "- {table}.received_date) / 86400), 0)::int",
    "planned_days": "GREATEST(FLOOR(date_part('epoch', {table}.next_date::timestamp "
    "- {table}.received_date) / 86400), 0)::int",
}
CURVE_COLUMNS = ("days_since_received", "days_bucket", "planned_days", "planned_bucket")


def curve_days(since, until):
    """Whole days from ``since`` to ``until`` (datetimes, or ``until`` a date:
    its midnight), never below 0; 0 without both (as CURVE_DAYS_SQL)."""
    if not since or not until:
        return 0
    if not isinstance(until, datetime):
        until = datetime.combine(until, time.min)
    return max(math.floor((until - since).total_seconds() / 86400), 0)


def curve_bucket(days):
    """The week bucket of ``days`` (see DAY_BUCKETS)."""
    return f"w{min(days // BUCKET_DAYS + 1, BUCKET_COUNT + 1)}"


def curve_bucket_sql(days):
    """SQL: the week bucket of the SQL expression ``days`` (as curve_bucket)."""
    return f"('w' || LEAST(({days}) / {BUCKET_DAYS} + 1, {BUCKET_COUNT + 1}))"


def curve_sql(name, table="contact"):
    """SQL text: the stored curve column ``name`` (of CURVE_COLUMNS) worded for
    a row of crm_funnel_contact aliased ``table``."""
    if name == "days_bucket":
        return curve_bucket_sql(curve_sql("days_since_received", table))
    if name == "planned_bucket":
        return (
            f"(CASE WHEN {table}.next_date IS NOT NULL THEN "
            f"{curve_bucket_sql(curve_sql('planned_days', table))} END)"
        )
    return CURVE_DAYS_SQL[name].format(table=table)


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
    # the contact time curve's days and weeks, stored: its every opening groups
    # the period's contacts by them
    days_since_received = fields.Integer(
        string="Days since Received",
        compute="_compute_curve_days",
        store=True,
        help="Whole days between the rep receiving the customer and the contact.",
    )
    days_bucket = fields.Selection(
        DAY_BUCKETS,
        string="Days since Received (Weeks)",
        compute="_compute_curve_days",
        store=True,
    )
    planned_days = fields.Integer(
        string="Planned Days since Received",
        compute="_compute_curve_days",
        store=True,
        help="Whole days between the rep receiving the customer and the next contact "
        "planned.",
    )
    planned_bucket = fields.Selection(
        DAY_BUCKETS,
        string="Planned Days since Received (Weeks)",
        compute="_compute_curve_days",
        store=True,
    )

    def _auto_init(self):
        # contacts logged before the curve's columns were stored get them in one
        # statement, not through a recomputation contact by contact: the columns
        # are created before Odoo looks for them (it would recompute the ones it
        # creates), and filled once every column they are worded from exists
        # (a release before the planned contacts has no next_date)
        cr = self.env.cr
        missing = table_exists(cr, self._table) and [
            name for name in CURVE_COLUMNS if not column_exists(cr, self._table, name)
        ]
        for name in missing or ():
            create_column(
                cr,
                self._table,
                name,
                "int4" if name in CURVE_DAYS_SQL else "varchar",
                self._fields[name].string,
            )
        res = super()._auto_init()
        if missing:
            self._funnel_fill_curve_days()
        return res

    def _funnel_fill_curve_days(self):
        """Store the curve's days and weeks of every contact, in one statement."""
        self.env.cr.execute(
            SQL(
                "UPDATE crm_funnel_contact contact SET %s",
                SQL(", ").join(
                    SQL("%s = %s", SQL.identifier(name), SQL(curve_sql(name)))
                    for name in CURVE_COLUMNS
                ),
            )
        )

    @api.depends("date", "received_date", "next_date")
    def _compute_curve_days(self):
        for contact in self:
            days = curve_days(contact.received_date, contact.date)
            planned = curve_days(contact.received_date, contact.next_date)
            contact.days_since_received = days
            contact.days_bucket = curve_bucket(days)
            contact.planned_days = planned
            contact.planned_bucket = contact.next_date and curve_bucket(planned)

    def init(self):
        res = super().init()
        # the contact time curve's planned contacts are dated by their next contact
        # date (as a timestamp): its period is read from this index, not from a
        # scan of every contact, and with the columns the curve reads of them
        # (an index-only scan where the table is vacuumed)
        drop_index(self.env.cr, REPLACED_PLANNED_INDEX, self._table)
        create_index_as(
            self.env.cr,
            PLANNED_INDEX,
            SQL(
                "%s ((next_date::timestamp)) INCLUDE (%s) WHERE next_date IS NOT NULL",
                SQL.identifier(self._table),
                SQL(", ").join(map(SQL.identifier, PLANNED_INDEX_COLUMNS)),
            ),
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
