from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged, users

from odoo.addons.mail.tests.common import mail_new_test_user

from .test_funnel_allocation import FunnelAllocationCommon

T0 = datetime(2026, 4, 1, 9, 0, 0)


@tagged("post_install", "-at_install")
class TestFunnelMerge(FunnelAllocationCommon):
    """Merging customers keeps the history of every merged one (Odoo's merge wizard
    and ``_merge_opportunity``)."""

    @users("funnel_rep")
    def test_merge_wizard_keeps_every_move_assignment_and_contact(self):
        pool = self._pool(1, grade="a", name="Twin").with_user(self.env.user)
        pool.action_funnel_claim()  # an assignment
        mine = self._create_customers(1, layer="resource", grade="b", name="Twin")
        mine = mine.with_user(self.env.user)
        mine.write({"stage_id": self.stages["contacted"].id})  # a second move
        self.env["crm.funnel.contact"]._funnel_record(pool | mine, "phone")
        moves = (pool | mine).funnel_move_ids
        contacts = (pool | mine).funnel_contact_ids
        assignments = pool.funnel_assignment_ids
        self.assertEqual((len(moves), len(contacts), len(assignments)), (3, 2, 1))
        wizard = Form(
            self.env["crm.merge.opportunity"].with_context(
                active_model="crm.lead", active_ids=(pool | mine).ids
            )
        ).save()
        survivor = wizard.action_merge()
        survivor = self.env["crm.lead"].browse(survivor["res_id"])
        self.assertEqual(len((pool | mine).exists()), 1)
        self.assertEqual(survivor.funnel_move_ids, moves)
        self.assertEqual(survivor.funnel_contact_ids, contacts)
        self.assertEqual(survivor.sudo().funnel_assignment_ids, assignments)
        merged = survivor.funnel_move_ids.filtered(lambda move: move.note)
        self.assertTrue(merged)
        self.assertTrue(all("Merged from: Twin" in move.note for move in merged))

    @users("funnel_rep")
    def test_a_rep_cannot_merge_a_pool_customer_away(self):
        pool = self._pool(1, grade="a", name="Pool twin")
        mine = self._create_customers(1, layer="resource", grade="b", name="Mine")
        with self.assertRaisesRegex(UserError, "customer pool"):
            (pool | mine).with_user(self.env.user)._merge_opportunity()
        self.assertTrue(pool.exists())
        self.assertEqual(pool.funnel_move_ids.lead_id, pool)


@tagged("post_install", "-at_install")
class TestFunnelAbandonPaths(FunnelAllocationCommon):
    """Abandoning is Odoo's Mark as Lost, on every path."""

    @users("funnel_rep")
    def test_kanban_drop_into_abandoned_is_refused_with_a_pointer(self):
        lead = self._create_customers(1, layer="lead").with_user(self.env.user)
        with self.assertRaisesRegex(UserError, r"Abandon \(Mark as Lost\)"):
            lead.write({"stage_id": self.stages["abandoned"].id})
        self.assertTrue(lead.active)
        self.assertEqual((lead.funnel_layer, lead.user_id), ("lead", self.env.user))
        self.assertEqual(lead.funnel_move_ids.mapped("move_type"), ["entry"])
        with self.assertRaisesRegex(UserError, r"Abandon \(Mark as Lost\)"):
            self.env["crm.lead"].create(
                {"name": "Dropped", "stage_id": self.stages["abandoned"].id}
            )

    @users("funnel_rep")
    def test_mark_as_lost_abandons(self):
        lead = self._create_customers(1, layer="lead").with_user(self.env.user)
        reason = self.env.ref("crm.lost_reason_1")
        self.env["crm.lead.lost"].create(
            {"lead_ids": [Command.set(lead.ids)], "lost_reason_id": reason.id}
        ).action_lost_reason_apply()
        lead = lead.sudo()
        self.assertFalse(lead.active)
        self.assertFalse(lead.user_id)
        self.assertEqual(lead.funnel_layer, "abandoned")
        self.assertEqual(lead.funnel_abandoned_by_id, self.env.user)
        self.assertTrue(lead.funnel_cooldown_until)
        abandon = lead.funnel_move_ids.filtered(lambda m: m.move_type == "abandon")
        self.assertEqual(abandon.lost_reason_id, reason)
        self.assertEqual(abandon.user_id, self.env.user)

    def test_an_import_of_abandoned_customers_comes_archived(self):
        Lead = self.env["crm.lead"].with_user(self.user_support)
        result = Lead.load(
            ["name", "stage_id/id", "active"],
            [["Old refusal", "sales_funnel_method.crm_stage_abandoned", "False"]],
        )
        self.assertEqual(len(result["ids"]), 1, result["messages"])
        result = Lead.load(
            ["name", "stage_id/id"],
            [["Active refusal", "sales_funnel_method.crm_stage_abandoned"]],
        )
        self.assertFalse(result["ids"])


