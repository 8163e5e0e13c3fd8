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
    funnel_fast_mover_share = fields.Float(
        string="Fast Mover Share",
        default=0.5,
        help="A customer whose last move down the funnel took at most this share of the "
        "ideal days of the layer it left is a fast mover, shown first in My Funnel.",
    )
    # exception checks (SPEC 7)
    funnel_exception_days = fields.Integer(
        string="Exception Window (Days)",
        default=30,
        help="The exception checks measure signings, moves, abandons and receipts over this many days.",
    )
    funnel_exception_min_sample = fields.Integer(
        string="Minimum Sample",
        default=5,
        help="A rate (move rate, abandon rate, out-of-funnel share) is judged only when at least "
        "this many events stand behind it, so that one signing does not raise an alarm.",
    )
    funnel_exception_out_of_funnel_share = fields.Float(
        string="Out-of-Funnel Signings above",
        default=0.3,
        help="Share of the signings that skipped layers or were created straight in a late layer "
        "(漏斗外客户). 0.3: more than 30% of the signings.",
    )
    funnel_exception_intent_min = fields.Integer(
        string="Many Intent Customers from",
        default=4,
        help="A rep holding at least this many intent customers (twice the deck's ideal of 2) ...",
    )
    funnel_exception_intent_signing_ratio = fields.Float(
        string="... Few Signings below",
        default=0.25,
        help="... who signed fewer than this share of them over the window raises an exception. "
        "0.25: fewer than one signing per four intent customers.",
    )
    funnel_exception_rate_tolerance = fields.Float(
        string="Move Rate Tolerance",
        default=0.15,
        help="A step rate between two layers more than this below its ideal raises an exception. "
        "0.15: lead to intent, ideally 60%, alarms below 45%.",
    )
    funnel_exception_abandon_ratio = fields.Float(
        string="Abandon Rate above",
        default=0.5,
        help="Abandoned / received customers over the window (放弃数量和领取数量的比例). "
        "0.5: more than one abandon per two customers received.",
    )
    funnel_exception_overdue_factor = fields.Float(
        string="Overdue Factor",
        default=2.0,
        help="Customers in a layer longer than its ideal move days times this factor. "
        "2: twice the ideal, e.g. more than 10 days in Lead.",
    )
    funnel_exception_holding_share = fields.Float(
        string="Holdings below",
        default=1.0,
        help="Holdings below this share of the layer's ideal holding per rep. 1: below the ideal.",
    )
    funnel_auto_allocate = fields.Boolean(
        string="Allocate the Pool Daily",
        help="Every day, allocate the pool's customers fat-first to the reps with free capacity.",
    )
    funnel_allocate_in_team = fields.Boolean(
        string="Keep Customers in Their Team",
        help="Allocation gives a pool customer to the best rep of its own sales team first, "
        "and to the best team only when its own team is full. Off (the method's rule): "
        "the best resources go to the best team, whatever team they came from.",
    )

    # the customer pool's rules (公海规则): each 0 / off by default
    funnel_return_contact_days = fields.Integer(
        default=0,
        string="Return after Days without Contact",
        help="A held customer of the Resource to Intent layers that its rep has not "
        "contacted for this many days returns to the pool (自动回收). 0: never.",
    )
    funnel_return_contact_days_a = fields.Integer(
        default=0,
        string="Days without Contact, Grade A",
        help="The same rule for grade A customers. 0: the general number of days.",
    )
    funnel_return_contact_days_b = fields.Integer(
        default=0,
        string="Days without Contact, Grade B",
        help="The same rule for grade B customers. 0: the general number of days.",
    )
    funnel_return_contact_days_c = fields.Integer(
        default=0,
        string="Days without Contact, Grade C",
        help="The same rule for grade C customers. 0: the general number of days.",
    )
    funnel_return_sign_days = fields.Integer(
        default=0,
        string="Return when not Signed within (Days)",
        help="A held customer not signed this many days after its rep received it "
        "returns to the pool. 0: never.",
    )
    funnel_return_notice_days = fields.Integer(
        default=0,
        string="Warn before Returning (Days)",
        help="This many days before a customer returns, its rep and their team manager "
        "get a daily notice listing it (提前提醒), and My Funnel marks it. 0: no warning.",
    )
    funnel_return_warned_date = fields.Date(
        string="Last Return Warning",
        readonly=True,
        help="The day the reps were last warned of their customers returning soon.",
    )
    funnel_return_bar_days = fields.Integer(
        default=0,
        string="Previous Owner Waits (Days)",
        help="A customer that returned to the pool, or that its rep handed back, cannot "
        "be claimed or allocated again by that rep for this many days; other reps "
        "can claim it at once. 0: no wait.",
    )
    funnel_lock_limit = fields.Integer(
        default=0,
        string="Locked Customers per Rep",
        help="How many of their customers a rep may lock (锁定): a locked customer never "
        "returns to the pool automatically. 0: no locking. A rep's limit can be "
        "overridden in Reps & Quotas.",
    )
    funnel_claim_daily_limit = fields.Integer(
        default=0,
        string="Claims per Rep per Day",
        help="How many customers a rep may claim from the pool in one day (每日领取上限). "
        "0: no limit.",
    )
    funnel_mask_pool_contacts = fields.Boolean(
        string="Mask Pool Customers' Contact Details",
        help="Reps and team managers see the phone, mobile and email of the pool's "
        "customers masked until they hold them; the support group and directors "
        "always see them.",
    )
    funnel_duplicate_check = fields.Selection(
        [
            ("off", "Off"),
            ("warn", "Warn"),
            ("refuse", "Refuse"),
        ],
        string="Duplicate Check",
        default="off",
        required=True,
        help="Creating or importing a customer whose company name, phone or email "
        "matches a customer held by another rep, in the pool or cooling down (查重): "
        "warn, or refuse it. Either way such a customer has no discoverer.",
    )

    _sql_constraints = [
        (
            "funnel_fast_mover_share_range",
            "CHECK(funnel_fast_mover_share > 0 AND funnel_fast_mover_share <= 1)",
            "The fast-mover share is a fraction of the ideal days, above 0 and at most 1.",
        ),
        (
            "funnel_quota_positive",
            "CHECK(funnel_quota >= 0)",
            "The quota per rep cannot be negative.",
        ),
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
        (
            "funnel_pool_rules_positive",
            "CHECK(funnel_return_contact_days >= 0 AND funnel_return_contact_days_a >= 0 "
            "AND funnel_return_contact_days_b >= 0 AND funnel_return_contact_days_c >= 0 "
            "AND funnel_return_sign_days >= 0 AND funnel_return_notice_days >= 0 "
            "AND funnel_return_bar_days >= 0 AND funnel_lock_limit >= 0 "
            "AND funnel_claim_daily_limit >= 0)",
            "The customer pool's rules count days and customers: none can be negative.",
        ),
    ]
