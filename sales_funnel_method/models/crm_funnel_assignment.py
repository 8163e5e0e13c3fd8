from odoo import fields, models

from .crm_lead import GRADES
from .crm_stage import FUNNEL_LAYERS

ASSIGNMENT_KINDS = [
    ("allocation", "Allocation"),
    ("claim", "Claim"),
    ("handover", "Hand-over"),
    ("manual", "Direct Assignment"),
    ("returned", "Returned to the Pool"),
    ("handback", "Handed Back"),
]


class CrmFunnelAssignment(models.Model):
    """A customer received by a rep, or sent back to the pool.

    Written by the allocation service for every allocation, claim and hand-over,
    and for every direct change of a funnel customer's salesperson (a manager's
    assignment from the form or a list, an import, Odoo's own lead assignment):
    it is what a rep "received" in the abandoned / received ratio (METHOD 4) and
    the list a hand-over report is made of. A customer the pool's rules returned
    (kind "returned") or its rep handed back ("handback") has no receiver: its
    previous salesperson is the rep it left.
    """

    _name = "crm.funnel.assignment"
    _description = "Funnel Customer Assignment"
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
        readonly=True,
        default=fields.Datetime.now,
    )
    kind = fields.Selection(
        ASSIGNMENT_KINDS, string="How", required=True, index=True, readonly=True
    )
    user_id = fields.Many2one(
        "res.users",
        string="Received By",
        index=True,
        readonly=True,
        help="The rep who received the customer; empty when it went back to the pool.",
    )
    previous_user_id = fields.Many2one(
        "res.users", string="Previous Salesperson", readonly=True
    )
    team_id = fields.Many2one(
        "crm.team", string="Sales Team", index=True, readonly=True, check_company=True
    )
    assigned_by_id = fields.Many2one("res.users", readonly=True)
    grade = fields.Selection(GRADES, readonly=True)
    layer = fields.Selection(FUNNEL_LAYERS, readonly=True)
    reason = fields.Char(string="Why", readonly=True)
    handover_id = fields.Many2one(
        "crm.funnel.handover",
        string="Hand-over",
        index=True,
        ondelete="cascade",
        readonly=True,
    )
    company_id = fields.Many2one("res.company", index=True, readonly=True)