@tagged("post_install", "-at_install")
class TestFunnelContextIsNoPermission(FunnelAllocationCommon):
    """The context keys the addon uses inside have no effect from a client."""

    def _cooling(self):
        with freeze_time(T0):
            lead = self._create_customers(1, layer="lead")
            lead.with_user(self.user_rep).action_set_lost()
        return lead

    @users("funnel_rep")
    def test_assigning_flag_does_not_take_pool_customers(self):
        self._set_quota(self.user_rep, 1)
        self._create_customers(1, layer="resource")  # at quota
        pool = self._pool(1, grade="a").with_user(self.env.user)
        with self.assertRaisesRegex(UserError, "customer pool"):
            pool.with_context(funnel_assigning=True).write(
                {"user_id": self.env.user.id}
            )
        self.assertFalse(pool.user_id)

    @users("funnel_director")
    def test_releasing_flags_do_not_lift_the_cool_down(self):
        lead = self._cooling().with_user(self.env.user)
        with freeze_time(T0 + timedelta(days=5)):
            for flag in ("funnel_releasing", "funnel_restoring"):
                with self.assertRaisesRegex(UserError, "cools down until"):
                    lead.with_context(**{flag: True}).write({"active": True})
                self.assertFalse(lead.active)

    @users("funnel_rep")
    def test_history_flag_does_not_skip_the_history(self):
        lead = (
            self.env["crm.lead"]
            .with_context(funnel_history_given=True)
            .create({"name": "Own find", "stage_id": self.stages["resource"].id})
        )
        self.assertEqual(lead.funnel_move_ids.mapped("move_type"), ["entry"])


