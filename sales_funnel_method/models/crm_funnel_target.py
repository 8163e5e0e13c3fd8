import calendar
from collections import defaultdict
from datetime import date, datetime, time, timedelta

import pytz

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL, format_amount

# the figures a rep or a team is given a monthly target for (业绩目标): revenue,
# signings, and the method's leading figure, the customers moved into Intent
TARGET_KINDS = [
    ("revenue", "Won Revenue"),
    ("signings", "Signings"),
    ("intent", "Moved into Intent"),
]
# figures counted in whole customers
COUNTED_KINDS = ("signings", "intent")
TARGET_LEVELS = [("rep", "Rep"), ("team", "Sales Team")]
MONTH_FIELDS = [f"month_{month:02d}" for month in range(1, 13)]
YEAR_MIN, YEAR_MAX = 2000, 2100


def month_bounds(user, day):
    """The month of ``day`` (a date in ``user``'s time zone) as UTC datetimes
    [start, end), as the web client's month filter builds it."""
    tz = pytz.timezone(user.tz or "UTC")
    first = day.replace(day=1)
    following = (
        first.replace(year=first.year + 1, month=1)
        if first.month == 12
        else first.replace(month=first.month + 1)
    )

    def utc(value):
        local = tz.localize(datetime.combine(value, time.min))
        return local.astimezone(pytz.utc).replace(tzinfo=None)

    return utc(first), utc(following)


class CrmFunnelTargetMonths(models.AbstractModel):
    """Twelve monthly figures in columns and their year's total: a target line and
    a line of the yearly grid that edits it."""

    _name = "crm.funnel.target.months"
    _description = "Funnel Targets by Month"

    month_01 = fields.Float(string="January")
    month_02 = fields.Float(string="February")
    month_03 = fields.Float(string="March")
    month_04 = fields.Float(string="April")
    month_05 = fields.Float(string="May")
    month_06 = fields.Float(string="June")
    month_07 = fields.Float(string="July")
    month_08 = fields.Float(string="August")
    month_09 = fields.Float(string="September")
    month_10 = fields.Float(string="October")
    month_11 = fields.Float(string="November")
    month_12 = fields.Float(string="December")
    year_total = fields.Float(string="Whole Year", compute="_compute_year_total")

    @api.depends(*MONTH_FIELDS)
    def _compute_year_total(self):
        for line in self:
            line.year_total = sum(line[name] for name in MONTH_FIELDS)


