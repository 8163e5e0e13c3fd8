import logging
import threading
from collections import defaultdict
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.http import request
from odoo.service.model import retrying
from odoo.tools import SQL, format_amount
from odoo.tools.mail import generate_tracking_message_id

from .crm_stage import HOLDING_LAYERS

_logger = logging.getLogger(__name__)

# fat-first order of the candidates: A first, ungraded last
GRADE_ORDER = {"a": 0, "b": 1, "c": 2, False: 3, None: 3}
# a leaver's customers that go fat-first to the best sellers: opportunities, and the
# signed and implemented customers whose implementation and renewals bring revenue
HANDOVER_FAT_FIRST_LAYERS = ("intent", "signed", "implemented")
ALLOCATOR_GROUPS = (
    "sales_funnel_method.sales_funnel_method_group_support",
    "sales_funnel_method.sales_funnel_method_group_director",
)


class CrmFunnelAllocation(models.AbstractModel):
    """The one place where customers change hands (SPEC 4 and 5).

    Allocation of the pool, claims, hand-overs and the discoverer rule all go
    through here: it reads the sales force's quotas, holdings and won revenue
    with a few SQL aggregates, plans who receives what, and applies the plan
    with one write per rep, one chatter line per customer (written in one batch)
    and one notice per rep. Its cost grows with the number of reps, not with the
    number of customers.
    """

    _name = "crm.funnel.allocation"
    _description = "Funnel Allocation Service"

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
    def _funnel_won_revenue(self, user_ids, company):
        """Revenue each user won over the company's ranking window: {user id: amount}."""
        if not user_ids:
            return {}
        since = fields.Datetime.now() - timedelta(days=company.funnel_ranking_days)
        self.env["crm.lead"].flush_model(
            [
                "active",
                "user_id",
                "probability",
                "date_closed",
                "date_last_stage_update",
                "expected_revenue",
                "company_id",
            ]
        )
        self.env.cr.execute(
            SQL(
                """SELECT user_id, COALESCE(SUM(expected_revenue), 0)
                     FROM crm_lead
                    WHERE active AND probability >= 100 AND user_id = ANY(%s)
                      AND COALESCE(date_closed, date_last_stage_update) >= %s
                      AND (company_id = %s OR company_id IS NULL)
                 GROUP BY user_id""",
                list(user_ids),
                since,
                company.id,
            )
        )
        return dict(self.env.cr.fetchall())

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
        """Quota of each user: their largest override among their memberships, or
        the company's quota: {user id: quota}."""
        members = (
            self.env["crm.team.member"]
            .sudo()
            .search([("user_id", "in", users.ids), ("funnel_quota_override", ">", 0)])
        )
        quotas = dict.fromkeys(users.ids, company.funnel_quota)
        overrides = defaultdict(int)
        for member in members:
            overrides[member.user_id.id] = max(
                overrides[member.user_id.id], member.funnel_quota_override
            )
        quotas.update(overrides)
        return quotas

    @api.model
    def _funnel_sales_force(self, company, exclude_users=None):
        """The reps who can receive customers in ``company``, with their figures.

        :return: {user id: {"quota", "holdings", "won", "team_ids" (in membership
            order)}} for the active members of the company's active sales teams
        """
        members = (
            self.env["crm.team.member"]
            .sudo()
            .search(
                [
                    ("crm_team_id.active", "=", True),
                    ("crm_team_id.company_id", "in", [company.id, False]),
                    ("user_id.active", "=", True),
                    ("user_id.share", "=", False),
                    ("user_id.company_ids", "in", company.ids),
                ],
                order="id",
            )
        )
        if exclude_users:
            members = members.filtered(
                lambda member: member.user_id not in exclude_users
            )
        users = members.user_id
        quotas = self._funnel_quotas(users, company)
        holdings = self._funnel_holdings(users.ids)
        won = self._funnel_won_revenue(users.ids, company)
        force = {}
        for member in members:
            uid = member.user_id.id
            rep = force.setdefault(
                uid,
                {
                    "quota": quotas[uid],
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

    # ------------------------------------------------------------
    # PLANNING
    # ------------------------------------------------------------

    @api.model
    def _funnel_pool_domain(self, company=None):
        company = company or self.env.company
        return [
            ("active", "=", True),
            ("user_id", "=", False),
            ("funnel_layer", "in", list(HOLDING_LAYERS)),
            ("company_id", "in", [company.id, False]),
        ]

    @api.model
    def _funnel_plan(self, leads, company, force=None, consume=True):
        """Who receives which customer, fat-first (SPEC 5).

        Candidates go in order of grade (A, B, C, ungraded), then age. A customer
        goes to its discoverer while they are under quota plus the discoverer
        allowance; otherwise to the top-ranked rep with free capacity in the
        customer's team, else in the whole company. Ranking is by won revenue
        over the ranking window, ties broken by fewer holdings, then a stable
        order. Nobody receives beyond capacity.

        :return: list of (lead, user id, team id, reason) for the customers that
            found a rep; the others stay in the pool
        """
        force = self._funnel_sales_force(company) if force is None else force
        allowance = company.funnel_discoverer_allowance
        by_team = defaultdict(list)
        for uid, rep in force.items():
            for team_id in rep["team_ids"]:
                by_team[team_id].append(uid)

        def has_room(uid):
            return force[uid]["holdings"] < force[uid]["quota"]

        plan = []
        ordered = leads.sorted(
            lambda lead: (
                GRADE_ORDER[lead.funnel_grade],
                lead.create_date or fields.Datetime.now(),
                lead.id,
            )
        )
        for lead in ordered:
            uid = reason = None
            discoverer = lead.funnel_discoverer_id.id
            if (
                discoverer in force
                and force[discoverer]["holdings"]
                < force[discoverer]["quota"] + allowance
            ):
                uid, reason = discoverer, "discoverer"
            else:
                team_reps = [u for u in by_team.get(lead.team_id.id, []) if has_room(u)]
                if team_reps:
                    uid, reason = self._funnel_ranked(force, team_reps)[0], "team"
                else:
                    reps = [u for u in force if has_room(u)]
                    if reps:
                        uid, reason = self._funnel_ranked(force, reps)[0], "company"
            if uid is None:
                continue
            if consume and lead.funnel_layer in HOLDING_LAYERS:
                force[uid]["holdings"] += 1
            team_id = (
                lead.team_id.id
                if lead.team_id.id in force[uid]["team_ids"]
                else force[uid]["team_ids"][0]
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

    def _funnel_reason_text(self, reason, user, team, won, company):
        amount = format_amount(self.env, won, company.currency_id)
        if reason == "discoverer":
            return self.env._("%(rep)s discovered this customer.", rep=user.name)
        if reason == "team":
            return self.env._(
                "fat-first: the top seller with free capacity in %(team)s (won %(amount)s in %(days)s days).",
                team=team.name,
                amount=amount,
                days=company.funnel_ranking_days,
            )
        if reason == "company":
            return self.env._(
                "fat-first: the top seller with free capacity (won %(amount)s in %(days)s days).",
                amount=amount,
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
        fast = self._funnel_fast_assign_safe()
        user_by_lead = {}
        for (uid, team_id), lead_ids in batches.items():
            leads = quiet.browse(lead_ids)
            same_team = (
                leads.filtered(lambda lead, team_id=team_id: lead.team_id.id == team_id)
                if fast and uid
                else Lead
            )
            user_by_lead.update(dict.fromkeys(same_team.ids, uid))
            if leads - same_team:
                (leads - same_team).write({"user_id": uid, "team_id": team_id})
                # flushed per rep: one UPDATE per rep (up to 100 customers each), and
                # what depends on the rep and team (the team's lead properties) is
                # computed now as superuser, not later in the caller's environment
                quiet.flush_model()
        if user_by_lead:
            self._funnel_fast_assign(user_by_lead, company)
        self._funnel_subscribe_reps(
            {
                Users.browse(uid).partner_id.id: lead_ids
                for uid, lead_ids in self._group_by_user(batches).items()
                if uid
            }
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
                    reason, user, team, force.get(uid, {}).get("won", 0.0), company
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

    @api.model
    def _funnel_fast_assign_safe(self):
        """Whether giving a customer to a rep of its own team may skip the ORM write.

        Such a change of salesperson changes nothing but ``user_id`` and the dates
        crm derives from it, provided that no other stored field depends on the
        salesperson (an installed module may add one, or the lead scoring may be
        configured on it). The team, the company and all that follows from them
        (probability, properties, stage) stay as they are.
        """
        Lead = self.env["crm.lead"]
        if "user_id" in Lead._pls_get_safe_fields():
            return False
        fields = Lead._fields
        registry = self.env.registry
        after_team = set(registry.get_dependent_fields(fields["team_id"])) | set(
            registry.get_dependent_fields(fields["company_id"])
        )
        direct = {
            field
            for field in registry.get_dependent_fields(fields["user_id"])
            if field.store and field not in after_team
        }
        return direct <= {
            fields["team_id"],
            fields["company_id"],
            fields["date_open"],
            fields["day_open"],
        }

    def _funnel_fast_assign(self, user_by_lead, company):
        """Give customers to reps of their own team ({lead id: user id}), in one UPDATE.

        What crm's write does for a new salesperson, without tracking (the
        allocation logs its own chatter line): ``date_open`` is now, ``day_open``
        the whole days between creation and opening, and a customer without a
        company takes its team's, else the allocating company (the rep works in
        it: the sales force is filtered on it).
        """
        now = self.env.cr.now()  # as crm's write
        leads = self.env["crm.lead"].browse(list(user_by_lead))
        leads.flush_recordset()
        self.env.cr.execute(
            SQL(
                """UPDATE crm_lead
                      SET user_id = assigned.user_id, date_open = %(now)s,
                          funnel_pool_date = NULL,
                          company_id = COALESCE(
                              company_id,
                              (SELECT team.company_id FROM crm_team team WHERE team.id = crm_lead.team_id),
                              %(company)s),
                          day_open = FLOOR(
                              EXTRACT(EPOCH FROM (%(now)s - date_trunc('second', create_date))) / 86400
                          ),
                          write_uid = %(uid)s, write_date = %(now)s
                     FROM unnest(%(ids)s::int[], %(users)s::int[]) AS assigned(lead_id, user_id)
                    WHERE crm_lead.id = assigned.lead_id""",
                now=now,
                uid=self.env.uid,
                company=company.id,
                ids=list(user_by_lead),
                users=list(user_by_lead.values()),
            )
        )
        leads.invalidate_recordset(
            [
                "user_id",
                "funnel_pool_date",
                "company_id",
                "date_open",
                "day_open",
                "write_uid",
                "write_date",
            ]
        )

    def _funnel_subscribe_reps(self, lead_ids_by_partner):
        """Each rep follows the customers they received, with the default subtypes
        of an internal follower: what ``message_subscribe`` does, in one statement
        instead of a few queries and ORM records per customer."""
        pairs = [
            (lead_id, partner_id)
            for partner_id, lead_ids in lead_ids_by_partner.items()
            for lead_id in lead_ids
        ]
        if not pairs:
            return
        subtype_ids = self.env["mail.message.subtype"]._default_subtypes("crm.lead")[0]
        self.env["mail.followers"].flush_model()
        self.env.cr.execute(
            SQL(
                """WITH new_followers AS (
                       INSERT INTO mail_followers (res_model, res_id, partner_id)
                       SELECT 'crm.lead', pair.lead_id, pair.partner_id
                         FROM unnest(%s::int[], %s::int[]) AS pair(lead_id, partner_id)
                       ON CONFLICT (res_model, res_id, partner_id) DO NOTHING
                       RETURNING id
                   )
                   INSERT INTO mail_followers_mail_message_subtype_rel
                          (mail_followers_id, mail_message_subtype_id)
                   SELECT new_followers.id, subtype.id
                     FROM new_followers CROSS JOIN unnest(%s::int[]) AS subtype(id)""",
                [lead_id for lead_id, _partner in pairs],
                [partner_id for _lead, partner_id in pairs],
                subtype_ids,
            )
        )
        self.env["mail.followers"].invalidate_model()
        self.env["crm.lead"].browse(
            {lead_id for lead_id, _partner in pairs}
        ).invalidate_recordset(
            ["message_follower_ids", "message_partner_ids", "message_is_follower"]
        )

    def _funnel_log_chatter(self, bodies):
        """One chatter note per customer, all inserted in one statement.

        The same rows as ``mail.thread._message_log_batch`` writes, but the ORM
        would insert them 100 at a time: an allocation of thousands of customers
        would then cost a query per hundred customers.
        """
        if not bodies:
            return
        Lead = self.env["crm.lead"].sudo()
        author_id, email_from = Lead._message_compute_author(
            None, None, raise_on_email=False
        )
        reply_to = self.env["mail.thread"]._notify_get_reply_to(default=email_from)[
            False
        ]
        subtype_id = self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note")
        message_id = generate_tracking_message_id("message-notify")
        now = fields.Datetime.now()
        self.env["mail.message"].flush_model()
        self.env.cr.execute(
            SQL(
                """INSERT INTO mail_message
                       (author_id, email_from, model, res_id, body, message_type, is_internal,
                        subtype_id, email_add_signature, message_id, reply_to,
                        date, create_uid, create_date, write_uid, write_date)
                   SELECT %(author)s, %(email_from)s, 'crm.lead', row.res_id, row.body, 'notification', TRUE,
                          %(subtype)s, FALSE, %(message_id)s, %(reply_to)s,
                          %(now)s, %(uid)s, %(now)s, %(uid)s, %(now)s
                     FROM unnest(%(res_ids)s::int[], %(bodies)s::text[]) AS row(res_id, body)""",
                author=author_id,
                email_from=email_from,
                subtype=subtype_id,
                message_id=message_id,
                reply_to=reply_to,
                now=now,
                uid=self.env.uid,
                res_ids=list(bodies),
                bodies=[str(body) for body in bodies.values()],
            )
        )
        Lead.browse(list(bodies)).invalidate_recordset(["message_ids"])

    def _funnel_insert_assignments(self, vals_list):
        """Insert the assignment records in one statement (see _funnel_log_chatter)."""
        Assignment = self.env["crm.funnel.assignment"].sudo()
        now = fields.Datetime.now()
        Assignment.flush_model()
        types = {
            "lead_id": "int",
            "kind": "varchar",
            "user_id": "int",
            "previous_user_id": "int",
            "team_id": "int",
            "assigned_by_id": "int",
            "grade": "varchar",
            "layer": "varchar",
            "reason": "varchar",
            "handover_id": "int",
            "company_id": "int",
        }
        columns = list(types)
        self.env.cr.execute(
            SQL(
                """INSERT INTO crm_funnel_assignment
                       (%(names)s, date, create_uid, create_date, write_uid, write_date)
                   SELECT row.*, %(now)s, %(uid)s, %(now)s, %(uid)s, %(now)s
                     FROM unnest(%(arrays)s) AS row(%(names)s)
                RETURNING id""",
                names=SQL(", ").join(SQL.identifier(column) for column in columns),
                arrays=SQL(", ").join(
                    SQL(
                        "%s::" + types[column] + "[]",
                        [vals.get(column) or None for vals in vals_list],
                    )
                    for column in columns
                ),
                now=now,
                uid=self.env.uid,
            )
        )
        assignments = Assignment.browse([row[0] for row in self.env.cr.fetchall()])
        leads = self.env["crm.lead"].browse([vals["lead_id"] for vals in vals_list])
        leads.invalidate_recordset(["funnel_assignment_ids"])
        if any(vals.get("handover_id") for vals in vals_list):
            self.env["crm.funnel.handover"].invalidate_model()
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
    def _funnel_claim_capacity(self, user=None, company=None):
        """What ``user`` may claim in ``company``, counted as the claim counts it.

        :return: {"member": whether they are in the company's sales force,
            "quota", "holdings", "capacity", "message": the same in words}
        """
        user = user or self.env.user
        company = company or self.env.company
        rep = self._funnel_sales_force(company).get(user.id)
        if rep is None:
            return {
                "member": False,
                "quota": 0,
                "holdings": 0,
                "capacity": 0,
                "message": self.env._(
                    "Members of a sales team claim customers here. The support group and "
                    "directors allocate them with Allocate the Pool."
                ),
            }
        capacity = max(rep["quota"] - rep["holdings"], 0)
        if capacity:
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
            "quota": rep["quota"],
            "holdings": rep["holdings"],
            "capacity": capacity,
            "message": message,
        }

    @api.model
    def get_funnel_pool_capacity(self):
        """The line above the pool list: what the current user may claim."""
        return self._funnel_claim_capacity()

    # ------------------------------------------------------------
    # ENTRY POINTS
    # ------------------------------------------------------------

    def _funnel_check_allocator(self):
        if not self.env.su and not any(
            self.env.user.has_group(group) for group in ALLOCATOR_GROUPS
        ):
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
                    WHERE id = ANY(%s) AND active AND user_id IS NULL
                      FOR NO KEY UPDATE SKIP LOCKED""",
                leads.ids,
            )
        )
        free = {row[0] for row in self.env.cr.fetchall()}
        return leads.filtered(lambda lead: lead.id in free)

    @api.model
    def _funnel_claim(self, leads, user=None):
        """``user`` takes ``leads`` from the pool, within their capacity.

        Safe across concurrent transactions: the customers' rows are locked and
        re-checked in SQL, so that of two reps claiming one customer at the same
        moment exactly one gets it; the other gets a clear message.
        """
        user = user or self.env.user
        if not leads:
            return self.env["crm.funnel.assignment"]
        # the rep may no longer read a customer another rep just took: this method
        # decides what the rep may take, from the locked rows below
        leads = leads.sudo()
        company = leads.company_id[:1] or self.env.company
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
        capacity = rep["quota"] - rep["holdings"]
        if capacity < len(leads):
            raise UserError(
                self.env._(
                    "You hold %(holdings)s customers for a quota of %(quota)s: you can claim "
                    "%(capacity)s more, not %(count)s. Sign or abandon customers to make room.",
                    holdings=rep["holdings"],
                    quota=rep["quota"],
                    capacity=max(capacity, 0),
                    count=len(leads),
                )
            )
        self.env["crm.lead"].flush_model(["active", "user_id", "funnel_layer"])
        # A customer another transaction is claiming or allocating right now is
        # locked: skipped, hence refused below. One changed by a transaction that
        # committed after ours began raises a serialization failure, which Odoo
        # answers by running the whole request again (odoo.service.model.retrying):
        # the claim then decides on fresh data.
        in_pool = SQL(
            "active AND user_id IS NULL AND funnel_layer = ANY(%s)",
            list(HOLDING_LAYERS),
        )
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
            # still in the pool as far as this transaction sees: locked by a claim
            # or an allocation that has not finished yet
            cr.execute(
                SQL(
                    "SELECT id FROM crm_lead WHERE id = ANY(%s) AND %s",
                    taken.ids,
                    in_pool,
                )
            )
            busy = taken.browse([row[0] for row in cr.fetchall()])
            if busy == taken:
                raise UserError(
                    self.env._(
                        "Another rep is claiming these customers, or the pool is being "
                        "allocated, at this very moment: %(customers)s. Try again in a "
                        "moment.",
                        customers=", ".join(busy.mapped("display_name")),
                    )
                )
            taken -= busy
            raise UserError(
                self.env._(
                    "These customers are no longer in the pool: another rep claimed them, or "
                    "they were allocated, in the meantime: %(customers)s",
                    customers=", ".join(taken.mapped("display_name")),
                )
            )
        leads.invalidate_recordset(["user_id", "active"])
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

    @api.model
    def _funnel_handover(self, leaver, colleague=None, keep=None, company=None):
        """Hand a leaving rep's customers over (SPEC 5, staff changes).

        Intent customers (opportunities), signed and implemented customers (their
        implementation and renewals) go fat-first to the top-ranked reps with
        capacity; the other
        customers go to ``colleague`` when given, else back to the pool. Nothing
        stays with the leaver but ``keep``.
        :return: the crm.funnel.handover record listing every customer moved
        """
        self._funnel_check_allocator()
        company = company or self.env.company
        keep = keep or self.env["crm.lead"]
        if colleague and colleague == leaver:
            raise UserError(
                self.env._("Choose a colleague other than the leaving rep.")
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
        ) - keep.sudo()
        force = self._funnel_sales_force(company, exclude_users=leaver)
        fat_first = leads.filtered(
            lambda lead: lead.funnel_layer in HANDOVER_FAT_FIRST_LAYERS
        )
        others = leads - fat_first
        plan = self._funnel_plan(fat_first, company, force=force)
        placed = self.env["crm.lead"].browse([lead.id for lead, _u, _t, _r in plan])
        back_to_pool = fat_first - placed
        if colleague:
            holding = others.filtered(lambda lead: lead.funnel_layer in HOLDING_LAYERS)
            rep = force.get(colleague.id)
            if rep is None:
                raise UserError(
                    self.env._(
                        "%(rep)s is not a member of a sales team of this company.",
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
        return handover

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
        Lead = self.env["crm.lead"].sudo()
        released, remaining = self._funnel_retrying(
            lambda: Lead._funnel_release_cooled_down(limit=batch_size)
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
