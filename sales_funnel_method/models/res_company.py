from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.osv import expression
from odoo.tools import SQL

from .crm_stage import HOLDING_LAYERS

PROBABILITY_SOURCES = [
    ("scoring", "Odoo's predictive lead scoring"),
    ("ideal", "The layer's ideal chance to sign"),
    ("measured", "The layer's measured chance to sign"),
]

# the lowest value of each number of the settings the database checks too
FUNNEL_SETTING_MINIMUMS = {
    "funnel_quota": 0,
    "funnel_ranking_days": 1,
    "funnel_cooldown_days": 0,
    "funnel_discoverer_allowance": 0,
    "funnel_return_contact_days": 0,
    "funnel_return_contact_days_a": 0,
    "funnel_return_contact_days_b": 0,
    "funnel_return_contact_days_c": 0,
    "funnel_return_sign_days": 0,
    "funnel_return_notice_days": 0,
    "funnel_return_bar_days": 0,
    "funnel_lock_limit": 0,
    "funnel_claim_daily_limit": 0,
}


class ResCompany(models.Model):
    _inherit = "res.company"

    def _default_funnel_probability(self):
        # a CRM that already learned from won and lost customers keeps its scoring
        learned = (
            self.env["crm.lead.scoring.frequency"].sudo().search_count([], limit=1)
        )
        return "scoring" if learned else "ideal"

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
    # exception checks (METHOD 7)
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
    funnel_probability = fields.Selection(
        PROBABILITY_SOURCES,
        string="Probability of Funnel Customers",
        default=_default_funnel_probability,
        required=True,
        help="What a funnel customer's probability (and so the pipeline's weighted "
        "revenue) is: Odoo's predictive lead scoring, or the chance that a customer of "
        "its layer signs, from the layers' ideal reach rates (Resource 10%, Intent 33% "
        "with the deck's) or as measured on the company's own history. A probability a "
        "rep sets by hand is kept.",
    )
    funnel_probability_days = fields.Integer(
        string="Measured over (Days)",
        default=180,
        help="The measured chance to sign of a layer: of the customers that reached it "
        "over this many days, the share that signed since.",
    )
    funnel_measured_chances = fields.Json(
        string="Measured Chances to Sign",
        readonly=True,
        help="Per layer, the measured chance to sign (%), refreshed every day.",
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
            "funnel_probability_days_positive",
            "CHECK(funnel_probability_days > 0)",
            "The window of the measured chances to sign must be at least one day.",
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

    @api.constrains(*FUNNEL_SETTING_MINIMUMS)
    def _check_funnel_setting_minimums(self):
        """The numbers of the funnel's settings, refused here with the setting's name
        before the database's own checks (which would log an error)."""
        for company in self:
            for name, minimum in FUNNEL_SETTING_MINIMUMS.items():
                value = company[name]
                if value < minimum:
                    raise ValidationError(
                        self.env._(
                            "%(setting)s cannot be below %(minimum)s: %(value)s is "
                            "not allowed.",
                            setting=self._fields[name]._description_string(self.env),
                            minimum=minimum,
                            value=value,
                        )
                    )

    @api.constrains("funnel_fast_mover_share")
    def _check_funnel_fast_mover_share(self):
        for company in self:
            if not 0 < company.funnel_fast_mover_share <= 1:
                raise ValidationError(
                    self.env._(
                        "%(setting)s is a share of the ideal days, above 0 and at most "
                        "1 (0.5: half the ideal days): %(value)s is not one.",
                        setting=self._fields[
                            "funnel_fast_mover_share"
                        ]._description_string(self.env),
                        value=company.funnel_fast_mover_share,
                    )
                )

    @api.constrains("funnel_probability_days")
    def _check_funnel_probability_days(self):
        for company in self:
            if company.funnel_probability_days <= 0:
                raise ValidationError(
                    self.env._(
                        "The measured chances to sign need a window of at least one day, "
                        "not %(days)s.",
                        days=company.funnel_probability_days,
                    )
                )

    def write(self, vals):
        keys = ("funnel_probability", "funnel_probability_days")
        before = {
            company.id: tuple(company[key] for key in keys)
            for company in self
            if any(key in vals for key in keys)
        }
        result = super().write(vals)
        changed = self.filtered(
            lambda company: (
                company.id in before
                and before[company.id] != tuple(company[key] for key in keys)
            )
        )
        if changed:
            changed._funnel_refresh_probabilities()
        return result

    # ------------------------------------------------------------
    # THE CHANCE TO SIGN (probability of funnel customers)
    # ------------------------------------------------------------

    def _funnel_chances_to_sign(self):
        """{layer: chance in %} that a customer of each layer signs, by the
        company's setting; None when Odoo's predictive scoring decides."""
        self.ensure_one()
        if self.funnel_probability not in ("ideal", "measured"):
            return None
        reach = dict(
            self.env["crm.stage"]
            .sudo()
            ._read_group(
                [("funnel_layer", "!=", False)],
                ["funnel_layer"],
                ["funnel_ideal_reach_rate:max"],
            )
        )
        signed = reach.get("signed") or 0
        chances = {
            layer: round(100.0 * signed / reach[layer], 2) if reach.get(layer) else 0.0
            for layer in HOLDING_LAYERS
        }
        if self.funnel_probability == "measured":
            chances.update(
                {
                    layer: chance
                    for layer, chance in (self.funnel_measured_chances or {}).items()
                    if layer in chances
                }
            )
        chances.update(signed=100.0, implemented=100.0, abandoned=0.0)
        return chances

    def _funnel_measure_chances(self):
        """Of the customers that reached each working layer over the window, the share
        that signed since on the same path: {layer: chance in %}, for the layers
        with at least the exceptions' minimum sample behind them."""
        self.ensure_one()
        Move = self.env["crm.funnel.move"]
        Move.flush_model()
        self.env["crm.team"].flush_model(["use_funnel"])
        since = fields.Datetime.now() - timedelta(days=self.funnel_probability_days)
        self.env.cr.execute(
            SQL(
                """SELECT move.to_layer, COUNT(*), COUNT(*) FILTER (WHERE EXISTS (
                          SELECT 1 FROM crm_funnel_move later
                           WHERE later.lead_id = move.lead_id
                             AND (later.date, later.id) > (move.date, move.id)
                             AND %(signing)s AND NOT %(reopened)s))
                     FROM crm_funnel_move move
                    WHERE move.to_layer = ANY(%(layers)s) AND %(reached)s AND move.date >= %(since)s
                      AND (move.company_id = %(company)s OR move.company_id IS NULL)
                      AND (move.team_id IS NULL OR %(funnel_team)s)
                 GROUP BY move.to_layer""",
                signing=self.env["crm.funnel.allocation"]._funnel_signing_sql("later"),
                reopened=Move._funnel_reopened_between_sql(
                    "move", "later", inclusive=False
                ),
                layers=list(HOLDING_LAYERS),
                reached=Move._funnel_reached_sql("move"),
                since=since,
                company=self.id,
                funnel_team=self.env["crm.team"]._funnel_team_sql(
                    SQL("move.team_id"), active=False
                ),
            )
        )
        return {
            layer: round(100.0 * signed / reached, 2)
            for layer, reached, signed in self.env.cr.fetchall()
            if reached >= max(self.funnel_exception_min_sample, 1)
        }

    def _funnel_refresh_probabilities(self):
        """Measure the chances again where they are measured, and give the open
        funnel customers whose probability follows the automated one their new
        chance (a probability set by hand stays)."""
        Lead = self.env["crm.lead"].sudo()
        for company in self:
            if company.funnel_probability == "measured":
                measured = company._funnel_measure_chances()
                if measured != (company.funnel_measured_chances or {}):
                    company.write({"funnel_measured_chances": measured})
            domain = [
                ("company_id", "in", [company.id, False]),
                ("funnel_layer", "in", list(HOLDING_LAYERS)),
                ("probability", "<", 100),
                "|",
                ("probability", ">", 0),
                ("probability", "=", False),
            ]
            chances = company._funnel_chances_to_sign()
            if chances is not None:
                # only the customers whose chance changed
                domain += expression.OR(
                    [
                        [
                            ("funnel_layer", "=", layer),
                            ("automated_probability", "!=", chances[layer]),
                        ]
                        for layer in HOLDING_LAYERS
                    ]
                )
            leads = Lead.with_company(company).search(domain)
            leads._compute_probabilities()
            leads.flush_recordset(["probability", "automated_probability"])
