from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged, users

from .test_funnel_allocation import FunnelAllocationCommon


@tagged("post_install", "-at_install")
class TestFunnelPool(FunnelAllocationCommon):
    """METHOD 4 and 5: the pool, claims, abandons and their cool-down."""

    @users("funnel_rep")
    def test_rep_claims_from_the_pool(self):
        pool = self._pool(2, grade="a").with_user(self.env.user)
        self.assertTrue(all(pool.mapped("funnel_in_pool")))
        self.assertEqual(
            self.env["crm.lead"].search(
                [("id", "in", pool.ids), ("funnel_in_pool", "=", True)]
            ),
            pool,
        )
        action = pool[0].action_funnel_claim()
        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(pool[0].user_id, self.env.user)
        self.assertEqual(pool[0].team_id, self.team_east)
        self.assertFalse(pool[0].funnel_in_pool)
        assignment = pool[0].funnel_assignment_ids
        self.assertRecordValues(
            assignment,
            [{"kind": "claim", "user_id": self.env.user.id, "previous_user_id": False}],
        )
        self.assertIn("claimed it from the pool", pool[0].sudo().message_ids[0].body)

    @users("funnel_rep")
    def test_claim_refused_at_capacity(self):
        self._set_quota(self.user_rep, 2)
        self._create_customers(2, layer="contacted", grade="b")
        pool = self._pool(1, grade="a").with_user(self.env.user)
        with self.assertRaisesRegex(UserError, "you can claim 0 more"):
            pool.action_funnel_claim()
        self.assertFalse(pool.user_id)
        # a signing frees a slot
        self.env["crm.lead"].search(
            [("user_id", "=", self.env.user.id)], limit=1
        ).write({"stage_id": self.stages["signed"].id})
        pool.action_funnel_claim()
        self.assertEqual(pool.user_id, self.env.user)

    @users("funnel_rep")
    def test_only_pool_customers_can_be_claimed(self):
        signed = self._pool(1, layer="signed", grade="a")
        taken = self._create_customers(1, layer="resource", user=self.user_rep_2)
        with self.assertRaisesRegex(UserError, "no longer in the pool"):
            self.env["crm.funnel.allocation"]._funnel_claim(
                signed.with_user(self.env.user)
            )
        with self.assertRaisesRegex(UserError, "no longer in the pool"):
            self.env["crm.funnel.allocation"]._funnel_claim(
                taken.with_user(self.env.user)
            )
        self.assertEqual(taken.user_id, self.user_rep_2)

    @users("funnel_rep")
    def test_plain_write_cannot_take_pool_customers(self):
        pool = self._pool(1, grade="a").with_user(self.env.user)
        with self.assertRaisesRegex(UserError, "Claim a pool customer first"):
            pool.write({"user_id": self.env.user.id})
        self.assertFalse(pool.user_id)

    @users("funnel_manager_east")
    def test_team_managers_do_not_assign_pool_customers(self):
        """The pool is the company's: a team manager claims like any rep."""
        pool = self._pool(1, grade="a", team=self.team_east).with_user(self.env.user)
        with self.assertRaisesRegex(UserError, "customer pool"):
            pool.write({"user_id": self.user_rep_2.id})
        self.assertFalse(pool.user_id)

    @users("funnel_support")
    def test_support_assigns_directly_and_it_counts_as_received(self):
        pool = self._pool(1, grade="a", team=self.team_east).with_user(self.env.user)
        pool.write({"user_id": self.user_rep_2.id})
        self.assertEqual(pool.user_id, self.user_rep_2)
        self.assertRecordValues(
            pool.sudo().funnel_assignment_ids,
            [
                {
                    "kind": "manual",
                    "user_id": self.user_rep_2.id,
                    "previous_user_id": False,
                    "assigned_by_id": self.env.user.id,
                }
            ],
        )
        member = self._member(self.user_rep_2).with_user(self.user_manager_east)
        self.assertEqual(member.funnel_received_count, 1)

    def test_reps_outside_any_team_cannot_claim(self):
        self._member(self.user_rep).action_archive()
        pool = self._pool(1, grade="a")
        with self.assertRaisesRegex(UserError, "members of a sales team"):
            pool.with_user(self.user_rep).action_funnel_claim()

    def test_abandon_cool_down_boundaries(self):
        start = datetime(2026, 1, 10, 9, 0, 0)
        with freeze_time(start):
            lead = self._create_customers(layer="contacted", grade="a")
            lead.with_user(self.user_rep).action_set_lost(
                lost_reason_id=self.env.ref("crm.lost_reason_1").id
            )
            self.assertFalse(lead.active)
            self.assertFalse(lead.user_id)
            self.assertEqual(lead.funnel_cooldown_until, start + timedelta(days=90))
            self.assertFalse(lead.funnel_in_pool)
            # nobody allocates or claims it while it cools down
            self.assertFalse(self._allocate(lead))
            with self.assertRaises(UserError):
                self.Service._funnel_claim(lead, self.user_rep_2)
        with freeze_time(start + timedelta(days=90) - timedelta(seconds=1)):
            released, left = self.Service._funnel_release_cooled_down()
            self.assertFalse(released)
            self.assertFalse(lead.active)
        with freeze_time(start + timedelta(days=90)):
            released, left = self.Service._funnel_release_cooled_down()
            self.assertEqual((released, left), (lead, 0))
        self.assertTrue(lead.active)
        self.assertEqual(lead.funnel_layer, "resource")
        self.assertFalse(lead.lost_reason_id)
        self.assertTrue(lead.funnel_in_pool)
        # its whole history is kept
        self.assertEqual(
            lead.funnel_move_ids.sorted("id").mapped("move_type"),
            ["entry", "abandon", "reopen"],
        )
        self.assertEqual(lead.funnel_abandoned_by_id, self.user_rep)
        self.assertEqual(len(self._allocate(lead)), 1)

    def test_cool_down_follows_the_setting(self):
        self.company.funnel_cooldown_days = 10
        with freeze_time("2026-03-01 10:00:00"):
            lead = self._create_customers(layer="lead", grade="b")
            lead.action_set_lost()
        with freeze_time("2026-03-11 10:00:00"):
            released, _left = self.Service._funnel_release_cooled_down()
        self.assertEqual(released, lead)

    @users("funnel_manager_east")
    def test_manager_evaluates_an_abandon(self):
        lead = self._create_customers(layer="intent", grade="a").with_user(
            self.env.user
        )
        lead.action_set_lost()
        lead.funnel_abandon_evaluation = (
            "Bought a competitor's product; try again next year."
        )
        self.assertTrue(lead.funnel_abandon_evaluation)
        with self.assertRaises(AccessError):
            lead.with_user(self.user_rep).read(["funnel_abandon_evaluation"])

    def test_only_administrators_delete_funnel_customers(self):
        lead = self._create_customers(layer="resource")
        with self.assertRaisesRegex(UserError, "never deleted"):
            lead.with_user(self.user_director).unlink()
        with self.assertRaises(AccessError):  # plain crm: reps delete nothing
            lead.with_user(self.user_rep).unlink()
        self.assertTrue(lead.exists())
        outside = self._create_customers(layer=False)
        outside.with_user(self.user_director).unlink()
        self.assertFalse(outside.exists())
        lead.with_user(self.env.ref("base.user_admin")).unlink()
        self.assertFalse(lead.exists())


