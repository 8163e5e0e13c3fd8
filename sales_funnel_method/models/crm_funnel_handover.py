from odoo import api, fields, models


class CrmFunnelHandover(models.Model):
    """The report of a leaving rep's hand-over: every customer moved, and where."""

    _name = "crm.funnel.handover"
    _description = "Funnel Hand-over"
    _order = "date desc, id desc"
    _inherit = ["mail.thread"]
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    user_id = fields.Many2one(
        "res.users", string="Leaving Rep", required=True, readonly=True, index=True
    )
    colleague_id = fields.Many2one("res.users", readonly=True)
    done_by_id = fields.Many2one("res.users", readonly=True)
    date = fields.Datetime(default=fields.Datetime.now, readonly=True, required=True)
    company_id = fields.Many2one("res.company", readonly=True)
    assignment_ids = fields.One2many(
        "crm.funnel.assignment", "handover_id", string="Assignments", readonly=True
    )
    kept_lead_ids = fields.Many2many(
        "crm.lead",
        string="Kept by the Leaving Rep",
        readonly=True,
        check_company=True,
        context={"active_test": False},
    )
    moved_count = fields.Integer(string="Customers Moved", compute="_compute_counts")
    to_pool_count = fields.Integer(string="Back to the Pool", compute="_compute_counts")

    @api.depends("user_id", "date")
    def _compute_name(self):
        for handover in self:
            handover.name = self.env._(
                "Hand-over of %(rep)s, %(date)s",
                rep=handover.user_id.name or "",
                date=fields.Date.to_string(handover.date) if handover.date else "",
            )

    @api.depends("assignment_ids.user_id")
    def _compute_counts(self):
        for handover in self:
            handover.moved_count = len(handover.assignment_ids)
            handover.to_pool_count = len(
                handover.assignment_ids.filtered(lambda a: not a.user_id)
            )
