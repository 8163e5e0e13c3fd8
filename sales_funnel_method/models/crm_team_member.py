from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

# the largest quota override a rep can be given (customers held at once)
FUNNEL_QUOTA_MAX = 1000


class CrmTeamMember(models.Model):
    _inherit = "crm.team.member"

    funnel_quota_override = fields.Integer(
        string="Quota Override",
        help="Customers this rep may hold in the Resource to Intent layers, from 1 to "
        f"{FUNNEL_QUOTA_MAX}. 0 (empty): the company's quota.",
    )
    funnel_receives_nothing = fields.Boolean(
        string="Receives Nothing",
        help="A rep on leave, say: no allocation, claim, hand-over or discovered "
        "customer reaches them until this is unchecked. What they hold stays with them.",
    )
    funnel_lock_limit_override = fields.Integer(
        string="Lock Limit Override",
        help="How many customers this rep may lock (锁定), from 1 to "
        f"{FUNNEL_QUOTA_MAX}. 0 (empty): the company's limit.",
    )
    funnel_can_edit_quota = fields.Boolean(compute="_compute_funnel_can_edit_quota")
    funnel_quota = fields.Integer(string="Quota", compute="_compute_funnel_figures")
    funnel_holding_count = fields.Integer(
        string="Holdings", compute="_compute_funnel_figures"
    )
    funnel_capacity = fields.Integer(
        string="Capacity",
        compute="_compute_funnel_figures",
        help="Quota minus holdings: how many more customers the rep can receive.",
    )
    funnel_received_count = fields.Integer(
        string="Received",
        compute="_compute_funnel_figures",
        groups="sales_funnel_method.sales_funnel_method_group_manager,sales_funnel_method.sales_funnel_method_group_support",
        help="Customers allocated to, claimed by or handed over to the rep.",
    )
    funnel_abandoned_count = fields.Integer(
        string="Abandoned",
        compute="_compute_funnel_figures",
        groups="sales_funnel_method.sales_funnel_method_group_manager,sales_funnel_method.sales_funnel_method_group_support",
    )
    funnel_abandon_ratio = fields.Float(
        string="Abandoned / Received",
        compute="_compute_funnel_figures",
        digits=(16, 2),
        groups="sales_funnel_method.sales_funnel_method_group_manager,sales_funnel_method.sales_funnel_method_group_support",
        help="Customers the rep abandoned per customer received (放弃数量和领取数量的比例).",
    )

    funnel_lock_limit = fields.Integer(
        string="Lock Limit",
        compute="_compute_funnel_pool_figures",
        help="How many customers the rep may lock: their override, else the company's.",
    )
    funnel_locked_count = fields.Integer(
        string="Locked", compute="_compute_funnel_pool_figures"
    )
    funnel_returned_count = fields.Integer(
        string="Returned by the Rules",
        compute="_compute_funnel_pool_figures",
        groups="sales_funnel_method.sales_funnel_method_group_manager,sales_funnel_method.sales_funnel_method_group_support",
        help="Customers the pool's rules took back from the rep (no contact, or not "
        "signed in time). Not abandons: the rep did not give them up.",
    )
    funnel_handed_back_count = fields.Integer(
        string="Hand-backs",
        compute="_compute_funnel_pool_figures",
        groups="sales_funnel_method.sales_funnel_method_group_manager,sales_funnel_method.sales_funnel_method_group_support",
        help="Customers the rep handed back to the pool (放入公海), without abandoning them.",
    )

    _sql_constraints = [
        (
            "funnel_quota_override_positive",
            f"CHECK(funnel_quota_override >= 0 AND funnel_quota_override <= {FUNNEL_QUOTA_MAX})",
            "A rep's quota is a number of customers from 0 (the company's quota) to "
            f"{FUNNEL_QUOTA_MAX}.",
        ),
        (
            "funnel_lock_limit_override_positive",
            f"CHECK(funnel_lock_limit_override >= 0 AND funnel_lock_limit_override <= {FUNNEL_QUOTA_MAX})",
            "A rep's lock limit is a number of customers from 0 (the company's limit) to "
            f"{FUNNEL_QUOTA_MAX}.",
        ),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._funnel_check_quota_value(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._funnel_check_quota_value(vals)
        return super().write(vals)

    @api.model
    def _funnel_check_quota_value(self, vals):
        """A quota or lock limit override is a number of customers between 0 (the
        company's) and FUNNEL_QUOTA_MAX, refused here before the database's own
        check."""
        quota = vals.get("funnel_quota_override")
        if quota and not 0 <= quota <= FUNNEL_QUOTA_MAX:
            raise ValidationError(
                self.env._(
                    "A rep's quota is a number of customers from 1 to %(max)s, or 0 for "
                    "the company's quota (to give a rep nothing, check Receives "
                    "Nothing): %(quota)s is not one.",
                    max=FUNNEL_QUOTA_MAX,
                    quota=quota,
                )
            )
        lock_limit = vals.get("funnel_lock_limit_override")
        if lock_limit and not 0 <= lock_limit <= FUNNEL_QUOTA_MAX:
            raise ValidationError(
                self.env._(
                    "A rep's lock limit is a number of customers from 1 to %(max)s, "
                    "or 0 for the company's limit: %(limit)s is not one.",
                    max=FUNNEL_QUOTA_MAX,
                    limit=lock_limit,
                )
            )

    @api.model
    def _funnel_memberships(self, company, users=None, teams=None):
        """A rep's teams in ``company`` (the one definition of it): the active
        memberships of active internal users in the company's funnel teams (active
        sales teams that work the funnel, ``crm.team._funnel_team_domain``, or teams
        of no company), of users who work in ``company``, oldest first. The first is
        the rep's main team. ``users`` and ``teams`` narrow them to those reps and
        teams."""
        domain = [
            ("active", "=", True),
            ("crm_team_id", "any", self.env["crm.team"]._funnel_team_domain()),
            ("crm_team_id.company_id", "in", [company.id, False]),
            ("user_id.active", "=", True),
            ("user_id.share", "=", False),
            ("user_id.company_ids", "in", company.ids),
        ]
        if users is not None:
            domain.append(("user_id", "in", users.ids))
        if teams is not None:
            domain.append(("crm_team_id", "in", teams.ids))
        # the members' rep and team fetched with them: every caller reads both
        return self.sudo().search_fetch(domain, ["user_id", "crm_team_id"], order="id")

    @api.model
    def _funnel_membership_sql(self, member="member", company=None):
        """SQL condition: the crm_team_member row ``member`` is a rep's membership
        as ``_funnel_memberships`` defines it, for the reports and checks that read
        the memberships in SQL: active, of an active internal user, in a funnel
        team of ``company`` (or of no company) when given, and the user works in
        the team's company (in ``company``, when the team has none)."""
        self.flush_model(["active", "user_id", "crm_team_id"])
        self.env["res.users"].flush_model(["active", "share", "company_ids"])
        self.env["crm.team"].flush_model(["company_id"])
        alias = SQL.identifier(member)
        return SQL(
            """(%(member)s.active
                AND %(funnel_team)s
                AND EXISTS (
                    SELECT 1
                      FROM res_users member_user
                      JOIN crm_team member_team ON member_team.id = %(member)s.crm_team_id
                     WHERE member_user.id = %(member)s.user_id
                       AND member_user.active AND member_user.share IS NOT TRUE
                       AND %(company)s))""",
            member=alias,
            funnel_team=self.env["crm.team"]._funnel_team_sql(
                SQL("%s.crm_team_id", alias)
            ),
            company=SQL(
                """(member_team.company_id IS NULL OR member_team.company_id = %(company)s)
                   AND EXISTS (SELECT 1 FROM res_company_users_rel member_company
                                WHERE member_company.user_id = member_user.id
                                  AND member_company.cid = %(company)s)""",
                company=company.id,
            )
            if company
            else SQL(
                """(member_team.company_id IS NULL
                    OR EXISTS (SELECT 1 FROM res_company_users_rel member_company
                                WHERE member_company.user_id = member_user.id
                                  AND member_company.cid = member_team.company_id))"""
            ),
        )

    @api.model
    def _funnel_main_teams(self, company):
        """{user id: team id} of each rep's main team in ``company`` (see
        ``_funnel_memberships``)."""
        teams = {}
        for member in self._funnel_memberships(company):
            teams.setdefault(member.user_id.id, member.crm_team_id.id)
        return teams

    def _get_assignment_quota(self, force_quota=False):
        """Odoo's own lead assignment (the teams' "Assign Leads" and its cron) gives a
        member no more than their funnel capacity: the two engines agree on quotas.

        A rep in several teams has one capacity: their memberships share it (each
        its part, the oldest ones one more each for what does not divide), so that
        one run never gives them more than it."""
        quota = super()._get_assignment_quota(force_quota=force_quota)
        if not self or not self.user_id:
            return quota
        company = self.crm_team_id.company_id or self.env.company
        memberships = self._funnel_memberships(company, self.user_id)
        if self not in memberships:
            return quota
        capacity = self.env["crm.funnel.allocation"]._funnel_capacity(
            self.user_id, company
        )
        share, rest = divmod(capacity, len(memberships))
        return min(quota, share + (1 if memberships.ids.index(self.id) < rest else 0))

    @api.depends_context("uid")
    def _compute_funnel_can_edit_quota(self):
        # the support group and directors (sales administrators) set quotas; reps read them
        self.funnel_can_edit_quota = self.env.user.has_group(
            "sales_funnel_method.sales_funnel_method_group_support"
        ) or self.env.user.has_group("sales_team.group_sale_manager")

    @api.depends(
        "user_id",
        "funnel_quota_override",
        "funnel_receives_nothing",
        "crm_team_id.company_id",
    )
    @api.depends_context("company")
    def _compute_funnel_figures(self):
        service = self.env["crm.funnel.allocation"]
        users = self.user_id
        holdings = service._funnel_holdings(users.ids)
        received, abandoned = service._funnel_received_abandoned(users.ids)
        quotas = service._funnel_quotas(users, self.env.company)
        for member in self:
            uid = member.user_id.id
            member.funnel_quota = quotas.get(uid, (0, False))[0]
            member.funnel_holding_count = holdings.get(uid, 0)
            member.funnel_capacity = max(
                member.funnel_quota - member.funnel_holding_count, 0
            )
            # field groups keep the ratio for managers and the support group
            member.funnel_received_count = received.get(uid, 0)
            member.funnel_abandoned_count = abandoned.get(uid, 0)
            member.funnel_abandon_ratio = (
                abandoned.get(uid, 0) / received[uid] if received.get(uid) else 0.0
            )

    @api.depends("user_id", "funnel_lock_limit_override", "crm_team_id.company_id")
    @api.depends_context("company")
    def _compute_funnel_pool_figures(self):
        service = self.env["crm.funnel.allocation"]
        users = self.user_id
        limits = service._funnel_lock_limits(users, self.env.company)
        locked = service._funnel_locked_counts(users.ids, self.env.company)
        returned = service._funnel_returned_counts(users.ids)
        for member in self:
            uid = member.user_id.id
            member.funnel_lock_limit = limits.get(uid, 0)
            member.funnel_locked_count = locked.get(uid, 0)
            member.funnel_returned_count = returned.get((uid, "returned"), 0)
            member.funnel_handed_back_count = returned.get((uid, "handback"), 0)
