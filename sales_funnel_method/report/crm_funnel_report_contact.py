from odoo import api, fields, models
from odoo.osv import expression
from odoo.tools import SQL

from ..models.crm_funnel_contact import (
    CONTACT_KINDS,
    DAY_BUCKETS,
    curve_sql,
)
from ..models.crm_funnel_report_mixin import over_values
from ..models.crm_stage import FUNNEL_LAYERS


class CrmFunnelReportContact(models.Model):
    """The contact time curve (客户接触时间曲线, METHOD 6): contacts by days since the
    rep received the customer, per layer and rep, beside the contacts planned
    (a contact's next contact date, 下次联系时间) for those days."""

    _name = "crm.funnel.report.contact"
    _inherit = ["crm.funnel.report.mixin"]
    _description = "Funnel Contact Time Curve"
    _auto = False
    _order = "date desc"
    _rec_name = "lead_id"
    _depends = {
        "crm.team": ["use_funnel"],
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
            "days_since_received",
            "days_bucket",
            "planned_days",
            "planned_bucket",
        ],
    }
    # the distinct customers counted over each group's gathered values (see
    # over_values): the contacts' customers only, a plan's row has none
    _funnel_ratios = {
        "contacts_per_customer": (
            "SUM(%(table)s.contact_count)",
            over_values(
                "COUNT(DISTINCT funnel_value)",
                "%(table)s.customer_count",
                "%(table)s.customer_count IS NOT NULL",
            ),
        ),
    }
    _funnel_totals = {
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
    days_bucket = fields.Selection(
        DAY_BUCKETS,
        string="Days since Received (Weeks)",
        readonly=True,
        group_expand=True,
        help="The week after the rep received the customer in which the contact took "
        "place: even buckets of seven days.",
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
        # a contact done (even ids) and the contact it planned (odd ids). The days
        # and weeks are the contact's stored ones (computed when it is logged); a
        # contact written in SQL without them is read with the SQL that words
        # them, the same as the upgrade stores. The filters stand outside the
        # union: PostgreSQL folds a UNION ALL whose branches have no WHERE into
        # the query reading it, so each branch is scanned for the columns that
        # query uses alone, not projected whole through a subquery (a plan has
        # a date only where it has a next date)
        def stored(name):
            return SQL(f"COALESCE(contact.{name}, {curve_sql(name)})")

        return SQL(
            """
            SELECT curve.*
              FROM (
                    SELECT contact.id * 2 AS id, contact.lead_id, contact.date,
                           contact.user_id, contact.team_id, contact.company_id,
                           contact.layer, contact.kind,
                           %(days)s AS days_since_received,
                           %(bucket)s AS days_bucket,
                           1 AS contact_count,
                           0 AS planned_count,
                           contact.lead_id AS customer_count,
                           1.0 AS contacts_per_customer
                      FROM crm_funnel_contact contact
                     UNION ALL
                    SELECT contact.id * 2 + 1, contact.lead_id,
                           contact.next_date::timestamp, contact.user_id,
                           contact.team_id, contact.company_id, contact.layer,
                           NULL,
                           %(planned)s,
                           %(planned_bucket)s,
                           0, 1, NULL, NULL
                      FROM crm_funnel_contact contact
                   ) curve
             WHERE curve.date IS NOT NULL
               AND (curve.team_id IS NULL OR %(funnel_team)s)
            """,
            days=stored("days_since_received"),
            bucket=stored("days_bucket"),
            planned=stored("planned_days"),
            planned_bucket=stored("planned_bucket"),
            funnel_team=self.env["crm.team"]._funnel_team_sql(
                SQL("curve.team_id"), active=False
            ),
        )

    @api.model
    def read_group(
        self, domain, fields, groupby, offset=0, limit=None, orderby=False, lazy=True
    ):
        """The curve's buckets are all there up to the last one with contacts, empty
        ones too, so that its x axis runs evenly (Odoo fills empty groups only for
        a lazy grouping; the graph and the pivot ask for an eager one)."""
        result = super().read_group(
            domain, fields, groupby, offset, limit, orderby, lazy
        )
        groupby = [groupby] if isinstance(groupby, str) else list(groupby)
        if lazy or groupby != ["days_bucket"] or not result or limit or offset:
            return result
        by_key = {row["days_bucket"]: row for row in result}
        keys = [key for key, _label in DAY_BUCKETS]
        last = max((keys.index(key) for key in by_key if key in keys), default=-1)
        empty = {"__count": 0}
        for spec in fields:
            name, _sep, func = spec.partition(":")
            field = self._fields.get(name)
            if field is not None and name != "days_bucket":
                empty[name] = self._read_group_empty_value(
                    f"{name}:{func or field.aggregator}"
                )
        filled = [
            by_key.get(key)
            or dict(
                empty,
                days_bucket=key,
                __domain=expression.AND([domain, [("days_bucket", "=", key)]]),
            )
            for key in keys[: last + 1]
        ]
        if (orderby or "").strip().lower() == "days_bucket desc":
            filled.reverse()
        return filled + [row for row in result if row["days_bucket"] not in keys]
