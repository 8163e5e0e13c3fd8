from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged, users
from odoo.tools.safe_eval import safe_eval

from .common_http import SalesFunnelHttpCase
from .test_funnel_allocation import FunnelAllocationCommon

T0 = datetime(2026, 10, 5, 9, 0, 0)


class FunnelPoolRulesCommon(FunnelAllocationCommon):
    """The customer pool's rules (公海规则, issue 13), each off until a test sets it."""

    def _received(
        self, count=1, at=T0, user=None, layer="contacted", grade="b", **vals
    ):
        """``count`` customers that ``user`` (funnel_rep) received from the pool at ``at``
        (an allocation: the assignment dates the receipt)."""
        user = user or self.user_rep
        team = self.team_west if user == self.user_rep_west else self.team_east
        with freeze_time(at):
            leads = self._pool(count, layer=layer, grade=grade, team=team, **vals)
            self.Service._funnel_apply(
                [(lead, user.id, team.id, "ranking") for lead in leads],
                "allocation",
                self.company,
            )
        return leads

    def _contact(self, leads, at, **kwargs):
        with freeze_time(at):
            return self.env["crm.funnel.contact"]._funnel_record(
                leads, "phone", date=at, **kwargs
            )

    def _return_at(self, at):
        with freeze_time(at):
            returned, _left = self.Service._funnel_return_due()
        return returned

    def _notices(self, user, subject):
        return self.env["mail.message"].search(
            [
                ("model", "=", "res.users"),
                ("res_id", "=", user.id),
                ("subject", "ilike", subject),
            ]
        )


@tagged("post_install", "-at_install")
class TestFunnelReturn(FunnelPoolRulesCommon):
    """Automatic return (自动回收): N days without contact (per grade), M days
    without signing; locked, signed and implemented customers never return."""

    def test_nothing_returns_by_default(self):
        lead = self._received(at=T0)
        self.assertFalse(lead.funnel_return_date)
        self.assertFalse(self._return_at(T0 + timedelta(days=400)))
        self.assertEqual(lead.user_id, self.user_rep)

    def test_return_after_days_without_contact_per_grade(self):
        self.company.write(
            {"funnel_return_contact_days": 10, "funnel_return_contact_days_a": 20}
        )
        silent_b = self._received(grade="b", name="Silent B")
        contacted_b = self._received(grade="b", name="Contacted B")
        grade_a = self._received(grade="a", name="Grade A")
        resource = self._received(layer="resource", grade=False, name="Ungraded")
        self._contact(contacted_b, T0 + timedelta(days=5))
        member = self._member(self.user_rep)
        self.assertEqual(member.funnel_holding_count, 4)
        self.assertEqual(silent_b.funnel_return_date, T0 + timedelta(days=10))
        self.assertEqual(contacted_b.funnel_return_date, T0 + timedelta(days=15))
        self.assertEqual(grade_a.funnel_return_date, T0 + timedelta(days=20))
        self.assertEqual(silent_b.funnel_return_reason, "no contact for 10 days")

        # N - 1 days: nothing; N days: the silent ones of grade B and the ungraded
        self.assertFalse(self._return_at(T0 + timedelta(days=9, hours=23)))
        self.assertEqual(self._return_at(T0 + timedelta(days=10)), silent_b | resource)
        self.assertFalse((silent_b | resource).user_id)
        self.assertTrue(all((silent_b | resource).mapped("funnel_in_pool")))
        self.assertEqual(contacted_b.user_id, self.user_rep)
        # a contact starts the count again
        self.assertFalse(self._return_at(T0 + timedelta(days=14, hours=23)))
        self.assertEqual(self._return_at(T0 + timedelta(days=15)), contacted_b)
        # grade A has its own number of days
        self.assertFalse(self._return_at(T0 + timedelta(days=19, hours=23)))
        self.assertEqual(self._return_at(T0 + timedelta(days=20)), grade_a)

        returned = silent_b | resource | contacted_b | grade_a
        self.assertEqual(
            set(
                returned.funnel_assignment_ids.filtered(lambda a: not a.user_id).mapped(
                    "kind"
                )
            ),
            {"returned"},
        )
        last = silent_b.funnel_assignment_ids.sorted("id")[-1]
        self.assertRecordValues(
            last,
            [
                {
                    "kind": "returned",
                    "user_id": False,
                    "previous_user_id": self.user_rep.id,
                    "reason": "no contact for 10 days",
                }
            ],
        )
        self.assertIn("no contact for 10 days", silent_b.message_ids[0].body)
        self.assertIn("Rep Li", silent_b.message_ids[0].body)
        # the slot is free, and a return is not an abandon
        member.invalidate_recordset()
        self.assertEqual(member.funnel_holding_count, 0)
        self.assertEqual(member.funnel_returned_count, 4)
        self.assertEqual(member.funnel_abandoned_count, 0)
        self.assertEqual(silent_b.funnel_move_ids.mapped("move_type"), ["entry"])
        # one notice per rep and run, listing the customers
        notices = self._notices(self.user_rep, "returned to the pool")
        self.assertEqual(len(notices), 3)
        self.assertIn("Silent B", notices.sorted("id")[0].body)
        self.assertIn("Ungraded", notices.sorted("id")[0].body)

    def test_return_when_not_signed_in_time(self):
        self.company.funnel_return_sign_days = 30
        working = self._received(layer="lead", name="Working")
        signing = self._received(layer="intent", name="Signing")
        for day in range(0, 35, 3):
            self._contact(working | signing, T0 + timedelta(days=day))
        with freeze_time(T0 + timedelta(days=12)):
            signing.write({"stage_id": self.stages["signed"].id})
        self.assertFalse(signing.funnel_return_date)
        self.assertFalse(self._return_at(T0 + timedelta(days=29, hours=23)))
        self.assertEqual(self._return_at(T0 + timedelta(days=30)), working)
        self.assertEqual(
            working.funnel_assignment_ids.sorted("id")[-1].reason,
            "not signed within 30 days of being received",
        )
        # signed and implemented customers never return
        with freeze_time(T0 + timedelta(days=40)):
            signing.write({"stage_id": self.stages["implemented"].id})
        self.assertFalse(self._return_at(T0 + timedelta(days=400)))
        self.assertEqual(signing.user_id, self.user_rep)

    def test_the_first_rule_due_wins(self):
        self.company.write(
            {"funnel_return_contact_days": 10, "funnel_return_sign_days": 12}
        )
        lead = self._received()
        self._contact(lead, T0 + timedelta(days=8))
        self.assertEqual(lead.funnel_return_date, T0 + timedelta(days=12))
        self.assertEqual(
            lead.funnel_return_reason, "not signed within 12 days of being received"
        )

    def test_locked_customers_never_return(self):
        self.company.write({"funnel_return_contact_days": 10, "funnel_lock_limit": 1})
        kept, other = self._received(2)
        kept.with_user(self.user_rep).action_funnel_lock()
        self.assertTrue(kept.funnel_locked)
        self.assertFalse(kept.funnel_return_date)
        self.assertIn("Locked by Rep Li", kept.message_ids[0].body)
        self.assertEqual(self._return_at(T0 + timedelta(days=100)), other)
        self.assertEqual(kept.user_id, self.user_rep)
        # unlocked, the rules apply again
        kept.with_user(self.user_rep).action_funnel_unlock()
        self.assertIn("Unlocked by Rep Li", kept.message_ids[0].body)
        self.assertEqual(self._return_at(T0 + timedelta(days=100)), kept)

    def test_return_in_batches(self):
        self.company.funnel_return_contact_days = 10
        leads = self._received(3) | self._received(2, user=self.user_rep_2)
        with freeze_time(T0 + timedelta(days=10)):
            returned, left = self.Service._funnel_return_due(limit=3)
            self.assertEqual((len(returned), left), (3, 2))
            returned, left = self.Service._funnel_return_due(limit=3)
            self.assertEqual((len(returned), left), (2, 0))
        self.assertFalse(leads.user_id)

    def test_daily_cron_returns_then_warns(self):
        self.company.write(
            {"funnel_return_contact_days": 10, "funnel_return_notice_days": 2}
        )
        due = self._received(name="Due")
        soon = self._received(at=T0 + timedelta(days=1), name="Soon")
        with freeze_time(T0 + timedelta(days=10)):
            self.Service._cron_funnel_daily()
        self.assertFalse(due.user_id)
        self.assertEqual(soon.user_id, self.user_rep)
        [warning] = self._notices(self.user_rep, "return to the pool soon")
        self.assertIn("Soon", warning.body)
        self.assertNotIn("Due", warning.body)


