import logging
import threading
from collections import defaultdict
from datetime import datetime, time, timedelta

import pytz
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.http import request
from odoo.service.model import retrying
from odoo.tools import SQL, format_amount, format_date

from .crm_stage import HOLDING_LAYERS

_logger = logging.getLogger(__name__)

# The grade order of the method (METHOD 3): A first, ungraded last. Allocation, the
# pool's order and My Funnel all rank grades by it.
GRADE_ORDER = {"a": 0, "b": 1, "c": 2, False: 3, None: 3}
# a leaver's customers that go fat-first to the best sellers: opportunities, and the
# signed and implemented customers whose implementation and renewals bring revenue
HANDOVER_FAT_FIRST_LAYERS = ("intent", "signed", "implemented")
# the won layers: entering them from elsewhere is a signing
WON_LAYERS = ("signed", "implemented")
# who acts on the customers the company holds (the pool and cold storage) until a
# rep receives them (METHOD 11): the support group and the directors
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
# who may bring an abandoned customer back before its cool-down ends (METHOD 5: the
# sales manager's evaluation): team managers, for their teams, and directors
RESTORER_GROUP = "sales_funnel_method.sales_funnel_method_group_manager"
DIRECTOR_GROUPS = (
    "sales_funnel_method.sales_funnel_method_group_director",
    "sales_team.group_sale_manager",
)
# the pool's rules that return held customers (issue 13): a company applies them
# when one of these settings is above 0
RETURN_RULE_FIELDS = (
    "funnel_return_contact_days",
    "funnel_return_contact_days_a",
    "funnel_return_contact_days_b",
    "funnel_return_contact_days_c",
    "funnel_return_sign_days",
)
# the assignments that take a customer from its rep back to the pool without an
# abandon: that rep waits the company's days before taking it again
BACK_TO_POOL_KINDS = ("returned", "handback")


class SalesForce(dict):
    """{user id: rep figures} of the reps who can receive customers in a company,
    with the won revenue of each team (``team_won``: {team id: amount})."""

    team_won = None