@tagged("post_install", "-at_install")
class TestFunnelCoolDown(FunnelAllocationCommon):
    """The cool-down (冷处理): no path out of cold storage before it ends but the
    sales manager's evaluation, with a reason."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with freeze_time(T0):
            cls.lead = cls._create_customers(1, layer="intent", name="Cooling")
            cls.lead.with_user(cls.user_rep).action_set_lost()

    @users("funnel_director")
    def test_stage_first_then_active_is_refused(self):
        lead = self.lead.with_user(self.env.user)
        with freeze_time(T0 + timedelta(days=10)):
            with self.assertRaisesRegex(UserError, "cools down until"):
                lead.write({"stage_id": self.stages["resource"].id})
            with self.assertRaisesRegex(UserError, "cools down until"):
                lead.write({"active": True})
            with self.assertRaisesRegex(UserError, "cools down until"):
                lead.action_unarchive()
        self.assertEqual((lead.active, lead.funnel_layer), (False, "abandoned"))

    @users("funnel_manager_east")
    def test_team_manager_restores_early_with_a_reason(self):
        lead = self.lead.with_user(self.env.user)
        action = lead.action_funnel_restore_early()
        wizard = (
            self.env[action["res_model"]]
            .with_context(**action["context"])
            .create({"reason": "  "})
        )
        with freeze_time(T0 + timedelta(days=10)):
            with self.assertRaisesRegex(UserError, "Say why"):
                wizard.action_restore()
            wizard.reason = "Called back: wants a new offer"
            wizard.action_restore()
        lead = lead.sudo()
        self.assertTrue(lead.active)
        self.assertEqual(lead.funnel_layer, "resource")
        self.assertTrue(lead.funnel_in_pool)
        reopen = lead.funnel_move_ids.sorted("id")[-1]
        self.assertEqual(
            (reopen.move_type, reopen.note, reopen.changed_by_id),
            ("reopen", "Called back: wants a new offer", self.env.user),
        )
        self.assertIn("Called back: wants a new offer", lead.message_ids[0].body)

    @users("funnel_manager_west")
    def test_managers_restore_their_own_teams_only(self):
        with self.assertRaises(AccessError):
            self.env["crm.funnel.allocation"]._funnel_restore_early(
                self.lead, "not my team"
            )
        self.assertFalse(self.lead.active)

    @users("funnel_rep", "funnel_support")
    def test_reps_and_support_do_not_restore_early(self):
        with self.assertRaises(AccessError):
            self.env["crm.funnel.allocation"]._funnel_restore_early(
                self.lead, "I want it back"
            )
        self.assertFalse(self.lead.active)

    @users("funnel_rep_2")
    def test_claiming_a_cooling_customer_says_until_when(self):
        with freeze_time(T0 + timedelta(days=10)):
            with self.assertRaisesRegex(UserError, "cools down until 06/30/2026"):
                self.env["crm.funnel.allocation"]._funnel_claim(
                    self.lead.with_user(self.env.user)
                )


@tagged("post_install", "-at_install")
class TestFunnelPoolBelongsToTheCompany(FunnelAllocationCommon):
    """METHOD 11: only the support group and directors act on a pool customer until
    a rep receives it."""

    @users("funnel_rep")
    def test_a_rep_cannot_work_a_pool_customer(self):
        pool = self._pool(1, grade="b", name="Unclaimed").with_user(self.env.user)
        self.assertEqual(pool.name, "Unclaimed 0")  # reading is fine
        for vals in (
            {"stage_id": self.stages["contacted"].id},
            {"funnel_grade": "a"},
            {"name": "Renamed"},
            {"funnel_discoverer_id": self.env.user.id},
        ):
            with self.assertRaisesRegex(UserError, "customer pool"):
                pool.write(vals)
        with self.assertRaisesRegex(UserError, "customer pool"):
            pool.action_set_won()
        with self.assertRaisesRegex(UserError, "customer pool"):
            pool.action_set_lost()
        pool = pool.sudo()
        self.assertEqual(
            (pool.name, pool.funnel_grade, pool.funnel_layer, pool.active),
            ("Unclaimed 0", "b", "resource", True),
        )
        self.assertFalse(pool.funnel_discoverer_id)

    @users("funnel_rep")
    def test_a_rep_cannot_make_themselves_the_discoverer(self):
        mine = self._create_customers(1, layer="resource").with_user(self.env.user)
        with self.assertRaisesRegex(UserError, "discoverer"):
            mine.write({"funnel_discoverer_id": self.env.user.id})
        created = self.env["crm.lead"].create(
            {
                "name": "Found",
                "stage_id": self.stages["resource"].id,
                "funnel_discoverer_id": self.user_rep_2.id,
            }
        )
        self.assertEqual(created.funnel_discoverer_id, self.env.user)

    @users("funnel_support")
    def test_support_cleans_and_grades_pool_customers(self):
        pool = self._pool(1, name="To clean").with_user(self.env.user)
        pool.write({"name": "Cleaned", "funnel_grade": "a"})
        pool.write({"stage_id": self.stages["graded"].id})
        pool.write({"funnel_discoverer_id": self.user_rep_2.id})
        self.assertEqual(
            (pool.name, pool.funnel_layer, pool.funnel_discoverer_id),
            ("Cleaned", "graded", self.user_rep_2),
        )


@tagged("post_install", "-at_install")
class TestFunnelDiscovererFirst(FunnelAllocationCommon):
    """A customer discovered by a rep is reserved for them within their allowance
    (METHOD 4: 个人发掘), for claims as for allocation."""

    def test_reserved_for_the_discoverer_within_the_allowance(self):
        found = self._pool(1, grade="a", funnel_discoverer_id=self.user_rep_2.id)
        with self.assertRaisesRegex(UserError, r"reserved .*\(Rep Zhang\)"):
            self.Service.with_user(self.user_rep)._funnel_claim(
                found.with_user(self.user_rep)
            )
        self.assertFalse(found.user_id)
        # beyond the allowance, it follows the ranking like any other
        self._set_quota(self.user_rep_2, 1)
        self._create_customers(3, layer="resource", user=self.user_rep_2)  # 1 + 2
        self.Service.with_user(self.user_rep)._funnel_claim(
            found.with_user(self.user_rep)
        )
        self.assertEqual(found.user_id, self.user_rep)

    def test_discoverer_claims_their_own_above_the_quota(self):
        self._set_quota(self.user_rep, 1)
        self._create_customers(1, layer="resource")  # at quota
        other = self._pool(1, grade="a")
        own = self._pool(3, grade="a", funnel_discoverer_id=self.user_rep.id)
        with self.assertRaisesRegex(UserError, "you can claim 0 more"):
            self.Service._funnel_claim(other, self.user_rep)
        # the allowance is 2: two of their own, not three
        with self.assertRaisesRegex(UserError, "2 with the ones you discovered"):
            self.Service._funnel_claim(own, self.user_rep)
        self.Service._funnel_claim(own[:2], self.user_rep)
        self.assertEqual(own[:2].user_id, self.user_rep)

    def test_an_abandoned_customer_never_goes_back_to_its_abandoner(self):
        with freeze_time(T0):
            lead = self._create_customers(
                1, layer="lead", funnel_discoverer_id=self.user_rep.id
            )
            lead.with_user(self.user_rep).action_set_lost()
        self._won(self.user_rep, 9000)  # the best seller, and the discoverer
        with freeze_time(T0 + timedelta(days=91)):
            self.Service._funnel_release_cooled_down()
            self.assertTrue(lead.funnel_in_pool)
            self._allocate(lead)
        self.assertTrue(lead.user_id)
        self.assertNotEqual(lead.user_id, self.user_rep)


@tagged("post_install", "-at_install")
class TestFunnelQuotaOverride(FunnelAllocationCommon):
    @users("funnel_support")
    def test_bounded_with_a_translated_error_before_the_database(self):
        member = self._member(self.user_rep).with_user(self.env.user)
        for bad in (-1, 1001):
            with self.assertRaisesRegex(ValidationError, "from 1 to 1000"):
                member.funnel_quota_override = bad
        self.assertEqual(member.funnel_quota_override, 0)
        member.funnel_quota_override = 1000
        self.assertEqual(member.funnel_quota, 1000)

    def test_receives_nothing_is_not_the_company_quota(self):
        member = self._member(self.user_rep)
        member.funnel_receives_nothing = True
        self.assertEqual((member.funnel_quota, member.funnel_capacity), (0, 0))
        pool = self._pool(2, grade="a")
        mine = self._pool(1, grade="a", funnel_discoverer_id=self.user_rep.id)
        with self.assertRaisesRegex(UserError, "receive no customers"):
            self.Service._funnel_claim(mine, self.user_rep)
        self._allocate(pool | mine)
        self.assertNotIn(self.user_rep, (pool | mine).user_id)
        with self.assertRaisesRegex(UserError, "cannot receive customers"):
            self.Service._funnel_handover(self.user_rep_2, colleague=self.user_rep)
        member.funnel_receives_nothing = False
        self.assertEqual(member.funnel_quota, 30)


@tagged("post_install", "-at_install")
class TestOdooLeadAssignmentKeepsTheQuota(FunnelAllocationCommon):
    """Odoo's own assignment (a team's "Assign Leads", its cron) gives a funnel rep
    no more than their capacity: two engines, one quota."""

    def test_assign_leads_is_capped_by_the_funnel_capacity(self):
        self._set_quota(self.user_rep, 3)
        self._set_quota(self.user_rep_2, 1)
        self._create_customers(2, layer="resource")  # funnel_rep: room for 1
        self._create_customers(1, layer="resource", user=self.user_rep_2)  # full
        members = self._member(self.user_rep) | self._member(self.user_rep_2)
        members.write({"assignment_max": 300})
        self.assertEqual(
            self._member(self.user_rep)._get_assignment_quota(force_quota=True), 1
        )
        self.assertEqual(
            self._member(self.user_rep_2)._get_assignment_quota(force_quota=True), 0
        )
        leads = self.env["crm.lead"].create(
            [
                {
                    "name": f"Web lead {index}",
                    "type": "lead",
                    "team_id": self.team_east.id,
                    "user_id": False,
                    "stage_id": self.stages["resource"].id,
                }
                for index in range(5)
            ]
        )
        self.team_east._action_assign_leads(force_quota=True, creation_delta_days=0)
        self.assertEqual(len(leads.filtered("user_id")), 1)
        self.assertEqual(leads.filtered("user_id").user_id, self.user_rep)
        # what Odoo assigned counts as received
        self.assertEqual(
            leads.filtered("user_id").funnel_assignment_ids.mapped("kind"), ["manual"]
        )


@tagged("post_install", "-at_install")
class TestFunnelSalesTotal(FunnelAllocationCommon):
    """METHOD 11: the sales total is what a rep and a team signed, from the history."""

    def test_revenue_stays_with_the_rep_who_signed(self):
        signed = self._won(self.user_rep_2, 4000)
        self._member(self.user_rep_west).crm_team_id = self.team_east
        self.Service._funnel_handover(self.user_rep_2, colleague=self.user_rep_west)
        # the signed customer goes to a rep (nobody won anything: the tie-break)
        self.assertEqual(signed.user_id, self.user_rep)
        by_user, by_team = self.Service._funnel_sales_totals(self.company)
        self.assertEqual(by_user.get(self.user_rep_2.id), 4000)
        self.assertFalse(by_user.get(self.user_rep.id))
        self.assertEqual(by_team.get(self.team_east.id), 4000)

    def test_a_customer_reopened_straight_to_signed_is_a_signing(self):
        with freeze_time(T0):
            lead = self._create_customers(
                1, layer="intent", expected_revenue=700, user=self.user_rep_2
            )
            lead.with_user(self.user_rep_2).action_set_lost()
        # after its cool-down, the customer comes back and signs at once
        with freeze_time(T0 + timedelta(days=91)):
            lead.with_user(self.user_director).write(
                {
                    "active": True,
                    "stage_id": self.stages["signed"].id,
                    "user_id": self.user_rep_2.id,
                }
            )
            self.assertEqual(lead.funnel_move_ids.sorted("id")[-1].move_type, "reopen")
            by_user, _by_team = self.Service._funnel_sales_totals(self.company)
        self.assertEqual(by_user.get(self.user_rep_2.id), 700)


@tagged("post_install", "-at_install")
class TestFunnelHandoverLeaver(FunnelAllocationCommon):
    def test_the_leaver_stops_receiving_at_once(self):
        self._won(self.user_rep, 100)
        self._won(self.user_rep_2, 9000)  # the best seller leaves
        mine = self._create_customers(1, layer="intent", user=self.user_rep_2)
        self.Service._funnel_handover(self.user_rep_2)
        self.assertEqual(mine.user_id, self.user_rep)
        self.assertFalse(
            self.env["crm.team.member"].search([("user_id", "=", self.user_rep_2.id)])
        )
        # the next hand-over does not give the leaver anything
        later = self._create_customers(
            1, layer="signed", user=self.user_rep_west, team=self.team_west
        )
        self.Service._funnel_handover(self.user_rep_west)
        self.assertEqual(later.user_id, self.user_rep)
        pool = self._pool(1, grade="a")
        self._allocate(pool)
        self.assertEqual(pool.user_id, self.user_rep)

    def test_signed_customers_need_someone_to_go_to(self):
        signed = self._create_customers(1, layer="signed", user=self.user_rep_2)
        for user in (self.user_rep, self.user_rep_west):
            self._member(user).funnel_receives_nothing = True
        with self.assertRaisesRegex(UserError, "Nobody can take over"):
            self.Service._funnel_handover(self.user_rep_2)
        self.assertEqual(signed.user_id, self.user_rep_2)


@tagged("post_install", "-at_install")
class TestFunnelCompanyBoundaries(FunnelAllocationCommon):
    """The wizards and the service act only in a company the user works in."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env["res.company"].create({"name": "Funnel Company C"})
        cls.rep_b = mail_new_test_user(
            cls.env,
            login="funnel_rep_c",
            name="Rep C",
            company_id=cls.company_b.id,
            company_ids=[Command.set(cls.company_b.ids)],
            groups="sales_funnel_method.sales_funnel_method_group_rep",
        )
        cls.director_b = mail_new_test_user(
            cls.env,
            login="funnel_director_c",
            name="Director C",
            email="director.c@example.com",
            company_id=cls.company_b.id,
            company_ids=[Command.set(cls.company_b.ids)],
            groups="sales_funnel_method.sales_funnel_method_group_director",
        )
        cls.team_b = cls.env["crm.team"].create(
            {
                "name": "Team C",
                "company_id": cls.company_b.id,
                "user_id": cls.director_b.id,
                "crm_team_member_ids": [Command.create({"user_id": cls.rep_b.id})],
            }
        )
        cls.pool_b = cls._pool(
            2, grade="a", team=cls.team_b, company_id=cls.company_b.id
        )

    @users("funnel_support")
    def test_allocation_wizard_refuses_another_company(self):
        # whatever company_id a client sends
        wizard = self.env["crm.funnel.allocate"].create(
            {"company_id": self.company_b.id}
        )
        with self.assertRaises(AccessError):
            wizard.action_allocate()
        with self.assertRaises(AccessError):
            self.env["crm.funnel.allocation"]._funnel_allocate(company=self.company_b)
        self.assertFalse(self.pool_b.sudo().user_id)

    @users("funnel_support")
    def test_handover_wizard_refuses_another_company(self):
        held = self._create_customers(
            1,
            layer="lead",
            user=self.rep_b,
            team=self.team_b,
            company_id=self.company_b.id,
        )
        wizard = self.env["crm.funnel.handover.wizard"].create(
            {"user_id": self.rep_b.id, "company_id": self.company_b.id}
        )
        with self.assertRaises(AccessError):
            wizard.action_handover()
        with self.assertRaises(AccessError):
            self.env["crm.funnel.allocation"]._funnel_handover(
                self.rep_b, company=self.company_b
            )
        self.assertEqual(held.sudo().user_id, self.rep_b)

    def test_a_director_of_another_company_does_not_restore_early(self):
        # (a customer of a team of no company is shared by all companies)
        team_a = self.env["crm.team"].create(
            {"name": "Team of A", "company_id": self.env.company.id}
        )
        with freeze_time(T0):
            lead = self._create_customers(1, layer="lead", team=team_a)
            lead.with_user(self.user_rep).action_set_lost()
        with freeze_time(T0 + timedelta(days=3)), self.assertRaises(AccessError):
            self.Service.with_user(self.director_b)._funnel_restore_early(
                lead, "not mine"
            )
        self.assertFalse(lead.active)

    def test_a_claim_stays_in_the_rep_s_companies(self):
        with self.assertRaises(AccessError):
            self.Service._funnel_claim(self.pool_b, self.user_rep)
        self.assertFalse(self.pool_b.user_id)

    def test_weekly_summary_shows_each_director_their_companies(self):
        self.user_director.email = "director.a@example.com"
        team_a = self.env["crm.team"].create(
            {
                "name": "Team of A only",
                "company_id": self.env.company.id,
                "crm_team_member_ids": [Command.create({"user_id": self.user_rep.id})],
            }
        )
        recipients = self.env["crm.funnel.summary"]._funnel_recipients()
        self.assertIn(team_a, recipients[self.user_director])
        self.assertNotIn(self.team_b, recipients[self.user_director])
        self.assertIn(self.team_b, recipients[self.director_b])
        self.assertNotIn(team_a, recipients[self.director_b])
        # a team of no company is everybody's
        self.assertIn(self.team_east, recipients[self.director_b])

    def test_digest_counts_what_the_recipient_may_read(self):
        with freeze_time(T0):
            theirs = self._create_customers(1, layer="resource", user=self.user_rep_2)
            mine = self._create_customers(1, layer="resource")
            (mine | theirs).write(
                {"stage_id": self.stages["graded"].id, "funnel_grade": "a"}
            )
        digest = self.env["digest.digest"].create(
            {"name": "Funnel", "kpi_funnel_moves": True}
        )
        with freeze_time(T0 + timedelta(hours=1)):
            self.assertEqual(digest.with_user(self.user_rep).kpi_funnel_moves_value, 1)
            digest.invalidate_recordset()
            self.assertEqual(
                digest.with_user(self.user_director).kpi_funnel_moves_value, 2
            )

    def test_findings_go_to_managers_of_their_company(self):
        outsider = mail_new_test_user(
            self.env,
            login="funnel_manager_other",
            name="Manager Elsewhere",
            company_id=self.company_b.id,
            company_ids=[Command.set(self.company_b.ids)],
            groups="sales_funnel_method.sales_funnel_method_group_manager",
        )
        team = self.env["crm.team"].create(
            {"name": "Shared team", "company_id": False, "user_id": outsider.id}
        )
        finding = self.env["crm.funnel.exception"].create(
            {
                "exception_type": "overdue",
                "team_id": team.id,
                "company_id": self.env.company.id,
                "measured": 3,
                "threshold": 1,
            }
        )
        finding._funnel_notify_managers()
        self.assertFalse(finding.activity_ids)