@tagged("post_install", "-at_install")
class TestFunnelReturnWarning(FunnelPoolRulesCommon):
    """A warning K days before: the rep's daily notice, the team manager's, My Funnel."""

    def test_warned_k_days_before(self):
        self.company.write(
            {"funnel_return_contact_days": 10, "funnel_return_notice_days": 3}
        )
        lead = self._received(name="Quiet Customer")
        Lead = self.env["crm.lead"]
        with freeze_time(T0 + timedelta(days=6, hours=23)):
            lead.invalidate_recordset()
            self.assertFalse(lead.funnel_returning_soon)
            self.assertFalse(Lead.search([("funnel_returning_soon", "=", True)]))
            self.assertFalse(self.Service._funnel_warn_returning())
        self.assertFalse(self._notices(self.user_rep, "return to the pool soon"))
        with freeze_time(T0 + timedelta(days=7)):
            lead.invalidate_recordset()
            self.assertTrue(lead.funnel_returning_soon)
            self.assertEqual(lead.funnel_mark, "returning")
            self.assertEqual(
                Lead.with_user(self.user_rep).search(
                    [("funnel_returning_soon", "=", True)]
                ),
                lead,
            )
            # the team manager sees the same for the team
            self.assertEqual(
                Lead.with_user(self.user_manager_east).search(
                    [("funnel_returning_soon", "=", True)]
                ),
                lead,
            )
            self.assertEqual(
                Lead.search(
                    [("funnel_returning_soon", "!=", True), ("id", "=", lead.id)]
                ),
                Lead,
            )
            self.assertEqual(self.Service._funnel_warn_returning(), lead)
            # once a day
            self.assertFalse(self.Service._funnel_warn_returning())
        [notice] = self._notices(self.user_rep, "return to the pool soon")
        self.assertIn("Quiet Customer", notice.body)
        self.assertEqual(notice.partner_ids, self.user_rep.partner_id)
        [manager_notice] = self._notices(
            self.user_manager_east, "of your teams return to the pool soon"
        )
        self.assertIn("Quiet Customer", manager_notice.body)
        self.assertIn("Rep Li", manager_notice.body)
        self.assertFalse(self._notices(self.user_manager_west, "return to the pool"))
        with freeze_time(T0 + timedelta(days=8)):
            self.assertEqual(self.Service._funnel_warn_returning(), lead)
        self.assertEqual(
            len(self._notices(self.user_rep, "return to the pool soon")), 2
        )

    def test_no_warning_without_its_setting(self):
        self.company.funnel_return_contact_days = 10
        lead = self._received()
        with freeze_time(T0 + timedelta(days=9)):
            self.assertFalse(lead.funnel_returning_soon)
            self.assertFalse(self.Service._funnel_warn_returning())