class CrmFunnelAllocation(models.AbstractModel):
    """The one place where customers change hands (METHOD 4 and 5).

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
        abandoned ones in cold storage. They belong to the company (METHOD 11)."""
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
    def _funnel_by_company(self, leads):
        """``leads`` by the company they belong to (the current one for those of
        no company): {company: leads}."""
        by_company = defaultdict(lambda: self.env["crm.lead"])
        for lead in leads:
            by_company[lead.sudo().company_id or self.env.company] |= lead
        return by_company

    @api.model
    def _funnel_check_lead_companies(self, leads):
        """Before the service acts as superuser on customers a client names: each of
        them belongs to a company the user works in (``_funnel_check_company``)."""
        for company in leads.sudo().company_id:
            self._funnel_check_company(company)

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
        # 0. a lock is set through the service, within the rep's lock limit
        if "funnel_locked" in vals and not self.env.su:
            raise UserError(
                self.env._(
                    "Lock and unlock customers with their Lock and Unlock buttons: a "
                    "rep locks only what they hold, within their lock limit."
                )
            )
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
        """The discoverer of new customers (METHOD 4: 个人发掘): a rep who creates a
        customer discovered it, and nobody else; the support group and directors
        may name the discoverer of the resources they register."""
        if self.env.su:
            return
        for vals in vals_list:
            for name in PROTECTED_FIELDS:
                vals.pop(name, None)
            vals.pop("funnel_locked", None)  # locks go through _funnel_lock
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
        manager's evaluation of the abandon (METHOD 5). Team managers restore the
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
    def _funnel_won_sql(self, start=None, end=None, funnel_teams=False):
        """SQL: the won revenue (the one definition of it, for the sales totals, the
        ranking boards and the targets), a row per won customer: its latest signing
        (no later one, whenever), for the rep and the team of that signing, with
        the customer's expected revenue while it is active and still won. A
        customer signed, reopened and signed again counts once, at its last
        signing: in the period of that signing only.

        :param start: only the rows dated from then (UTC), if given
        :param end: only the rows dated before then (UTC), if given
        :param funnel_teams: only the signings of no team or of a funnel team
        :return: SQL of the columns id (the signing move's), lead_id, date, user_id,
            team_id, company_id, revenue
        """
        return SQL(
            """SELECT move.id, move.lead_id, move.date, move.user_id, move.team_id,
                      move.company_id, COALESCE(lead.expected_revenue, 0) AS revenue
                 FROM crm_funnel_move move
                 JOIN crm_lead lead ON lead.id = move.lead_id
                WHERE %(signing)s AND lead.active AND lead.funnel_layer = ANY(%(won)s)
                      %(start)s %(end)s %(funnel_team)s
                  AND NOT EXISTS (
                      SELECT 1 FROM crm_funnel_move later
                       WHERE later.lead_id = move.lead_id AND %(later_signing)s
                         AND (later.date, later.id) > (move.date, move.id))""",
            signing=self._funnel_signing_sql("move"),
            later_signing=self._funnel_signing_sql("later"),
            won=list(WON_LAYERS),
            start=SQL("AND move.date >= %s", start) if start else SQL(),
            end=SQL("AND move.date < %s", end) if end else SQL(),
            funnel_team=SQL(
                "AND (move.team_id IS NULL OR %s)",
                self.env["crm.team"]._funnel_team_sql(
                    SQL("move.team_id"), active=False
                ),
            )
            if funnel_teams
            else SQL(),
        )

    @api.model
    def _funnel_sales_totals(self, company, since=None, until=None, funnel_teams=False):
        """Revenue won in ``company`` over the ranking window (or ``since`` ..
        ``until``), by the reps and teams that signed it (METHOD 11).

        A signing counts for the rep and the team of its move into the won layers,
        whoever holds the customer today: a hand-over does not pass a leaver's
        record on. A customer counts once, at its latest signing (``_funnel_won_sql``:
        one signed again after the window counts then, not in the window), with its
        expected revenue, while it is still won.

        :param funnel_teams: only the signings of no team or of a funnel team, as
            the reports count (the ranking boards)
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
                """SELECT won.user_id, won.team_id, GROUPING(won.user_id),
                          COALESCE(SUM(won.revenue), 0)
                     FROM (%(won)s) won
                    WHERE won.company_id = %(company)s OR won.company_id IS NULL
                 GROUP BY GROUPING SETS ((won.user_id), (won.team_id))""",
                won=self._funnel_won_sql(since, until, funnel_teams=funnel_teams),
                company=company.id,
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
    def _funnel_reserved_for(self, lead, force, company, barred=None):
        """The discoverer a pool customer is reserved for (METHOD 4, 11), or None.

        A customer goes to the rep who discovered it first, within their allowance;
        beyond it, when that rep abandoned it, or while that rep waits to take it
        again (``barred``: {lead id: (user id, until)}, see ``_funnel_barred``), it
        follows the ranking.
        """
        discoverer = lead.funnel_discoverer_id.id
        if (
            discoverer in force
            and discoverer != lead.funnel_abandoned_by_id.id
            and discoverer != (barred or {}).get(lead.id, (None,))[0]
            and self._funnel_discoverer_room(force[discoverer], company) > 0
        ):
            return discoverer
        return None

    @api.model
    def _funnel_plan(
        self, leads, company, force=None, consume=True, discoverer_first=True
    ):
        """Who receives which customer, fat-first (METHOD 5).

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
        never goes back to the rep who abandoned it, nor, for the company's
        waiting days, to the rep it returned from. Signed and implemented
        customers (hand-overs) do not count against the quota.

        :return: list of (lead, user id, team id, reason) for the customers that
            found a rep; the others stay in the pool
        """
        force = self._funnel_sales_force(company) if force is None else force
        barred = self._funnel_barred(leads, company)
        groups = self._funnel_team_groups(force)
        by_team = defaultdict(list)
        for uid, rep in force.items():
            for team_id in rep["team_ids"]:
                by_team[team_id].append(uid)

        def has_room(uid, excluded, holding):
            rep = force[uid]
            if rep["idle"] or uid in excluded:
                return False
            return not holding or rep["holdings"] < rep["quota"]

        def best_in(teams, own, excluded, holding):
            """The best rep with room in ``teams``, and the team they take it in."""
            candidates = {
                uid
                for team_id in teams
                for uid in by_team.get(team_id, ())
                if has_room(uid, excluded, holding)
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
                # never to the rep who abandoned it, nor to the one it returned from
                # while they wait
                (lead.funnel_abandoned_by_id.id, barred.get(lead.id, (None,))[0]),
                lead.funnel_layer in HOLDING_LAYERS,
                lead,
            )
            for lead in leads
        )
        in_team = company.funnel_allocate_in_team
        plan = []
        for _grade, _date, _id, own, excluded, holding, lead in rows:
            uid = reason = team_id = None
            discoverer = (
                self._funnel_reserved_for(lead, force, company, barred)
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
                    uid, team_id = best_in(teams, own, excluded, holding)
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
        # the reason's wording and the chatter line, worked out once per
        # (reason, rep, team)
        wordings = {}
        kind_label = dict(
            self.env["crm.funnel.assignment"]
            ._fields["kind"]
            ._description_selection(self.env)
        )[kind]
        for lead, uid, team_id, reason in plan:
            if (reason, uid, team_id) not in wordings:
                user, team = Users.browse(uid), Teams.browse(team_id)
                why = self._funnel_reason_text(reason, user, team, force, company)
                if uid:
                    body = Markup("<p>%s</p>") % self.env._(
                        "%(kind)s: received by %(rep)s (%(team)s). Why: %(why)s",
                        kind=kind_label,
                        rep=user.name,
                        team=team.name or "-",
                        why=why,
                    )
                else:
                    body = Markup("<p>%s</p>") % self.env._(
                        "%(kind)s: back to the customer pool.", kind=kind_label
                    )
                wordings[(reason, uid, team_id)] = (why, body)
            why, bodies[lead.id] = wordings[(reason, uid, team_id)]
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
        # who holds the customers decides whose contact details are masked
        self.env["res.partner"].invalidate_model(["funnel_contact_masked"])
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
    # THE POOL SCREEN
    # ------------------------------------------------------------

    @api.model
    def _funnel_claim_capacity(self, user=None, company=None, force=None):
        """What ``user`` may claim in ``company``, counted as ``_funnel_claim``
        counts it.

        :return: {"member": whether they are in the company's sales force, "idle",
            "quota", "holdings", "capacity", "room" (with their own discoveries),
            both within the daily claim limit, "message": the same in words,
            "limit_refusal": why the daily claim limit stops them, or None}
        """
        user = user or self.env.user
        company = company or self.env.company
        force = self._funnel_sales_force(company) if force is None else force
        rep = force.get(user.id)
        if rep is None:
            return {
                "member": False,
                "idle": False,
                "quota": 0,
                "holdings": 0,
                "capacity": 0,
                "room": 0,
                "message": self.env._(
                    "Members of a sales team claim customers here. The support group and "
                    "directors allocate them with Allocate the Pool."
                ),
                "limit_refusal": None,
            }
        capacity = 0 if rep["idle"] else max(rep["quota"] - rep["holdings"], 0)
        room = max(self._funnel_discoverer_room(rep, company), 0)
        # the claim's own daily limit (see _funnel_claim)
        left, limit_refusal = (
            (None, None)
            if rep["idle"]
            else self._funnel_claim_limit_refusal(user, company, 1)
        )
        if left is not None:
            capacity, room = min(capacity, left), min(room, left)
        if rep["idle"]:
            message = self.env._(
                "You are set to receive no customers (a rep on leave, say): ask the "
                "support group to change it in Reps & Quotas first."
            )
        elif limit_refusal:
            message = limit_refusal
        elif capacity:
            message = self.env._(
                "You hold %(holdings)s customers for a quota of %(quota)s: you can claim "
                "%(capacity)s more.",
                holdings=rep["holdings"],
                quota=rep["quota"],
                capacity=capacity,
            )
        else:
            message = self.env._(
                "You hold %(holdings)s customers for a quota of %(quota)s: sign or abandon "
                "customers before you claim more.",
                holdings=rep["holdings"],
                quota=rep["quota"],
            )
        return {
            "member": True,
            "idle": rep["idle"],
            "quota": rep["quota"],
            "holdings": rep["holdings"],
            "capacity": capacity,
            "room": room,
            "message": message,
            "limit_refusal": limit_refusal,
        }

    @api.model
    def _funnel_claimable(self, leads, user=None):
        """Whether ``user`` may claim each of the pool customers ``leads`` now, by
        the rules of ``_funnel_claim`` in its order (the daily limit, the previous
        owner's wait, the discoverer's reservation, the capacity), with its
        messages: {lead id: None when they may, else why not}. A user outside the
        sales force gets nothing: the pool screen says who claims."""
        user = user or self.env.user
        claimable = {}
        for company, company_leads in leads.sudo().grouped("company_id").items():
            company = company or self.env.company
            force = self._funnel_sales_force(company)
            figures = self._funnel_claim_capacity(user, company, force=force)
            if not figures["member"]:
                continue
            barred = self._funnel_barred(company_leads, company)
            for lead in company_leads:
                reserved = self._funnel_reserved_for(lead, force, company, barred)
                own = (
                    lead.funnel_discoverer_id == user
                    and lead.funnel_abandoned_by_id != user
                )
                if figures["limit_refusal"]:
                    claimable[lead.id] = figures["limit_refusal"]
                elif barred.get(lead.id, (None,))[0] == user.id:
                    claimable[lead.id] = self._funnel_barred_refusal(lead, barred)
                elif reserved not in (None, user.id):
                    claimable[lead.id] = self.env._(
                        "Reserved for %(rep)s, who discovered it, while they have room "
                        "for it.",
                        rep=lead.funnel_discoverer_id.name,
                    )
                elif not (figures["room"] if own else figures["capacity"]):
                    claimable[lead.id] = figures["message"]
                else:
                    claimable[lead.id] = None
        return claimable

    @api.model
    def get_funnel_pool_capacity(self):
        """The line above the pool list: what the current user may claim."""
        return self._funnel_claim_capacity()

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
        self._funnel_check_claim_limit(user, company, len(leads))
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
        barred = self._funnel_barred(leads, company)
        waiting = leads.filtered(
            lambda lead: barred.get(lead.id, (None,))[0] == user.id
        )
        if waiting:
            raise UserError(self._funnel_barred_refusal(waiting, barred))
        reserved = leads.filtered(
            lambda lead: (
                self._funnel_reserved_for(lead, force, company, barred)
                not in (None, user.id)
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
        """Hand a leaving rep's customers over (METHOD 5, staff changes).

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
        # a leaver's opportunities and renewals go to the best sellers (METHOD 5.2,
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

        One write of them all, without Odoo's field tracking (a tracking message
        per customer, its queries growing with the customers), and one chatter
        line each, logged in one batch: the move history records the reopening.

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
            .with_context(
                active_test=False,
                funnel_releasing=True,
                tracking_disable=True,
                mail_auto_subscribe_no_notify=True,
            )
            .browse(ids[:limit])
        )
        batch.write({"active": True, "user_id": False, "lost_reason_id": False})
        batch.flush_model()
        body = Markup("<p>%s</p>") % self.env._(
            "Cool-down over: back in the customer pool as a resource."
        )
        self._funnel_log_chatter(dict.fromkeys(batch.ids, body))
        # without the write's context (no tracking, no release flag) for the caller
        released = self.env["crm.lead"].sudo().browse(batch.ids)
        return released, len(ids) - len(released)

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
        """Daily: release cooled-down abandoned customers, return to the pool the
        customers the pool's rules take back (and warn of those returning soon),
        then allocate the pool of every company that asked for automatic allocation.

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
        returned, remaining = self._funnel_retrying(
            lambda: self.sudo()._funnel_return_due(limit=batch_size)
        )
        if remaining:
            self.env["ir.cron"]._notify_progress(
                done=len(returned), remaining=remaining
            )
            return
        self._funnel_retrying(lambda: self.sudo()._funnel_warn_returning())
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

    # ------------------------------------------------------------
    # THE POOL'S RULES (公海规则): return, hand back, lock, limits, masking, duplicates
    # ------------------------------------------------------------

    @api.model
    def _funnel_has_return_rules(self, companies):
        """Whether one of ``companies`` returns held customers to the pool."""
        return any(
            company[fname] for company in companies for fname in RETURN_RULE_FIELDS
        )

    @api.model
    def _funnel_return_sql(self, lead_ids=None):
        """SQL: the held customers a rule of their company returns to the pool, and when.

        A customer of the Resource to Intent layers held by a rep, not locked,
        returns when the rep has not contacted it for the company's days (per
        grade when set: 0 is the general number), counted from its latest contact
        or from when the rep received it (the latest assignment with a rep, else
        the day it got its salesperson), or when it is not signed the company's
        days after that receipt. Signed, implemented, abandoned and locked
        customers never return.

        Rows: id, user_id, team_id, company_id, grade, notice_days (the company's
        warning days), due (when it returns), rule ("contact" or "sign") and
        days (the rule's days). A customer without a company follows the current
        company's settings.
        """
        company = self.env.company

        def setting(fname):
            return SQL(
                "COALESCE(%s, %s)",
                SQL.identifier("company", fname),
                company[fname] or 0,
            )

        self.env["crm.lead"].flush_model(
            [
                "active",
                "user_id",
                "team_id",
                "company_id",
                "funnel_layer",
                "funnel_grade",
                "funnel_locked",
                "date_open",
            ]
        )
        self.env["crm.funnel.assignment"].flush_model(["lead_id", "user_id", "date"])
        self.env["crm.funnel.contact"].flush_model(["lead_id", "date"])
        self.env["res.company"].flush_model(
            [*RETURN_RULE_FIELDS, "funnel_return_notice_days"]
        )
        return SQL(
            """
            SELECT held.id, held.user_id, held.team_id, held.company_id, held.grade,
                   held.notice_days,
                   LEAST(held.contact_due, held.sign_due) AS due,
                   CASE WHEN held.contact_due IS NULL OR held.sign_due < held.contact_due
                        THEN 'sign' ELSE 'contact' END AS rule,
                   CASE WHEN held.contact_due IS NULL OR held.sign_due < held.contact_due
                        THEN held.sign_days ELSE held.contact_days END AS days
              FROM (
                SELECT lead.id, lead.user_id, lead.team_id, lead.company_id,
                       lead.funnel_grade AS grade, rule.contact_days, rule.sign_days,
                       rule.notice_days,
                       GREATEST(received.date, contact.date)
                           + rule.contact_days * INTERVAL '1 day' AS contact_due,
                       received.date + rule.sign_days * INTERVAL '1 day' AS sign_due
                  FROM crm_lead lead
                  LEFT JOIN res_company company ON company.id = lead.company_id
                 CROSS JOIN LATERAL (
                       SELECT COALESCE(
                                  NULLIF(CASE lead.funnel_grade WHEN 'a' THEN %(a)s
                                                                WHEN 'b' THEN %(b)s
                                                                WHEN 'c' THEN %(c)s END, 0),
                                  NULLIF(%(contact)s, 0)) AS contact_days,
                              NULLIF(%(sign)s, 0) AS sign_days,
                              %(notice)s AS notice_days
                   ) rule
                 CROSS JOIN LATERAL (
                       SELECT COALESCE(MAX(assignment.date), lead.date_open, lead.create_date) AS date
                         FROM crm_funnel_assignment assignment
                        WHERE assignment.lead_id = lead.id AND assignment.user_id IS NOT NULL
                   ) received
                  LEFT JOIN LATERAL (
                       SELECT MAX(contact.date) AS date
                         FROM crm_funnel_contact contact
                        WHERE contact.lead_id = lead.id
                   ) contact ON rule.contact_days IS NOT NULL
                 WHERE lead.active AND lead.user_id IS NOT NULL
                   AND lead.funnel_layer = ANY(%(layers)s)
                   AND lead.funnel_locked IS NOT TRUE
                   AND (rule.contact_days IS NOT NULL OR rule.sign_days IS NOT NULL)
                   %(only)s
              ) held
            """,
            a=setting("funnel_return_contact_days_a"),
            b=setting("funnel_return_contact_days_b"),
            c=setting("funnel_return_contact_days_c"),
            contact=setting("funnel_return_contact_days"),
            sign=setting("funnel_return_sign_days"),
            notice=setting("funnel_return_notice_days"),
            layers=list(HOLDING_LAYERS),
            only=SQL("AND lead.id = ANY(%s)", lead_ids)
            if lead_ids is not None
            else SQL(),
        )

    @api.model
    def _funnel_return_reason(self, rule, days):
        if rule == "sign":
            return self.env._(
                "not signed within %(days)s days of being received", days=days
            )
        return self.env._("no contact for %(days)s days", days=days)

    @api.model
    def _funnel_return_dates(self, leads):
        """{lead id: (when it returns to the pool, why, the warning days)} of the
        customers of ``leads`` that a rule returns, in one query."""
        leads = leads._origin
        if not leads or not self._funnel_has_return_rules(
            leads.company_id | self.env.company
        ):
            return {}
        self.env.cr.execute(
            SQL(
                "SELECT due.id, due.due, due.rule, due.days, due.notice_days FROM (%s) due",
                self._funnel_return_sql(leads.ids),
            )
        )
        return {
            lead_id: (due, self._funnel_return_reason(rule, days), notice_days)
            for lead_id, due, rule, days, notice_days in self.env.cr.fetchall()
        }

    @api.model
    def _funnel_returning_soon_sql(self):
        """SQL subquery of the customers returning to the pool within their company's
        warning days, or None when no company the user works in has such rules."""
        companies = self.env.companies | self.env.company
        if not self._funnel_has_return_rules(companies) or not any(
            companies.mapped("funnel_return_notice_days")
        ):
            return None
        return SQL(
            """(SELECT due.id FROM (%s) due
                 WHERE due.notice_days > 0
                   AND due.due <= %s + due.notice_days * INTERVAL '1 day')""",
            self._funnel_return_sql(),
            fields.Datetime.now(),
        )

    @api.model
    def _funnel_return_due(self, limit=None):
        """Return to the pool the customers a rule takes back today (the daily job).

        One query selects them, in batches of ``limit``; each rep's customers
        leave them in one write; each gets a chatter line and an assignment of
        kind "returned" with the reason, and each rep one notice listing them.
        A customer someone is changing at this moment is left for the next run.
        :return: (the returned customers, how many are left to return)
        """
        Lead = self.env["crm.lead"].sudo()
        companies = self.env["res.company"].sudo().search([])
        if not self._funnel_has_return_rules(companies):
            return Lead, 0
        cr = self.env.cr
        # every held customer is read: PostgreSQL's JIT compilation of the query
        # cost two thirds of its time at 100,000 customers, for nothing
        cr.execute("SET LOCAL jit = off")
        cr.execute(
            SQL(
                """SELECT due.id, due.rule, due.days FROM (%s) due
                    WHERE due.due <= %s ORDER BY due.user_id, due.id""",
                self._funnel_return_sql(),
                fields.Datetime.now(),
            )
        )
        rows = cr.fetchall()
        cr.execute("SET LOCAL jit TO DEFAULT")
        batch = rows[:limit] if limit else rows
        if not batch:
            return Lead, 0
        cr.execute(
            SQL(
                """SELECT id FROM crm_lead WHERE id = ANY(%s) AND user_id IS NOT NULL
                      FOR NO KEY UPDATE SKIP LOCKED""",
                [row[0] for row in batch],
            )
        )
        free = {row[0] for row in cr.fetchall()}
        reasons = {
            lead_id: self._funnel_return_reason(rule, days)
            for lead_id, rule, days in batch
            if lead_id in free
        }
        leads = Lead.browse(list(reasons))
        by_rep = defaultdict(list)
        for lead in leads:
            by_rep[lead.user_id].append(lead)
        self._funnel_send_to_pool(leads, "returned", reasons)
        for rep, returned in by_rep.items():
            self._funnel_notify_list(
                rep,
                self.env._(
                    "%(count)s customers returned to the pool", count=len(returned)
                ),
                self.env._(
                    "The customer pool's rules took these customers back from you:"
                ),
                [
                    Markup("%s: %s") % (lead._get_html_link(), reasons[lead.id])
                    for lead in returned
                ],
            )
        return leads, len(rows) - len(batch)

    @api.model
    def _funnel_send_to_pool(self, leads, kind, reasons):
        """Send held customers back to the pool: one write per rep (and team), one
        chatter line and one assignment of ``kind`` per customer (``reasons``:
        {lead id: why}), in batches.
        The slot they held is free at once; the abandon figures do not change."""
        if not leads:
            return self.env["crm.funnel.assignment"]
        leads = leads.sudo()
        quiet = leads.with_context(
            tracking_disable=True,
            mail_auto_subscribe_no_notify=True,
            funnel_assigning=True,
        )
        previous = {lead.id: lead.user_id for lead in leads}
        companies = {
            lead.id: lead.company_id.id or self.env.company.id for lead in leads
        }
        batches = defaultdict(list)
        for lead in leads:
            batches[(lead.user_id.id, lead.team_id.id)].append(lead.id)
        for (_uid, team_id), lead_ids in batches.items():
            # crm's own write (see _funnel_apply), with the team it keeps
            quiet.browse(lead_ids).write(
                {"user_id": False, "team_id": team_id or False}
            )
        quiet.flush_model()
        kind_label = dict(
            self.env["crm.funnel.assignment"]
            ._fields["kind"]
            ._description_selection(self.env)
        )[kind]
        bodies, vals_list = {}, []
        for lead in leads:
            rep, why = previous[lead.id], reasons[lead.id]
            bodies[lead.id] = Markup("<p>%s</p>") % self.env._(
                "%(kind)s: back to the customer pool from %(rep)s. Why: %(why)s",
                kind=kind_label,
                rep=rep.name,
                why=why,
            )
            vals_list.append(
                {
                    "lead_id": lead.id,
                    "kind": kind,
                    "user_id": False,
                    "previous_user_id": rep.id,
                    "team_id": lead.team_id.id or False,
                    "assigned_by_id": self.env.user.id,
                    "grade": lead.funnel_grade or False,
                    "layer": lead.funnel_layer or False,
                    "reason": why,
                    "handover_id": False,
                    "company_id": companies[lead.id],
                }
            )
        self._funnel_log_chatter(bodies)
        assignments = self._funnel_insert_assignments(vals_list)
        self.env["res.partner"].invalidate_model(["funnel_contact_masked"])
        return assignments

    @api.model
    def _funnel_notify_list(self, user, subject, intro, lines):
        """One notice to ``user`` listing ``lines`` (Markup), instead of one per customer."""
        body = Markup("<p>%s</p><ul>%s</ul>") % (
            intro,
            Markup().join(Markup("<li>%s</li>") % line for line in lines),
        )
        self.env["mail.thread"].sudo().message_notify(
            partner_ids=user.partner_id.ids,
            subject=subject,
            body=body,
            model="res.users",
            res_id=user.id,
        )

    @api.model
    def _funnel_warn_returning(self):
        """Warn each rep, once a day, of their customers returning to the pool within
        their company's warning days (提前提醒), and each team manager of the
        team's: one notice each, listing the customers and when they return."""
        today = fields.Date.context_today(self)
        companies = (
            self.env["res.company"]
            .sudo()
            .search(
                [
                    ("funnel_return_notice_days", ">", 0),
                    "|",
                    ("funnel_return_warned_date", "=", False),
                    ("funnel_return_warned_date", "<", today),
                ]
            )
            .filtered(lambda company: self._funnel_has_return_rules(company))
        )
        if not companies:
            return self.env["crm.lead"]
        self.env.cr.execute(
            SQL(
                """SELECT due.id, due.due FROM (%s) due
                    WHERE due.notice_days > 0
                      AND due.due <= %s + due.notice_days * INTERVAL '1 day'
                      AND COALESCE(due.company_id, %s) = ANY(%s)
                 ORDER BY due.due, due.id""",
                self._funnel_return_sql(),
                fields.Datetime.now(),
                self.env.company.id,
                companies.ids,
            )
        )
        dues = dict(self.env.cr.fetchall())
        leads = self.env["crm.lead"].sudo().browse(list(dues))
        by_rep, by_manager = defaultdict(list), defaultdict(list)
        for lead in leads:
            by_rep[lead.user_id].append(lead)
            if lead.team_id.user_id:
                by_manager[lead.team_id.user_id].append(lead)

        def line(lead, with_rep=False):
            # the translated wording is trusted, the customer's link is Markup
            return Markup("%s: %s%s") % (
                lead._get_html_link(),
                self.env._(
                    "returns on %(date)s", date=self._funnel_format_date(dues[lead.id])
                ),
                self.env._(" (%(rep)s)", rep=lead.user_id.name) if with_rep else "",
            )

        for rep, returning in by_rep.items():
            self._funnel_notify_list(
                rep,
                self.env._(
                    "%(count)s customers return to the pool soon", count=len(returning)
                ),
                self.env._(
                    "Contact these customers (or sign them) before they return to the "
                    "pool:"
                ),
                [line(lead) for lead in returning],
            )
        for manager, returning in by_manager.items():
            self._funnel_notify_list(
                manager,
                self.env._(
                    "%(count)s customers of your teams return to the pool soon",
                    count=len(returning),
                ),
                self.env._(
                    "These customers of your teams return to the pool unless their reps "
                    "contact (or sign) them:"
                ),
                [line(lead, with_rep=True) for lead in returning],
            )
        if leads:
            companies.write({"funnel_return_warned_date": today})
        return leads

    @api.model
    def _funnel_hand_back(self, leads, reason):
        """A rep hands customers back to the pool (放入公海) without abandoning them.

        The holder does it (or their team manager, the support group, a director),
        with a reason; the customers are in the pool at once for everyone else,
        with their whole history. Locked customers are unlocked first.
        """
        user = self.env.user
        reason = (reason or "").strip()
        if not reason:
            raise UserError(
                self.env._("Say why you hand these customers back to the pool.")
            )
        self._funnel_check_lead_companies(leads)
        leads = leads.sudo()
        allocator = self._funnel_is_allocator()
        foreign = leads.filtered(
            lambda lead: (
                not allocator and lead.user_id != user and lead.team_id.user_id != user
            )
        )
        if foreign:
            raise AccessError(
                self.env._(
                    "You can hand back only the customers you hold (or those of the "
                    "teams you lead): %(customers)s",
                    customers=", ".join(foreign[:10].mapped("display_name")),
                )
            )
        wrong = leads.filtered(
            lambda lead: (
                not lead.active
                or not lead.user_id
                or lead.funnel_layer not in HOLDING_LAYERS
            )
        )
        if wrong:
            raise UserError(
                self.env._(
                    "Only held customers of the Resource to Intent layers go back to the "
                    "pool (signed customers stay with a rep; abandon a customer with "
                    "Abandon): %(customers)s",
                    customers=", ".join(wrong[:10].mapped("display_name")),
                )
            )
        locked = leads.filtered("funnel_locked")
        if locked:
            raise UserError(
                self.env._(
                    "%(customers)s is locked: unlock it first.",
                    customers=", ".join(locked[:10].mapped("display_name")),
                )
            )
        why = self.env._(
            "handed back by %(user)s: %(reason)s", user=user.name, reason=reason
        )
        return self._funnel_send_to_pool(
            leads, "handback", dict.fromkeys(leads.ids, why)
        )

    @api.model
    def _funnel_barred_refusal(self, waiting, barred):
        """Why the previous owner may not claim ``waiting`` yet (see ``_funnel_barred``)."""
        return self.env._(
            "%(customers)s came back to the pool from you: you can claim it "
            "again from %(date)s. Other reps can claim it now.",
            customers=", ".join(waiting[:10].mapped("display_name")),
            date=self._funnel_format_date(max(barred[lead.id][1] for lead in waiting)),
        )

    @api.model
    def _funnel_barred(self, leads, company):
        """The previous owners waiting to take customers again:
        {lead id: (user id, until)} for the customers of ``leads`` whose latest
        assignment sent them back to the pool from a rep (returned by the rules, or
        handed back) less than the company's waiting days ago. Abandoned customers
        keep their own cool-down instead."""
        days = company.funnel_return_bar_days
        if not days or not leads:
            return {}
        self.env["crm.funnel.assignment"].flush_model(
            ["lead_id", "kind", "previous_user_id", "date"]
        )
        self.env.cr.execute(
            SQL(
                """SELECT DISTINCT ON (lead_id) lead_id, kind, previous_user_id, date
                     FROM crm_funnel_assignment
                    WHERE lead_id = ANY(%s)
                 ORDER BY lead_id, date DESC, id DESC""",
                list(leads._origin.ids),
            )
        )
        now = fields.Datetime.now()
        barred = {}
        for lead_id, kind, user_id, date in self.env.cr.fetchall():
            until = date + timedelta(days=days)
            if kind in BACK_TO_POOL_KINDS and user_id and until > now:
                barred[lead_id] = (user_id, until)
        return barred

    @api.model
    def _funnel_claim_limit_refusal(self, user, company, count):
        """The daily claim limit (每日领取上限) of ``company`` for ``user``, the day being
        the rep's own (their time zone): (how many more they may claim today, None
        without a limit; why they may not claim ``count`` more, or None)."""
        limit = company.funnel_claim_daily_limit
        if not limit:
            return None, None
        tz = pytz.timezone(user.tz or "UTC")
        local_today = pytz.utc.localize(fields.Datetime.now()).astimezone(tz).date()

        def day_start(day):
            start = tz.localize(datetime.combine(day, time.min))
            return start.astimezone(pytz.utc).replace(tzinfo=None)

        self.env["crm.funnel.assignment"].flush_model(
            ["kind", "user_id", "date", "company_id"]
        )
        self.env.cr.execute(
            SQL(
                """SELECT COUNT(*) FROM crm_funnel_assignment
                    WHERE kind = 'claim' AND user_id = %s AND date >= %s
                      AND (company_id = %s OR company_id IS NULL)""",
                user.id,
                day_start(local_today),
                company.id,
            )
        )
        claimed = self.env.cr.fetchone()[0]
        left = max(limit - claimed, 0)
        if count <= left:
            return left, None
        if left:
            return left, self.env._(
                "You may claim %(limit)s customers a day and claimed %(claimed)s "
                "today: you can claim %(left)s more today, not %(count)s.",
                limit=limit,
                claimed=claimed,
                left=left,
                count=count,
            )
        return left, self.env._(
            "You claimed %(limit)s customers today, the most a rep claims in a day: "
            "you can claim again tomorrow, %(date)s.",
            limit=limit,
            date=format_date(self.env, local_today + timedelta(days=1)),
        )

    @api.model
    def _funnel_check_claim_limit(self, user, company, count):
        """At most the company's number of claims a day per rep."""
        _left, refusal = self._funnel_claim_limit_refusal(user, company, count)
        if refusal:
            raise UserError(refusal)

    @api.model
    def _funnel_lock_limits(self, users, company):
        """How many customers each user may lock in ``company``: {user id: limit},
        their largest override among their memberships, else the company's."""
        limits = dict.fromkeys(users.ids, company.funnel_lock_limit)
        overrides = defaultdict(int)
        for member in self.env["crm.team.member"]._funnel_memberships(company, users):
            uid = member.user_id.id
            overrides[uid] = max(overrides[uid], member.funnel_lock_limit_override)
        for uid, override in overrides.items():
            if override:
                limits[uid] = override
        return limits

    @api.model
    def _funnel_locked_counts(self, user_ids, company=None):
        """Customers each user holds locked: {user id: count}; with ``company``,
        those of that company (and of no company, which count in each)."""
        if not user_ids:
            return {}
        self.env["crm.lead"].flush_model(
            ["active", "user_id", "funnel_layer", "funnel_locked", "company_id"]
        )
        self.env.cr.execute(
            SQL(
                """SELECT user_id, COUNT(*) FROM crm_lead
                    WHERE active AND funnel_locked AND user_id = ANY(%s)
                      AND funnel_layer = ANY(%s) %s
                 GROUP BY user_id""",
                list(user_ids),
                list(HOLDING_LAYERS),
                SQL("AND (company_id = %s OR company_id IS NULL)", company.id)
                if company
                else SQL(),
            )
        )
        return dict(self.env.cr.fetchall())

    @api.model
    def _funnel_returned_counts(self, user_ids):
        """{(user id, kind): customers that left the user for the pool}, for the kinds
        "returned" (by the rules) and "handback" (by the rep)."""
        if not user_ids:
            return {}
        self.env["crm.funnel.assignment"].flush_model(["previous_user_id", "kind"])
        self.env.cr.execute(
            SQL(
                """SELECT previous_user_id, kind, COUNT(*) FROM crm_funnel_assignment
                    WHERE previous_user_id = ANY(%s) AND kind = ANY(%s)
                 GROUP BY previous_user_id, kind""",
                list(user_ids),
                list(BACK_TO_POOL_KINDS),
            )
        )
        return {(uid, kind): count for uid, kind, count in self.env.cr.fetchall()}

    @api.model
    def _funnel_lock(self, leads, lock=True):
        """Lock (锁定) or unlock customers, each in their chatter.

        A rep locks customers they hold in the Resource to Intent layers, up to
        their lock limit; locked customers never return to the pool
        automatically. The holder unlocks them, and so do their team manager,
        the support group and the directors.
        """
        user = self.env.user
        self._funnel_check_lead_companies(leads)
        leads = leads.sudo()
        if lock:
            wrong = leads.filtered(
                lambda lead: (
                    lead.user_id != user
                    or not lead.active
                    or lead.funnel_layer not in HOLDING_LAYERS
                )
            )
            if wrong:
                raise UserError(
                    self.env._(
                        "You can lock only customers you hold in the Resource to Intent "
                        "layers: %(customers)s",
                        customers=", ".join(wrong[:10].mapped("display_name")),
                    )
                )
            changed = leads.filtered(lambda lead: not lead.funnel_locked)
            # two locks at once by one rep must not pass the limit together
            self._funnel_lock_reps([user.id])
            # the limit is each company's: so is the count of what is locked there
            for company, company_leads in self._funnel_by_company(leads).items():
                limit = self._funnel_lock_limits(user, company).get(user.id, 0)
                if not limit:
                    raise UserError(
                        self.env._(
                            "Locking customers is off for you: the company's limit and "
                            "your own in Reps & Quotas are 0."
                        )
                    )
                locked = self._funnel_locked_counts([user.id], company).get(user.id, 0)
                if locked + len(company_leads & changed) > limit:
                    raise UserError(
                        self.env._(
                            "You may lock %(limit)s customers and have locked %(count)s: "
                            "unlock one first.",
                            limit=limit,
                            count=locked,
                        )
                    )
            text = self.env._(
                "Locked by %(user)s: it does not return to the pool automatically.",
                user=user.name,
            )
        else:
            allocator = self._funnel_is_allocator()
            foreign = leads.filtered(
                lambda lead: (
                    not allocator
                    and lead.user_id != user
                    and lead.team_id.user_id != user
                )
            )
            if foreign:
                raise AccessError(
                    self.env._(
                        "You can unlock only the customers you hold (or those of the "
                        "teams you lead): %(customers)s",
                        customers=", ".join(foreign[:10].mapped("display_name")),
                    )
                )
            changed = leads.filtered("funnel_locked")
            text = self.env._("Unlocked by %(user)s.", user=user.name)
        if changed:
            changed.write({"funnel_locked": lock})
            self._funnel_log_chatter(
                dict.fromkeys(changed.ids, Markup("<p>%s</p>") % text)
            )
        return changed

    @api.model
    def _funnel_end_locks(self, leads, previous_users):
        """A lock is its rep's: it ends when the customer changes hands."""
        ended = leads.filtered(
            lambda lead: (
                lead.funnel_locked
                and lead.user_id.id != (previous_users.get(lead.id) or False)
            )
        )
        if ended:
            ended.sudo().write({"funnel_locked": False})
            self._funnel_log_chatter(
                dict.fromkeys(
                    ended.ids,
                    Markup("<p>%s</p>")
                    % self.env._("Unlocked: the customer changed hands."),
                )
            )

    # masking the contact details of pool customers

    @api.model
    def _funnel_masks_contacts(self, companies):
        """Whether the current user reads pool customers' contact details masked in
        one of ``companies``: reps and team managers do, when the company says so;
        the support group and directors never."""
        if self.env.su or not any(companies.mapped("funnel_mask_pool_contacts")):
            return False
        return not self._funnel_is_allocator()

    @api.model
    def _funnel_masked_leads(self, leads):
        """The customers of ``leads`` whose contact details the current user reads
        masked: the company's (pool and cold storage, see ``_funnel_company_held``)."""
        Lead = self.env["crm.lead"]
        if not self._funnel_masks_contacts(leads.company_id | self.env.company):
            return Lead
        return self._funnel_company_held(leads).filtered(
            lambda lead: (lead.company_id or self.env.company).funnel_mask_pool_contacts
        )

    @api.model
    def _funnel_masked_partners(self, partners):
        """The contacts of ``partners`` whose details the current user reads masked:
        those of a company (commercial entity) that has a customer in the pool or in
        cold storage, when the user holds none of its customers. The users' own
        contacts and the companies' are never masked."""
        Partner = self.env["res.partner"]
        partner_ids = [pid for pid in partners._origin.ids if pid]
        if not partner_ids or not self._funnel_masks_contacts(
            self.env.companies | self.env.company
        ):
            return Partner
        self.env["crm.lead"].flush_model(
            ["partner_id", "user_id", "funnel_layer", "active", "company_id"]
        )
        Partner.flush_model(["commercial_partner_id"])
        self.env.cr.execute(
            SQL(
                """SELECT partner.id FROM res_partner partner
                    WHERE partner.id = ANY(%(ids)s)
                      AND NOT EXISTS (SELECT 1 FROM res_users users
                                       WHERE users.partner_id = partner.id)
                      AND NOT EXISTS (SELECT 1 FROM res_company own
                                       WHERE own.partner_id = partner.commercial_partner_id)
                      AND EXISTS (
                          SELECT 1 FROM crm_lead lead
                            JOIN res_partner customer ON customer.id = lead.partner_id
                            LEFT JOIN res_company company ON company.id = lead.company_id
                           WHERE customer.commercial_partner_id = partner.commercial_partner_id
                             AND lead.user_id IS NULL AND lead.funnel_layer IS NOT NULL
                             AND COALESCE(company.funnel_mask_pool_contacts, %(default)s))
                      AND NOT EXISTS (
                          SELECT 1 FROM crm_lead lead
                            JOIN res_partner customer ON customer.id = lead.partner_id
                           WHERE customer.commercial_partner_id = partner.commercial_partner_id
                             AND lead.user_id = %(uid)s AND lead.active)""",
                ids=partner_ids,
                default=bool(self.env.company.funnel_mask_pool_contacts),
                uid=self.env.uid,
            )
        )
        return Partner.browse([row[0] for row in self.env.cr.fetchall()])

    # duplicates (查重 / 撞单)

    @api.model
    def _funnel_duplicate_matches(self, candidates):
        """The funnel customers the company already has that match ``candidates``, in
        one query whatever their number (an import's batch).

        crm's own similar-lead criteria (the sanitized phone, the email's company
        domain, the same commercial entity) and the company name, without case or
        surrounding spaces. Abandoned customers in cold storage count: the company
        has them.

        :param list candidates: dicts with ``key``, ``exclude`` (a lead id that is
            the candidate itself), ``before`` (only customers created before this
            id, for the leads of one create), ``company_id``, ``name``, ``phone``
            (sanitized), ``email`` (crm's email domain criterion), ``commercial_id``
        :return: {key: crm.lead (sudo)}
        """
        if not candidates:
            return {}
        Lead = self.env["crm.lead"].sudo()
        Lead.flush_model(
            [
                "phone_sanitized",
                "email_domain_criterion",
                "partner_name",
                "partner_id",
                "funnel_layer",
                "active",
                "company_id",
            ]
        )
        self.env["res.partner"].flush_model(["commercial_partner_id"])
        columns = {
            "key": "int",
            "exclude": "int",
            "before": "int",
            "company_id": "int",
            "name": "varchar",
            "phone": "varchar",
            "email": "varchar",
            "commercial_id": "int",
        }
        self.env.cr.execute(
            SQL(
                """WITH candidate AS (
                       SELECT * FROM unnest(%(arrays)s) AS candidate(%(names)s)
                   ), matched AS (
                       SELECT candidate.key, lead.id FROM candidate
                         JOIN crm_lead lead ON lead.phone_sanitized = candidate.phone
                       UNION
                       SELECT candidate.key, lead.id FROM candidate
                         JOIN crm_lead lead ON lead.email_domain_criterion = candidate.email
                       UNION
                       SELECT candidate.key, lead.id FROM candidate
                         JOIN crm_lead lead
                           ON lower(btrim(lead.partner_name)) = lower(btrim(candidate.name))
                       UNION
                       SELECT candidate.key, lead.id FROM candidate
                         JOIN res_partner partner
                           ON partner.commercial_partner_id = candidate.commercial_id
                         JOIN crm_lead lead ON lead.partner_id = partner.id
                   )
                   SELECT matched.key, lead.id
                     FROM matched
                     JOIN candidate ON candidate.key = matched.key
                     JOIN crm_lead lead ON lead.id = matched.id
                    WHERE lead.funnel_layer IS NOT NULL
                      AND (lead.active OR lead.funnel_layer = 'abandoned')
                      AND lead.id IS DISTINCT FROM candidate.exclude
                      AND (candidate.before IS NULL OR lead.id < candidate.before)
                      AND (lead.company_id IS NULL OR candidate.company_id IS NULL
                           OR lead.company_id = candidate.company_id)
                 ORDER BY matched.key, lead.id""",
                arrays=SQL(", ").join(
                    SQL(
                        "%s::" + kind + "[]",
                        [candidate.get(column) or None for candidate in candidates],
                    )
                    for column, kind in columns.items()
                ),
                names=SQL(", ").join(SQL.identifier(column) for column in columns),
            )
        )
        matches = defaultdict(list)
        rows = self.env.cr.fetchall()
        for key, lead_id in rows:
            matches[key].append(lead_id)
        # one prefetch for all of them: their holders are read in one query
        every = tuple({lead_id for _key, lead_id in rows})
        return {
            key: Lead.browse(ids).with_prefetch(every) for key, ids in matches.items()
        }

    @api.model
    def _funnel_duplicate_company(self, lead):
        """The company whose customers ``lead`` is matched against: its own, when the
        user works in it. The form's onchange sends whatever company a client puts
        in the customer, and the matching runs as superuser: a company the user
        does not work in is never searched, the current one is instead."""
        company = lead.company_id
        if company and (self.env.su or company in self.env.companies):
            return company
        return self.env.company

    @api.model
    def _funnel_duplicate_candidate(self, lead, key, before=None):
        name = (lead.partner_name or "").strip()
        return {
            "key": key,
            "exclude": lead._origin.id or None,
            "before": before,
            "company_id": self._funnel_duplicate_company(lead).id,
            "name": name or None,
            "phone": lead.phone_sanitized or None,
            "email": lead.email_domain_criterion or None,
            "commercial_id": lead.partner_id.commercial_partner_id.id or None,
        }

    @api.model
    def _funnel_duplicate_conflicts(self, lead, matches):
        """The customers of ``matches`` another rep holds, or the company holds
        (pool, cold storage): working ``lead`` beside them is 撞单."""
        return matches.filtered(
            lambda match: not match.user_id or match.user_id != lead.user_id
        )

    @api.model
    def _funnel_describe_holders(self, matches):
        parts = []
        for match in matches[:10]:
            if match.user_id:
                where = self.env._("held by %(rep)s", rep=match.user_id.name)
            elif not match.active:
                where = self.env._("abandoned, cooling down")
            else:
                where = self.env._("in the pool")
            parts.append(
                self.env._(
                    "%(customer)s (%(where)s)", customer=match.display_name, where=where
                )
            )
        return ", ".join(parts)

    @api.model
    def _funnel_duplicate_policy(self, lead):
        return self._funnel_duplicate_company(lead).funnel_duplicate_check or "off"

    @api.model
    def _funnel_check_duplicates(self, leads):
        """查重 on create and import: new funnel customers that match customers the
        company already has.

        With the company's duplicate check set to refuse, those matching a customer
        held by another rep, in the pool or cooling down are refused (nothing is
        created); set to warn, they are created with a note in their chatter and a
        warning to the user. Either way, a new customer that matches one the
        company already has (even one its own rep holds) has no discoverer.
        """
        leads = leads.filtered(
            lambda lead: self._funnel_duplicate_policy(lead) != "off"
        )
        if not leads:
            return
        matches = self._funnel_duplicate_matches(
            [
                self._funnel_duplicate_candidate(lead, lead.id, before=lead.id)
                for lead in leads
            ]
        )
        if not matches:
            return
        conflicts = {}
        for lead in leads:
            found = self._funnel_duplicate_conflicts(
                lead, matches.get(lead.id, self.env["crm.lead"])
            )
            if found:
                conflicts[lead] = found
        refused = [
            lead
            for lead in conflicts
            if self._funnel_duplicate_policy(lead) == "refuse"
        ]
        if refused:
            raise UserError(
                self.env._(
                    "The company already has these customers (查重): %(customers)s. "
                    "Claim them from the pool or speak to their rep instead of "
                    "creating them again.",
                    customers="; ".join(
                        self.env._(
                            "%(new)s matches %(existing)s",
                            new=lead.display_name,
                            existing=self._funnel_describe_holders(conflicts[lead]),
                        )
                        for lead in refused[:10]
                    ),
                )
            )
        # nobody discovers a customer the company already has
        known = leads.filtered(lambda lead: lead.id in matches)
        known.filtered("funnel_discoverer_id").sudo().write(
            {"funnel_discoverer_id": False}
        )
        if not conflicts:
            return
        # each catch on record, for the support group's figures
        self.env["crm.funnel.duplicate"].sudo().create(
            [
                {
                    "lead_id": lead.id,
                    "duplicate_of_id": found[:1].id,
                    "user_id": self.env.uid,
                    "mode": "warn",
                    "company_id": self._funnel_duplicate_company(lead).id,
                }
                for lead, found in conflicts.items()
            ]
        )
        self._funnel_log_chatter(
            {
                lead.id: Markup("<p>%s</p>")
                % self.env._(
                    "Possible duplicate (查重): the company already has %(existing)s.",
                    existing=self._funnel_describe_holders(found),
                )
                for lead, found in conflicts.items()
            }
        )
        self.env.user._bus_send(
            "simple_notification",
            {
                "type": "warning",
                "sticky": True,
                "title": self.env._("The company already has these customers"),
                "message": "; ".join(
                    self.env._(
                        "%(new)s matches %(existing)s",
                        new=lead.display_name,
                        existing=self._funnel_describe_holders(found),
                    )
                    for lead, found in list(conflicts.items())[:10]
                ),
            },
        )

    @api.model
    def _funnel_duplicate_warning(self, lead):
        """The warning of the customer form for a customer being created, or None."""
        policy = self._funnel_duplicate_policy(lead)
        if policy == "off":
            return None
        candidate = self._funnel_duplicate_candidate(lead, 1)
        if not any(
            candidate[key] for key in ("name", "phone", "email", "commercial_id")
        ):
            return None
        matches = self._funnel_duplicate_matches([candidate]).get(1)
        found = self._funnel_duplicate_conflicts(lead, matches) if matches else None
        if not found:
            return None
        existing = self._funnel_describe_holders(found)
        if policy == "refuse":
            return self.env._(
                "This customer matches %(existing)s (查重): it cannot be created again. "
                "Claim it from the pool or speak to its rep.",
                existing=existing,
            )
        return self.env._(
            "This customer matches %(existing)s (查重): two reps must not work the same "
            "company unknowingly. If you save it, it has no discoverer.",
            existing=existing,
        )
