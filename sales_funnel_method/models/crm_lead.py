from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import SQL
from odoo.tools.sql import create_index

from .crm_funnel_allocation import GRADE_ORDER
from .crm_stage import GRADED_LAYERS, HOLDING_LAYERS
from .masked_fields import MaskedEmail, MaskedPhone

COMPANY_NAME_INDEX = "crm_lead_funnel_company_name_index"
HOLDINGS_INDEX = "crm_lead_funnel_holdings_index"

# My Funnel works bottom-up (METHOD 6, 上行原则): the nearer to signing, the sooner
WORKLIST_LAYER_RANK = {
    "signed": 1,
    "intent": 2,
    "lead": 3,
    "contacted": 4,
    "graded": 5,
    "resource": 6,
}
WORKLIST_LAYERS = tuple(WORKLIST_LAYER_RANK)
GRADE_RANK = {grade: rank + 1 for grade, rank in GRADE_ORDER.items() if grade}

GRADES = [
    ("a", "A"),
    ("b", "B"),
    ("c", "C"),
]


class CrmLead(models.Model):
    _name = "crm.lead"
    _inherit = ["crm.lead", "crm.funnel.masked.mixin"]

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    funnel_layer = fields.Selection(
        string="Funnel Layer",
        related="stage_id.funnel_layer",
        store=True,
        index=True,
        help="The funnel layer of the customer: the layer of its stage.",
    )
    funnel_layer_date = fields.Datetime(
        string="Entered Layer On",
        default=fields.Datetime.now,
        readonly=True,
        copy=False,
        index=True,
        help="When the customer entered its current funnel layer.",
    )
    funnel_days_in_layer = fields.Integer(
        string="Days in Layer",
        compute="_compute_funnel_days_in_layer",
        help="Whole days the customer has spent in its current layer.",
    )
    funnel_is_overdue = fields.Boolean(
        string="Overdue in Layer",
        compute="_compute_funnel_days_in_layer",
        search="_search_funnel_is_overdue",
        help="The customer has been in its layer longer than the layer's ideal move days.",
    )
    funnel_is_fast_mover = fields.Boolean(
        string="Fast Mover",
        compute="_compute_funnel_is_fast_mover",
        search="_search_funnel_is_fast_mover",
        help="The customer's last move down the funnel took at most the company's fast-mover "
        "share of the ideal days of the layer it left: a clear intent, handle it first.",
    )
    funnel_mark = fields.Selection(
        [
            ("returning", "Returning soon"),
            ("fast", "Fast mover"),
            ("overdue", "Overdue"),
        ],
        string="Mark",
        compute="_compute_funnel_mark",
        help="Customers about to return to the pool, fast movers (a clear intent) and "
        "overdue customers stand out in My Funnel.",
    )
    funnel_worklist_priority = fields.Integer(
        string="Worklist Priority",
        compute="_compute_funnel_worklist_priority",
        help="Sort key of My Funnel: bottom-up by layer (signed first), then fast movers, "
        "overdue customers, and grade.",
    )
    funnel_ideal_days = fields.Integer(
        related="stage_id.funnel_ideal_days", string="Ideal Move Days"
    )
    funnel_standard = fields.Text(
        related="stage_id.funnel_standard", string="Layer Standard"
    )
    funnel_method_hints = fields.Text(
        related="stage_id.funnel_method_hints", string="Sales Methods"
    )
    funnel_grade = fields.Selection(
        GRADES,
        string="Grade",
        index=True,
        tracking=True,
        help="A: a larger company with a product we can recommend and correct contact "
        "details; trial users; companies that called in to ask.\n"
        "B: an average company, need uncertain, a possible buyer.\n"
        "C: situation unclear, decision makers hard to reach.\n"
        "A customer needs a grade to enter the Graded layer.",
    )
    funnel_product = fields.Char(
        string="Recommended Product",
        tracking=True,
        help="The product planned for this customer when it was graded.",
    )
    funnel_sales_target = fields.Monetary(
        string="Sales Target",
        currency_field="company_currency",
        tracking=True,
        help="The revenue planned with this customer when it was graded.",
    )
    funnel_discoverer_id = fields.Many2one(
        "res.users",
        string="Discovered By",
        index=True,
        tracking=True,
        help="The rep who discovered this customer (个人发掘): they receive it first, "
        "even a little above their quota. By default the rep who created it.",
    )
    funnel_abandoned_by_id = fields.Many2one(
        "res.users",
        string="Abandoned By",
        readonly=True,
        copy=False,
        # My Funnel's header reads a rep's abandoned customers by it
        index="btree_not_null",
        help="The rep who held the customer when it was abandoned.",
    )
    funnel_abandon_evaluation = fields.Text(
        string="Manager's Evaluation",
        copy=False,
        tracking=True,
        groups="sales_funnel_method.sales_funnel_method_group_manager,"
        "sales_funnel_method.sales_funnel_method_group_support",
        help="The sales manager's evaluation of the abandon (冷处理).",
    )
    funnel_cooldown_until = fields.Datetime(
        string="Cool-down Until",
        compute="_compute_funnel_cooldown_until",
        help="An abandoned customer cannot be claimed or allocated before this date; "
        "then it re-enters the pool in the Resource layer.",
    )
    funnel_in_pool = fields.Boolean(
        string="In the Pool",
        compute="_compute_funnel_in_pool",
        search="_search_funnel_in_pool",
        help="Unassigned customer of the Resource to Intent layers: it can be claimed or allocated.",
    )
    funnel_pool_date = fields.Datetime(
        string="In the Pool Since",
        compute="_compute_funnel_pool_date",
        store=True,
        copy=False,
        help="When the customer entered the pool: created without a rep, released after its "
        "cool-down, or handed back to the pool.",
    )
    funnel_can_claim = fields.Boolean(
        string="Can Claim",
        compute="_compute_funnel_can_claim",
        help="You may claim this pool customer: you are a member of a sales team with free "
        "capacity.",
    )
    funnel_claim_refusal = fields.Char(
        string="Why Not",
        compute="_compute_funnel_can_claim",
        help="Why you cannot claim this pool customer now.",
    )
    funnel_assignment_ids = fields.One2many(
        "crm.funnel.assignment",
        "lead_id",
        string="Assignments",
        readonly=True,
        copy=False,
    )
    funnel_contact_ids = fields.One2many(
        "crm.funnel.contact",
        "lead_id",
        string="Tracking Record",
        readonly=True,
        copy=False,
    )
    funnel_contact_count = fields.Integer(
        string="Contacts", compute="_compute_funnel_contact_count"
    )
    funnel_move_ids = fields.One2many(
        "crm.funnel.move", "lead_id", string="Funnel Moves", readonly=True, copy=False
    )
    funnel_move_count = fields.Integer(compute="_compute_funnel_move_count")
    # the customer pool's rules (公海规则, issue 13)
    funnel_locked = fields.Boolean(
        string="Locked",
        readonly=True,
        copy=False,
        help="Locked by its rep (锁定): it never returns to the pool automatically. The "
        "lock ends when the customer changes hands.",
    )
    funnel_can_lock = fields.Boolean(compute="_compute_funnel_can_lock")
    funnel_return_date = fields.Datetime(
        string="Returns to the Pool On",
        compute="_compute_funnel_return_date",
        help="When the pool's rules take this customer back from its rep (自动回收): no "
        "contact for the company's number of days, or not signed in time after the "
        "rep received it. Empty: it does not return.",
    )
    funnel_return_reason = fields.Char(
        string="Returns Because", compute="_compute_funnel_return_date"
    )
    funnel_returning_soon = fields.Boolean(
        string="Returning Soon",
        compute="_compute_funnel_return_date",
        search="_search_funnel_returning_soon",
        help="The customer returns to the pool within the company's warning days unless "
        "its rep contacts (or signs) it.",
    )
    funnel_next_contact_date = fields.Date(
        string="Next Contact",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="When the rep plans to contact the customer next (下次联系时间), from the "
        "latest contact logged.",
    )
    funnel_next_contact_note = fields.Char(
        string="Next Contact Plan", readonly=True, copy=False
    )
    funnel_contact_masked = fields.Boolean(
        string="Contact Details Masked",
        compute="_compute_funnel_contact_masked",
        compute_sudo=False,
        help="A pool customer's phone, mobile and email are masked for you until you "
        "hold it.",
    )
    # Odoo's contact details, masked for the users the pool's rule says (masked_fields)
    email_from = MaskedEmail()
    email_normalized = MaskedEmail()
    email_cc = MaskedEmail()
    phone = MaskedPhone()
    mobile = MaskedPhone()
    phone_sanitized = MaskedPhone()

    @api.depends(
        "funnel_layer", "funnel_layer_date", "stage_id.funnel_ideal_days", "active"
    )
    def _compute_funnel_days_in_layer(self):
        now = fields.Datetime.now()
        for lead in self:
            if lead.funnel_layer and lead.funnel_layer_date:
                elapsed = now - lead.funnel_layer_date
                ideal = lead.stage_id.funnel_ideal_days
                lead.funnel_days_in_layer = max(elapsed.days, 0)
                lead.funnel_is_overdue = bool(
                    lead.active and ideal and elapsed > timedelta(days=ideal)
                )
            else:
                lead.funnel_days_in_layer = 0
                lead.funnel_is_overdue = False

    def _search_funnel_is_overdue(self, operator, value):
        if operator not in ("=", "!="):
            return NotImplemented
        self.env["crm.stage"].flush_model(["funnel_layer", "funnel_ideal_days"])
        self.flush_model(["active", "stage_id", "funnel_layer_date"])
        overdue = SQL(
            """(SELECT lead.id
                  FROM crm_lead lead
                  JOIN crm_stage stage ON stage.id = lead.stage_id
                 WHERE lead.active
                   AND stage.funnel_layer IS NOT NULL
                   AND stage.funnel_ideal_days > 0
                   AND lead.funnel_layer_date < %s - stage.funnel_ideal_days * INTERVAL '1 day')""",
            fields.Datetime.now(),
        )
        positive = (operator == "=") == bool(value)
        return [("id", "in" if positive else "not in", overdue)]

    @api.depends("funnel_layer", "funnel_layer_date", "company_id.funnel_cooldown_days")
    def _compute_funnel_cooldown_until(self):
        for lead in self:
            company = lead.company_id or self.env.company
            if lead.funnel_layer == "abandoned" and lead.funnel_layer_date:
                lead.funnel_cooldown_until = lead.funnel_layer_date + timedelta(
                    days=company.funnel_cooldown_days
                )
            else:
                lead.funnel_cooldown_until = False

    @api.depends("active", "user_id", "funnel_layer")
    def _compute_funnel_in_pool(self):
        service = self.env["crm.funnel.allocation"]
        for lead in self:
            lead.funnel_in_pool = service._funnel_in_pool(lead)

    def _search_funnel_in_pool(self, operator, value):
        if operator not in ("=", "!="):
            return NotImplemented
        # the service's definition, in every company the user works in; "active"
        # is left to the search's own active test
        domain = [
            term
            for term in self.env["crm.funnel.allocation"]._funnel_pool_domain()
            if term[0] not in ("company_id", "active")
        ]
        if (operator == "=") == bool(value):
            return domain
        return ["!", "&", *domain]

    @api.depends("active", "user_id", "funnel_layer")
    def _compute_funnel_pool_date(self):
        for lead in self:
            if lead.funnel_in_pool:
                # a customer entering the pool now was dated by the write that put it
                # there (its write date; at install, its last change); one staying
                # in the pool keeps its date
                lead.funnel_pool_date = (
                    lead.funnel_pool_date or lead.write_date or fields.Datetime.now()
                )
            else:
                lead.funnel_pool_date = False

    @api.depends("funnel_in_pool", "company_id", "funnel_discoverer_id")
    @api.depends_context("uid", "company")
    def _compute_funnel_can_claim(self):
        claimable = self.env["crm.funnel.allocation"]._funnel_claimable(
            self.filtered("funnel_in_pool")
        )
        for lead in self:
            lead.funnel_can_claim = lead.id in claimable and not claimable[lead.id]
            lead.funnel_claim_refusal = claimable.get(lead.id) or False

    def _funnel_fast_mover_sql(self, lead_id_sql):
        """SQL condition: the last move of the lead ``lead_id_sql`` was a fast move down."""
        return SQL(
            "EXISTS (SELECT 1 FROM crm_funnel_move move WHERE move.lead_id = %s AND %s)",
            lead_id_sql,
            self.env["crm.funnel.move"]._funnel_fast_move_sql("move"),
        )

    @api.depends("active")
    def _compute_funnel_is_fast_mover(self):
        if not self.ids:
            self.funnel_is_fast_mover = False
            return
        # an archived customer is no fast mover (as searched, see below)
        self.env["crm.lead"].flush_model(["active"])
        self.env.cr.execute(
            SQL(
                "SELECT lead.id FROM crm_lead lead "
                "WHERE lead.id = ANY(%s) AND lead.active AND %s",
                list(self.ids),
                self._funnel_fast_mover_sql(SQL("lead.id")),
            )
        )
        fast = {row[0] for row in self.env.cr.fetchall()}
        for lead in self:
            lead.funnel_is_fast_mover = lead.id in fast

    def _search_funnel_is_fast_mover(self, operator, value):
        if operator not in ("=", "!="):
            return NotImplemented
        # the fast movers read from the latest moves down (their index), not by
        # looking up the last move of every customer. An archived customer is no
        # fast mover: a condition on the customers searched, not a second scan of
        # the customers inside the subquery
        fast = SQL(
            "(SELECT move.lead_id FROM crm_funnel_move move WHERE %s)",
            self.env["crm.funnel.move"]._funnel_fast_move_sql("move"),
        )
        if (operator == "=") == bool(value):
            return ["&", ("active", "=", True), ("id", "in", fast)]
        return ["|", ("active", "=", False), ("id", "not in", fast)]

    @api.depends("funnel_is_fast_mover", "funnel_is_overdue", "funnel_returning_soon")
    def _compute_funnel_mark(self):
        for lead in self:
            lead.funnel_mark = (
                "returning"
                if lead.funnel_returning_soon
                else "fast"
                if lead.funnel_is_fast_mover
                else "overdue"
                if lead.funnel_is_overdue
                else False
            )

    @api.depends(
        "active",
        "user_id",
        "funnel_layer",
        "funnel_locked",
        "funnel_grade",
        "company_id",
    )
    def _compute_funnel_return_date(self):
        service = self.env["crm.funnel.allocation"]
        dates = service._funnel_return_dates(self)
        now = fields.Datetime.now()
        for lead in self:
            due, reason, notice_days = dates.get(lead._origin.id, (False, False, 0))
            lead.funnel_return_date = due
            lead.funnel_return_reason = reason
            lead.funnel_returning_soon = bool(
                due and notice_days and due <= now + timedelta(days=notice_days)
            )

    def _search_funnel_returning_soon(self, operator, value):
        if operator not in ("=", "!="):
            return NotImplemented
        positive = (operator == "=") == bool(value)
        soon = self.env["crm.funnel.allocation"]._funnel_returning_soon_sql()
        if soon is None:  # no company returns customers: nothing returns soon
            return expression.FALSE_DOMAIN if positive else expression.TRUE_DOMAIN
        return [("id", "in" if positive else "not in", soon)]

    @api.depends("user_id", "funnel_layer", "funnel_locked", "active")
    @api.depends_context("uid")
    def _compute_funnel_can_lock(self):
        service = self.env["crm.funnel.allocation"]
        mine = self.filtered(
            lambda lead: (
                lead.active
                and lead.user_id == self.env.user
                and lead.funnel_layer in HOLDING_LAYERS
                and not lead.funnel_locked
            )
        )
        # the limit is the customer's company's
        limits = {}
        for company in (mine.company_id | self.env.company) if mine else ():
            limits[company] = service._funnel_lock_limits(self.env.user, company).get(
                self.env.uid, 0
            )
        for lead in self:
            lead.funnel_can_lock = lead in mine and bool(
                limits.get(lead.company_id or self.env.company)
            )

    @api.depends("user_id", "funnel_layer", "company_id")
    @api.depends_context("uid", "company")
    def _compute_funnel_contact_masked(self):
        masked = self.env["crm.funnel.allocation"]._funnel_masked_leads(self)
        for lead in self:
            lead.funnel_contact_masked = lead in masked

    @api.depends(
        "funnel_layer", "funnel_is_fast_mover", "funnel_is_overdue", "funnel_grade"
    )
    def _compute_funnel_worklist_priority(self):
        for lead in self:
            lead.funnel_worklist_priority = (
                WORKLIST_LAYER_RANK.get(lead.funnel_layer, 9) * 1000
                + (0 if lead.funnel_is_fast_mover else 100)
                + (0 if lead.funnel_is_overdue else 10)
                + GRADE_RANK.get(lead.funnel_grade, 4)
            )

    def _field_to_sql(self, alias, fname, query=None, flush=True):
        """Order My Funnel in SQL by the same key as ``funnel_worklist_priority``."""
        if fname != "funnel_worklist_priority":
            return super()._field_to_sql(alias, fname, query, flush)
        self.env["crm.stage"].flush_model(["funnel_ideal_days"])
        layer = self._field_to_sql(alias, "funnel_layer", query, flush)
        layer_rank = SQL(" ").join(
            [SQL("CASE %s", layer)]
            + [
                SQL("WHEN %s THEN %s", key, rank)
                for key, rank in WORKLIST_LAYER_RANK.items()
            ]
            + [SQL("ELSE 9 END")]
        )
        grade = self._field_to_sql(alias, "funnel_grade", query, flush)
        grade_rank = SQL(" ").join(
            [SQL("CASE %s", grade)]
            + [SQL("WHEN %s THEN %s", key, rank) for key, rank in GRADE_RANK.items()]
            + [SQL("ELSE 4 END")]
        )
        # an archived customer is neither overdue nor a fast mover, as its badges
        # say (_compute_funnel_days_in_layer, _compute_funnel_is_fast_mover)
        active = self._field_to_sql(alias, "active", query, flush)
        overdue = SQL(
            """(%(active)s AND EXISTS (
                    SELECT 1 FROM crm_stage stage
                     WHERE stage.id = %(stage)s AND stage.funnel_ideal_days > 0
                       AND %(date)s < %(now)s - stage.funnel_ideal_days * INTERVAL '1 day'))""",
            active=active,
            stage=self._field_to_sql(alias, "stage_id", query, flush),
            date=self._field_to_sql(alias, "funnel_layer_date", query, flush),
            now=fields.Datetime.now(),
        )
        fast = SQL(
            "(%s AND %s)",
            active,
            self._funnel_fast_mover_sql(SQL.identifier(alias, "id")),
        )
        return SQL(
            "(%s * 1000 + CASE WHEN %s THEN 0 ELSE 100 END + CASE WHEN %s THEN 0 ELSE 10 END + %s)",
            layer_rank,
            fast,
            overdue,
            grade_rank,
        )

    def _funnel_counts(self, model):
        """{lead: number of its ``model`` records}, in one query for ``self``."""
        return dict(
            self.env[model]._read_group(
                [("lead_id", "in", self.ids)], ["lead_id"], ["__count"]
            )
        )

    def _compute_funnel_contact_count(self):
        counts = self._funnel_counts("crm.funnel.contact")
        for lead in self:
            lead.funnel_contact_count = counts.get(lead, 0)

    def _compute_funnel_move_count(self):
        counts = self._funnel_counts("crm.funnel.move")
        for lead in self:
            lead.funnel_move_count = counts.get(lead, 0)

    # ------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------

    def init(self):
        res = super().init()
        # the duplicate check (查重) matches company names without case or spaces
        create_index(
            self.env.cr,
            COMPANY_NAME_INDEX,
            self._table,
            ["lower(btrim(partner_name))"],
        )
        # the reps' holdings in the quota layers (crm.funnel.allocation's
        # _funnel_holdings: the quotas, the claims, the ranking boards), counted
        # from this index alone rather than from every customer the reps hold
        create_index(
            self.env.cr,
            HOLDINGS_INDEX,
            self._table,
            ["user_id", "funnel_layer"],
            where="active",
        )
        return res

    @api.model_create_multi
    def create(self, vals_list):
        service = self.env["crm.funnel.allocation"]
        # refuse before anything is written when the stage is given
        stages = self.env["crm.stage"].browse(
            {vals["stage_id"] for vals in vals_list if vals.get("stage_id")}
        )
        layers = {stage.id: stage.funnel_layer for stage in stages}
        ungraded = [
            vals.get("name") or self.env._("New customer")
            for vals in vals_list
            if layers.get(vals.get("stage_id")) in GRADED_LAYERS
            and not vals.get("funnel_grade")
        ]
        if ungraded:
            raise UserError(self._funnel_grade_error(ungraded))
        # abandoned customers are archived, and archived ones abandoned
        if any(
            (layers.get(vals.get("stage_id")) == "abandoned")
            != (not vals.get("active", True))
            and layers.get(vals.get("stage_id"))
            for vals in vals_list
        ):
            raise UserError(self._funnel_abandon_error())
        service._funnel_prepare_create(vals_list)
        leads = super().create(vals_list)
        entered = leads.filtered("funnel_layer")
        if entered:
            # the stage may also have been computed (from the team)
            grades = {lead.id: lead.funnel_grade for lead in entered}
            entered._funnel_check_grade_on_entry(grades)
            if not (self.env.su and self.env.context.get("funnel_history_given")):
                # (a data load that brings its own history, like the demo, says so)
                entered._funnel_record_moves(
                    {
                        lead.id: (self.env["crm.stage"], False, False, lead.user_id)
                        for lead in entered
                    }
                )
            if not self.env.su:
                # a customer created for another rep is received by them; what the
                # system loads itself (data files, migrations) is not
                service._funnel_record_direct_assignments(
                    entered.filtered(
                        lambda lead: lead.user_id and lead.user_id != self.env.user
                    ),
                    dict.fromkeys(entered.ids, False),
                )
                # 查重: a customer the company already has is warned of or refused
                service._funnel_check_duplicates(entered)
        return leads

    def write(self, vals):
        service = self.env["crm.funnel.allocation"]
        service._funnel_check_write(self, vals)
        if "funnel_grade" in vals and not vals["funnel_grade"]:
            self._funnel_check_grade_kept(vals)
        previous_users = (
            {lead.id: lead.user_id.id for lead in self} if "user_id" in vals else None
        )
        if "stage_id" not in vals and "active" not in vals:
            result = super().write(vals)
            if previous_users is not None:
                service._funnel_record_direct_assignments(self, previous_users)
                service._funnel_end_locks(self, previous_users)
            return result

        targets = self._funnel_target_stages(vals)
        # snapshot of the layer each lead leaves, taken before the write
        before = {
            lead.id: (
                lead.stage_id,
                lead.funnel_layer,
                lead.funnel_layer_date,
                lead.user_id,
            )
            for lead in self
        }
        # group the leads by the write they need: one write per target stage,
        # and per "does the layer change", so that a batch stays a few writes
        batches = defaultdict(lambda: self.browse())
        for lead in self:
            target = targets.get(lead.id)
            new_layer = target.funnel_layer if target is not None else lead.funnel_layer
            changes = target is not None and new_layer != lead.funnel_layer
            batches[(target.id if target is not None else None, changes)] |= lead

        changed = self.browse(
            [
                lid
                for (_t, changes), leads in batches.items()
                if changes
                for lid in leads.ids
            ]
        )
        # an archived customer of the funnel is an abandoned one, in Abandoned
        archived_elsewhere = self.filtered(
            lambda lead: (
                not vals.get("active", lead.active)
                and (
                    targets[lead.id].funnel_layer
                    if lead.id in targets
                    else lead.funnel_layer
                )
                not in (False, "abandoned")
                and (lead.id in targets or "active" in vals)
            )
        )
        if archived_elsewhere:
            raise UserError(self._funnel_abandon_error())
        if changed:
            new_layers = {lead.id: targets[lead.id].funnel_layer for lead in changed}
            grades = {
                lead.id: vals["funnel_grade"]
                if "funnel_grade" in vals
                else lead.funnel_grade
                for lead in changed
            }
            changed._funnel_check_grade_on_entry(grades, new_layers)

        now = fields.Datetime.now()
        result = True
        for (target_id, changes), leads in batches.items():
            batch_vals = dict(vals)
            if target_id is not None and "stage_id" not in vals:
                batch_vals["stage_id"] = target_id
            if changes:
                batch_vals["funnel_layer_date"] = now
            result = super(CrmLead, leads).write(batch_vals) and result
        if previous_users is not None:
            service._funnel_record_direct_assignments(self, previous_users)
            service._funnel_end_locks(self, previous_users)
        if changed:
            moves = changed._funnel_record_moves(
                {lid: before[lid] for lid in changed.ids}, now=now
            )
            changed._funnel_leave_rep(
                moves.filtered(lambda move: move.move_type == "abandon")
            )
        return result

    def _merge_get_fields(self):
        # the grading travels with the merged customer like crm's own fields
        return super()._merge_get_fields() + [
            "funnel_grade",
            "funnel_product",
            "funnel_sales_target",
        ]

    def _sort_by_confidence_level(self, reverse=False):
        # an abandoned customer is the least reliable, whatever its stage's sequence:
        # merging it with an active one keeps the active one
        ordered = super()._sort_by_confidence_level(reverse=reverse)
        abandoned = ordered.filtered(
            lambda lead: (
                lead.funnel_layer
                and (lead.funnel_layer == "abandoned" or not lead.active)
            )
        )
        rest = ordered - abandoned
        return rest + abandoned if reverse else abandoned + rest

    def copy(self, default=None):
        self.env["crm.funnel.allocation"]._funnel_check_work(self)
        return super().copy(default=default)

    def _merge_opportunity(
        self, user_id=False, team_id=False, auto_unlink=True, max_length=5
    ):
        self.env["crm.funnel.allocation"]._funnel_check_merge(self)
        return super()._merge_opportunity(
            user_id=user_id,
            team_id=team_id,
            auto_unlink=auto_unlink,
            max_length=max_length,
        )

    def _merge_dependences(self, opportunities):
        # the merged customers' moves, assignments and contacts become the survivor's
        result = super()._merge_dependences(opportunities)
        self.env["crm.funnel.move"]._funnel_transfer_history(self, opportunities)
        return result

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_set_lost(self, **additional_values):
        # crm archives first, then writes the lost reason. Here the reason comes
        # first, while the rep still holds the customer: the abandon move written by
        # the archiving records it, and the rep who abandons is the one who says why
        if additional_values:
            self.write(dict(additional_values))
        return super().action_set_lost()

    def action_funnel_restore_early(self):
        """Open the sales manager's evaluation: restore before the cool-down ends."""
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Restore before the End of the Cool-down"),
            "res_model": "crm.funnel.restore",
            "view_mode": "form",
            "target": "new",
            "context": {"default_lead_ids": self.ids},
        }

    def action_funnel_claim(self):
        """Take these customers from the pool (METHOD 4), within the rep's capacity."""
        self.env["crm.funnel.allocation"]._funnel_claim(self)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._(
                    "%(count)s customers are now yours.", count=len(self)
                )
                if len(self) > 1
                else self.env._(
                    "%(customer)s is now yours.", customer=self.display_name
                ),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_funnel_lock(self):
        """Lock these customers (锁定): they never return to the pool automatically."""
        self.env["crm.funnel.allocation"]._funnel_lock(self, lock=True)
        return True

    def action_funnel_unlock(self):
        self.env["crm.funnel.allocation"]._funnel_lock(self, lock=False)
        return True

    def action_funnel_hand_back(self):
        """Open the hand-back (放入公海): the customer goes back to the pool, with a reason."""
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Hand Back to the Pool"),
            "res_model": "crm.funnel.handback.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_lead_ids": self.ids},
        }

    @api.onchange("partner_name", "partner_id", "email_from", "phone", "mobile")
    def _onchange_funnel_duplicates(self):
        """查重 in the form: warn before saving a customer the company already has."""
        if self._origin.id:
            return None
        message = self.env["crm.funnel.allocation"]._funnel_duplicate_warning(self)
        if message:
            return {
                "warning": {
                    "title": self.env._("The company already has this customer"),
                    "message": message,
                }
            }
        return None

    def _message_get_suggested_recipients(self):
        # a pool customer's address is not offered to a rep who does not hold it
        if any(lead.funnel_contact_masked for lead in self):
            return []
        return super()._message_get_suggested_recipients()

    def action_funnel_log_contact(self):
        """Open the two-click contact log of the tracking record (METHOD 9)."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Log a Contact"),
            "res_model": "crm.funnel.contact.log",
            "view_mode": "form",
            "target": "new",
            "context": {"default_lead_id": self.id},
        }

    def _message_post_after_hook(self, message, msg_vals):
        # a message sent to the customer, or an email from the customer, is a contact too
        partner = self.partner_id
        sent_to_customer = (
            msg_vals.get("message_type") == "comment"
            and msg_vals.get("subtype_id")
            == self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_comment")
            and (
                partner.id in (msg_vals.get("partner_ids") or [])
                or partner in self.message_partner_ids
            )
        )
        from_customer = (
            msg_vals.get("message_type") == "email"
            and msg_vals.get("author_id") == partner.id
        )
        service = self.env["crm.funnel.allocation"]
        if (
            len(self) == 1
            and partner
            and self.funnel_layer
            and (sent_to_customer or from_customer)
            # a rep's mail to a pool customer is no contact of the funnel: the pool's
            # customers are worked once received
            and (
                from_customer
                or self.user_id
                or self.env.su
                or service._funnel_is_allocator()
            )
        ):
            self.env["crm.funnel.contact"]._funnel_record(
                self, "email", source="email", messages={self.id: message}
            )
        return super()._message_post_after_hook(message, msg_vals)

    def action_view_funnel_moves(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "sales_funnel_method.crm_funnel_move_action"
        )
        action["domain"] = [("lead_id", "=", self.id)]
        action["context"] = {
            "default_lead_id": self.id,
            "search_default_group_by_lead": 0,
        }
        action["display_name"] = self.env._(
            "Funnel Moves of %(customer)s", customer=self.name
        )
        return action

    @api.ondelete(at_uninstall=False)
    def _unlink_except_funnel_customer(self):
        """A funnel customer is company data (METHOD 5): archive it, do not delete it."""
        if self.env.su or self.env.user.has_group("base.group_system"):
            return
        if any(lead.funnel_layer for lead in self):
            raise UserError(
                self.env._(
                    "Customers of the sales funnel are never deleted: mark them as lost "
                    "(abandoned) or archive them instead. Only an administrator can delete them."
                )
            )

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    def _funnel_abandon_error(self):
        return self.env._(
            "Abandoning a customer is Abandon (Mark as Lost): it archives the customer in "
            "the Abandoned layer, asks for the reason and starts its cool-down. A customer "
            "is not dropped into Abandoned, nor archived in another layer of the funnel."
        )

    def _funnel_leave_rep(self, abandon_moves):
        """An abandoned customer leaves its rep and waits in cold storage.

        :return: the customers that left a rep
        """
        # the abandon counts for the rep who held the customer before the write
        # (the move's rep), whoever the write names as salesperson
        by_user = defaultdict(list)
        for move in abandon_moves:
            if move.lead_id.user_id or move.user_id:
                by_user[move.user_id.id].append(move.lead_id.id)
        left = self.browse()
        for user_id, lead_ids in by_user.items():
            # plain write: leaving the rep is not another move
            values = {"user_id": False, "funnel_locked": False}
            if user_id:
                values["funnel_abandoned_by_id"] = user_id
            super(CrmLead, self.browse(lead_ids)).write(values)
            left |= self.browse(lead_ids)
        return left

    def _funnel_target_stages(self, vals):
        """The stage each lead goes to with ``vals``, for the leads whose stage changes.

        An explicit stage wins. Otherwise archiving a funnel customer (Odoo's
        "lost") moves it to the abandoned layer, and restoring an abandoned one
        brings it back to the resource layer.
        """
        Stage = self.env["crm.stage"]
        if "stage_id" in vals:
            stage = Stage.browse(vals["stage_id"] or [])
            return {lead.id: stage for lead in self if lead.stage_id != stage}
        if vals["active"]:
            moving = self.filtered(
                lambda lead: not lead.active and lead.funnel_layer == "abandoned"
            )
            layer = "resource"
        else:
            moving = self.filtered(
                lambda lead: (
                    lead.active
                    and lead.funnel_layer
                    and lead.funnel_layer != "abandoned"
                )
            )
            layer = "abandoned"
        targets = {}
        for team, leads in moving.grouped("team_id").items():
            stage = leads._funnel_layer_stage(layer, team)
            if stage:
                targets.update(dict.fromkeys(leads.ids, stage))
        return targets

    def _funnel_layer_stage(self, layer, team=None):
        """The first stage of ``layer`` for ``team`` (or a stage for every team)."""
        team = self.team_id[:1] if team is None else team
        return self._stage_find(team_id=team.id, domain=[("funnel_layer", "=", layer)])

    def _funnel_check_grade_on_entry(self, grades, new_layers=None):
        """Refuse customers without a grade in the Graded layer or further down
        the funnel (METHOD 3): ``grades`` {lead id: grade} as it will be,
        ``new_layers`` {lead id: layer} the layers they enter (their own by default)."""
        ungraded = self.filtered(
            lambda lead: (
                (new_layers[lead.id] if new_layers else lead.funnel_layer)
                in GRADED_LAYERS
                and not grades.get(lead.id)
            )
        )
        if ungraded:
            raise UserError(self._funnel_grade_error(ungraded.mapped("display_name")))

    def _funnel_check_grade_kept(self, vals):
        """A customer in the Graded layer or further keeps a grade."""
        if "stage_id" in vals:
            stage = self.env["crm.stage"].browse(vals["stage_id"] or [])
            concerned = self if stage.funnel_layer in GRADED_LAYERS else self.browse()
        else:
            concerned = self.filtered(lambda lead: lead.funnel_layer in GRADED_LAYERS)
        if concerned:
            raise UserError(self._funnel_grade_error(concerned.mapped("display_name")))

    def _funnel_grade_error(self, names):
        shown = ", ".join(names[:10])
        if len(names) > 10:
            shown = self.env._(
                "%(names)s and %(count)s more", names=shown, count=len(names) - 10
            )
        return self.env._(
            "A customer needs a grade (A, B or C) to be in the Graded layer or further "
            "down the funnel. Grade these customers first: %(customers)s",
            customers=shown,
        )

    def _funnel_record_moves(self, before, now=None):
        """Write the move history of ``self``, which just changed layer.

        :param dict before: lead id -> (stage, layer, date entered that layer,
            salesperson) as they were before the change
        """
        Move = self.env["crm.funnel.move"]
        now = now or fields.Datetime.now()
        vals_list = []
        for lead in self:
            from_stage, from_layer, from_date, from_user = before[lead.id]
            to_layer = lead.funnel_layer
            move_type = Move._funnel_move_type(from_layer, to_layer)
            vals_list.append(
                lead._prepare_funnel_move_values(
                    {
                        "date": now,
                        "from_layer": from_layer or False,
                        "to_layer": to_layer or False,
                        "from_stage_id": from_stage.id,
                        "to_stage_id": lead.stage_id.id,
                        "move_type": move_type,
                        "skipped_layers": Move._funnel_skipped_layers(
                            from_layer, to_layer
                        ),
                        "from_ideal_days": from_stage.funnel_ideal_days
                        if from_layer
                        else 0,
                        "days_in_layer": (now - from_date).total_seconds() / 86400
                        if from_date and from_layer
                        else 0.0,
                        "lost_reason_id": lead.lost_reason_id.id
                        if move_type == "abandon"
                        else False,
                    }
                )
            )
            if move_type == "abandon" and from_user:
                # the abandon counts for the rep who held the customer
                vals_list[-1]["user_id"] = from_user.id
        return Move.sudo().create(vals_list)

    def _prepare_funnel_move_values(self, values):
        """Hook: complete the values of a move of ``self`` (one lead)."""
        self.ensure_one()
        return dict(
            values,
            lead_id=self.id,
            changed_by_id=self.env.uid,
            user_id=self.user_id.id,
            team_id=self.team_id.id,
            company_id=self.company_id.id,
        )

    # ------------------------------------------------------------
    # ONE TIME IN LAYER, ONE CHANCE TO SIGN
    # ------------------------------------------------------------

    def _compute_duration_tracking(self):
        """The stage bar's times (``statusbar_duration``) are the funnel's own for the
        stages of a layer, as the move history has them (see
        ``crm.funnel.move._funnel_stage_durations``): the stage bar, Days in Layer
        and the reports tell one time in layer, on a back-filled or demo history
        too. Stages outside the funnel keep Odoo's figures from the tracking."""
        result = super()._compute_duration_tracking()
        funnel = self.filtered(lambda lead: lead.funnel_layer and lead._origin.id)
        if funnel:
            durations = self.env["crm.funnel.move"]._funnel_stage_durations(funnel)
            for lead in funnel:
                lead.duration_tracking = durations[lead.id]
        return result

    def _pls_get_naive_bayes_probabilities(self, batch_mode=False):
        """A funnel customer's probability is its layer's chance to sign when its
        company says so (``res.company.funnel_probability``): the pipeline's
        weighted revenue is then the funnel's forecast. Other customers, and every
        customer of a company that keeps Odoo's predictive scoring, are scored by
        Odoo."""
        chances, by_company = {}, {}
        for lead in self:
            company = lead.company_id or self.env.company
            if company not in by_company:
                by_company[company] = company._funnel_chances_to_sign()
            layer_chances = by_company[company]
            if layer_chances is None or not lead.funnel_layer:
                continue
            if batch_mode and not (
                lead.active and (not lead.probability or 0 < lead.probability < 100)
            ):
                continue
            chances[lead.id] = layer_chances.get(lead.funnel_layer, 0.0)
        scored = self.filtered(lambda lead: lead.id not in chances)
        probabilities = (
            super(CrmLead, scored)._pls_get_naive_bayes_probabilities(
                batch_mode=batch_mode
            )
            if scored
            else {}
        )
        probabilities.update(chances)
        return probabilities

    # ------------------------------------------------------------
    # MY FUNNEL
    # ------------------------------------------------------------

    @api.model
    @api.readonly
    def get_funnel_holdings(self):
        """The current user's holdings against the ideal, per layer (METHOD 2), for
        the header of My Funnel: [{layer, label, held, ideal}] in funnel order."""
        report = self.env["crm.funnel.report.holding"]
        rows = report.search(
            [("user_id", "=", self.env.uid), ("ideal_count", ">", 0)],
            order="layer_sequence",
        )
        labels = dict(self._fields["funnel_layer"]._description_selection(self.env))
        return [
            {
                "layer": row.layer,
                "label": labels.get(row.layer, row.layer),
                "held": row.held_count,
                "ideal": row.ideal_count,
            }
            for row in rows
        ]