@tagged("post_install", "-at_install")
class TestFunnelHandBackAndLock(FunnelPoolRulesCommon):
    """Handing back (放入公海), the previous owner's wait, locking (锁定)."""

    @users("funnel_rep")
    def test_rep_hands_a_customer_back(self):
        lead = self._received(name="Outside my region").with_user(self.env.user)
        moves = lead.funnel_move_ids
        wizard = (
            self.env["crm.funnel.handback.wizard"]
            .with_context(default_lead_ids=lead.ids)
            .create({"reason": "   "})
        )
        with self.assertRaisesRegex(UserError, "Say why"):
            wizard.action_hand_back()
        wizard.reason = "Outside my region"
        wizard.action_hand_back()
        lead = lead.sudo()
        self.assertTrue(lead.funnel_in_pool)
        self.assertTrue(lead.active)
        self.assertFalse(lead.funnel_abandoned_by_id)
        self.assertEqual(lead.funnel_move_ids, moves)  # history kept, no abandon
        self.assertRecordValues(
            lead.funnel_assignment_ids.sorted("id")[-1],
            [
                {
                    "kind": "handback",
                    "user_id": False,
                    "previous_user_id": self.env.user.id,
                    "reason": "handed back by Rep Li: Outside my region",
                }
            ],
        )
        self.assertIn("Outside my region", lead.message_ids[0].body)
        member = self._member(self.env.user).with_user(self.user_manager_east)
        self.assertEqual(
            (member.funnel_handed_back_count, member.funnel_abandoned_count), (1, 0)
        )
        # no cool-down for the others
        self.Service._funnel_claim(lead, self.user_rep_2)
        self.assertEqual(lead.user_id, self.user_rep_2)

    @users("funnel_rep")
    def test_only_held_working_customers_are_handed_back(self):
        other = self._received(user=self.user_rep_2)
        signed = self._received(layer="signed", grade="a")
        Service = self.env["crm.funnel.allocation"]
        with self.assertRaises(AccessError):
            Service._funnel_hand_back(other.with_user(self.env.user), "no")
        with self.assertRaisesRegex(UserError, "signed customers stay with a rep"):
            Service._funnel_hand_back(signed.with_user(self.env.user), "done")
        self.assertEqual(signed.sudo().user_id, self.env.user)

    def test_previous_owner_waits_others_do_not(self):
        self.company.write(
            {"funnel_return_bar_days": 5, "funnel_return_contact_days": 10}
        )
        handed, returned = self._received(2)
        with freeze_time(T0 + timedelta(days=1)):
            self.Service.with_user(self.user_rep)._funnel_hand_back(handed, "later")
        self.assertEqual(self._return_at(T0 + timedelta(days=10)), returned)
        # the previous owner waits five days from the hand-back or the return ...
        with freeze_time(T0 + timedelta(days=5, hours=23)):
            with self.assertRaisesRegex(UserError, "came back to the pool from you"):
                self.Service._funnel_claim(handed, self.user_rep)
            # ... and allocation does not give it back to them meanwhile
            plan = self.Service._funnel_plan(handed | returned, self.company)
            self.assertNotIn(self.user_rep.id, [uid for _l, uid, _t, _r in plan])
        with freeze_time(T0 + timedelta(days=6)):
            self.Service._funnel_claim(handed, self.user_rep)
        self.assertEqual(handed.user_id, self.user_rep)
        with freeze_time(T0 + timedelta(days=14, hours=23)):
            with self.assertRaisesRegex(UserError, "came back to the pool from you"):
                self.Service._funnel_claim(returned, self.user_rep)
        # others claim at once
        with freeze_time(T0 + timedelta(days=10)):
            self.Service._funnel_claim(returned, self.user_rep_2)
        self.assertEqual(returned.user_id, self.user_rep_2)

    def test_the_previous_owner_sees_no_claim_while_waiting(self):
        """The previous owner's wait hides their Claim and says until when; the
        customer's discoverer waiting does not reserve it for them."""
        self.company.funnel_return_bar_days = 5
        handed = self._received(name="Handed back", funnel_discoverer_id=False)
        discovered = self._received(name="Discovered")
        discovered.funnel_discoverer_id = self.user_rep
        with freeze_time(T0 + timedelta(days=1)):
            self.Service.with_user(self.user_rep)._funnel_hand_back(
                handed | discovered, "later"
            )
        with freeze_time(T0 + timedelta(days=3)):
            for lead in handed | discovered:
                as_rep = lead.with_user(self.user_rep)
                self.assertFalse(as_rep.funnel_can_claim)
                self.assertIn(
                    "came back to the pool from you", as_rep.funnel_claim_refusal
                )
                with self.assertRaisesRegex(
                    UserError, "came back to the pool from you"
                ):
                    self.Service.with_user(self.user_rep)._funnel_claim(as_rep)
                # the others may claim it, the discoverer's customer included
                other = lead.with_user(self.user_rep_2)
                self.assertTrue(other.funnel_can_claim, lead.name)
                self.assertFalse(other.funnel_claim_refusal)

    def test_abandoned_customers_keep_the_cool_down_for_everyone(self):
        self.company.funnel_return_bar_days = 5
        lead = self._received()
        with freeze_time(T0):
            lead.with_user(self.user_rep).action_set_lost()
        with freeze_time(T0 + timedelta(days=30)):
            for user in (self.user_rep_2, self.user_rep_west):
                with self.assertRaisesRegex(UserError, "cools down"):
                    self.Service._funnel_claim(lead, user)

    def test_lock_limit_and_override(self):
        self.company.funnel_lock_limit = 1
        first, second = self._received(2)
        Rep = self.Service.with_user(self.user_rep)
        self.assertTrue(first.with_user(self.user_rep).funnel_can_lock)
        self.assertFalse(first.with_user(self.user_rep_2).funnel_can_lock)
        Rep._funnel_lock(first)
        second.invalidate_recordset()
        with self.assertRaisesRegex(UserError, "You may lock 1 customers"):
            Rep._funnel_lock(second)
        self.assertFalse(second.funnel_locked)
        member = self._member(self.user_rep)
        self.assertEqual((member.funnel_lock_limit, member.funnel_locked_count), (1, 1))
        member.funnel_lock_limit_override = 2
        Rep._funnel_lock(second)
        self.assertTrue(second.funnel_locked)
        member.invalidate_recordset()
        self.assertEqual((member.funnel_lock_limit, member.funnel_locked_count), (2, 2))
        # a rep locks only what they hold
        with self.assertRaisesRegex(UserError, "only customers you hold"):
            self.Service.with_user(self.user_rep_2)._funnel_lock(first)
        with self.assertRaises(AccessError):
            self.Service.with_user(self.user_rep_2)._funnel_lock(first, lock=False)
        # the team manager unlocks; a lock ends when the customer changes hands
        self.Service.with_user(self.user_manager_east)._funnel_lock(first, lock=False)
        self.assertFalse(first.funnel_locked)
        second.with_user(self.user_director).write({"user_id": self.user_rep_2.id})
        self.assertFalse(second.funnel_locked)
        self.assertIn("changed hands", second.message_ids[0].body)

    def test_no_lock_around_the_limit(self):
        self.company.funnel_lock_limit = 1
        first, second = self._received(2)
        self.Service.with_user(self.user_rep)._funnel_lock(first)
        for user in (self.user_rep, self.user_director):
            with self.assertRaisesRegex(UserError, "Lock and Unlock buttons"):
                second.with_user(user).write({"funnel_locked": True})
        self.assertFalse(second.funnel_locked)

    def test_returning_soon_without_rules(self):
        lead = self._received()
        Lead = self.env["crm.lead"]
        self.assertFalse(Lead.search([("funnel_returning_soon", "=", True)]))
        self.assertIn(lead, Lead.search([("funnel_returning_soon", "=", False)]))

    def test_locking_is_off_by_default(self):
        lead = self._received()
        self.assertFalse(lead.with_user(self.user_rep).funnel_can_lock)
        with self.assertRaisesRegex(UserError, "Locking customers is off"):
            self.Service.with_user(self.user_rep)._funnel_lock(lead)


