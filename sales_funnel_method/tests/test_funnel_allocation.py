from datetime import timedelta
from unittest.mock import patch

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import tagged, users

from odoo.addons.mail.tests.common import mail_new_test_user

from .common import SalesFunnelCommon


class FunnelAllocationCommon(SalesFunnelCommon):
    """The sales force of these tests is exactly the reps of Team East (funnel_rep,
    funnel_rep_2) and Team West (funnel_rep_west): every other membership of the
    database is archived."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["crm.team.member"].search(
            [("crm_team_id", "not in", (cls.team_east | cls.team_west).ids)]
        ).action_archive()
        cls.company = cls.env.company
        cls.company.write(
            {
                "funnel_quota": 30,
                "funnel_ranking_days": 90,
                "funnel_cooldown_days": 90,
                "funnel_discoverer_allowance": 2,
            }
        )
        cls.Service = cls.env["crm.funnel.allocation"]
        cls.no_user = cls.env["res.users"]
        cls.no_team = cls.env["crm.team"]

    @classmethod
    def _member(cls, user):
        return cls.env["crm.team.member"].search([("user_id", "=", user.id)], limit=1)

    @classmethod
    def _set_quota(cls, user, quota):
        cls._member(user).funnel_quota_override = quota

    @classmethod
    def _won(cls, user, amount, days_ago=10):
        lead = cls._create_customers(
            layer="signed",
            grade="a",
            user=user,
            expected_revenue=amount,
            name="Won deal",
        )
        # the sales total is read from the history: the signing is ``days_ago`` old
        signed_on = fields.Datetime.now() - timedelta(days=days_ago)
        lead.date_closed = signed_on
        lead.funnel_move_ids.write({"date": signed_on})
        return lead

    @classmethod
    def _pool(cls, count=1, grade=None, team=None, layer="resource", **vals):
        return cls._create_customers(
            count,
            layer=layer,
            user=cls.no_user,
            team=cls.no_team if team is None else team,
            grade=grade,
            **vals,
        )

    def _allocate(self, leads=None):
        return self.Service._funnel_allocate(leads)


@tagged("post_install", "-at_install")
class TestFunnelQuota(FunnelAllocationCommon):
    def test_quota_boundaries(self):
        self._member(self.user_rep_2).action_archive()
        self._member(self.user_rep_west).action_archive()
        held = (
            self._create_customers(10, layer="resource")
            | self._create_customers(10, layer="contacted", grade="b")
            | self._create_customers(10, layer="intent", grade="a")
        )
        # signed, implemented and abandoned customers do not count against the quota
        self._create_customers(3, layer="signed", grade="a")
        self._create_customers(2, layer="implemented", grade="a")
        member = self._member(self.user_rep)
        self.assertEqual(
            (member.funnel_quota, member.funnel_holding_count, member.funnel_capacity),
            (30, 30, 0),
        )
        pool = self._pool(3, grade="a")
        self.assertFalse(self._allocate(pool))
        self.assertFalse(pool.user_id)
        # one signing frees exactly one slot
        held[-1].write({"stage_id": self.stages["signed"].id})
        assignments = self._allocate(pool)
        self.assertEqual(len(assignments), 1)
        self.assertEqual(len(pool.filtered("user_id")), 1)
        # one abandon frees one more
        held[0].action_set_lost()
        self.assertEqual(len(self._allocate(pool)), 1)
        self.assertEqual(len(pool.filtered("user_id")), 2)
        member.invalidate_recordset()
        self.assertEqual(member.funnel_capacity, 0)

    def test_quota_override(self):
        self._set_quota(self.user_rep, 3)
        member = self._member(self.user_rep)
        self.assertEqual((member.funnel_quota, member.funnel_capacity), (3, 3))
        member.funnel_quota_override = 0
        self.assertEqual(member.funnel_quota, 30)  # back to the company's quota

    @users("funnel_support")
    def test_support_sets_quotas_reps_do_not(self):
        member = self._member(self.user_rep).with_user(self.env.user)
        self.assertTrue(member.funnel_can_edit_quota)
        member.funnel_quota_override = 12
        self.assertEqual(member.funnel_quota, 12)
        self.assertFalse(member.with_user(self.user_rep).funnel_can_edit_quota)
        with self.assertRaises(AccessError):
            member.with_user(self.user_rep).funnel_quota_override = 50

    def test_abandon_ratio(self):
        pool = self._pool(4, grade="b")
        self.Service._funnel_claim(pool[:2], self.user_rep)
        (
            self._member(self.user_rep_2) | self._member(self.user_rep_west)
        ).action_archive()
        self._allocate(pool[2:3])
        pool[0].with_user(self.user_rep).action_set_lost()
        member = self._member(self.user_rep).with_user(self.user_manager_east)
        self.assertEqual(
            (member.funnel_received_count, member.funnel_abandoned_count), (3, 1)
        )
        self.assertAlmostEqual(member.funnel_abandon_ratio, 1 / 3, places=2)
        with self.assertRaises(AccessError):
            self._member(self.user_rep).with_user(self.user_rep).read(
                ["funnel_abandon_ratio"]
            )


@tagged("post_install", "-at_install")
class TestFunnelFatFirst(FunnelAllocationCommon):
    def test_grade_order_to_the_top_sellers(self):
        self._won(self.user_rep, 1000)
        self._won(self.user_rep_2, 500)
        self._won(self.user_rep_west, 100, days_ago=120)  # outside the window: 0
        self._set_quota(self.user_rep, 2)
        self._set_quota(self.user_rep_2, 2)
        pool_c = self._pool(2, grade="c", name="C")
        pool_none = self._pool(1, name="Ungraded")
        pool_b = self._pool(2, grade="b", name="B")
        pool_a = self._pool(2, grade="a", name="A")
        self._allocate()
        self.assertEqual(pool_a.user_id, self.user_rep)
        self.assertEqual(pool_b.user_id, self.user_rep_2)
        self.assertEqual((pool_c | pool_none).user_id, self.user_rep_west)
        self.assertEqual(pool_a.team_id, self.team_east)
        self.assertEqual(pool_c.team_id, self.team_west)

    def test_older_customers_first_within_a_grade(self):
        self._won(self.user_rep, 1000)
        self._set_quota(self.user_rep, 1)
        young, old = self._pool(2, grade="a")
        self.env.cr.execute(
            "UPDATE crm_lead SET create_date = create_date - interval '3 days' WHERE id = %s",
            [old.id],
        )
        old.invalidate_recordset(["create_date"])
        self._allocate()
        self.assertEqual(old.user_id, self.user_rep)
        self.assertNotEqual(young.user_id, self.user_rep)

    def test_ranking_ties_fewer_holdings_then_stable(self):
        self._create_customers(3, layer="resource")  # funnel_rep holds 3
        self._create_customers(1, layer="resource", user=self.user_rep_2)
        self._create_customers(
            1, layer="resource", user=self.user_rep_west, team=self.team_west
        )
        pool = self._pool(5, grade="b")
        # nobody won anything: fewer holdings first, then the lower user id
        self.assertLess(self.user_rep_2.id, self.user_rep_west.id)
        self._allocate()
        self.assertEqual(
            [lead.user_id for lead in pool],
            [
                self.user_rep_2,
                self.user_rep_west,
                self.user_rep_2,
                self.user_rep_west,
                self.user_rep,
            ],
        )

    def test_best_team_first_whatever_team_the_customer_came_from(self):
        """METHOD 5.1: the best resources go to the team with the highest sales
        total, and in it to its best rep with room; then the next team."""
        self._won(self.user_rep_2, 3000)  # Team East: 3000 + 1000
        self._won(self.user_rep, 1000)
        self._won(self.user_rep_west, 3500)  # Team West: 3500, its only rep
        west = self._pool(1, grade="a", team=self.team_west)
        self._allocate()
        # East sold more as a team, though West has the best single rep
        self.assertEqual(west.user_id, self.user_rep_2)
        self.assertEqual(west.team_id, self.team_east)
        self.assertIn("Team East is the best team", west.message_ids[0].body)
        # the best team is full: the next team's best rep
        self._create_customers(1, layer="resource")  # funnel_rep holds 1
        self._set_quota(self.user_rep, 1)
        self._set_quota(self.user_rep_2, 1)  # holds the customer it just received
        late = self._pool(1, grade="a", team=self.team_east)
        self._allocate()
        self.assertEqual(late.user_id, self.user_rep_west)
        self.assertEqual(late.team_id, self.team_west)

    def test_keep_customers_in_their_team_setting(self):
        self._won(self.user_rep, 5000)
        self.company.funnel_allocate_in_team = True
        west = self._pool(1, grade="a", team=self.team_west)
        self._allocate()
        self.assertEqual(west.user_id, self.user_rep_west)
        # its own team is full: the best team takes it
        self._set_quota(self.user_rep_west, 1)
        west_2 = self._pool(1, grade="a", team=self.team_west)
        self._allocate()
        self.assertEqual(west_2.user_id, self.user_rep)
        self.assertEqual(west_2.team_id, self.team_east)

    def test_discoverer_first_within_allowance(self):
        self._won(self.user_rep, 5000)
        self._set_quota(self.user_rep_2, 1)
        self._create_customers(1, layer="resource", user=self.user_rep_2)  # at quota
        found = self._pool(3, grade="c", funnel_discoverer_id=self.user_rep_2.id)
        self._allocate()
        # the allowance is 2 above the quota of 1: two go to the discoverer
        self.assertEqual(
            [lead.user_id for lead in found],
            [self.user_rep_2, self.user_rep_2, self.user_rep],
        )

    def test_rep_who_creates_a_customer_discovered_it(self):
        lead = (
            self.env["crm.lead"]
            .with_user(self.user_rep_2)
            .create({"name": "Met at a fair", "stage_id": self.stages["resource"].id})
        )
        self.assertEqual(lead.funnel_discoverer_id, self.user_rep_2)
        imported = (
            self.env["crm.lead"]
            .with_user(self.user_support)
            .create(
                {
                    "name": "From a database",
                    "stage_id": self.stages["resource"].id,
                    "user_id": False,
                }
            )
        )
        self.assertFalse(imported.funnel_discoverer_id)

    def test_allocation_writes_through_crm(self):
        """One crm.lead.write per rep and team, with the salesperson and the team
        together, so that every installed module's write runs."""
        self._won(self.user_rep, 1000)
        pool = self._pool(4, grade="a", team=self.team_west, probability=35)
        Lead = type(self.env["crm.lead"])
        calls = []
        original = Lead.write

        def write(records, vals):
            if "user_id" in vals:
                calls.append((frozenset(records.ids), dict(vals)))
            return original(records, vals)

        with patch.object(Lead, "write", write):
            self._allocate(pool)
        self.assertEqual(
            calls,
            [
                (
                    frozenset(pool.ids),
                    {"user_id": self.user_rep.id, "team_id": self.team_east.id},
                )
            ],
        )
        self.assertEqual(pool.user_id, self.user_rep)
        self.assertTrue(all(pool.mapped("date_open")))
        self.assertIn(self.user_rep.partner_id, pool[0].message_partner_ids)

    def test_nobody_beyond_capacity(self):
        for user in (self.user_rep, self.user_rep_2, self.user_rep_west):
            self._set_quota(user, 2)
        pool = self._pool(10, grade="a")
        assignments = self._allocate()
        self.assertEqual(len(assignments), 6)
        self.assertEqual(len(pool.filtered("user_id")), 6)
        for user in (self.user_rep, self.user_rep_2, self.user_rep_west):
            self.assertEqual(self._member(user).funnel_holding_count, 2)

    def test_only_pool_customers_are_allocated(self):
        mine = self._create_customers(1, layer="resource")
        signed = self._pool(1, layer="signed", grade="a")
        lost = self._pool(1, grade="a")
        lost.action_set_lost()
        self.assertFalse(self._allocate(mine | signed | lost))
        self.assertEqual(mine.user_id, self.user_rep)
        self.assertFalse(signed.user_id)

    @users("funnel_support")
    def test_preview_then_allocate_with_chatter_and_one_notice_per_rep(self):
        self._won(self.user_rep, 900)
        pool = self._pool(3, grade="a") | self._pool(2, grade="b")
        wizard = self.env["crm.funnel.allocate"].create({})
        self.assertEqual((wizard.candidate_count, wizard.planned_count), (5, 5))
        self.assertIn(self.user_rep.name, wizard.preview_html)
        pool = pool.sudo()
        self.assertFalse(pool.user_id)  # a preview changes nothing
        messages_before = (
            self.env["mail.message"].sudo().search_count([("model", "=", "res.users")])
        )
        action = wizard.action_allocate()
        self.assertEqual(action["res_id"], wizard.id)
        self.assertEqual(wizard.state, "done")
        self.assertIn("5 customers allocated to 1 reps", wizard.result_html)
        self.assertEqual(pool.user_id, self.user_rep)
        for lead in pool.sudo():
            self.assertIn("received by Rep Li", lead.message_ids[0].body)
            self.assertIn("its best rep with free capacity", lead.message_ids[0].body)
            self.assertIn(self.user_rep.partner_id, lead.message_partner_ids)
        self.assertEqual(
            self.env["mail.message"].sudo().search_count([("model", "=", "res.users")]),
            messages_before + 1,
        )
        assignments = pool.sudo().funnel_assignment_ids
        self.assertEqual(set(assignments.mapped("kind")), {"allocation"})
        self.assertEqual(assignments.assigned_by_id, self.env.user)

    @users("funnel_support")
    def test_server_action_previews_the_selection(self):
        pool = self._pool(2, grade="a")
        self._pool(3, grade="b")
        action = (
            self.env.ref("sales_funnel_method.crm_lead_action_server_allocate")
            .with_context(active_model="crm.lead", active_ids=pool.ids)
            .run()
        )
        wizard = (
            self.env["crm.funnel.allocate"].with_context(**action["context"]).create({})
        )
        self.assertEqual(wizard.candidate_count, 2)

    @users("funnel_rep")
    def test_rep_cannot_allocate(self):
        self._pool(2, grade="a")
        with self.assertRaises(AccessError):
            self.env["crm.funnel.allocation"]._funnel_allocate()
        with self.assertRaises(AccessError):
            self.env["crm.funnel.allocate"].create({})

    def test_daily_cron(self):
        pool = self._pool(2, grade="a")
        self.env.ref("sales_funnel_method.ir_cron_funnel_daily").method_direct_trigger()
        self.assertFalse(pool.user_id, "automatic allocation is off by default")
        self.company.funnel_auto_allocate = True
        self.env.ref("sales_funnel_method.ir_cron_funnel_daily").method_direct_trigger()
        self.assertTrue(all(lead.user_id for lead in pool))
        self.assertEqual(
            set(pool.funnel_assignment_ids.mapped("assigned_by_id.login")),
            {"__system__"},
        )


