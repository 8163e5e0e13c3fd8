import logging
import threading
from collections import defaultdict
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.http import request
from odoo.service.model import retrying
from odoo.tools import SQL, format_amount, format_date

from .crm_stage import HOLDING_LAYERS

_logger = logging.getLogger(__name__)

# The grade order of the method (SPEC 3): A first, ungraded last. Allocation, the
# pool's order and My Funnel all rank grades by it.
GRADE_ORDER = {"a": 0, "b": 1, "c": 2, False: 3, None: 3}
# a leaver's customers that go fat-first to the best sellers: opportunities, and the
# signed and implemented customers whose implementation and renewals bring revenue
HANDOVER_FAT_FIRST_LAYERS = ("intent", "signed", "implemented")
# the won layers: entering them from elsewhere is a signing
WON_LAYERS = ("signed", "implemented")
# who acts on the customers the company holds (the pool and cold storage) until a
# rep receives them (SPEC 11): the support group and the directors
ALLOCATOR_GROUPS = (
    "sales_funnel_method.sales_funnel_method_group_support",
    "sales_funnel_method.sales_funnel_method_group_director",
    "sales_team.group_sale_manager",
)
# fields the funnel writes itself, as superuser only
PROTECTED_FIELDS = frozenset(["funnel_layer_date", "funnel_abandoned_by_id"])
# what crm writes on a lead right after archiving it (toggle_active, the lost wizard)
ABANDON_FOLLOW_UP_FIELDS = frozenset(
    ["probability", "automated_probability", "lost_reason_id", "lost_feedback"]
)
# who may bring an abandoned customer back before its cool-down ends (SPEC 5: the
# sales manager's evaluation): team managers, for their teams, and directors
RESTORER_GROUP = "sales_funnel_method.sales_funnel_method_group_manager"
DIRECTOR_GROUPS = (
    "sales_funnel_method.sales_funnel_method_group_director",
    "sales_team.group_sale_manager",
)


class SalesForce(dict):
    """{user id: rep figures} of the reps who can receive customers in a company,
    with the won revenue of each team (``team_won``: {team id: amount})."""

    team_won = None