@tagged("post_install", "-at_install")
class TestFunnelClaimLimit(FunnelPoolRulesCommon):
    """At most D claims per rep per day (每日领取上限), the rep's own day."""

    def test_daily_claim_limit(self):
        self.company.funnel_claim_daily_limit = 2
        self.user_rep.tz = "Asia/Shanghai"  # UTC+8: the day starts at 16:00 UTC
        pool = self._pool(5, grade="a", team=self.team_east)
        with freeze_time("2026-10-05 02:00:00"):  # 10:00 in Shanghai
            with self.assertRaisesRegex(UserError, "you can claim 2 more today, not 3"):
                self.Service._funnel_claim(pool[:3], self.user_rep)
            self.Service._funnel_claim(pool[:2], self.user_rep)
        with freeze_time("2026-10-05 15:59:00"):  # 23:59 in Shanghai
            with self.assertRaisesRegex(UserError, "claim again tomorrow, 10/06/2026"):
                self.Service._funnel_claim(pool[2], self.user_rep)
            # the limit is each rep's own
            self.Service._funnel_claim(pool[2], self.user_rep_2)
        with freeze_time("2026-10-05 16:00:00"):  # a new day in Shanghai
            self.Service._funnel_claim(pool[3:5], self.user_rep)
        self.assertEqual(pool[3:5].user_id, self.user_rep)

    @users("funnel_rep")
    def test_the_claim_button_follows_the_limit(self):
        """At the daily limit the pool offers no Claim, and says why, as the claim
        would; another rep still has the button."""
        self.company.funnel_claim_daily_limit = 1
        pool = self._pool(2, grade="a", team=self.team_east)
        Service = self.env["crm.funnel.allocation"]
        mine = pool.with_user(self.env.user)
        self.assertEqual(mine.mapped("funnel_can_claim"), [True, True])
        Service._funnel_claim(mine[0])
        mine.invalidate_recordset()
        self.assertFalse(mine[1].funnel_can_claim)
        self.assertIn("claim again tomorrow", mine[1].funnel_claim_refusal)
        figures = Service.get_funnel_pool_capacity()
        self.assertEqual(figures["capacity"], 0)
        self.assertIn("claim again tomorrow", figures["message"])
        with self.assertRaisesRegex(UserError, "claim again tomorrow"):
            Service._funnel_claim(mine[1])
        self.assertTrue(pool[1].with_user(self.user_rep_2).funnel_can_claim)

    def test_no_limit_by_default(self):
        pool = self._pool(5, grade="a", team=self.team_east)
        self.Service._funnel_claim(pool, self.user_rep)
        self.assertEqual(pool.user_id, self.user_rep)