class CrmFunnelTarget(models.Model):
    """A year of monthly targets (业绩目标) of a rep or a sales team for one
    figure: won revenue, signings or customers moved into Intent.

    One record is one line of the yearly grid, the twelve months in columns, as
    the pool CRMs keep them; it imports from a spreadsheet in the same shape.
    A line without a rep is the team's own target. Team managers set the targets
    of the teams they lead, directors any; reps read their own and their teams'.
    ``crm.funnel.report.target`` sets them against the actual figures.
    """

    _name = "crm.funnel.target"
    _inherit = ["crm.funnel.target.months"]
    _description = "Funnel Target"
    _check_company_auto = True
    _order = "year desc, team_id, level desc, user_id, kind"

    name = fields.Char(compute="_compute_name", store=True)
    active = fields.Boolean(default=True)
    year = fields.Integer(
        required=True,
        index=True,
        default=lambda self: fields.Date.context_today(self).year,
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        required=True,
        index=True,
        check_company=True,
        ondelete="cascade",
        help="The team whose target this is, or the team of the rep whose target it is: "
        "its manager sets it.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Rep",
        index=True,
        ondelete="cascade",
        domain="[('share', '=', False)]",
        help="The rep whose target this is; empty: the team's own target.",
    )
    level = fields.Selection(
        TARGET_LEVELS,
        compute="_compute_level",
        store=True,
        help="A rep's target, or a team's.",
    )
    kind = fields.Selection(
        TARGET_KINDS,
        string="Figure",
        required=True,
        default="revenue",
        help="Won revenue: the expected revenue of the customers signed (each counted "
        "once, at its latest signing, while it is still won). Signings: moves into "
        "Signed or Implemented from outside them. Moved into Intent: customers "
        "reaching Intent from a layer above it or from outside the funnel.",
    )
    company_id = fields.Many2one(
        "res.company",
        compute="_compute_company_id",
        store=True,
        readonly=False,
        precompute=True,
        required=True,
        index=True,
    )
    year_total = fields.Float(store=True)

    _sql_constraints = [
        (
            "year_range",
            f"CHECK(year >= {YEAR_MIN} AND year <= {YEAR_MAX})",
            f"A target's year is between {YEAR_MIN} and {YEAR_MAX}.",
        ),
        (
            "months_positive",
            "CHECK(" + " AND ".join(f"{name} >= 0" for name in MONTH_FIELDS) + ")",
            "A monthly target cannot be negative.",
        ),
    ]

    def init(self):
        # one active target per rep (or per team) and figure and year: create and
        # write say so in words (_funnel_check_one_target), these indexes hold it
        # under concurrency
        self.env.cr.execute(
            """CREATE UNIQUE INDEX IF NOT EXISTS crm_funnel_target_rep_uniq
                   ON crm_funnel_target (company_id, year, kind, user_id)
                WHERE active AND user_id IS NOT NULL"""
        )
        self.env.cr.execute(
            """CREATE UNIQUE INDEX IF NOT EXISTS crm_funnel_target_team_uniq
                   ON crm_funnel_target (company_id, year, kind, team_id)
                WHERE active AND user_id IS NULL"""
        )

    # ------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        self.check_access("create")  # who may set targets, before what they are
        Team = self.env["crm.team"].sudo()
        defaults = self.default_get(["year", "kind", "active"])
        keys = []
        for vals in vals_list:
            self._funnel_check_vals(vals)
            if vals.get("active", defaults.get("active", True)):
                team = Team.browse(vals.get("team_id"))
                keys.append(
                    (
                        vals.get("company_id")
                        or team.company_id.id
                        or self.env.company.id,
                        vals.get("year", defaults.get("year")),
                        vals.get("kind", defaults.get("kind")),
                        vals.get("user_id") or False,
                        vals.get("team_id"),
                    )
                )
        self.browse()._funnel_check_one_target(keys)
        return super().create(vals_list)

    def write(self, vals):
        self.check_access("write")
        self._funnel_check_vals(vals)
        if set(vals) & {"year", "kind", "user_id", "team_id", "company_id", "active"}:
            Team = self.env["crm.team"].sudo()
            team = Team.browse(vals["team_id"]) if vals.get("team_id") else None
            self._funnel_check_one_target(
                [
                    (
                        vals.get("company_id")
                        or (team.company_id.id if team is not None else False)
                        or target.company_id.id,
                        vals.get("year", target.year),
                        vals.get("kind", target.kind),
                        vals["user_id"] if "user_id" in vals else target.user_id.id,
                        vals.get("team_id", target.team_id.id),
                    )
                    for target in self
                    if vals.get("active", target.active)
                ]
            )
        return super().write(vals)

    # ------------------------------------------------------------
    # COMPUTES AND CONSTRAINTS
    # ------------------------------------------------------------

    @api.depends("year", "team_id", "user_id", "kind")
    def _compute_name(self):
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for target in self:
            parts = [
                str(target.year or ""),
                target.team_id.name or "",
                target.user_id.name or "",
                kinds.get(target.kind, ""),
            ]
            target.name = " · ".join(part for part in parts if part)

    @api.depends("user_id")
    def _compute_level(self):
        for target in self:
            target.level = "rep" if target.user_id else "team"

    @api.depends("team_id")
    def _compute_company_id(self):
        for target in self:
            target.company_id = (
                target.team_id.company_id or target.company_id or self.env.company
            )

    @api.constrains("year", *MONTH_FIELDS, "kind")
    def _check_values(self):
        for target in self:
            if not YEAR_MIN <= target.year <= YEAR_MAX:
                raise ValidationError(
                    self.env._(
                        "%(year)s is not a year for a target: choose one from %(min)s to "
                        "%(max)s.",
                        year=target.year,
                        min=YEAR_MIN,
                        max=YEAR_MAX,
                    )
                )
            values = [target[name] for name in MONTH_FIELDS]
            if any(value < 0 for value in values):
                raise ValidationError(
                    self.env._(
                        "A monthly target cannot be negative (%(target)s).",
                        target=target.name,
                    )
                )
            if target.kind in COUNTED_KINDS and any(
                value != int(value) for value in values
            ):
                raise ValidationError(
                    self.env._(
                        "Signings and customers moved into Intent are counted in whole "
                        "customers: %(target)s has a fraction.",
                        target=target.name,
                    )
                )

    @api.constrains("user_id", "team_id")
    def _check_rep_in_team(self):
        """A rep's target belongs to one of the rep's teams: its manager sets it."""
        targets = self.filtered("user_id")
        if not targets:
            return
        members = (
            self.env["crm.team.member"]
            .sudo()
            .with_context(active_test=False)
            .search(
                [
                    ("user_id", "in", targets.user_id.ids),
                    ("crm_team_id", "in", targets.team_id.ids),
                ]
            )
        )
        pairs = {(member.user_id.id, member.crm_team_id.id) for member in members}
        strays = targets.filtered(
            lambda target: (target.user_id.id, target.team_id.id) not in pairs
        )
        if strays:
            raise ValidationError(
                self.env._(
                    "A rep's target is set in one of the rep's sales teams: %(names)s.",
                    names=", ".join(
                        self.env._(
                            "%(rep)s is not a member of %(team)s",
                            rep=target.user_id.name,
                            team=target.team_id.name,
                        )
                        for target in strays[:10]
                    ),
                )
            )

    @api.model
    def _funnel_check_vals(self, vals):
        """Refuse a bad year or a negative month here, with a clear message, before
        the database's own checks."""
        year = vals.get("year")
        if year is not None and not YEAR_MIN <= year <= YEAR_MAX:
            raise ValidationError(
                self.env._(
                    "%(year)s is not a year for a target: choose one from %(min)s to "
                    "%(max)s.",
                    year=year,
                    min=YEAR_MIN,
                    max=YEAR_MAX,
                )
            )
        negative = [name for name in MONTH_FIELDS if (vals.get(name) or 0) < 0]
        if negative:
            raise ValidationError(
                self.env._(
                    "A monthly target cannot be negative (%(month)s: %(value)s).",
                    month=self._fields[negative[0]].get_description(self.env)["string"],
                    value=vals[negative[0]],
                )
            )

    def _funnel_check_one_target(self, keys):
        """One active target per rep (or team), figure and year, with one query for
        the whole batch (an import of a whole grid), before the database's unique
        indexes (which hold it under concurrency) would refuse it.

        :param keys: [(company id, year, kind, user id or False, team id)] of the
            targets about to be written (``self``: the records written)
        """

        def key(company_id, year, kind, user_id, team_id):
            return (
                company_id,
                year,
                kind,
                user_id or False,
                False if user_id else team_id,
            )

        wanted = [key(*values) for values in keys]
        duplicates = {item for item in wanted if wanted.count(item) > 1}
        if wanted:
            self.flush_model(
                ["year", "kind", "user_id", "team_id", "company_id", "active"]
            )
            self.env.cr.execute(
                SQL(
                    """SELECT target.company_id, target.year, target.kind,
                              target.user_id, target.team_id
                         FROM crm_funnel_target target
                        WHERE target.active AND NOT target.id = ANY(%s)
                          AND target.year = ANY(%s)
                          AND (target.user_id = ANY(%s) OR (
                               target.user_id IS NULL AND target.team_id = ANY(%s)))""",
                    self.ids,
                    list({item[1] for item in wanted}),
                    [item[3] for item in wanted if item[3]],
                    [item[4] for item in wanted if item[4]],
                )
            )
            existing = {key(*row) for row in self.env.cr.fetchall()}
            duplicates |= existing & set(wanted)
        if duplicates:
            kinds = dict(self._fields["kind"]._description_selection(self.env))
            users = self.env["res.users"].sudo()
            teams = self.env["crm.team"].sudo()
            raise ValidationError(
                self.env._(
                    "There is already a target for this figure and year: %(targets)s. "
                    "Change the existing one instead (each line holds the twelve months).",
                    targets=", ".join(
                        f"{year} "
                        f"{users.browse(user_id).name if user_id else teams.browse(team_id).name} "
                        f"{kinds.get(kind, kind)}"
                        for _company, year, kind, user_id, team_id in sorted(
                            duplicates, key=str
                        )[:10]
                    ),
                )
            )

    # ------------------------------------------------------------
    # IMPORT
    # ------------------------------------------------------------

    @api.model
    def get_import_templates(self):
        return [
            {
                "label": self.env._("Import Template for Funnel Targets"),
                "template": "/sales_funnel_method/static/xls/crm_funnel_target.xlsx",
            }
        ]

    # ------------------------------------------------------------
    # TARGET AGAINST ACTUAL
    # ------------------------------------------------------------

    @api.model
    def _funnel_progress(self, domain, start, end, groupby=()):
        """Targets against actual between ``start`` and ``end`` (UTC datetimes), read
        from ``crm.funnel.report.target`` with the current user's rights:
        {(*groupby values, kind): {"target", "actual", "rate"}} with ``rate`` the
        completion (完成率) in percent, or None without a target."""
        rows = self.env["crm.funnel.report.target"]._read_group(
            list(domain) + [("date", ">=", start), ("date", "<", end)],
            [*groupby, "kind"],
            ["target:sum", "actual:sum"],
        )
        progress = {}
        for *keys, target, actual in rows:
            progress[tuple(keys)] = {
                "target": target,
                "actual": actual,
                "rate": 100.0 * actual / target if target else None,
            }
        return progress

    @api.model
    def _funnel_progress_text(self, figures, kind, currency):
        """ "actual / target (rate%)" of one figure, for the weekly summary."""
        if not figures:
            return "-"

        def text(value):
            if kind == "revenue":
                return format_amount(self.env, value, currency)
            return str(int(value))

        if not figures["target"]:
            return text(figures["actual"])
        return self.env._(
            "%(actual)s / %(target)s (%(rate)s%%)",
            actual=text(figures["actual"]),
            target=text(figures["target"]),
            rate=round(figures["rate"]),
        )

    @api.model
    @api.readonly
    def get_funnel_my_targets(self):
        """The current user's targets of this month against actual, for the header
        of My Funnel: [{kind, label, target, actual, rate, is_amount}] in the order of
        the figures, only those with a target."""
        today = fields.Date.context_today(self)
        start, end = month_bounds(self.env.user, today)
        progress = self._funnel_progress(
            [("level", "=", "rep"), ("user_id", "=", self.env.uid)], start, end
        )
        labels = dict(self._fields["kind"]._description_selection(self.env))
        currency = self.env.company.currency_id
        lines = []
        for kind, _label in TARGET_KINDS:
            figures = progress.get((kind,))
            if not figures or not figures["target"]:
                continue
            lines.append(
                {
                    "kind": kind,
                    "label": labels[kind],
                    "target": figures["target"],
                    "actual": figures["actual"],
                    "rate": round(figures["rate"]),
                    "is_amount": kind == "revenue",
                    "currency_symbol": currency.symbol,
                }
            )
        return lines

    @api.model
    def _funnel_prorated_targets(self, domain, start, end):
        """{kind: the targets of ``domain`` over [start, end)}, each month's target
        counted by the share of its days inside the period (a digest's week gets a
        quarter of the month's target). Read with the current user's rights."""
        years = list(range(start.year, end.year + 1))
        targets = self.search_read(
            list(domain) + [("year", "in", years)], ["year", "kind", *MONTH_FIELDS]
        )
        totals = defaultdict(float)
        for target in targets:
            for month, name in enumerate(MONTH_FIELDS, start=1):
                days = calendar.monthrange(target["year"], month)[1]
                first = datetime.combine(date(target["year"], month, 1), time.min)
                following = first + timedelta(days=days)
                overlap = (min(end, following) - max(start, first)).total_seconds()
                if overlap > 0:
                    totals[target["kind"]] += target[name] * overlap / (days * 86400)
        return dict(totals)
