import io
import unicodedata
from collections import defaultdict

import xlsxwriter

from odoo import api, fields, models
from odoo.exceptions import UserError

# the deck's spreadsheet: one sub-sheet per layer, bottom of the funnel first (METHOD 9)
WORKBOOK_LAYERS = [
    "implemented",
    "signed",
    "intent",
    "lead",
    "contacted",
    "graded",
    "resource",
    "abandoned",
]
TRACKING_CONTACTS = 3
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class CrmFunnelWorkbook(models.TransientModel):
    """Export the funnel as the deck's workbook: one sheet per layer, same columns."""

    _name = "crm.funnel.workbook"
    _description = "Funnel Workbook Export"

    scope = fields.Selection(
        [
            ("mine", "My customers"),
            ("rep", "A rep"),
            ("team", "A sales team"),
            ("all", "Everything I can see"),
        ],
        string="Customers",
        required=True,
        default="mine",
    )
    user_id = fields.Many2one("res.users", string="Rep", domain=[("share", "=", False)])
    team_id = fields.Many2one("crm.team", string="Sales Team")
    attachment_id = fields.Many2one("ir.attachment", string="Workbook", readonly=True)
    file_name = fields.Char(readonly=True)

    def _domain(self):
        self.ensure_one()
        domain = [("funnel_layer", "!=", False)]
        if self.scope == "mine":
            domain.append(("user_id", "=", self.env.uid))
        elif self.scope == "rep":
            if not self.user_id:
                raise UserError(self.env._("Choose the rep whose customers to export."))
            domain.append(("user_id", "=", self.user_id.id))
        elif self.scope == "team":
            if not self.team_id:
                raise UserError(
                    self.env._("Choose the sales team whose customers to export.")
                )
            domain.append(("team_id", "=", self.team_id.id))
        return domain

    def _headers(self):
        return [
            self.env._("Customer"),
            self.env._("Contact"),
            self.env._("Grade"),
            self.env._("Rep"),
            self.env._("Entered Layer On"),
            self.env._("Days in Layer"),
            self.env._("Expected Revenue"),
            self.env._("Next Activity"),
            self.env._("Tracking Record"),
        ]

    @api.model
    def _display_width(self, value):
        text = str(value or "")
        longest = max(text.split("\n"), key=len) if text else ""
        return sum(
            2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in longest
        )

    def _build(self):
        """The workbook as bytes; leads are read with the user's access rights."""
        self.ensure_one()
        leads = (
            self.env["crm.lead"]
            .with_context(active_test=False)
            .search(self._domain(), order="funnel_layer_date, id")
        )
        contacts = defaultdict(list)
        for contact in self.env["crm.funnel.contact"].search(
            [("lead_id", "in", leads.ids)], order="date desc, id desc"
        ):
            if len(contacts[contact.lead_id.id]) < TRACKING_CONTACTS:
                contacts[contact.lead_id.id].append(contact)
        kinds = dict(
            self.env["crm.funnel.contact"]
            ._fields["kind"]
            ._description_selection(self.env)
        )
        labels = dict(
            self.env["crm.lead"]
            ._fields["funnel_layer"]
            ._description_selection(self.env)
        )
        grades = dict(
            self.env["crm.lead"]
            ._fields["funnel_grade"]
            ._description_selection(self.env)
        )
        by_layer = defaultdict(list)
        for lead in leads:
            by_layer[lead.funnel_layer].append(lead)

        output = io.BytesIO()
        book = xlsxwriter.Workbook(output, {"in_memory": True})
        bold = book.add_format({"bold": True, "bg_color": "#E8E8E8", "border": 1})
        date_format = book.add_format({"num_format": "yyyy-mm-dd"})
        money = book.add_format({"num_format": "#,##0.00"})
        wrap = book.add_format({"text_wrap": True, "valign": "top"})
        headers = self._headers()
        for layer in WORKBOOK_LAYERS:
            sheet = book.add_worksheet(self._sheet_name(labels.get(layer, layer)))
            widths = [self._display_width(header) for header in headers]
            for column, header in enumerate(headers):
                sheet.write(0, column, header, bold)
            for row, lead in enumerate(by_layer.get(layer, []), start=1):
                activity = lead.activity_ids.sorted("date_deadline")[:1]
                tracking = "\n".join(
                    "%s %s%s"
                    % (
                        fields.Date.to_string(contact.date.date()),
                        kinds.get(contact.kind, ""),
                        f": {contact.note}" if contact.note else "",
                    )
                    for contact in contacts.get(lead.id, [])
                )
                values = [
                    lead.partner_name or lead.name,
                    lead.contact_name or lead.partner_id.name or "",
                    grades.get(lead.funnel_grade, ""),
                    lead.user_id.name or "",
                    lead.funnel_layer_date,
                    lead.funnel_days_in_layer,
                    lead.expected_revenue,
                    "%s %s"
                    % (
                        fields.Date.to_string(activity.date_deadline),
                        activity.summary or activity.activity_type_id.name or "",
                    )
                    if activity
                    else "",
                    tracking,
                ]
                for column, value in enumerate(values):
                    if column == 4 and value:
                        sheet.write_datetime(row, column, value, date_format)
                        widths[column] = max(widths[column], 10)
                    elif column == 6:
                        sheet.write_number(row, column, value or 0.0, money)
                        widths[column] = max(widths[column], len(f"{value or 0:,.2f}"))
                    elif column == 8:
                        sheet.write_string(row, column, value, wrap)
                        widths[column] = max(
                            widths[column], min(self._display_width(value), 60)
                        )
                    else:
                        sheet.write(row, column, value)
                        widths[column] = max(widths[column], self._display_width(value))
            sheet.freeze_panes(1, 0)
            for column, width in enumerate(widths):
                sheet.set_column(column, column, min(width + 2, 80))
        book.close()
        return output.getvalue()

    @staticmethod
    def _sheet_name(label):
        for char in "[]:*?/\\":
            label = label.replace(char, " ")
        return label[:31]

    def action_export(self):
        self.ensure_one()
        data = self._build()
        file_name = "%s-%s.xlsx" % (
            self.env._("sales-funnel"),
            fields.Date.to_string(fields.Date.today()),
        )
        # an attachment with its type: the download serves it as it is, where a
        # binary field's content would have its type guessed from its first bytes
        # (which fails on a zipped workbook, with a traceback in the server log)
        attachment = self.env["ir.attachment"].create(
            {
                "name": file_name,
                "raw": data,
                "mimetype": XLSX_MIMETYPE,
                "res_model": self._name,
                "res_id": self.id,
            }
        )
        self.write({"attachment_id": attachment.id, "file_name": file_name})
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "download",
        }