@tagged("post_install", "-at_install")
class TestFunnelMasking(FunnelPoolRulesCommon):
    """Contact details of pool customers, masked for reps until they hold them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.funnel_mask_pool_contacts = True
        cls.customer_company = cls.env["res.partner"].create(
            {
                "name": "Acme Steel",
                "is_company": True,
                "phone": "+86 21 5555 0100",
                "email": "office@acme-steel.cn",
            }
        )
        cls.contact_person = cls.env["res.partner"].create(
            {
                "name": "Wei Zhang",
                "parent_id": cls.customer_company.id,
                "mobile": "+86 138 0013 8000",
                "email": "zhang.wei@acme-steel.cn",
            }
        )
        cls.lead = cls._pool(1, grade="a", team=cls.team_east, name="Acme")
        cls.lead.write(
            {
                "partner_id": cls.contact_person.id,
                "phone": "+86 21 5555 0199",
                "mobile": "+86 138 0013 8000",
                "email_from": "zhang.wei@acme-steel.cn",
            }
        )

    FIELDS = ["phone", "mobile", "email_from", "email_normalized", "phone_sanitized"]

    def _read(self, user):
        return self.lead.with_user(user).read(self.FIELDS)[0]

    def _assert_masked(self, values):
        self.assertEqual(values["phone"], "+86 ** **** **99")
        self.assertEqual(values["mobile"], "+86 *** **** **00")
        self.assertEqual(values["email_from"], "z***@acme-steel.cn")
        self.assertEqual(values["email_normalized"], "z***@acme-steel.cn")
        self.assertNotIn("0013", values["phone_sanitized"] or "")

    def test_reps_read_pool_customers_masked_everywhere(self):
        export = self.env.ref("base.group_allow_export")
        (self.user_rep | self.user_manager_east).groups_id = [(4, export.id)]
        for user in (self.user_rep, self.user_manager_east):
            with self.subTest(user=user.login):
                Lead = self.env["crm.lead"].with_user(user)
                self._assert_masked(self._read(user))
                [row] = Lead.search_read([("id", "=", self.lead.id)], self.FIELDS)
                self._assert_masked(row)
                [web] = Lead.browse(self.lead.id).web_read(
                    {name: {} for name in self.FIELDS}
                )
                self._assert_masked(web)
                [web] = Lead.web_search_read(
                    [("id", "=", self.lead.id)], {name: {} for name in self.FIELDS}
                )["records"]
                self._assert_masked(web)
                exported = Lead.browse(self.lead.id).export_data(
                    ["phone", "email_from", "partner_id/email", "partner_id/mobile"]
                )["datas"]
                self.assertEqual(
                    exported,
                    [
                        [
                            "+86 ** **** **99",
                            "z***@acme-steel.cn",
                            "z***@acme-steel.cn",
                            "+86 *** **** **00",
                        ]
                    ],
                )
                # the partner record and its company's
                partners = self.env["res.partner"].with_user(user)
                person = partners.browse(self.contact_person.id).read(
                    ["email", "mobile", "email_formatted"]
                )[0]
                self.assertEqual(person["email"], "z***@acme-steel.cn")
                self.assertEqual(person["mobile"], "+86 *** **** **00")
                self.assertNotIn("zhang.wei", person["email_formatted"])
                company = partners.browse(self.customer_company.id).read(
                    ["email", "phone"]
                )[0]
                self.assertEqual(company["phone"], "+86 ** **** **00")
                self.assertEqual(company["email"], "o***@acme-steel.cn")
                # no address offered in the chatter
                self.assertFalse(
                    Lead.browse(self.lead.id)._message_get_suggested_recipients()
                )
        # the server's own code reads the real values
        self.assertEqual(self.lead.with_user(self.user_rep).mobile, "+86 138 0013 8000")

    def test_reps_cannot_group_by_masked_details(self):
        """Grouping by a masked field would name the contact details as the groups'
        keys: refused to the users who read them masked, with the reason."""
        domain = [("id", "=", self.lead.id)]
        for user in (self.user_rep, self.user_manager_east):
            with self.subTest(user=user.login):
                Lead = self.env["crm.lead"].with_user(user)
                for fields_spec, groupby in (
                    (["phone"], ["email_from"]),
                    (["__count"], ["stage_id", "mobile"]),
                    (["mobile:array_agg"], ["stage_id"]),
                    (["numbers:max(phone_sanitized)"], ["stage_id"]),
                ):
                    with self.assertRaisesRegex(UserError, "masked for you"):
                        Lead.web_read_group(domain, fields_spec, groupby)
                with self.assertRaisesRegex(UserError, "group or total by Phone"):
                    Lead.read_progress_bar(
                        domain, "phone", {"field": "priority", "colors": {"0": "info"}}
                    )
                with self.assertRaisesRegex(UserError, "masked for you"):
                    self.env["res.partner"].with_user(user).web_read_group(
                        [("id", "=", self.contact_person.id)], ["email"], ["email"]
                    )
                # other groupings, and counting the values, still work
                groups = Lead.web_read_group(
                    domain, ["phone:count_distinct"], ["stage_id"]
                )["groups"]
                self.assertEqual(groups[0]["phone"], 1)
        # the support group groups by them
        groups = (
            self.env["crm.lead"]
            .with_user(self.user_support)
            .web_read_group(domain, ["__count"], ["email_from"])["groups"]
        )
        self.assertEqual(groups[0]["email_from"], "zhang.wei@acme-steel.cn")

    def test_support_and_directors_always_see_them(self):
        for user in (self.user_support, self.user_director):
            with self.subTest(user=user.login):
                values = self._read(user)
                self.assertEqual(values["mobile"], "+86 138 0013 8000")
                self.assertEqual(values["email_from"], "zhang.wei@acme-steel.cn")
                self.assertEqual(
                    self.contact_person.with_user(user).read(["email"])[0]["email"],
                    "zhang.wei@acme-steel.cn",
                )

    def test_a_rep_sees_them_once_they_hold_the_customer(self):
        self.Service._funnel_claim(self.lead, self.user_rep)
        values = self._read(self.user_rep)
        self.assertEqual(values["mobile"], "+86 138 0013 8000")
        self.assertEqual(
            self.contact_person.with_user(self.user_rep).read(["email"])[0]["email"],
            "zhang.wei@acme-steel.cn",
        )
        # Acme has no customer in the pool any more: nobody reads it masked
        self.assertEqual(
            self.contact_person.with_user(self.user_rep_2).read(["email"])[0]["email"],
            "zhang.wei@acme-steel.cn",
        )

    def test_nothing_is_masked_without_the_setting(self):
        self.company.funnel_mask_pool_contacts = False
        groups = (
            self.env["crm.lead"]
            .with_user(self.user_rep)
            .web_read_group([("id", "=", self.lead.id)], ["__count"], ["mobile"])[
                "groups"
            ]
        )
        self.assertEqual(groups[0]["mobile"], "+86 138 0013 8000")
        values = self._read(self.user_rep)
        self.assertEqual(values["mobile"], "+86 138 0013 8000")
        self.assertEqual(
            self.contact_person.with_user(self.user_rep).read(["email"])[0]["email"],
            "zhang.wei@acme-steel.cn",
        )


@tagged("post_install", "-at_install")
class TestFunnelNextContact(FunnelPoolRulesCommon):
    """Log Contact plans the next contact (下次联系时间): an activity for the rep, My
    Funnel's "to contact today" and "contact overdue", the planned curve."""

    def _log(self, lead, at, **vals):
        with freeze_time(at):
            wizard = (
                self.env["crm.funnel.contact.log"]
                .with_user(self.user_rep)
                .create(dict({"lead_id": lead.id, "kind": "phone"}, **vals))
            )
            wizard.action_log()

    def _filtered(self, name, at):
        view = self.env.ref("sales_funnel_method.view_crm_case_opportunities_filter")
        domain = view.arch_db.split(f'name="{name}"')[1].split('domain="')[1]
        domain = domain.split('"')[0].replace("&lt;", "<")
        with freeze_time(at):
            evaluated = safe_eval(domain, {"context_today": fields.Date.today})
            return self.env["crm.lead"].with_user(self.user_rep).search(evaluated)

    def test_next_contact_schedules_an_activity(self):
        lead = self._received(name="To Call")
        self._log(
            lead,
            T0 + timedelta(days=1),
            note="Sent the offer",
            next_date=(T0 + timedelta(days=4)).date(),
            next_note="Ask about the offer",
        )
        self.assertEqual(lead.funnel_next_contact_date, (T0 + timedelta(days=4)).date())
        self.assertEqual(lead.funnel_next_contact_note, "Ask about the offer")
        [activity] = lead.activity_ids
        self.assertRecordValues(
            activity,
            [
                {
                    "user_id": self.user_rep.id,
                    "date_deadline": (T0 + timedelta(days=4)).date(),
                    "summary": "Ask about the offer",
                }
            ],
        )
        self.assertEqual(
            activity.activity_type_id, self.env.ref("mail.mail_activity_data_call")
        )
        self.assertFalse(self._filtered("funnel_contact_today", T0 + timedelta(days=3)))
        self.assertEqual(
            self._filtered("funnel_contact_today", T0 + timedelta(days=4)), lead
        )
        self.assertFalse(
            self._filtered("funnel_contact_overdue", T0 + timedelta(days=4))
        )
        self.assertEqual(
            self._filtered("funnel_contact_overdue", T0 + timedelta(days=5)), lead
        )
        # doing the activity is the next contact: the plan is done
        with freeze_time(T0 + timedelta(days=5)):
            activity.with_user(self.user_rep).action_feedback(feedback="Called")
        self.assertFalse(lead.funnel_next_contact_date)
        self.assertEqual(len(lead.funnel_contact_ids), 2)
        self.assertFalse(
            self._filtered("funnel_contact_overdue", T0 + timedelta(days=6))
        )

    def test_a_back_dated_contact_keeps_the_plan(self):
        lead = self._received()
        self._log(
            lead, T0 + timedelta(days=2), next_date=(T0 + timedelta(days=9)).date()
        )
        with freeze_time(T0 + timedelta(days=3)):
            self.env["crm.funnel.contact.log"].with_user(self.user_rep).create(
                {"lead_id": lead.id, "kind": "visit", "date": T0 + timedelta(days=1)}
            ).action_log()
        self.assertEqual(lead.funnel_next_contact_date, (T0 + timedelta(days=9)).date())

    def test_the_next_contact_is_not_in_the_past(self):
        lead = self._received()
        with self.assertRaisesRegex(UserError, "today or later"):
            self._log(lead, T0, next_date=(T0 - timedelta(days=1)).date())
        self.assertFalse(lead.funnel_contact_ids)
        self.assertFalse(lead.activity_ids)

    def test_contact_curve_shows_planned_against_done(self):
        lead = self._received()
        self._log(
            lead, T0 + timedelta(days=1), next_date=(T0 + timedelta(days=5)).date()
        )
        self._log(lead, T0 + timedelta(days=5, hours=2))
        Report = self.env["crm.funnel.report.contact"]
        rows = Report._read_group(
            [("lead_id", "=", lead.id)],
            ["days_since_received"],
            ["contact_count:sum", "planned_count:sum"],
        )
        # done on days 1 and 5, planned for day 4 (the 10th, from 9:00 on the 5th)
        self.assertEqual(rows, [(1, 1, 0), (4, 0, 1), (5, 1, 0)])
        [(per_customer,)] = Report._read_group(
            [("lead_id", "=", lead.id)], [], ["contacts_per_customer:avg"]
        )
        self.assertEqual(per_customer, 2.0)