@tagged("post_install", "-at_install")
class TestFunnelReviewedPaths(FunnelAllocationCommon):
    """Paths found by review: archiving without abandoning, handing back by a plain
    write, copies, contacts and messages on pool customers, forged dates."""

    @users("funnel_rep")
    def test_archiving_in_another_layer_is_no_way_around_abandoning(self):
        self._set_quota(self.user_rep, 1)
        lead = self._create_customers(1, layer="contacted").with_user(self.env.user)
        for vals in (
            {"active": False, "stage_id": self.stages["contacted"].id},
            {"active": False, "stage_id": self.stages["lead"].id},
        ):
            with self.assertRaisesRegex(UserError, "Abandon"):
                lead.write(vals)
        self.assertTrue(lead.active)
        with self.assertRaisesRegex(UserError, "Abandon"):
            self.env["crm.lead"].create(
                {
                    "name": "Archived contact",
                    "stage_id": self.stages["contacted"].id,
                    "funnel_grade": "b",
                    "active": False,
                }
            )

    @users("funnel_rep")
    def test_a_rep_does_not_hand_back_by_clearing_the_salesperson(self):
        lead = self._create_customers(1, layer="intent").with_user(self.env.user)
        with self.assertRaisesRegex(UserError, "goes back to the pool"):
            lead.write({"user_id": False})
        self.assertEqual(lead.user_id, self.env.user)

    @users("funnel_rep")
    def test_a_rep_neither_copies_nor_logs_contacts_on_pool_customers(self):
        pool = self._pool(1, grade="a", name="Pool customer").with_user(self.env.user)
        with self.assertRaisesRegex(UserError, "customer pool"):
            pool.copy()
        wizard = self.env["crm.funnel.contact.log"].create(
            {"lead_id": pool.id, "kind": "phone"}
        )
        with self.assertRaisesRegex(UserError, "customer pool"):
            wizard.action_log()
        self.assertFalse(pool.sudo().funnel_contact_ids)

    @users("funnel_rep")
    def test_the_funnel_s_own_dates_are_not_written_by_clients(self):
        lead = self._create_customers(1, layer="resource").with_user(self.env.user)
        entered = lead.funnel_layer_date
        with self.assertRaisesRegex(UserError, "cannot be written"):
            lead.write({"funnel_layer_date": "2020-01-01 00:00:00"})
        with self.assertRaisesRegex(UserError, "cannot be written"):
            lead.write({"funnel_abandoned_by_id": self.user_rep_2.id})
        self.assertEqual(lead.funnel_layer_date, entered)
        created = self.env["crm.lead"].create(
            {
                "name": "Back-dated",
                "stage_id": self.stages["resource"].id,
                "funnel_layer_date": "2020-01-01 00:00:00",
            }
        )
        self.assertGreater(created.funnel_layer_date, entered.replace(year=2021))

    def test_only_the_abandoner_writes_crm_s_follow_up_on_a_cooling_customer(self):
        lead = self._create_customers(1, layer="lead")
        lead.with_user(self.user_rep).action_set_lost()
        reason = self.env.ref("crm.lost_reason_2")
        lead.with_user(self.user_rep).write({"lost_reason_id": reason.id})
        with self.assertRaisesRegex(UserError, "customer pool"):
            lead.with_user(self.user_rep_2).write({"lost_reason_id": False})
        self.assertEqual(lead.lost_reason_id, reason)

    @users("funnel_director")
    def test_the_abandon_counts_for_the_rep_who_held_it(self):
        lead = self._create_customers(1, layer="lead").with_user(self.env.user)
        lead.write({"active": False, "user_id": self.user_rep_2.id})
        self.assertEqual(lead.funnel_abandoned_by_id, self.user_rep)
        self.assertFalse(lead.user_id)
        self.assertEqual(lead.funnel_move_ids.sorted("id")[-1].user_id, self.user_rep)

    @users("funnel_director")
    def test_merging_with_an_abandoned_duplicate_keeps_the_active_customer(self):
        active = self._create_customers(1, layer="contacted", name="Duplicate")
        with freeze_time(T0):
            cooling = self._create_customers(1, layer="lead", name="Duplicate")
            cooling.with_user(self.user_rep).action_set_lost()
        survivor = (active | cooling).with_user(self.env.user)._merge_opportunity()
        self.assertEqual(survivor, active)
        self.assertTrue(survivor.active)
        self.assertEqual(survivor.user_id, self.user_rep)
        self.assertEqual(len(survivor.funnel_move_ids), 3)

    def test_stages_are_mapped_by_the_support_group_and_directors(self):
        self._create_customers(1, layer=False, grade="a")
        with self.assertRaises(AccessError):
            self.plain_stages[0].with_user(self.user_manager_east).funnel_layer = "lead"
        self.assertFalse(self.plain_stages[0].funnel_layer)

    def test_the_abandoned_stage_keeps_its_cooling_customers(self):
        with freeze_time(T0):
            lead = self._create_customers(1, layer="lead")
            lead.with_user(self.user_rep).action_set_lost()
        with self.assertRaisesRegex(UserError, "cool down"):
            self.stages["abandoned"].with_user(
                self.user_director
            ).funnel_layer = "resource"
        self.assertEqual(lead.funnel_layer, "abandoned")

    def test_a_rep_in_two_teams_has_one_capacity_for_odoo_s_assignment(self):
        self.env["ir.config_parameter"].set_param("sales_team.membership_multi", True)
        self._set_quota(self.user_rep, 3)
        self.team_west.crm_team_member_ids = [
            Command.create({"user_id": self.user_rep.id, "assignment_max": 300})
        ]
        members = self.env["crm.team.member"].search(
            [("user_id", "=", self.user_rep.id)]
        )
        members.write({"assignment_max": 300})
        self.assertEqual(len(members), 2)
        quotas = [member._get_assignment_quota(force_quota=True) for member in members]
        self.assertEqual(sum(quotas), 3)

    @users("funnel_support")
    def test_support_in_a_team_is_the_discoverer_of_what_they_create(self):
        self.team_east.crm_team_member_ids = [
            Command.create({"user_id": self.env.user.id})
        ]
        lead = self.env["crm.lead"].create(
            {"name": "Registered", "stage_id": self.stages["resource"].id}
        )
        self.assertEqual(lead.funnel_discoverer_id, self.env.user)
        named = self.env["crm.lead"].create(
            {
                "name": "Found by a rep",
                "stage_id": self.stages["resource"].id,
                "funnel_discoverer_id": self.user_rep_2.id,
            }
        )
        self.assertEqual(named.funnel_discoverer_id, self.user_rep_2)

    def test_a_leaver_s_customers_go_to_the_best_seller_not_their_discoverer(self):
        self._won(self.user_rep, 9000)  # Team East, its best seller
        signed = self._create_customers(
            1,
            layer="signed",
            user=self.user_rep_2,
            funnel_discoverer_id=self.user_rep_west.id,
        )
        self.Service._funnel_handover(self.user_rep_2)
        self.assertEqual(signed.user_id, self.user_rep)