@tagged("post_install", "-at_install")
class TestFunnelHandover(FunnelAllocationCommon):
    """METHOD 5, staff changes: nothing is lost, nothing stays with the leaver unless chosen."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._won(cls.user_rep, 9000)  # the top seller
        cls.leaver = cls.user_rep_2
        cls.intent = cls._create_customers(
            2, layer="intent", grade="a", user=cls.leaver, name="Intent"
        )
        cls.signed = cls._create_customers(
            1, layer="signed", grade="a", user=cls.leaver, name="Signed"
        )
        cls.implemented = cls._create_customers(
            1, layer="implemented", grade="a", user=cls.leaver, name="Implemented"
        )
        cls.others = cls._create_customers(
            3, layer="contacted", grade="b", user=cls.leaver, name="Other"
        )
        cls.kept = cls._create_customers(
            1, layer="lead", grade="b", user=cls.leaver, name="Kept"
        )
        cls.all_customers = (
            cls.intent | cls.signed | cls.implemented | cls.others | cls.kept
        )

    @users("funnel_support")
    def test_handover_to_top_sellers_and_pool(self):
        wizard = self.env["crm.funnel.handover.wizard"].create(
            {
                "user_id": self.leaver.id,
                "others_to": "pool",
                "keep_lead_ids": [(6, 0, self.kept.ids)],
            }
        )
        self.assertEqual((wizard.fat_first_count, wizard.other_count), (4, 3))
        action = wizard.action_handover()
        handover = self.env["crm.funnel.handover"].browse(action["res_id"])
        customers = self.all_customers.sudo()
        self.assertEqual(
            (self.intent | self.signed | self.implemented).sudo().user_id, self.user_rep
        )
        self.assertFalse(self.others.sudo().user_id)
        self.assertTrue(all(self.others.sudo().mapped("funnel_in_pool")))
        self.assertEqual(self.kept.sudo().user_id, self.leaver)
        # the report lists every customer moved, and only those
        self.assertEqual(handover.sudo().assignment_ids.lead_id, customers - self.kept)
        self.assertEqual((handover.moved_count, handover.to_pool_count), (7, 3))
        self.assertEqual(handover.sudo().kept_lead_ids, self.kept)
        self.assertEqual(
            set(handover.sudo().assignment_ids.mapped("kind")), {"handover"}
        )
        self.assertEqual(handover.sudo().assignment_ids.previous_user_id, self.leaver)
        self.assertEqual(
            self.env["crm.lead"]
            .sudo()
            .search_count([("user_id", "=", self.leaver.id)]),
            1,
        )

    @users("funnel_director")
    def test_handover_to_a_colleague(self):
        self.Service.with_user(self.env.user)._funnel_handover(
            self.leaver, colleague=self.user_rep_west
        )
        self.assertEqual(self.others.user_id, self.user_rep_west)
        self.assertEqual(self.kept.user_id, self.user_rep_west)
        self.assertEqual(self.intent.user_id, self.user_rep)
        self.assertFalse(
            self.env["crm.lead"].search_count([("user_id", "=", self.leaver.id)])
        )

    @users("funnel_director")
    def test_colleague_without_capacity_is_refused(self):
        self._set_quota(self.user_rep_west, 2)
        with self.assertRaisesRegex(UserError, "can receive 2 more customers, not 4"):
            self.Service.with_user(self.env.user)._funnel_handover(
                self.leaver, colleague=self.user_rep_west
            )
        self.assertEqual(self.all_customers.user_id, self.leaver)

    def test_opportunities_go_to_the_pool_when_nobody_has_capacity(self):
        self._set_quota(self.user_rep, 1)
        self._set_quota(self.user_rep_west, 1)
        self._create_customers(1, layer="resource", user=self.user_rep)
        self._create_customers(
            1, layer="resource", user=self.user_rep_west, team=self.team_west
        )
        handover = self.Service._funnel_handover(self.leaver)
        self.assertEqual(handover.moved_count, 8)
        # opportunities count against a quota: with nobody's room, the pool
        self.assertFalse(self.intent.user_id)
        self.assertTrue(all(self.intent.mapped("funnel_in_pool")))
        # signed and implemented customers do not: they go to the best seller,
        # never without a salesperson outside the pool
        self.assertEqual((self.signed | self.implemented).user_id, self.user_rep)
        self.assertFalse(
            self.env["crm.lead"].search_count([("user_id", "=", self.leaver.id)])
        )

    @users("funnel_rep")
    def test_reps_cannot_hand_over(self):
        with self.assertRaises(AccessError):
            self.env["crm.funnel.allocation"]._funnel_handover(self.leaver)
        with self.assertRaises(AccessError):
            self.env["crm.funnel.handover.wizard"].create({"user_id": self.leaver.id})