@tagged("post_install", "-at_install")
class TestFunnelDuplicates(FunnelPoolRulesCommon):
    """查重 / 撞单: a customer the company already has is warned of or refused."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.existing = cls._create_customers(
            layer="lead",
            grade="b",
            user=cls.user_rep_2,
            name="Acme Steel deal",
            partner_name="Acme Steel Ltd",
            phone="+86 21 5555 0100",
            email_from="office@acme-steel.cn",
        )
        cls.pooled = cls._pool(
            1, grade="a", name="Pool deal", partner_name="Beta Glass"
        )

    def _create(self, **vals):
        return (
            self.env["crm.lead"]
            .with_user(self.user_rep)
            .create(dict({"name": "New deal", "type": "opportunity"}, **vals))
        )

    def test_off_by_default(self):
        lead = self._create(partner_name="Acme Steel Ltd")
        self.assertEqual(lead.funnel_discoverer_id, self.user_rep)

    def test_refused_on_create(self):
        self.company.funnel_duplicate_check = "refuse"
        for vals in (
            {"partner_name": "  acme steel ltd "},
            {"phone": "+86 21 5555 0100"},
            {"email_from": "sales@acme-steel.cn"},
            {"partner_name": "BETA GLASS"},
        ):
            with self.subTest(vals=vals), self.assertRaises(UserError) as caught:
                self._create(**vals)
            self.assertIn("already has these customers", str(caught.exception))
            self.assertIn(
                "held by Rep Zhang" if "BETA" not in str(vals) else "in the pool",
                str(caught.exception),
            )
        self.assertFalse(self.env["crm.lead"].search_count([("name", "=", "New deal")]))
        # a public mail domain is not a company: crm's own criterion
        lead = self._create(email_from="someone@gmail.com", partner_name="Gamma")
        self.assertEqual(lead.funnel_discoverer_id, self.user_rep)

    def test_a_customer_of_ones_own_has_no_discoverer(self):
        self.company.funnel_duplicate_check = "refuse"
        mine = self._create_customers(layer="lead", grade="b", partner_name="Delta")
        lead = self._create(partner_name="Delta")
        self.assertNotEqual(lead, mine)
        self.assertFalse(lead.funnel_discoverer_id)

    def test_warned_on_create(self):
        self.company.funnel_duplicate_check = "warn"
        lead = self._create(phone="+86 21 5555 0100")
        self.assertFalse(lead.funnel_discoverer_id)
        self.assertIn("Possible duplicate", lead.message_ids[0].body)
        self.assertIn("Rep Zhang", lead.message_ids[0].body)

    def test_warned_duplicates_count_for_who_entered_them(self):
        """Each duplicate the check warns of is on record, and counts in the support
        group's figures for the member who entered it; a refused one is not."""
        self.company.funnel_duplicate_check = "warn"
        Lead = self.env["crm.lead"].with_user(self.user_support)
        caught, fresh = Lead.create(
            [
                {
                    "name": "Dup deal",
                    "partner_name": "Acme Steel Ltd",
                    "type": "opportunity",
                },
                {
                    "name": "Fresh deal",
                    "partner_name": "Zeta Works",
                    "type": "opportunity",
                },
            ]
        )
        Duplicate = self.env["crm.funnel.duplicate"].with_user(self.user_support)
        self.assertRecordValues(
            Duplicate.search([("lead_id", "in", (caught | fresh).ids)]),
            [
                {
                    "lead_id": caught.id,
                    "duplicate_of_id": self.existing.id,
                    "user_id": self.user_support.id,
                    "mode": "warn",
                    "company_id": self.company.id,
                }
            ],
        )

        def caught_count():
            self.env.flush_all()
            rows = (
                self.env["crm.funnel.report.support"]
                .with_user(self.user_support)
                ._read_group(
                    [("user_id", "=", self.user_support.id)],
                    [],
                    ["duplicate_count:sum"],
                )
            )
            return rows[0][0]

        self.assertEqual(caught_count(), 1)
        # refused: nothing is created, nothing is counted
        self.company.funnel_duplicate_check = "refuse"
        with self.assertRaises(UserError):
            Lead.create(
                {
                    "name": "Dup again",
                    "partner_name": "Acme Steel Ltd",
                    "type": "opportunity",
                }
            )
        self.assertEqual(caught_count(), 1)
        # the record is the support group's and the directors'
        with self.assertRaises(AccessError):
            self.env["crm.funnel.duplicate"].with_user(self.user_rep).search([])

    def test_the_form_warns_before_saving(self):
        self.company.funnel_duplicate_check = "warn"
        Lead = self.env["crm.lead"].with_user(self.user_rep)
        new = Lead.new({"name": "New deal", "partner_name": "ACME steel ltd"})
        result = new._onchange_funnel_duplicates()
        self.assertIn(
            "Acme Steel deal 0 (held by Rep Zhang)", result["warning"]["message"]
        )
        self.assertFalse(
            Lead.new(
                {"name": "Other", "partner_name": "Omega"}
            )._onchange_funnel_duplicates()
        )
        with Form(Lead) as form:
            form.name = "From the form"
            form.partner_name = "Gamma"
        self.assertEqual(form.record.funnel_discoverer_id, self.user_rep)

    def test_refused_on_import(self):
        self.company.funnel_duplicate_check = "refuse"
        result = (
            self.env["crm.lead"]
            .with_user(self.user_support)
            .load(
                ["name", "partner_name", "phone", "type", "user_id"],
                [
                    ["Row 1", "New Company", "", "opportunity", ""],
                    ["Row 2", "Acme Steel Ltd", "", "opportunity", ""],
                    ["Row 3", "", "+86 21 5555 0100", "opportunity", ""],
                    ["Row 4", "Other Company", "", "opportunity", ""],
                    ["Row 5", "new company", "", "opportunity", ""],
                ],
            )
        )
        # Odoo's import reports the batch, then each faulty row, and imports nothing
        rows = {
            message["record"]: message["message"]
            for message in result["messages"]
            if message["type"] == "error" and message["rows"]["from"] > 0
        }
        self.assertEqual(sorted(rows), [1, 2, 4])
        self.assertIn("Row 2 matches Acme Steel deal 0 (held by Rep Zhang)", rows[1])
        self.assertIn("Row 3 matches Acme Steel deal 0 (held by Rep Zhang)", rows[2])
        self.assertIn("Row 5 matches Row 1 (in the pool)", rows[4])
        self.assertFalse(result["ids"])
        self.assertFalse(self.env["crm.lead"].search([("name", "like", "Row ")]))
        # the file without its duplicates imports
        result = (
            self.env["crm.lead"]
            .with_user(self.user_support)
            .load(
                ["name", "partner_name", "type", "user_id"],
                [
                    ["Row 1", "New Company", "opportunity", ""],
                    ["Row 4", "Other Company", "opportunity", ""],
                ],
            )
        )
        self.assertFalse(result["messages"])
        self.assertEqual(len(result["ids"]), 2)

    def test_warned_on_import(self):
        self.company.funnel_duplicate_check = "warn"
        result = (
            self.env["crm.lead"]
            .with_user(self.user_rep)
            .load(
                ["name", "partner_name", "type"],
                [
                    ["Row 1", "Acme Steel Ltd", "opportunity"],
                    ["Row 2", "Zeta", "opportunity"],
                ],
            )
        )
        self.assertFalse(result["messages"])
        one, two = self.env["crm.lead"].browse(result["ids"])
        self.assertFalse(one.funnel_discoverer_id)
        self.assertIn("Possible duplicate", one.message_ids[0].body)
        self.assertEqual(two.funnel_discoverer_id, self.user_rep)

    def test_import_checks_in_one_query(self):
        """The duplicate check of an import's batch costs the same for 10 and 100 rows."""
        self.company.funnel_duplicate_check = "warn"
        Lead = self.env["crm.lead"].with_user(self.user_support)

        def queries(count, prefix):
            leads = Lead.create(
                [
                    {
                        "name": f"{prefix} {i}",
                        "partner_name": "Acme Steel Ltd" if i % 2 else f"{prefix} {i}",
                        "phone": f"+86 10 5555 {i:04d}",
                    }
                    for i in range(count)
                ]
            )
            leads.invalidate_model()
            self.env.flush_all()
            before = self.env.cr.sql_log_count
            self.Service.with_user(self.user_support)._funnel_check_duplicates(leads)
            return self.env.cr.sql_log_count - before

        queries(3, "Warm")
        self.assertEqual(queries(10, "Ten"), queries(100, "Hundred"))


