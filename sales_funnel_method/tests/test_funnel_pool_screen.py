from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged, users

from .test_funnel_allocation import FunnelAllocationCommon


@tagged("post_install", "-at_install")
class TestFunnelPoolScreen(FunnelAllocationCommon):
    """What the pool screen shows: when each customer entered the pool, in which
    order allocation takes them, and who may claim them."""

    def _age(self, leads, days):
        """Date the customers' entry into the pool and last change ``days`` ago."""
        self.env.flush_all()
        self.env.cr.execute(
            """UPDATE crm_lead
                  SET funnel_pool_date = funnel_pool_date - %(days)s * INTERVAL '1 day',
                      write_date = write_date - %(days)s * INTERVAL '1 day',
                      create_date = create_date - %(days)s * INTERVAL '1 day'
                WHERE id = ANY(%(ids)s)""",
            {"days": days, "ids": leads.ids},
        )
        leads.invalidate_recordset(["funnel_pool_date", "write_date", "create_date"])

    # ------------------------------------------------------------
    # IN THE POOL SINCE
    # ------------------------------------------------------------

    def test_a_customer_created_without_a_rep_is_in_the_pool_since_its_creation(self):
        lead = self._pool(grade="a")
        self.assertEqual(lead.funnel_pool_date, lead.create_date)
        held = self._create_customers(layer="resource", grade="a")
        self.assertFalse(held.funnel_pool_date)

    def test_the_date_stays_while_the_customer_waits_and_goes_with_a_rep(self):
        lead = self._pool(grade="a")
        self._age(lead, 10)
        entered = lead.funnel_pool_date
        # the support group regrades it and moves it on: still waiting since then
        lead.write({"stage_id": self.stages["graded"].id, "funnel_grade": "b"})
        self.env.flush_all()
        self.assertEqual(lead.funnel_pool_date, entered)
        self.Service._funnel_claim(lead, self.user_rep)
        self.env.flush_all()
        self.assertEqual(lead.user_id, self.user_rep)
        self.assertFalse(lead.funnel_pool_date)

    def test_a_customer_handed_back_by_a_hand_over_enters_the_pool_then(self):
        lead = self._create_customers(
            layer="contacted", grade="b", user=self.user_rep_2
        )
        self._age(lead, 30)
        self.Service._funnel_handover(self.user_rep_2)
        self.env.flush_all()
        self.assertTrue(lead.funnel_in_pool)
        self.assertEqual(lead.funnel_pool_date, self.env.cr.now())

    def test_a_released_customer_enters_the_pool_when_its_cool_down_ends(self):
        lead = self._create_customers(layer="contacted", grade="a")
        lead.action_set_lost()
        self.assertFalse(lead.funnel_pool_date, "cooling down: not in the pool")
        self._age(lead, 100)
        self.env.cr.execute(
            "UPDATE crm_lead SET funnel_layer_date = %s WHERE id = %s",
            [fields.Datetime.now() - timedelta(days=100), lead.id],
        )
        lead.invalidate_recordset(["funnel_layer_date"])
        released, _left = self.Service._funnel_release_cooled_down()
        self.assertEqual(released, lead)
        self.env.flush_all()
        self.assertTrue(lead.funnel_in_pool)
        self.assertEqual(lead.funnel_pool_date, self.env.cr.now())
        self.assertLess(lead.create_date, lead.funnel_pool_date)

    # ------------------------------------------------------------
    # THE ORDER
    # ------------------------------------------------------------

    def test_the_pool_is_listed_in_the_order_allocation_takes_it(self):
        new_b = self._pool(grade="b", name="New B")
        old_b = self._pool(grade="b", name="Old B")
        self._age(old_b, 3)
        ungraded = self._pool(name="Ungraded")
        new_c = self._pool(grade="c", name="New C")
        a = self._pool(grade="a", name="A")
        pool = new_b | old_b | ungraded | new_c | a
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "sales_funnel_method.crm_lead_action_pool"
        )
        view = self.env.ref("sales_funnel_method.crm_lead_view_list_pool")
        order = self.env["crm.lead"]._get_view(view.id, "list")[0].get("default_order")
        listed = self.env["crm.lead"].search(
            action["domain"] and [("id", "in", pool.ids)], order=order
        )
        planned = [
            lead
            for lead, _uid, _team, _reason in self.Service._funnel_plan(
                pool, self.company
            )
        ]
        self.assertEqual(list(listed), planned)
        self.assertEqual(list(listed), [a, old_b, new_b, new_c, ungraded])

    # ------------------------------------------------------------
    # WHO MAY CLAIM
    # ------------------------------------------------------------

    @users("funnel_rep")
    def test_a_rep_with_room_may_claim(self):
        self._create_customers(layer="contacted", grade="b")
        pool = self._pool(grade="a").with_user(self.env.user)
        self.assertTrue(pool.funnel_can_claim)
        self.assertFalse(pool.funnel_claim_refusal)
        figures = self.env["crm.funnel.allocation"].get_funnel_pool_capacity()
        self.assertEqual(
            (figures["member"], figures["quota"], figures["holdings"]), (True, 30, 1)
        )
        self.assertEqual(figures["capacity"], 29)
        self.assertIn("you can claim 29 more", figures["message"])

    @users("funnel_rep")
    def test_a_rep_at_capacity_reads_why_not(self):
        self._set_quota(self.user_rep, 1)
        self._create_customers(layer="contacted", grade="b")
        pool = self._pool(grade="a").with_user(self.env.user)
        self.assertFalse(pool.funnel_can_claim)
        self.assertIn("quota of 1", pool.funnel_claim_refusal)
        self.assertIn("sign or abandon", pool.funnel_claim_refusal)

    @users("funnel_support")
    def test_the_support_group_allocates_and_does_not_claim(self):
        pool = self._pool(grade="a").with_user(self.env.user)
        self.assertFalse(pool.funnel_can_claim)
        self.assertFalse(pool.funnel_claim_refusal)
        figures = self.env["crm.funnel.allocation"].get_funnel_pool_capacity()
        self.assertFalse(figures["member"])
        self.assertIn("Allocate the Pool", figures["message"])

    def test_a_customer_reserved_for_its_discoverer(self):
        pool = self._pool(grade="a", funnel_discoverer_id=self.user_rep_2.id)
        as_rep = pool.with_user(self.user_rep)
        self.assertFalse(as_rep.funnel_can_claim)
        self.assertIn("Reserved for Rep Zhang", as_rep.funnel_claim_refusal)
        with self.assertRaises(UserError):
            self.Service._funnel_claim(pool, self.user_rep)
        self.assertTrue(pool.with_user(self.user_rep_2).funnel_can_claim)

    def test_a_rep_at_quota_may_still_claim_what_they_discovered(self):
        self._set_quota(self.user_rep, 1)
        self._create_customers(layer="contacted", grade="b")  # at quota
        own = self._pool(grade="a", funnel_discoverer_id=self.user_rep.id)
        other = self._pool(grade="a")
        self.assertEqual(
            (own | other).with_user(self.user_rep).mapped("funnel_can_claim"),
            [True, False],
        )
        with self.assertRaises(UserError):
            self.Service._funnel_claim(other, self.user_rep)
        self.Service._funnel_claim(own, self.user_rep)
        self.assertEqual(own.user_id, self.user_rep)

    def test_a_customer_held_by_a_rep_is_not_claimable(self):
        held = self._create_customers(layer="resource", grade="a", user=self.user_rep_2)
        self.assertFalse(held.with_user(self.user_rep).funnel_can_claim)
        self.assertFalse(held.with_user(self.user_rep).funnel_claim_refusal)

    # ------------------------------------------------------------
    # QUOTA OVERRIDES
    # ------------------------------------------------------------

    @users("funnel_support")
    def test_a_negative_quota_is_refused_before_the_database(self):
        member = self._member(self.user_rep).with_user(self.env.user)
        with self.assertRaisesRegex(ValidationError, "-3 is not one"):
            member.funnel_quota_override = -3
        # what the request's rollback does: forget the refused value
        self.env.invalidate_all(flush=False)
        self.assertEqual(member.funnel_quota_override, 0)
