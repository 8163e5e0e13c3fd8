from odoo import fields, models
from odoo.tools import SQL

from ..models.crm_funnel_contact import CONTACT_KINDS
from ..models.crm_stage import FUNNEL_LAYERS


class CrmFunnelReportContact(models.Model):
    """The contact time curve (客户接触时间曲线, SPEC 6): contacts by days since the
    rep received the customer, per layer and rep, beside the contacts planned
    (a contact's next contact date, 下次联系时间) for those days."""

    _name = "crm.funnel.report.contact"
    _inherit = ["crm.funnel.report.mixin"]
    _description = "Funnel Contact Time Curve"
    _auto = False
    _order = "date desc"
    _rec_name = "lead_id"
    _depends = {
        "crm.funnel.contact": [
            "lead_id",
            "date",
            "kind",
            "user_id",
            "team_id",
            "layer",
            "company_id",
            "received_date",
            "next_date",
        ],
    }
    _funnel_ratios = {
        "contacts_per_customer": (
            "SUM(%(table)s.contact_count)",
            "COUNT(DISTINCT %(table)s.customer_count)",
        ),
    }

    lead_id = fields.Many2one("crm.lead", string="Customer", readonly=True)
    date = fields.Datetime(readonly=True)
    user_id = fields.Many2one("res.users", string="Rep", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    layer = fields.Selection(FUNNEL_LAYERS, readonly=True)
    kind = fields.Selection(CONTACT_KINDS, readonly=True)
    days_since_received = fields.Integer(
        string="Days since Received",
        readonly=True,
        aggregator="avg",
        help="Whole days between the rep receiving the customer and the contact.",
    )
    contact_count = fields.Integer(string="Contacts", readonly=True, aggregator="sum")
    planned_count = fields.Integer(
        string="Planned Contacts",
        readonly=True,
        aggregator="sum",
        help="Contacts planned for that day (the next contact date of a logged contact).",
    )
    customer_count = fields.Integer(
        string="Customers",
        readonly=True,
        aggregator="count_distinct",
        help="Distinct customers contacted.",
    )
    contacts_per_customer = fields.Float(
        string="Contacts per Customer", readonly=True, aggregator="avg", digits=(16, 2)
    )

    def _query(self):
        # a contact done (even ids) and the contact it planned (odd ids)
        return SQL(
            """
            SELECT contact.id * 2 AS id, contact.lead_id, contact.date, contact.user_id,
                   contact.team_id, contact.company_id, contact.layer, contact.kind,
                   GREATEST(FLOOR(EXTRACT(EPOCH FROM (contact.date - contact.received_date))
                                  / 86400), 0)::int AS days_since_received,
                   1 AS contact_count,
                   0 AS planned_count,
                   contact.lead_id AS customer_count,
                   1.0 AS contacts_per_customer
              FROM crm_funnel_contact contact
            UNION ALL
            SELECT contact.id * 2 + 1, contact.lead_id, contact.next_date::timestamp,
                   contact.user_id, contact.team_id, contact.company_id, contact.layer,
                   NULL,
                   GREATEST(FLOOR(EXTRACT(EPOCH FROM (contact.next_date::timestamp
                                                      - contact.received_date))
                                  / 86400), 0)::int,
                   0, 1, NULL, NULL
              FROM crm_funnel_contact contact
             WHERE contact.next_date IS NOT NULL
            """
        )