@tagged("post_install", "-at_install")
class TestFunnelReturnPerformance(FunnelPoolRulesCommon):
    """The daily return costs the same number of queries for 10 or 50 customers."""

    def _return_queries(self, per_rep, budget):
        self.company.funnel_return_contact_days = 10
        leads = self._received(per_rep) | self._received(per_rep, user=self.user_rep_2)
        self.env.invalidate_all()
        self.env.flush_all()
        with freeze_time(T0 + timedelta(days=10)):
            before = self.env.cr.sql_log_count
            with self.assertQueryCount(budget):
                returned, _left = self.Service._funnel_return_due()
                self.env.flush_all()
            queries = self.env.cr.sql_log_count - before
        self.assertEqual(returned, leads)
        return queries

    def test_query_count_constant_in_customers(self):
        # a query to select them (without JIT: two more), one to lock them, crm's
        # write per rep, the chatter lines and the assignments in batches (Odoo
        # inserts 100 rows a query), one notice (mail) per rep: 52 queries for 2 reps
        self._return_queries(2, budget=58)  # warm-up
        small = self._return_queries(5, budget=54)
        large = self._return_queries(25, budget=54)
        self.assertEqual(small, large)

    def test_queries_grow_only_with_odoos_insert_batches(self):
        # past 100 customers (60 for each of the 2 reps), Odoo's create inserts its
        # rows 100 a query: one more query for each of the three tables filled in
        # batches (the chatter lines and the assignments among them), nothing per
        # customer
        self._return_queries(2, budget=58)  # warm-up
        small = self._return_queries(25, budget=54)
        crossing = self._return_queries(60, budget=57)
        self.assertEqual(crossing - small, 3)


