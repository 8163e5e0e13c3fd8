from odoo.tests import tagged

from .common_http import SalesFunnelHttpCase


@tagged("post_install", "-at_install")
class TestFunnelWizardTours(SalesFunnelHttpCase):
    """The pool's dialogs clicked through in the browser: a manager's early restore
    of an abandoned customer, a rep's hand-back, lock and unlock."""

    def test_manager_restores_a_cooling_customer_early(self):
        lead = self._create_customers(
            layer="intent", grade="b", name="Tour Cooling Customer"
        )
        lead.with_user(self.user_rep).action_set_lost()
        self.assertFalse(lead.active)
        self.assertTrue(lead.funnel_cooldown_until)
        self.start_tour(
            "/odoo",
            "sales_funnel_method_manager_restores_early",
            login="funnel_manager_east",
        )
        self.assertTrue(lead.active)
        self.assertEqual(lead.funnel_layer, "resource")
        self.assertTrue(lead.funnel_in_pool)
        reopen = lead.funnel_move_ids.sorted("id")[-1]
        self.assertRecordValues(
            reopen,
            [
                {
                    "move_type": "reopen",
                    "note": "Called back: wants a new offer",
                    "changed_by_id": self.user_manager_east.id,
                }
            ],
        )

    def test_rep_hands_back_locks_and_unlocks(self):
        self.env.company.funnel_lock_limit = 2
        handed_back = self._create_customers(
            layer="contacted", grade="b", name="Tour Hand Back Customer"
        )
        kept = self._create_customers(
            layer="lead", grade="a", name="Tour Lock Customer"
        )
        self.start_tour(
            "/odoo", "sales_funnel_method_rep_hands_back_and_locks", login="funnel_rep"
        )
        self.assertTrue(handed_back.active)
        self.assertFalse(handed_back.user_id)
        self.assertTrue(handed_back.funnel_in_pool)
        self.assertRecordValues(
            handed_back.funnel_assignment_ids.sorted("id")[-1],
            [
                {
                    "kind": "handback",
                    "previous_user_id": self.user_rep.id,
                    "reason": "handed back by Rep Li: Outside my region",
                }
            ],
        )
        self.assertEqual(kept.user_id, self.user_rep)
        self.assertFalse(kept.funnel_locked)
        bodies = kept.message_ids.mapped("body")
        self.assertTrue(any("Locked by Rep Li" in body for body in bodies))
        self.assertTrue(any("Unlocked by Rep Li" in body for body in bodies))
