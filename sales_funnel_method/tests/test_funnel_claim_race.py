from functools import partial

from psycopg2 import errors as pg_errors

from odoo import Command, api
from odoo.exceptions import UserError
from odoo.service.model import retrying
from odoo.tests import TransactionCase, tagged

from odoo.addons.mail.tests.common import mail_new_test_user


@tagged("post_install", "-at_install")
class TestFunnelClaimRace(TransactionCase):
    """Two reps claim one pool customer at the same moment, in two real database
    transactions: exactly one gets it, the other a clear message.

    Odoo's "Personal Leads" rule lets any salesman write unassigned leads, so the
    claim must lock the customer's row and re-check it in SQL. The data of this
    test is committed (two transactions must both see it) and removed afterwards.
    """

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {"tracking_disable": True})
            group = "sales_funnel_method.sales_funnel_method_group_rep"
            reps = mail_new_test_user(
                env, login="race_rep_1", groups=group
            ) | mail_new_test_user(env, login="race_rep_2", groups=group)
            team = env["crm.team"].create(
                {
                    "name": "Race Team",
                    "crm_team_member_ids": [
                        Command.create({"user_id": rep.id}) for rep in reps
                    ],
                }
            )
            lead = env["crm.lead"].create(
                {
                    "name": "Contested customer",
                    "type": "opportunity",
                    "user_id": False,
                    "team_id": team.id,
                    "funnel_grade": "a",
                    "stage_id": env.ref("sales_funnel_method.crm_stage_resource").id,
                }
            )
            self.rep_ids, self.team_id, self.lead_id = reps.ids, team.id, lead.id
        self.addCleanup(self._remove_committed_data)

    def _remove_committed_data(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            env["crm.lead"].with_context(active_test=False).browse(
                self.lead_id
            ).unlink()
            env["crm.team"].browse(self.team_id).unlink()
            users = env["res.users"].browse(self.rep_ids)
            partners = users.partner_id
            try:
                with cr.savepoint():
                    users.unlink()
                    partners.unlink()
            except Exception:  # noqa: BLE001 - referenced elsewhere: keep them archived
                users.write({"active": False, "login": f"race_done_{self.lead_id}"})

    def _claim(self, cr, rep_id):
        env = api.Environment(cr, rep_id, {"tracking_disable": True})
        return env["crm.lead"].browse(self.lead_id).action_funnel_claim()

    def _claim_after_a_snapshot(self, cr_1, cr_2, rep_id):
        """``cr_2`` takes its snapshot, then ``rep_id`` claims the contested
        customer in ``cr_1``, committed.

        :return: a superuser environment on ``cr_2``, and the team's company
        """
        env_2 = api.Environment(cr_2, api.SUPERUSER_ID, {"tracking_disable": True})
        company = env_2["crm.team"].browse(self.team_id).company_id or env_2.company
        self._claim(cr_1, rep_id)
        cr_1.commit()
        return env_2, company

    def _final_state(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            lead = env["crm.lead"].browse(self.lead_id)
            return lead.user_id.id, lead.funnel_assignment_ids.mapped("user_id").ids

    def test_concurrent_claims_while_the_first_is_uncommitted(self):
        rep_1, rep_2 = self.rep_ids
        with self.registry.cursor() as cr_1, self.registry.cursor() as cr_2:
            # both transactions are open before either claims
            cr_1.execute("SELECT 1")
            cr_2.execute("SELECT 1")
            self._claim(cr_1, rep_1)
            # the first claim holds the customer's row: the second one is told to
            # try again, without waiting for the first to finish
            with self.assertRaisesRegex(UserError, "at this very moment"):
                self._claim(cr_2, rep_2)
            cr_2.rollback()
            cr_1.commit()
        self.assertEqual(self._final_state(), (rep_1, [rep_1]))

    def test_claim_in_a_transaction_older_than_the_winning_commit(self):
        rep_1, rep_2 = self.rep_ids
        with self.registry.cursor() as cr_1, self.registry.cursor() as cr_2:
            # the second transaction's snapshot predates the first one's commit
            cr_2.execute("SELECT id FROM crm_lead WHERE id = %s", [self.lead_id])
            self._claim(cr_1, rep_1)
            cr_1.commit()
            # in its old snapshot the customer is still in the pool: locking it
            # fails to serialize, rather than deciding on stale data ...
            with self.assertRaises(pg_errors.SerializationFailure):
                with cr_2.savepoint():
                    self._claim(cr_2, rep_2)
            # ... and Odoo runs the request again, which sees the winner's claim
            env_2 = api.Environment(cr_2, rep_2, {"tracking_disable": True})
            with self.assertRaisesRegex(UserError, "no longer in the pool"):
                retrying(partial(self._claim, cr_2, rep_2), env_2)
            cr_2.rollback()
        self.assertEqual(self._final_state(), (rep_1, [rep_1]))

    def test_claim_after_the_winner_committed(self):
        rep_1, rep_2 = self.rep_ids
        with self.registry.cursor() as cr_1:
            self._claim(cr_1, rep_1)
        with self.registry.cursor() as cr_2:
            with self.assertRaisesRegex(UserError, "no longer in the pool"):
                self._claim(cr_2, rep_2)
        self.assertEqual(self._final_state(), (rep_1, [rep_1]))

    def test_allocation_skips_the_customer_being_claimed(self):
        rep_1, _rep_2 = self.rep_ids
        with self.registry.cursor() as cr_1, self.registry.cursor() as cr_2:
            cr_2.execute("SELECT 1")
            self._claim(cr_1, rep_1)  # not committed yet: the row is locked
            env_2 = api.Environment(cr_2, api.SUPERUSER_ID, {"tracking_disable": True})
            team = env_2["crm.team"].browse(self.team_id)
            assignments = env_2["crm.funnel.allocation"]._funnel_allocate(
                env_2["crm.lead"].browse(self.lead_id),
                company=team.company_id or env_2.company,
            )
            self.assertFalse(assignments)
            cr_2.commit()
            cr_1.commit()
        self.assertEqual(self._final_state(), (rep_1, [rep_1]))

    def test_allocation_older_than_a_claim_keeps_the_rep_within_quota(self):
        """A rep with room for one customer claims one while an allocation, whose
        snapshot predates the claim's commit, plans to give them another."""
        rep_1, rep_2 = self.rep_ids
        with self.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {"tracking_disable": True})
            team = env["crm.team"].browse(self.team_id)
            team.crm_team_member_ids.filtered(
                lambda member: member.user_id.id == rep_1
            ).funnel_quota_override = 1
            # rep_2 has no room: the allocation can only give to rep_1
            team.crm_team_member_ids.filtered(
                lambda member: member.user_id.id == rep_2
            ).funnel_quota_override = 1
            held = env["crm.lead"].create(
                {
                    "name": "Held by rep 2",
                    "type": "opportunity",
                    "user_id": rep_2,
                    "team_id": team.id,
                    "funnel_grade": "b",
                    "stage_id": env.ref("sales_funnel_method.crm_stage_resource").id,
                }
            )
            other = held.copy({"name": "Second pool customer", "user_id": False})
            self.addCleanup(self._unlink_leads, (held | other).ids)
        with self.registry.cursor() as cr_1, self.registry.cursor() as cr_2:
            env_2, company = self._claim_after_a_snapshot(cr_1, cr_2, rep_1)
            allocate = partial(
                env_2["crm.funnel.allocation"]._funnel_allocate,
                env_2["crm.lead"].browse(other.id),
                company=company,
            )
            # in its snapshot rep_1 still has room: giving them the customer fails
            # to serialize instead of putting them over quota ...
            with self.assertRaises(pg_errors.SerializationFailure):
                with cr_2.savepoint():
                    allocate()
            # ... and, run again as the cron does, it sees that rep_1 is full (the
            # customer may go to another member of the company's sales force)
            given = retrying(allocate, env_2)
            self.assertNotIn(rep_1, given.user_id.ids)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            self.assertEqual(env["crm.lead"].browse(self.lead_id).user_id.id, rep_1)
            self.assertNotEqual(env["crm.lead"].browse(other.id).user_id.id, rep_1)
            self.assertEqual(
                env["crm.funnel.allocation"]._funnel_holdings([rep_1]).get(rep_1), 1
            )

    def _unlink_leads(self, ids):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            env["crm.lead"].with_context(active_test=False).browse(ids).unlink()

    def test_handover_older_than_a_claim_takes_the_claimed_customer_too(self):
        """The leaver claims a customer while a hand-over of their customers, whose
        snapshot predates the claim's commit, runs: nothing stays with them."""
        rep_1, _rep_2 = self.rep_ids
        with self.registry.cursor() as cr_1, self.registry.cursor() as cr_2:
            env_2, company = self._claim_after_a_snapshot(cr_1, cr_2, rep_1)
            hand_over = partial(
                env_2["crm.funnel.allocation"]._funnel_handover,
                env_2["res.users"].browse(rep_1),
                company=company,
            )
            # in its snapshot the leaver holds nothing: handing that over would
            # leave the claimed customer with them
            with self.assertRaises(pg_errors.SerializationFailure):
                with cr_2.savepoint():
                    hand_over()
            handover = retrying(hand_over, env_2)
            self.assertIn(self.lead_id, handover.assignment_ids.lead_id.ids)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            self.assertNotEqual(env["crm.lead"].browse(self.lead_id).user_id.id, rep_1)
            env["crm.funnel.handover"].search([("user_id", "=", rep_1)]).unlink()