@tagged("post_install", "-at_install")
class TestFunnelDailyStepsPerformance(FunnelPoolRulesCommon):
    """The daily job's other steps, releasing the cooled-down customers and warning
    of those returning soon, cost the same number of queries for 5 or 25 more
    customers a rep (those warned before are warned again: 7, then 32 a rep)."""

    def _measured(self, budget, step):
        """``step(service)`` run as the cron runs it: with the chatter's tracking
        (the tests' environment turns it off), its commit-time work (the
        tracking messages Odoo writes at commit) counted."""
        service = self.Service.with_context(tracking_disable=False, mail_notrack=False)
        self.env.invalidate_all()
        self.env.flush_all()
        self.env.cr.flush()
        before = self.env.cr.sql_log_count
        with self.assertQueryCount(budget):
            result = step(service)
            self.env.flush_all()
            self.env.cr.flush()
        return result, self.env.cr.sql_log_count - before

    def _release_queries(self, per_rep, budget):
        lost_reason = self.env.ref("crm.lost_reason_1")
        abandoned = self.env["crm.lead"]
        with freeze_time(T0):
            for user in (self.user_rep, self.user_rep_2):
                leads = self._create_customers(
                    per_rep, layer="contacted", grade="a", user=user
                )
                leads.with_user(user).action_set_lost(lost_reason_id=lost_reason.id)
                abandoned |= leads
        self.assertFalse(any(abandoned.mapped("active")))
        with freeze_time(T0 + timedelta(days=90)):
            (released, left), queries = self._measured(
                budget, lambda service: service._funnel_release_cooled_down()
            )
        self.assertEqual((released, left), (abandoned, 0))
        self.assertTrue(all(released.mapped("funnel_in_pool")))
        # each customer's chatter says why it is back, in a line of its own
        notes = self.env["mail.message"].search(
            [
                ("model", "=", "crm.lead"),
                ("res_id", "in", released.ids),
                ("body", "ilike", "Cool-down over"),
            ]
        )
        self.assertEqual(sorted(notes.mapped("res_id")), sorted(released.ids))
        return queries

    def test_release_query_count_constant_in_customers(self):
        # a query to select them, then crm's write of them all at once, without
        # Odoo's field tracking: the stages and the lead scoring it reads, the
        # move history the addon records (one insert, one query of the paths),
        # crm's scoring update and the customers' update; then their chatter
        # lines in one batch: 24 queries however many are released (with the
        # tracking, 8 more a customer)
        self._release_queries(2, budget=30)  # warm-up
        small = self._release_queries(5, budget=25)
        large = self._release_queries(25, budget=25)
        self.assertEqual(small, large)

    def _warning_queries(self, per_rep, budget):
        received = self._received(per_rep) | self._received(
            per_rep, user=self.user_rep_2
        )
        # warned once a day: the measured call warns again
        self.company.funnel_return_warned_date = False
        with freeze_time(T0 + timedelta(days=7)):
            warned, queries = self._measured(
                budget, lambda service: service._funnel_warn_returning()
            )
        self.assertLessEqual(received, warned)
        return queries

    def test_warning_query_count_constant_in_customers(self):
        # the companies to warn, the customers due within their days and their
        # reps and teams (8 queries), then one notice to each rep and one to the
        # team's manager, about 15 queries each (mail's message, its recipient,
        # the mail and its notification), and the company's warned day: 54
        # queries for 2 reps and a manager
        self.company.write(
            {"funnel_return_contact_days": 10, "funnel_return_notice_days": 3}
        )
        self._warning_queries(2, budget=60)  # warm-up
        small = self._warning_queries(5, budget=55)
        large = self._warning_queries(25, budget=55)
        self.assertEqual(small, large)
        self.assertEqual(
            len(self._notices(self.user_rep, "return to the pool soon")), 3
        )


@tagged("post_install", "-at_install")
class TestFunnelPoolRulesUi(SalesFunnelHttpCase, FunnelPoolRulesCommon):
    def test_rep_keeps_a_customer_returning_soon(self):
        self.company.write(
            {"funnel_return_contact_days": 10, "funnel_return_notice_days": 3}
        )
        now = fields.Datetime.now()
        lead = self._received(
            at=now - timedelta(days=8), name="Tour Returning Customer"
        )
        self.assertTrue(lead.funnel_returning_soon)
        self.start_tour(
            "/odoo",
            "sales_funnel_method_rep_keeps_returning_customer",
            login="funnel_rep",
        )
        lead.invalidate_recordset()
        self.assertFalse(lead.funnel_returning_soon)
        next_date = fields.Date.context_today(lead) + timedelta(days=5)
        self.assertEqual(lead.funnel_next_contact_date, next_date)
        self.assertEqual(lead.funnel_next_contact_note, "Send the offer")
        self.assertRecordValues(
            lead.activity_ids,
            [{"user_id": self.user_rep.id, "date_deadline": next_date}],
        )
        # the contact starts the count again: it does not return when it was due
        self.assertFalse(self._return_at(now + timedelta(days=3)))
        self.assertEqual(lead.user_id, self.user_rep)


@tagged("post_install", "-at_install")
class TestFunnelPoolRulesChinese(FunnelPoolRulesCommon):
    """The pool's rules speak the users' words in Chinese: 公海, 回收, 锁定, 领取,
    下次联系时间, 查重."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("zh_CN")
        cls.env["ir.module.module"]._load_module_terms(
            ["sales_funnel_method"], ["zh_CN"], overwrite=True
        )

    def test_the_users_words(self):
        env = self.env(context=dict(self.env.context, lang="zh_CN"))
        kinds = dict(
            env["crm.funnel.assignment"]._fields["kind"]._description_selection(env)
        )
        self.assertEqual(kinds["returned"], "回收到公海")
        self.assertEqual(kinds["handback"], "放入公海")
        labels = env["crm.lead"].fields_get(
            ["funnel_next_contact_date", "funnel_locked", "funnel_return_date"],
            ["string"],
        )
        self.assertEqual(labels["funnel_next_contact_date"]["string"], "下次联系时间")
        self.assertEqual(labels["funnel_locked"]["string"], "已锁定")
        self.assertEqual(labels["funnel_return_date"]["string"], "回收日期")
        settings = env.ref("sales_funnel_method.res_config_settings_view_form").arch
        self.assertIn("公海规则", settings)
        self.assertIn("查重", settings)
        # the refusals too
        self.company.write(
            {"funnel_claim_daily_limit": 1, "funnel_duplicate_check": "refuse"}
        )
        pool = self._pool(2, grade="a", team=self.team_east)
        self.user_rep.lang = "zh_CN"
        Service = env["crm.funnel.allocation"].with_user(self.user_rep)
        Service._funnel_claim(pool[0].with_user(self.user_rep))
        with self.assertRaisesRegex(UserError, "领取"):
            Service._funnel_claim(pool[1].with_user(self.user_rep))
        pool[1].partner_name = "Acme Steel Ltd"
        with self.assertRaisesRegex(UserError, "查重"):
            env["crm.lead"].with_user(self.user_rep).create(
                {"name": "Again", "partner_name": "Acme Steel Ltd"}
            )