@tagged("post_install", "-at_install")
class TestFunnelAllocationQueries(FunnelAllocationCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.big_team = cls.env["crm.team"].create({"name": "Big Team"})
        cls.reps = cls.env["res.users"]
        for index in range(10):
            rep = mail_new_test_user(
                cls.env,
                login=f"funnel_bulk_rep_{index}",
                name=f"Bulk Rep {index}",
                groups="sales_funnel_method.sales_funnel_method_group_rep",
            )
            cls.reps |= rep
        cls.big_team.crm_team_member_ids = [
            Command.create({"user_id": rep.id, "funnel_quota_override": 200})
            for rep in cls.reps
        ]
        (cls.team_east | cls.team_west).crm_team_member_ids.action_archive()

    def _allocation_queries(self, count, budget, reps=10):
        pool = self._pool(count, grade="b", team=self.big_team).sudo()
        self.env.invalidate_all()
        self.env.flush_all()
        before = self.env.cr.sql_log_count
        with self.assertQueryCount(funnel_support=budget):
            self._allocate(pool)
        queries = self.env.cr.sql_log_count - before
        self.assertEqual(len(pool.filtered("user_id")), count)
        self.assertEqual(len(pool.user_id), reps)
        self.assertEqual(
            len(pool.message_ids.filtered(lambda m: "received by" in m.body)), count
        )
        return queries

    @users("funnel_support")
    def test_queries_grow_with_reps_not_customers(self):
        """A write, a follower subscription and a notice per rep, chatter included;
        what grows with the customers is Odoo's own batching of the rows it
        creates (100 a query): chatter lines, followers and assignments."""
        self._allocation_queries(20, budget=255)  # warm-up
        small = self._allocation_queries(100, budget=240)  # 236
        large = self._allocation_queries(1000, budget=268)  # 263
        # 900 more customers: 9 more batches of 100 rows in each of the 3 tables
        self.assertLessEqual(large - small, 9 * 3)

    @users("funnel_support")
    def test_queries_grow_with_the_reps(self):
        """The same customers to 5 reps rather than 10: the queries of 5 reps
        less, the same number for each rep."""
        self._allocation_queries(20, budget=255)  # warm-up
        ten = self._allocation_queries(100, budget=240)
        self.big_team.crm_team_member_ids[5:].sudo().funnel_receives_nothing = True
        five = self._allocation_queries(100, budget=133, reps=5)  # 129
        # 21 queries a rep, the same for each (its write through crm, its
        # followers and its notice among them)
        self.assertEqual(ten - five, 5 * 21)