class CrmFunnelAllocation(models.AbstractModel):
    """The one place where customers change hands (SPEC 4 and 5).

    Allocation of the pool, claims, hand-overs and the discoverer rule all go
    through here: it reads the sales force's quotas, holdings and won revenue
    with a few SQL aggregates, plans who receives what, and applies the plan
    with one write per rep, one chatter line per customer (written in one batch)
    and one notice per rep. Its cost grows with the number of reps, not with the
    number of customers.

    It also defines, once for the whole addon, what the rules speak of: "in the
    pool" (``_funnel_pool_domain``, ``_funnel_pool_sql``), a rep's "holdings"
    (``_funnel_holdings``), "a rep's teams in a company"
    (``crm.team.member._funnel_memberships``), the sales totals the ranking is
    made of (``_funnel_sales_totals``) and who may act on the company's customers
    (``_funnel_is_allocator``).
    """

    _name = "crm.funnel.allocation"
    _description = "Funnel Allocation Service"

    # ------------------------------------------------------------
    # DEFINITIONS
    # ------------------------------------------------------------

    @api.model
    def _funnel_pool_domain(self, company=None):
        """In the pool: an active, unassigned customer of the working layers (the
        abandoned ones wait in cold storage, inactive, until their cool-down ends)."""
        company = company or self.env.company
        return [
            ("active", "=", True),
            ("user_id", "=", False),
            ("funnel_layer", "in", list(HOLDING_LAYERS)),
            ("company_id", "in", [company.id, False]),
        ]

    @api.model
    def _funnel_pool_sql(self, alias="crm_lead"):
        """The same condition as ``_funnel_pool_domain`` (without the company), in SQL."""
        return SQL(
            "(%(lead)s.active AND %(lead)s.user_id IS NULL AND %(lead)s.funnel_layer = ANY(%(layers)s))",
            lead=SQL.identifier(alias),
            layers=list(HOLDING_LAYERS),
        )

    @api.model
    def _funnel_in_pool(self, lead):
        """``_funnel_pool_domain`` for one record in memory."""
        return bool(
            lead.active and not lead.user_id and lead.funnel_layer in HOLDING_LAYERS
        )

    @api.model
    def _funnel_company_held(self, leads):
        """The funnel customers of ``leads`` that no rep holds: the pool and the
        abandoned ones in cold storage. They belong to the company (SPEC 11)."""
        return leads.filtered(lambda lead: lead.funnel_layer and not lead.user_id)

    def _funnel_format_date(self, value):
        """A datetime as the user reads dates: in their time zone and language."""
        return format_date(
            self.env, fields.Datetime.context_timestamp(self, value).date()
        )

    def _funnel_is_allocator(self, user=None):
        """Whether ``user`` (the current user) acts on the company's customers:
        the support group and the directors."""
        if user is None and self.env.su:
            return True
        user = user or self.env.user
        return any(user.has_group(group) for group in ALLOCATOR_GROUPS)

    @api.model
    def _funnel_check_company(self, company):
        """The wizards act in a company the user works in, whatever a client sends."""
        if self.env.su or company in self.env.companies:
            return
        raise AccessError(
            self.env._(
                "You cannot allocate or hand over customers of %(company)s: it is not "
                "one of the companies you are working in.",
                company=company.name,
            )
        )

    # ------------------------------------------------------------
    # RULES ON EVERY PATH (form, kanban, list, import, merge, RPC)
    # ------------------------------------------------------------

    @api.model
    def _funnel_check_write(self, leads, vals):
        """The pool's rules on a write of ``leads`` with ``vals`` by the current user.

        Called by ``crm.lead.write`` whatever the path. Context keys never lift a
        rule here: only the service itself, running as superuser, restores or
        releases cooling customers.
        """
        Stage = self.env["crm.stage"]
        stage = Stage.browse(vals["stage_id"]) if vals.get("stage_id") else Stage
        # 1. abandoning is Abandon (Mark as Lost), on every path
        if stage.funnel_layer == "abandoned" and vals.get("active", True):
            dropped = leads.filtered(
                lambda lead: (
                    (lead.active or vals.get("active")) and lead.stage_id != stage
                )
            )
            if dropped:
                raise UserError(leads._funnel_abandon_error())
        # 2. the cool-down (冷处理): no way out of cold storage before it ends, but
        # the sales manager's evaluation (_funnel_restore_early) and the release
        restoring = self.env.su and (
            self.env.context.get("funnel_restoring")
            or self.env.context.get("funnel_releasing")
        )
        if not restoring and (vals.get("active") or "stage_id" in vals):
            now = fields.Datetime.now()
            cooling = leads.filtered(
                lambda lead: (
                    lead.funnel_layer == "abandoned"
                    and not lead.active
                    and (vals.get("active") or stage.funnel_layer != "abandoned")
                    and lead.funnel_cooldown_until
                    and lead.funnel_cooldown_until > now
                )
            )
            if cooling:
                raise UserError(
                    self.env._(
                        "%(customers)s was abandoned and cools down until %(date)s. A team "
                        "manager or a director can bring it back earlier, with a reason: "
                        "use Restore Early on the customer.",
                        customers=", ".join(cooling[:10].mapped("display_name")),
                        date=self._funnel_format_date(
                            min(cooling.mapped("funnel_cooldown_until"))
                        ),
                    )
                )
        if self.env.su:
            return
        # 3. what the funnel records itself
        protected = set(vals) & PROTECTED_FIELDS
        if protected:
            raise UserError(
                self.env._(
                    "The funnel records when a customer entered its layer and who "
                    "abandoned it: these fields cannot be written (%(fields)s).",
                    fields=", ".join(
                        leads._fields[name].get_description(self.env)["string"]
                        for name in sorted(protected)
                    ),
                )
            )
        if self._funnel_is_allocator():
            return
        # 4. the company's customers: a rep receives them (claim) before acting on them.
        # (What crm itself writes on a customer just archived by the rep who abandoned
        # it is not the rep acting on the company's customer.)
        held = self._funnel_company_held(leads)
        if set(vals) <= ABANDON_FOLLOW_UP_FIELDS:
            # the user who has just archived it: they were its last writer
            held = held.filtered(
                lambda lead: lead.active or lead.write_uid != self.env.user
            )
        elif set(vals) == {"funnel_abandon_evaluation"} and self.env.user.has_group(
            RESTORER_GROUP
        ):
            # the sales manager's evaluation of an abandon (冷处理)
            held = held.filtered("active")
        if held:
            self._funnel_check_work(held)
        # 5. a customer goes back to the pool through the service (hand-over,
        # abandon), not by clearing its salesperson
        if "user_id" in vals and not vals["user_id"]:
            released = leads.filtered(lambda lead: lead.funnel_layer and lead.user_id)
            if released:
                raise UserError(
                    self.env._(
                        "A customer of the funnel goes back to the pool through the "
                        "service that records why: abandon it (Mark as Lost), or ask the "
                        "support group. %(customers)s",
                        customers=", ".join(released[:10].mapped("display_name")),
                    )
                )
        # 6. the discoverer is the rep who created the customer, set once
        if "funnel_discoverer_id" in vals and any(
            lead.funnel_discoverer_id.id != (vals["funnel_discoverer_id"] or False)
            for lead in leads
        ):
            raise UserError(
                self.env._(
                    "The discoverer of a customer is the rep who created it: only the "
                    "support group and directors can change it."
                )
            )

    @api.model
    def _funnel_check_work(self, leads):
        """Refuse a rep working (copying, logging contacts on) customers the company
        holds: the pool and cold storage are worked once received."""
        if self.env.su or self._funnel_is_allocator():
            return
        held = self._funnel_company_held(leads)
        if held:
            raise UserError(
                self.env._(
                    "%(customers)s belongs to the company's customer pool (or cools down "
                    "after an abandon): only the support group and directors change it. "
                    "Claim a pool customer first to work on it.",
                    customers=", ".join(held[:10].mapped("display_name")),
                )
            )

    @api.model
    def _funnel_prepare_create(self, vals_list):
        """The discoverer of new customers (SPEC 4: 个人发掘): a rep who creates a
        customer discovered it, and nobody else; the support group and directors
        may name the discoverer of the resources they register."""
        if self.env.su:
            return
        for vals in vals_list:
            for name in PROTECTED_FIELDS:
                vals.pop(name, None)
        creator = self.env.user
        is_rep = bool(
            self.env["crm.team.member"]._funnel_memberships(self.env.company, creator)
        )
        discoverer = creator.id if is_rep else False
        if self._funnel_is_allocator():
            for vals in vals_list:
                vals.setdefault("funnel_discoverer_id", discoverer)
            return
        for vals in vals_list:
            vals["funnel_discoverer_id"] = discoverer

    @api.model
    def _funnel_record_direct_assignments(self, leads, previous_users):
        """Record the funnel customers of ``leads`` that changed rep outside the
        service (a manager's assignment from the form or a list, an import, Odoo's
        own lead assignment): they count as received (kind "manual").

        :param dict previous_users: {lead id: user id before the change}
        """
        if self.env.su and self.env.context.get("funnel_assigning"):
            return  # the service records its own assignments
        changed = leads.filtered(
            lambda lead: (
                lead.funnel_layer
                and lead.user_id.id != (previous_users.get(lead.id) or False)
            )
        )
        if not changed:
            return
        by = self.env.user
        reason = self.env._("assigned directly by %(user)s.", user=by.name)
        self._funnel_insert_assignments(
            [
                {
                    "lead_id": lead.id,
                    "kind": "manual",
                    "user_id": lead.user_id.id or False,
                    "previous_user_id": previous_users.get(lead.id) or False,
                    "team_id": lead.team_id.id or False,
                    "assigned_by_id": by.id,
                    "grade": lead.funnel_grade or False,
                    "layer": lead.funnel_layer or False,
                    "reason": reason,
                    "handover_id": False,
                    "company_id": lead.company_id.id or self.env.company.id,
                }
                for lead in changed
            ]
        )

    @api.model
    def _funnel_check_merge(self, leads):
        """Merging takes customers out of the pool too: the company's customers are
        merged by the support group and directors only."""
        if self.env.su or self._funnel_is_allocator():
            return
        held = self._funnel_company_held(leads)
        if held:
            raise UserError(
                self.env._(
                    "%(customers)s belongs to the company's customer pool: only the support "
                    "group and directors merge it. Claim it first.",
                    customers=", ".join(held[:10].mapped("display_name")),
                )
            )

    @api.model
    def _funnel_restore_early(self, leads, reason):
        """Bring abandoned customers back before their cool-down ends: the sales
        manager's evaluation of the abandon (SPEC 5). Team managers restore the
        customers of the teams they lead, directors any. The customers return to
        the pool as resources; the reason is in their chatter and move history.
        """
        user = self.env.user
        reason = (reason or "").strip()
        if not reason:
            raise UserError(
                self.env._(
                    "Say why these customers come back before their cool-down ends."
                )
            )
        director = self.env.su or any(user.has_group(g) for g in DIRECTOR_GROUPS)
        if not director and not user.has_group(RESTORER_GROUP):
            raise AccessError(
                self.env._(
                    "Only team managers and directors bring an abandoned customer back "
                    "before its cool-down ends."
                )
            )
        # the user reads these customers, in a company they work in
        leads = leads.with_env(self.env).with_context(active_test=False)
        leads.check_access("read")
        if not self.env.su and not leads.company_id <= self.env.companies:
            raise AccessError(
                self.env._(
                    "You can restore early the customers of the companies you work in only."
                )
            )
        leads = leads.sudo()
        not_abandoned = leads.filtered(
            lambda lead: lead.active or lead.funnel_layer != "abandoned"
        )
        if not_abandoned:
            raise UserError(
                self.env._(
                    "Only abandoned customers waiting in cold storage can be restored: "
                    "%(customers)s",
                    customers=", ".join(not_abandoned[:10].mapped("display_name")),
                )
            )
        if not director:
            foreign = leads.filtered(lambda lead: lead.team_id.user_id != user)
            if foreign:
                raise AccessError(
                    self.env._(
                        "You can restore early the customers of the teams you lead only: "
                        "%(count)s of these customers belong to other teams.",
                        count=len(foreign),
                    )
                )
        leads.with_context(funnel_restoring=True).write(
            {"active": True, "user_id": False, "lost_reason_id": False}
        )
        Move = self.env["crm.funnel.move"].sudo()
        moves = Move.search(
            [("lead_id", "in", leads.ids), ("move_type", "=", "reopen")],
            order="date desc, id desc",
        )
        latest = {}
        for move in moves:
            latest.setdefault(move.lead_id.id, move)
        Move.browse([move.id for move in latest.values()]).write({"note": reason})
        body = Markup("<p>%s</p>") % self.env._(
            "Restored before the end of its cool-down by %(user)s. Why: %(reason)s",
            user=user.name,
            reason=reason,
        )
        self._funnel_log_chatter(dict.fromkeys(leads.ids, body))
        return leads

    # ------------------------------------------------------------
    # THE SALES FORCE
    # ------------------------------------------------------------

    @api.model
    def _funnel_holdings(self, user_ids):
        """Customers each user holds in the quota layers: {user id: count}."""
        if not user_ids:
            return {}
        self.env["crm.lead"].flush_model(["active", "user_id", "funnel_layer"])
        self.env.cr.execute(
            SQL(
                """SELECT user_id, COUNT(*)
                     FROM crm_lead
                    WHERE active AND user_id = ANY(%s) AND funnel_layer = ANY(%s)
                 GROUP BY user_id""",
                list(user_ids),
                list(HOLDING_LAYERS),
            )
        )
        return dict(self.env.cr.fetchall())

    @api.model
    def _funnel_signing_sql(self, alias="move"):
        """SQL condition: the move ``alias`` is a signing (it enters a won layer from
        outside them: from the funnel, from Abandoned, or at the customer's entry)."""
        return SQL(
            """(%(move)s.to_layer = ANY(%(won)s)
                AND (%(move)s.from_layer IS NULL OR NOT %(move)s.from_layer = ANY(%(won)s)))""",
            move=SQL.identifier(alias),
            won=list(WON_LAYERS),
        )

    @api.model
    def _funnel_sales_totals(self, company, since=None, until=None):
        """Revenue won in ``company`` over the ranking window (or ``since`` ..
        ``until``), by the reps and teams that signed it (SPEC 11).

        A signing counts for the rep and the team of its move into the won layers,
        whoever holds the customer today: a hand-over does not pass a leaver's
        record on. A customer counts once, at its latest signing in the window,
        with its expected revenue, while it is still won.

        :return: ({user id: amount}, {team id: amount})
        """
        if not since:
            since = (until or fields.Datetime.now()) - timedelta(
                days=company.funnel_ranking_days
            )
        self.env["crm.funnel.move"].flush_model()
        self.env["crm.lead"].flush_model(["active", "funnel_layer", "expected_revenue"])
        self.env.cr.execute(
            SQL(
                """WITH signing AS (
                       SELECT DISTINCT ON (move.lead_id) move.lead_id, move.user_id, move.team_id
                         FROM crm_funnel_move move
                        WHERE %(signing)s AND move.date >= %(since)s %(until)s
                          AND (move.company_id = %(company)s OR move.company_id IS NULL)
                     ORDER BY move.lead_id, move.date DESC, move.id DESC
                   )
                   SELECT signing.user_id, signing.team_id, GROUPING(signing.user_id),
                          COALESCE(SUM(lead.expected_revenue), 0)
                     FROM signing
                     JOIN crm_lead lead ON lead.id = signing.lead_id
                    WHERE lead.active AND lead.funnel_layer = ANY(%(won)s)
                 GROUP BY GROUPING SETS ((signing.user_id), (signing.team_id))""",
                signing=self._funnel_signing_sql("move"),
                since=since,
                until=SQL("AND move.date < %s", until) if until else SQL(),
                company=company.id,
                won=list(WON_LAYERS),
            )
        )
        by_user, by_team = {}, {}
        for user_id, team_id, user_grouped, amount in self.env.cr.fetchall():
            if not user_grouped and user_id:
                by_user[user_id] = amount
            elif user_grouped and team_id:
                by_team[team_id] = amount
        return by_user, by_team

    @api.model
    def _funnel_received_abandoned(self, user_ids):
        """({user id: customers received}, {user id: customers abandoned})."""
        if not user_ids:
            return {}, {}
        self.env["crm.funnel.assignment"].flush_model(["user_id", "kind"])
        self.env["crm.funnel.move"].flush_model(["user_id", "move_type"])
        self.env.cr.execute(
            SQL(
                """SELECT user_id, COUNT(*) FROM crm_funnel_assignment
                    WHERE user_id = ANY(%s) GROUP BY user_id""",
                list(user_ids),
            )
        )
        received = dict(self.env.cr.fetchall())
        self.env.cr.execute(
            SQL(
                """SELECT user_id, COUNT(*) FROM crm_funnel_move
                    WHERE user_id = ANY(%s) AND move_type = 'abandon' GROUP BY user_id""",
                list(user_ids),
            )
        )
        return received, dict(self.env.cr.fetchall())

    @api.model
    def _funnel_quotas(self, users, company):
        """Quota of each user in ``company``: {user id: (quota, receives nothing)}.

        A rep set to receive nothing (on leave) on one of their memberships receives
        nothing; otherwise their largest override among their memberships, or the
        company's quota.
        """
        members = self.env["crm.team.member"]._funnel_memberships(company, users)
        quotas = {uid: (company.funnel_quota, False) for uid in users.ids}
        overrides = defaultdict(int)
        idle = set()
        for member in members:
            uid = member.user_id.id
            if member.funnel_receives_nothing:
                idle.add(uid)
            overrides[uid] = max(overrides[uid], member.funnel_quota_override)
        for uid in users.ids:
            if uid in idle:
                quotas[uid] = (0, True)
            elif overrides.get(uid):
                quotas[uid] = (overrides[uid], False)
        return quotas

    @api.model
    def _funnel_capacity(self, user, company):
        """How many more customers ``user`` may receive in ``company`` (0 when set to
        receive nothing): quota minus holdings, without the discoverer allowance."""
        quota, idle = self._funnel_quotas(user, company)[user.id]
        if idle:
            return 0
        return max(quota - self._funnel_holdings(user.ids).get(user.id, 0), 0)

    @api.model
    def _funnel_sales_force(self, company, exclude_users=None):
        """The reps who can receive customers in ``company``, with their figures.

        :return: a SalesForce {user id: {"quota", "holdings", "won", "idle" (set to
            receive nothing), "team_ids" (in membership order)}} of the active
            members of the company's active sales teams, and the teams' won revenue
        """
        members = self.env["crm.team.member"]._funnel_memberships(company)
        if exclude_users:
            members = members.filtered(
                lambda member: member.user_id not in exclude_users
            )
        users = members.user_id
        quotas = self._funnel_quotas(users, company)
        holdings = self._funnel_holdings(users.ids)
        won, team_won = self._funnel_sales_totals(company)
        force = SalesForce()
        force.team_won = team_won
        for member in members:
            uid = member.user_id.id
            rep = force.setdefault(
                uid,
                {
                    "quota": quotas[uid][0],
                    "idle": quotas[uid][1],
                    "holdings": holdings.get(uid, 0),
                    "won": won.get(uid, 0.0),
                    "team_ids": [],
                },
            )
            rep["team_ids"].append(member.crm_team_id.id)
        return force

    @api.model
    def _funnel_ranked(self, force, user_ids=None):
        """Users ranked fat-first: most won revenue, then fewest holdings, then id."""
        candidates = force if user_ids is None else user_ids
        return sorted(
            candidates,
            key=lambda uid: (-force[uid]["won"], force[uid]["holdings"], uid),
        )

    @api.model
    def _funnel_team_groups(self, force):
        """The sales force's teams by sales total, best first: [[team ids]], teams
        with the same total in one group, in which their reps compete as one team
        would (ties between teams are no ranking)."""
        team_won = force.team_won or {}
        teams = sorted(
            {team_id for rep in force.values() for team_id in rep["team_ids"]},
            key=lambda team_id: (-team_won.get(team_id, 0.0), team_id),
        )
        groups = []
        for team_id in teams:
            total = team_won.get(team_id, 0.0)
            if groups and groups[-1][0] == total:
                groups[-1][1].append(team_id)
            else:
                groups.append((total, [team_id]))
        return [group for _total, group in groups]

    @api.model
    def _funnel_ranking(self, force):
        """The fat-first ranking as the allocation reads it, for the screens that
        show why customers went where they went: [{"user_id", "team_id", "rank",
        "won", "team_won"}], best first: reps by their team's sales total, then
        their own, then fewer holdings (a rep in several teams is ranked once, in
        the best of them)."""
        team_won = force.team_won or {}
        ranking, seen = [], set()
        for teams in self._funnel_team_groups(force):
            members = [
                uid
                for uid in force
                if uid not in seen and set(teams) & set(force[uid]["team_ids"])
            ]
            for uid in self._funnel_ranked(force, members):
                seen.add(uid)
                team_id = next(t for t in teams if t in force[uid]["team_ids"])
                ranking.append(
                    {
                        "user_id": uid,
                        "team_id": team_id,
                        "rank": len(ranking) + 1,
                        "won": force[uid]["won"],
                        "team_won": team_won.get(team_id, 0.0),
                    }
                )
        return ranking

    # ------------------------------------------------------------
    # PLANNING
    # ------------------------------------------------------------

    @api.model
    def _funnel_discoverer_room(self, rep, company):
        """How many more customers a rep may receive through the customers they
        discovered: up to their quota plus the discoverer allowance (增量分配)."""
        if rep["idle"]:
            return 0
        return rep["quota"] + company.funnel_discoverer_allowance - rep["holdings"]

    @api.model
    def _funnel_reserved_for(self, lead, force, company):
        """The discoverer a pool customer is reserved for (SPEC 4, 11), or None.

        A customer goes to the rep who discovered it first, within their allowance;
        beyond it, or when that rep abandoned it, it follows the ranking.
        """
        discoverer = lead.funnel_discoverer_id.id
        if (
            discoverer in force
            and discoverer != lead.funnel_abandoned_by_id.id
            and self._funnel_discoverer_room(force[discoverer], company) > 0
        ):
            return discoverer
        return None

    @api.model
    def _funnel_plan(
        self, leads, company, force=None, consume=True, discoverer_first=True
    ):
        """Who receives which customer, fat-first (SPEC 5).

        Candidates go in order of grade (A, B, C, ungraded), then age. A customer
        goes to its discoverer while they are under quota plus the discoverer
        allowance. Otherwise the best team takes it (the team with the highest
        sales total over the ranking window), and in it the best rep (the highest
        sales total, then fewest holdings) with free capacity; when the best team
        is full, the next team. Teams with the same sales total compete as one
        (their reps by the same order, the customer's own team first at a tie).
        With the company's "keep customers in their team" setting, the customer's
        own team is tried first. Nobody receives beyond
        capacity, nobody set to receive nothing receives anything, and a customer
        never goes back to the rep who abandoned it. Signed and implemented
        customers (hand-overs) do not count against the quota.

        :return: list of (lead, user id, team id, reason) for the customers that
            found a rep; the others stay in the pool
        """
        force = self._funnel_sales_force(company) if force is None else force
        groups = self._funnel_team_groups(force)
        by_team = defaultdict(list)
        for uid, rep in force.items():
            for team_id in rep["team_ids"]:
                by_team[team_id].append(uid)

        def has_room(uid, abandoner, holding):
            rep = force[uid]
            if rep["idle"] or uid == abandoner:
                return False
            return not holding or rep["holdings"] < rep["quota"]

        def best_in(teams, own, abandoner, holding):
            """The best rep with room in ``teams``, and the team they take it in."""
            candidates = {
                uid
                for team_id in teams
                for uid in by_team.get(team_id, ())
                if has_room(uid, abandoner, holding)
            }
            if not candidates:
                return None, None
            uid = min(
                candidates,
                key=lambda uid: (
                    -force[uid]["won"],
                    force[uid]["holdings"],
                    own not in force[uid]["team_ids"],
                    uid,
                ),
            )
            rep_teams = [team for team in teams if team in force[uid]["team_ids"]]
            return uid, own if own in rep_teams else rep_teams[0]

        # the customers' figures, read once (the loop below runs per customer)
        now = fields.Datetime.now()
        rows = sorted(
            (
                GRADE_ORDER[lead.funnel_grade],
                lead.create_date or now,
                lead.id,
                lead.team_id.id,
                lead.funnel_abandoned_by_id.id,
                lead.funnel_layer in HOLDING_LAYERS,
                lead,
            )
            for lead in leads
        )
        in_team = company.funnel_allocate_in_team
        plan = []
        for _grade, _date, _id, own, abandoner, holding, lead in rows:
            uid = reason = team_id = None
            discoverer = (
                self._funnel_reserved_for(lead, force, company)
                if discoverer_first
                else None
            )
            if discoverer:
                uid, reason = discoverer, "discoverer"
            else:
                sequence = groups
                if in_team and own in by_team:
                    sequence = [[own]] + [
                        [team for team in group if team != own] for group in groups
                    ]
                for teams in sequence:
                    uid, team_id = best_in(teams, own, abandoner, holding)
                    if uid:
                        reason = "ranking"
                        break
            if uid is None:
                continue
            if consume and holding:
                force[uid]["holdings"] += 1
            if team_id is None:
                team_id = (
                    own if own in force[uid]["team_ids"] else force[uid]["team_ids"][0]
                )
            plan.append((lead, uid, team_id, reason))
        return plan

    @api.model
    def _funnel_plan_summary(self, plan):
        """{(user id, team id): {"a": n, "b": n, "c": n, "none": n, "total": n}}."""
        summary = defaultdict(lambda: {"a": 0, "b": 0, "c": 0, "none": 0, "total": 0})
        for lead, uid, team_id, _reason in plan:
            line = summary[(uid, team_id)]
            line[lead.funnel_grade or "none"] += 1
            line["total"] += 1
        return dict(summary)

    # ------------------------------------------------------------
    # APPLYING
    # ------------------------------------------------------------

    def _funnel_reason_text(self, reason, user, team, force, company):
        rep = force.get(user.id, {})
        if reason == "discoverer":
            return self.env._("%(rep)s discovered this customer.", rep=user.name)
        if reason == "ranking":
            currency = company.currency_id
            return self.env._(
                "fat-first: %(team)s is the best team with free capacity (won %(team_amount)s "
                "in %(days)s days), and %(rep)s its best rep with free capacity (won "
                "%(amount)s).",
                team=team.name,
                team_amount=format_amount(
                    self.env,
                    (getattr(force, "team_won", None) or {}).get(team.id, 0.0),
                    currency,
                ),
                rep=user.name,
                amount=format_amount(self.env, rep.get("won", 0.0), currency),
                days=company.funnel_ranking_days,
            )
        if reason == "claim":
            return self.env._("%(rep)s claimed it from the pool.", rep=user.name)
        if reason == "colleague":
            return self.env._("handed over to the chosen colleague.")
        if reason == "pool":
            return self.env._("back to the pool for the next allocation.")
        return reason or ""

    @api.model
    def _funnel_apply(self, plan, kind, company, force=None, handover=None):
        """Give each customer of ``plan`` to its rep.

        One write per (rep, team), one batch of chatter lines, one batch of
        assignment records, one follower subscription and one notice per rep.
        """
        if not plan:
            return self.env["crm.funnel.assignment"]
        # callers checked the rights (allocator groups, or the claim's own checks)
        Lead = self.env["crm.lead"].sudo()
        Users = self.env["res.users"].sudo()
        Teams = self.env["crm.team"].sudo()
        force = force or {}
        previous = {lead.id: lead.user_id.id for lead, _u, _t, _r in plan}
        batches = defaultdict(list)
        for lead, uid, team_id, _reason in plan:
            batches[(uid, team_id)].append(lead.id)
        quiet = Lead.with_context(
            tracking_disable=True,
            mail_auto_subscribe_no_notify=True,
            funnel_assigning=True,
        )
        self._funnel_lock_reps(uid for uid, _team_id in batches)
        for (uid, team_id), lead_ids in batches.items():
            # crm's own write, so that every installed module's write runs; the
            # salesperson and the team together: written alone, the salesperson
            # makes crm work the team out again customer by customer
            quiet.browse(lead_ids).write(
                {"user_id": uid or False, "team_id": team_id or False}
            )
        # what depends on the rep and the team (the team's lead properties, the
        # probability) is computed now, as superuser, not later as the caller
        quiet.flush_model()
        for uid, lead_ids in self._group_by_user(batches).items():
            if uid:
                quiet.browse(lead_ids).message_subscribe(
                    partner_ids=Users.browse(uid).partner_id.ids
                )

        by = self.env.user
        bodies, vals_list = {}, []
        reasons = {}  # the reason's wording, worked out once per (reason, rep, team)
        kind_label = dict(
            self.env["crm.funnel.assignment"]
            ._fields["kind"]
            ._description_selection(self.env)
        )[kind]
        for lead, uid, team_id, reason in plan:
            user, team = Users.browse(uid), Teams.browse(team_id)
            if (reason, uid, team_id) not in reasons:
                reasons[(reason, uid, team_id)] = self._funnel_reason_text(
                    reason, user, team, force, company
                )
            why = reasons[(reason, uid, team_id)]
            if uid:
                bodies[lead.id] = Markup("<p>%s</p>") % self.env._(
                    "%(kind)s: received by %(rep)s (%(team)s). Why: %(why)s",
                    kind=kind_label,
                    rep=user.name,
                    team=team.name or "-",
                    why=why,
                )
            else:
                bodies[lead.id] = Markup("<p>%s</p>") % self.env._(
                    "%(kind)s: back to the customer pool.", kind=kind_label
                )
            vals_list.append(
                {
                    "lead_id": lead.id,
                    "kind": kind,
                    "user_id": uid or False,
                    "previous_user_id": previous[lead.id] or False,
                    "team_id": team_id or False,
                    "assigned_by_id": by.id,
                    "grade": lead.funnel_grade or False,
                    "layer": lead.funnel_layer or False,
                    "reason": why,
                    "handover_id": handover.id if handover else False,
                    "company_id": lead.company_id.id or company.id,
                }
            )
        self._funnel_log_chatter(bodies)
        assignments = self._funnel_insert_assignments(vals_list)
        if kind != "claim":
            self._funnel_notify_reps(batches, kind_label)
        return assignments

    def _funnel_log_chatter(self, bodies):
        """One chatter note per customer ({lead id: body}), logged in one batch."""
        if bodies:
            self.env["crm.lead"].sudo().browse(list(bodies))._message_log_batch(
                bodies=bodies
            )

    def _funnel_insert_assignments(self, vals_list):
        """Create the assignment records of ``vals_list`` in one batch."""
        assignments = self.env["crm.funnel.assignment"].sudo().create(vals_list)
        self.env["crm.lead"].browse(
            [vals["lead_id"] for vals in vals_list]
        ).invalidate_recordset(["funnel_assignment_ids"])
        return assignments

    @staticmethod
    def _group_by_user(batches):
        by_user = defaultdict(list)
        for (uid, _team_id), lead_ids in batches.items():
            by_user[uid].extend(lead_ids)
        return by_user

    def _funnel_notify_reps(self, batches, kind_label):
        """One notice per rep for the whole batch, instead of one mail per customer."""
        for uid, lead_ids in self._group_by_user(batches).items():
            if not uid:
                continue
            user = self.env["res.users"].sudo().browse(uid)
            self.env["mail.thread"].sudo().message_notify(
                partner_ids=user.partner_id.ids,
                subject=self.env._(
                    "%(count)s new customers for you", count=len(lead_ids)
                ),
                body=Markup("<p>%s</p>")
                % self.env._(
                    "%(kind)s: %(count)s customers were given to you. Find them in your pipeline.",
                    kind=kind_label,
                    count=len(lead_ids),
                ),
                model="res.users",
                res_id=uid,
            )

    # ------------------------------------------------------------
    # ENTRY POINTS
    # ------------------------------------------------------------

    def _funnel_check_allocator(self):
        if not self._funnel_is_allocator():
            raise AccessError(
                self.env._(
                    "Only the support group and directors allocate customers from the pool."
                )
            )

    @api.model
    def _funnel_allocate(self, leads=None, company=None):
        """Allocate pool customers (all of the company's pool by default).

        Customers given that are not (or no longer) in the pool are left alone.
        :return: the created crm.funnel.assignment records
        """
        self._funnel_check_allocator()
        company = company or self.env.company
        self._funnel_check_company(company)
        pool = (
            self.env["crm.lead"]
            .sudo()
            .search(
                self._funnel_pool_domain(company)
                + ([("id", "in", leads.ids)] if leads is not None else [])
            )
        )
        pool = self._funnel_lock_pool(pool)
        force = self._funnel_sales_force(company)
        plan = self._funnel_plan(pool, company, force=force)
        # the force's holdings now include the plan: report the won revenue only
        return self._funnel_apply(plan, "allocation", company, force=force)

    def _funnel_lock_reps(self, user_ids):
        """Serialize the transactions that change what these reps hold.

        Claims and allocations decide from the reps' holdings, read in the
        transaction's snapshot. Each of them touches the rows of the reps it
        gives customers to (a no-op update, in id order): a second transaction
        waits for the first, and one whose snapshot predates the other's commit
        gets a serialization failure instead of deciding on stale holdings, and
        is retried (by Odoo for a request, by the cron's own retry for the
        scheduled allocation). So claims, allocations and hand-overs running at
        the same time never take a rep above quota (plus the discoverer
        allowance). A manager who assigns a customer by hand, a customer moved
        back from signed, or a rep's own new customer are not limited here.
        """
        ids = sorted({uid for uid in user_ids if uid})
        if ids:
            self.env.cr.execute(
                SQL(
                    "UPDATE res_users SET write_date = write_date WHERE id = ANY(%s)",
                    ids,
                )
            )

    def _funnel_lock_pool(self, leads):
        """Lock the pool customers about to be allocated; skip those a rep is
        claiming at this very moment (their rows are locked by the claim)."""
        if not leads:
            return leads
        self.env["crm.lead"].flush_model(["active", "user_id", "funnel_layer"])
        self.env.cr.execute(
            SQL(
                """SELECT id FROM crm_lead
                    WHERE id = ANY(%s) AND %s
                      FOR NO KEY UPDATE SKIP LOCKED""",
                leads.ids,
                self._funnel_pool_sql("crm_lead"),
            )
        )
        free = {row[0] for row in self.env.cr.fetchall()}
        return leads.filtered(lambda lead: lead.id in free)

    @api.model
    def _funnel_claim(self, leads, user=None):
        """``user`` takes ``leads`` from the pool, within their capacity.

        A customer discovered by another rep is reserved for them while they are
        within their discoverer allowance; the claimer's own discovered customers
        may take them up to that allowance, the others up to the quota.

        Safe across concurrent transactions: the customers' rows are locked and
        re-checked in SQL, so that of two reps claiming one customer at the same
        moment exactly one gets it; the other gets a clear message. Messages never
        name a customer the rep may no longer read.
        """
        user = user or self.env.user
        if not leads:
            return self.env["crm.funnel.assignment"]
        # what the rep may read now, for the messages below
        readable = leads.with_user(user)._filtered_access("read")
        # the rep may no longer read a customer another rep just took: this method
        # decides what the rep may take, from the locked rows below
        leads = leads.sudo()
        if len(leads.company_id) > 1:
            raise UserError(self.env._("Claim the customers of one company at a time."))
        company = leads.company_id or self.env.company
        if company not in user.company_ids:
            raise AccessError(
                self.env._(
                    "These customers belong to %(company)s, where you do not work.",
                    company=company.name,
                )
            )
        cr = self.env.cr
        # one claim at a time per rep, and none while customers are being given to
        # them (see _funnel_lock_reps): the capacity below then holds at commit
        self._funnel_lock_reps([user.id])
        force = self._funnel_sales_force(company)
        if user.id not in force:
            raise UserError(
                self.env._(
                    "Only members of a sales team can claim customers from the pool."
                )
            )
        rep = force[user.id]
        if rep["idle"]:
            raise UserError(
                self.env._(
                    "You are set to receive no customers (a rep on leave, say): ask "
                    "the support group to change it in Reps & Quotas first."
                )
            )
        self.env["crm.lead"].flush_model(
            ["active", "user_id", "funnel_layer", "funnel_layer_date", "company_id"]
        )
        # A customer another transaction is claiming or allocating right now is
        # locked: skipped, hence refused below. One changed by a transaction that
        # committed after ours began raises a serialization failure, which Odoo
        # answers by running the whole request again (odoo.service.model.retrying):
        # the claim then decides on fresh data.
        in_pool = self._funnel_pool_sql("crm_lead")
        cr.execute(
            SQL(
                """SELECT id FROM crm_lead WHERE id = ANY(%s) AND %s
                      FOR NO KEY UPDATE SKIP LOCKED""",
                leads.ids,
                in_pool,
            )
        )
        free = {row[0] for row in cr.fetchall()}
        taken = leads.filtered(lambda lead: lead.id not in free)
        if taken:
            self._funnel_refuse_claim(taken, readable)
        leads.invalidate_recordset(["user_id", "active"])
        reserved = leads.filtered(
            lambda lead: (
                self._funnel_reserved_for(lead, force, company) not in (None, user.id)
            )
        )
        if reserved:
            raise UserError(
                self.env._(
                    "These customers are reserved for the reps who discovered them, "
                    "while they have room for them: %(customers)s.",
                    customers=", ".join(
                        self.env._(
                            "%(customer)s (%(rep)s)",
                            customer=lead.display_name,
                            rep=lead.funnel_discoverer_id.name,
                        )
                        for lead in reserved[:10]
                    ),
                )
            )
        own = leads.filtered(
            lambda lead: (
                lead.funnel_discoverer_id == user
                and lead.funnel_abandoned_by_id != user
            )
        )
        others = len(leads) - len(own)
        capacity = rep["quota"] - rep["holdings"]
        room = self._funnel_discoverer_room(rep, company)
        if others > capacity or len(leads) > room:
            if own:
                message = self.env._(
                    "You hold %(holdings)s customers for a quota of %(quota)s, and may hold "
                    "%(allowance)s more that you discovered yourself: you can claim "
                    "%(capacity)s more customers (%(room)s with the ones you discovered), "
                    "not %(count)s. Sign or abandon customers to make room.",
                    holdings=rep["holdings"],
                    quota=rep["quota"],
                    allowance=company.funnel_discoverer_allowance,
                    capacity=max(capacity, 0),
                    room=max(room, 0),
                    count=len(leads),
                )
            else:
                message = self.env._(
                    "You hold %(holdings)s customers for a quota of %(quota)s: you can claim "
                    "%(capacity)s more, not %(count)s. Sign or abandon customers to make room.",
                    holdings=rep["holdings"],
                    quota=rep["quota"],
                    capacity=max(capacity, 0),
                    count=len(leads),
                )
            raise UserError(message)
        team_ids = force[user.id]["team_ids"]
        plan = [
            (
                lead,
                user.id,
                lead.team_id.id if lead.team_id.id in team_ids else team_ids[0],
                "claim",
            )
            for lead in leads
        ]
        return self._funnel_apply(plan, "claim", company, force=force)

    def _funnel_refuse_claim(self, taken, readable):
        """Say why ``taken`` cannot be claimed: cooling down, being claimed at this
        moment, or no longer in the pool. Only customers the rep may still read
        are named."""
        cr = self.env.cr
        now = fields.Datetime.now()
        cooling = taken.filtered(
            lambda lead: (
                not lead.active
                and lead.funnel_layer == "abandoned"
                and lead.funnel_cooldown_until
                and lead.funnel_cooldown_until > now
            )
        )
        if cooling:
            raise UserError(
                self.env._(
                    "%(customers)s was abandoned and cools down until %(date)s: it "
                    "returns to the pool then.",
                    customers=", ".join(
                        (cooling & readable)[:10].mapped("display_name")
                    )
                    or self.env._("This customer"),
                    date=self._funnel_format_date(
                        min(cooling.mapped("funnel_cooldown_until"))
                    ),
                )
            )
        # still in the pool as far as this transaction sees: locked by a claim or
        # an allocation that has not finished yet
        cr.execute(
            SQL(
                "SELECT id FROM crm_lead WHERE id = ANY(%s) AND %s",
                taken.ids,
                self._funnel_pool_sql("crm_lead"),
            )
        )
        busy = taken.browse([row[0] for row in cr.fetchall()])
        if busy == taken:
            raise UserError(
                self.env._(
                    "Another rep is claiming these customers, or the pool is being "
                    "allocated, at this very moment: %(customers)s. Try again in a "
                    "moment.",
                    customers=", ".join((busy & readable)[:10].mapped("display_name"))
                    or self.env._("%(count)s customers", count=len(busy)),
                )
            )
        gone = taken - busy
        named = (gone & readable).filtered(lambda lead: lead.active)
        raise UserError(
            self.env._(
                "%(count)s of these customers are no longer in the pool: another rep "
                "claimed them, or they were allocated, moved or archived in the "
                "meantime.%(names)s",
                count=len(gone),
                names=(
                    " " + ", ".join(named[:10].mapped("display_name")) if named else ""
                ),
            )
        )

    @api.model
    def _funnel_handover(self, leaver, colleague=None, keep=None, company=None):
        """Hand a leaving rep's customers over (SPEC 5, staff changes).

        Intent customers (opportunities) go fat-first to the best-ranked reps with
        capacity, else back to the pool. Signed and implemented customers (their
        implementation and renewals) do not count against a quota: they always go
        fat-first to a rep, never to the pool. The other customers go to
        ``colleague`` when given, else back to the pool. Nothing stays with the
        leaver but ``keep``, and the leaver stops receiving customers at once: their
        memberships of the company's teams are archived.
        :return: the crm.funnel.handover record listing every customer moved
        """
        self._funnel_check_allocator()
        company = company or self.env.company
        self._funnel_check_company(company)
        keep = (keep or self.env["crm.lead"]).sudo()
        if colleague and colleague == leaver:
            raise UserError(
                self.env._("Choose a colleague other than the leaving rep.")
            )
        if keep.filtered(lambda lead: lead.user_id != leaver):
            raise UserError(
                self.env._("Only customers of the leaving rep can stay with them.")
            )
        # a customer given to the leaver by a claim or an allocation committed after
        # this transaction began would stay with them: fail to serialize instead
        self._funnel_lock_reps([leaver.id])
        leads = (
            self.env["crm.lead"]
            .sudo()
            .search(
                [
                    ("user_id", "=", leaver.id),
                    ("active", "=", True),
                    ("company_id", "in", [company.id, False]),
                ]
            )
        ) - keep
        force = self._funnel_sales_force(company, exclude_users=leaver)
        fat_first = leads.filtered(
            lambda lead: lead.funnel_layer in HANDOVER_FAT_FIRST_LAYERS
        )
        others = leads - fat_first
        # a leaver's opportunities and renewals go to the best sellers (SPEC 5.2,
        # 5.3), not back to whoever discovered them
        plan = self._funnel_plan(
            fat_first, company, force=force, discoverer_first=False
        )
        placed = self.env["crm.lead"].browse([lead.id for lead, _u, _t, _r in plan])
        back_to_pool = fat_first - placed
        orphans = back_to_pool.filtered(
            lambda lead: lead.funnel_layer not in HOLDING_LAYERS
        )
        if orphans:
            raise UserError(
                self.env._(
                    "Nobody can take over the signed and implemented customers of "
                    "%(rep)s (%(count)s): no other rep of this company's sales teams "
                    "receives customers. Add a rep to a team first, or keep these "
                    "customers with the leaving rep.",
                    rep=leaver.name,
                    count=len(orphans),
                )
            )
        if colleague:
            holding = others.filtered(lambda lead: lead.funnel_layer in HOLDING_LAYERS)
            rep = force.get(colleague.id)
            if rep is None or rep["idle"]:
                raise UserError(
                    self.env._(
                        "%(rep)s cannot receive customers: not a member of a sales team "
                        "of this company, or set to receive nothing.",
                        rep=colleague.name,
                    )
                )
            room = rep["quota"] - rep["holdings"]
            if len(holding) > room:
                raise UserError(
                    self.env._(
                        "%(rep)s can receive %(room)s more customers, not %(count)s: hand the "
                        "customers over to the pool, or keep some with the leaving rep.",
                        rep=colleague.name,
                        room=max(room, 0),
                        count=len(holding),
                    )
                )
            team_ids = rep["team_ids"]
            plan += [
                (
                    lead,
                    colleague.id,
                    lead.team_id.id if lead.team_id.id in team_ids else team_ids[0],
                    "colleague",
                )
                for lead in others
            ]
        else:
            back_to_pool |= others
        plan += [(lead, False, lead.team_id.id, "pool") for lead in back_to_pool]
        handover = (
            self.env["crm.funnel.handover"]
            .sudo()
            .create(
                {
                    "user_id": leaver.id,
                    "colleague_id": colleague.id if colleague else False,
                    "done_by_id": self.env.user.id,
                    "company_id": company.id,
                    "kept_lead_ids": [(6, 0, keep.ids)],
                }
            )
        )
        self._funnel_apply(plan, "handover", company, force=force, handover=handover)
        # the leaver receives nothing more in this company, from this hand-over on
        self.env["crm.team.member"]._funnel_memberships(company, leaver).sudo().write(
            {"active": False}
        )
        return handover

    @api.model
    def _funnel_release_cooled_down(self, limit=None):
        """Abandoned customers whose cool-down ended re-enter the pool as resources.

        :return: (released leads, how many are left to release)
        """
        self.env["crm.lead"].flush_model(
            ["active", "funnel_layer", "funnel_layer_date", "company_id"]
        )
        self.env.cr.execute(
            SQL(
                """SELECT lead.id
                     FROM crm_lead lead
                     LEFT JOIN res_company company ON company.id = lead.company_id
                    WHERE NOT lead.active AND lead.funnel_layer = 'abandoned'
                      AND lead.funnel_layer_date
                          <= %s - COALESCE(company.funnel_cooldown_days, %s) * INTERVAL '1 day'
                 ORDER BY lead.id""",
                fields.Datetime.now(),
                self.env.company.funnel_cooldown_days,
            )
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        batch = (
            self.env["crm.lead"]
            .sudo()
            .with_context(active_test=False, funnel_releasing=True)
            .browse(ids[:limit])
        )
        batch.write({"active": True, "user_id": False, "lost_reason_id": False})
        return batch, len(ids) - len(batch)

    def _funnel_in_own_transactions(self):
        """Whether the cron may commit and retry on its own: not in tests (no
        commit there), nor within a request ("Run Manually": Odoo retries the
        request as a whole)."""
        return not (getattr(threading.current_thread(), "testing", False) or request)

    def _funnel_retrying(self, func):
        """Run ``func`` in a transaction of its own, retried on serialization
        failures, deadlocks and lock timeouts as Odoo retries a request
        (odoo.service.model.retrying: up to 5 tries, then the error).

        What the cron did before is committed first, so that a retry starts
        from a fresh snapshot without undoing it. Where the cron may not commit
        (``_funnel_in_own_transactions``), ``func`` simply runs once.
        """
        if not self._funnel_in_own_transactions():
            return func()
        # a cron's own transaction: the retry must start a new snapshot
        self.env.cr.commit()  # pylint: disable=invalid-commit
        return retrying(func, self.env)

    @api.model
    def _cron_funnel_daily(self, batch_size=1000):
        """Daily: release cooled-down abandoned customers, then allocate the pool of
        every company that asked for automatic allocation.

        Each step is a transaction of its own, retried on conflicts. A company
        whose allocation fails does not keep the others from theirs; the job then
        fails naming it (a failure, not progress: Odoo would run the job again at
        once for progress, and never count the failure).
        """
        released, remaining = self._funnel_retrying(
            lambda: self.sudo()._funnel_release_cooled_down(limit=batch_size)
        )
        if remaining:
            self.env["ir.cron"]._notify_progress(
                done=len(released), remaining=remaining
            )
            return
        companies = (
            self.env["res.company"].sudo().search([("funnel_auto_allocate", "=", True)])
        )
        failed = []
        for company in companies:
            allocator = self.with_company(company).sudo()
            try:
                allocator._funnel_retrying(
                    lambda allocator=allocator, company=company: (
                        allocator._funnel_allocate(company=company)
                    )
                )
            except Exception:
                if not self._funnel_in_own_transactions():
                    raise
                self.env.cr.rollback()
                _logger.exception(
                    "Sales funnel: allocating the pool of %s failed", company.name
                )
                failed.append(company.name)
        if failed:
            raise UserError(
                self.env._(
                    "The customer pool of %(companies)s could not be allocated: the "
                    "server log says why. The other companies' pools were allocated.",
                    companies=", ".join(failed),
                )
            )
