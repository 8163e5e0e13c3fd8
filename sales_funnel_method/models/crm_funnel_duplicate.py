from odoo import fields, models

DUPLICATE_MODES = [
    ("warn", "Warned"),
    ("refuse", "Refused"),
]


class CrmFunnelDuplicate(models.Model):
    """A duplicate the duplicate check caught (查重 / 撞单): a new customer that
    matched one the company already has (held by another rep, in the pool or
    cooling down).

    Written by the allocation service when the company's check warns: the new
    customer is created with a note in its chatter, and this record counts the
    catch for the user who entered it (the support group's "Duplicates Caught").
    A refused customer is not created (its transaction rolls back with it), so
    refusals are not recorded.
    """

    _name = "crm.funnel.duplicate"
    _description = "Funnel Duplicate Caught"
    _check_company_auto = True
    _order = "date desc, id desc"
    _rec_name = "lead_id"

    lead_id = fields.Many2one(
        "crm.lead",
        string="New Customer",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
    )
    duplicate_of_id = fields.Many2one(
        "crm.lead",
        ondelete="set null",
        readonly=True,
        help="The customer the company already had that the new one matched (the "
        "first of them).",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Entered By",
        index=True,
        readonly=True,
        help="Who created or imported the new customer.",
    )
    date = fields.Datetime(
        required=True, index=True, readonly=True, default=fields.Datetime.now
    )
    mode = fields.Selection(
        DUPLICATE_MODES, string="Check", required=True, default="warn", readonly=True
    )
    company_id = fields.Many2one("res.company", index=True, readonly=True)
