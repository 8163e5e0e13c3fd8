from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    funnel_quota = fields.Integer(
        string="Customers per Rep",
        default=30,
        help="How many customers a rep holds in the Resource to Intent layers "
        "(客户总拥有量). Signing or abandoning a customer frees a slot.",
    )
    funnel_ranking_days = fields.Integer(
        string="Sales Ranking Window (Days)",
        default=90,
        help="Reps are ranked for allocation by the revenue they won over this many days.",
    )
    funnel_cooldown_days = fields.Integer(
        string="Abandon Cool-down (Days)",
        default=90,
        help="An abandoned customer stays out of the pool this many days (冷处理), then "
        "re-enters it in the Resource layer.",
    )
    funnel_discoverer_allowance = fields.Integer(
        string="Discoverer Allowance",
        default=5,
        help="How many customers above the quota a rep may hold through customers "
        "they discovered themselves (增量分配).",
    )
    funnel_auto_allocate = fields.Boolean(
        string="Allocate the Pool Daily",
        help="Every day, allocate the pool's customers fat-first to the reps with free capacity.",
    )

    _sql_constraints = [
        ("funnel_quota_positive", "CHECK(funnel_quota >= 0)", "The quota per rep cannot be negative."),
        (
            "funnel_ranking_days_positive",
            "CHECK(funnel_ranking_days > 0)",
            "The sales ranking window must be at least one day.",
        ),
        (
            "funnel_cooldown_days_positive",
            "CHECK(funnel_cooldown_days >= 0)",
            "The abandon cool-down cannot be negative.",
        ),
        (
            "funnel_discoverer_allowance_positive",
            "CHECK(funnel_discoverer_allowance >= 0)",
            "The discoverer allowance cannot be negative.",
        ),
    ]
