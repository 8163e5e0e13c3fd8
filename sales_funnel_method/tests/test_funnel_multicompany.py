from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import SQL

from odoo.addons.mail.tests.common import mail_new_test_user

from .test_funnel_allocation import FunnelAllocationCommon


@tagged("post_install", "-at_install")
class TestFunnelMultiCompany(FunnelAllocationCommon):
    """Quotas, pool, allocation, exceptions and reports are per company."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env["res.company"].create(
            {"name": "Funnel Company B", "funnel_quota": 5}
        )
        cls.rep_b = mail_new_test_user(
            cls.env,
            login="funnel_rep_b",
            name="Rep B",
            company_id=cls.company_b.id,
            company_ids=[Command.set(cls.company_b.ids)],
            groups="sales_funnel_method.sales_funnel_method_group_rep",
        )
        cls.team_b = cls.env["crm.team"].create(
            {
                "name": "Team B",
                "company_id": cls.company_b.id,
                "crm_team_member_ids": [Command.create({"user_id": cls.rep_b.id})],
            }
        )
        cls.pool_a = cls._pool(2, grade="a", team=cls.team_east)
        cls.pool_b = cls._pool(
            2, grade="a", team=cls.team_b, company_id=cls.company_b.id
        )

    def test_allocation_stays_in_its_company(self):
        self.Service.with_company(self.env.company)._funnel_allocate()
        self.assertTrue(all(self.pool_a.mapped("user_id")))
        self.assertFalse(self.pool_b.user_id)
        self.Service.with_company(self.company_b)._funnel_allocate(
            company=self.company_b
        )
        self.assertEqual(self.pool_b.user_id, self.rep_b)
        self.assertEqual(self.pool_b.funnel_assignment_ids.company_id, self.company_b)

    def test_quota_is_the_company_setting(self):
        member = self.env["crm.team.member"].search([("user_id", "=", self.rep_b.id)])
        self.assertEqual(member.with_company(self.company_b).funnel_quota, 5)
        self.assertEqual(self._member(self.user_rep).funnel_quota, 30)

    def test_other_company_customers_are_out_of_reach(self):
        self.Service.with_company(self.company_b)._funnel_allocate(
            company=self.company_b
        )
        with self.assertRaises(AccessError):
            self.pool_b.with_user(self.user_rep).read(["name"])
        moves = (
            self.env["crm.funnel.move"]
            .with_user(self.user_director)
            .search([("lead_id", "in", self.pool_b.ids)])
        )
        self.assertFalse(moves)  # the director works in company A only
        rows = (
            self.env["crm.funnel.report.move"]
            .with_user(self.rep_b)
            .with_company(self.company_b)
            .search([])
        )
        self.assertFalse(rows.filtered(lambda row: row.company_id != self.company_b))

    def test_exceptions_per_company(self):
        self.Service.with_company(self.company_b)._funnel_allocate(
            company=self.company_b
        )
        found = (
            self.env["crm.funnel.exception"]
            .with_company(self.company_b)
            ._funnel_run_checks(self.company_b)
        )
        self.assertTrue(found)
        self.assertEqual(found.company_id, self.company_b)
        self.assertEqual(set(found.mapped("user_id").ids) - {False}, {self.rep_b.id})

    def test_every_report_shows_each_company_its_own_rows(self):
        """Both companies have holdings, moves, an abandoned customer and a contact:
        a director of each reads only their company's rows in every report."""
        director_b = mail_new_test_user(
            self.env,
            login="funnel_director_b",
            name="Director B",
            company_id=self.company_b.id,
            company_ids=[Command.set(self.company_b.ids)],
            groups="sales_funnel_method.sales_funnel_method_group_director",
        )
        # customers of a team without company belong to no company, and Odoo shows
        # such records in every company: these ones are company A's
        pool_a = self._pool(
            2, grade="a", team=self.team_east, company_id=self.env.company.id
        )
        self.Service.with_company(self.env.company)._funnel_allocate()
        self.Service.with_company(self.company_b)._funnel_allocate(
            company=self.company_b
        )
        for pool in (pool_a, self.pool_b):
            self.env["crm.funnel.contact"]._funnel_record(pool[0], "phone")
            pool[1].action_set_lost()
        self.env.flush_all()
        reports = (
            "crm.funnel.report.overview",
            "crm.funnel.report.holding",
            "crm.funnel.report.move",
            "crm.funnel.report.abandon",
            "crm.funnel.report.contact",
        )
        for director, company, other in (
            (self.user_director, self.env.company, self.company_b),
            (director_b, self.company_b, self.env.company),
        ):
            for report in reports:
                with self.subTest(report=report, company=company.name):
                    companies = (
                        self.env[report].with_user(director).search([]).company_id
                    )
                    self.assertIn(company, companies)
                    self.assertNotIn(other, companies)
        # nor can a director of company A switch to company B's rows
        with self.assertRaises(AccessError):
            self.env["crm.funnel.report.move"].with_user(
                self.user_director
            ).with_company(self.company_b).search([])

    def test_hand_back_and_unlock_stay_in_the_users_companies(self):
        """The support group and directors hand back and unlock customers of their
        own companies only, whatever ids a client sends."""
        self.company_b.funnel_lock_limit = 1
        held_b, locked_b = self._create_customers(
            2,
            layer="contacted",
            user=self.rep_b,
            team=self.team_b,
            company_id=self.company_b.id,
        )
        self.Service.with_user(self.rep_b)._funnel_lock(locked_b)
        self.assertTrue(locked_b.funnel_locked)
        for user in (self.user_support, self.user_director):
            with self.subTest(user=user.login):
                Service = self.Service.with_user(user)
                with self.assertRaises(AccessError):
                    Service._funnel_hand_back(held_b, "not yours")
                with self.assertRaises(AccessError):
                    self.env["crm.funnel.handback.wizard"].with_user(user).create(
                        {"lead_ids": held_b.ids, "reason": "not yours"}
                    ).action_hand_back()
                with self.assertRaises(AccessError):
                    Service._funnel_lock(locked_b, lock=False)
        self.assertEqual(held_b.user_id, self.rep_b)
        self.assertTrue(locked_b.funnel_locked)
        # in their own company they still do
        director_b = mail_new_test_user(
            self.env,
            login="funnel_director_b2",
            name="Director B",
            company_id=self.company_b.id,
            company_ids=[Command.set(self.company_b.ids)],
            groups="sales_funnel_method.sales_funnel_method_group_director",
        )
        self.Service.with_user(director_b)._funnel_lock(locked_b, lock=False)
        self.assertFalse(locked_b.funnel_locked)

    def test_the_lock_limit_is_each_companys(self):
        """A rep working in two companies locks up to each company's limit there,
        and the Lock button follows the customer's company."""
        rep = mail_new_test_user(
            self.env,
            login="funnel_rep_ab",
            name="Rep AB",
            company_id=self.env.company.id,
            company_ids=[Command.set((self.env.company | self.company_b).ids)],
            groups="sales_funnel_method.sales_funnel_method_group_rep",
        )
        # a team of no company is a team in each of them
        team = self.env["crm.team"].create(
            {
                "name": "Team Everywhere",
                "company_id": False,
                "crm_team_member_ids": [Command.create({"user_id": rep.id})],
            }
        )
        self.env.company.funnel_lock_limit = 1
        self.company_b.funnel_lock_limit = 1
        lead_a = self._create_customers(
            layer="contacted", user=rep, team=team, company_id=self.env.company.id
        )
        lead_b = self._create_customers(
            layer="contacted", user=rep, team=team, company_id=self.company_b.id
        )
        both = (self.env.company | self.company_b).ids
        Service = self.Service.with_user(rep).with_context(allowed_company_ids=both)
        Service._funnel_lock(lead_b)
        Service._funnel_lock(lead_a)
        self.assertTrue(lead_a.funnel_locked and lead_b.funnel_locked)
        # locking is off in company A: the button of company B's customer stays
        self.env.company.funnel_lock_limit = 0
        Service._funnel_lock(lead_b, lock=False)
        Service._funnel_lock(lead_a, lock=False)
        (lead_a | lead_b).invalidate_recordset()
        leads = (lead_a | lead_b).with_user(rep).with_context(allowed_company_ids=both)
        self.assertEqual(leads.mapped("funnel_can_lock"), [False, True])

    def test_the_duplicate_warning_stays_in_the_users_company(self):
        """The form's duplicate warning searches the user's companies only, whatever
        company the client puts in the new customer."""
        (self.env.company | self.company_b).funnel_duplicate_check = "warn"
        self._pool(
            team=self.team_b,
            company_id=self.company_b.id,
            name="Secret deal B",
            partner_name="Secret Steel B",
        )
        values = {
            "name": "Probe",
            "partner_name": "Secret Steel B",
            "company_id": self.company_b.id,
        }
        probe = self.env["crm.lead"].with_user(self.user_rep).new(values)
        self.assertFalse(probe._onchange_funnel_duplicates())
        # in company B, its own rep is warned
        warning = (
            self.env["crm.lead"].with_user(self.rep_b).new(values)
        )._onchange_funnel_duplicates()
        self.assertIn("Secret deal B 0", warning["warning"]["message"])

    def test_memberships_in_sql_are_the_services(self):
        """The holdings report, the leaver check and the dashboard's filters read
        a rep's teams as the allocation service defines them, the first two in
        SQL: the same memberships in each company and over all companies (a rep
        who no longer works in a team's company, an archived membership, a team
        out of the funnel, a team of no company)."""
        Member = self.env["crm.team.member"]
        # memberships in several teams kept (Odoo archives the others otherwise)
        self.env["ir.config_parameter"].sudo().set_param(
            "sales_team.membership_multi", True
        )
        self.team_east.company_id = self.team_west.company_id = self.env.company
        # rep B was in the east team of the main company, then left that company
        self.rep_b.write(
            {
                "company_ids": [Command.link(self.env.company.id)],
                "company_id": self.env.company.id,
            }
        )
        stray = Member.create(
            {"user_id": self.rep_b.id, "crm_team_id": self.team_east.id}
        )
        self.rep_b.write(
            {
                "company_id": self.company_b.id,
                "company_ids": [Command.set(self.company_b.ids)],
            }
        )
        # a team of no company: a rep's team in every company the user works in
        anywhere = self.env["crm.team"].create(
            {"name": "Anywhere", "company_id": False}
        )
        Member.create({"user_id": self.rep_b.id, "crm_team_id": anywhere.id})
        # an archived membership, and a team that does not work the funnel
        archived = Member.create(
            {"user_id": self.user_rep_2.id, "crm_team_id": self.team_west.id}
        )
        archived.action_archive()
        outside = self.env["crm.team"].create(
            {"name": "No funnel", "use_funnel": False}
        )
        Member.create({"user_id": self.user_rep.id, "crm_team_id": outside.id})
        self.assertTrue(stray.active)

        def in_sql(company):
            self.env.cr.execute(
                SQL(
                    "SELECT member.id FROM crm_team_member member WHERE %s",
                    Member._funnel_membership_sql("member", company),
                )
            )
            return {row[0] for row in self.env.cr.fetchall()}

        main, company_b = self.env.company, self.company_b
        for company in (main, company_b):
            expected = set(Member._funnel_memberships(company).ids)
            self.assertEqual(in_sql(company), expected, company.name)
        # not an empty comparison: the main company's reps, and rep B twice in
        # company B (team B and the team of no company)
        self.assertLessEqual(
            {self.user_rep.id, self.user_rep_2.id, self.user_rep_west.id},
            set(Member.browse(in_sql(main)).user_id.ids),
        )
        self.assertEqual(len(in_sql(company_b)), 2)
        self.assertEqual(
            in_sql(None),
            set(Member._funnel_memberships(main).ids)
            | set(Member._funnel_memberships(company_b).ids),
        )
        self.assertNotIn(stray.id, in_sql(None) | in_sql(main))
        # rep B's own team left: the holdings show rep B in the team of no
        # company, not in the east team of a company they no longer work in
        Member.search(
            [("user_id", "=", self.rep_b.id), ("crm_team_id", "=", self.team_b.id)]
        ).action_archive()
        self.env.flush_all()
        holdings = self.env["crm.funnel.report.holding"].search(
            [("user_id", "=", self.rep_b.id)]
        )
        self.assertEqual(holdings.team_id, anywhere)
        # nor is rep B one of the east team's reps in the dashboard's filters
        _teams, reps = self.env["crm.funnel.dashboard"]._funnel_options(main)
        self.assertNotIn(self.rep_b.id, [rep["id"] for rep in reps])
        self.assertIn(self.user_rep.id, [rep["id"] for rep in reps])
        # a rep still in a main-company team who left the company is a leaver
        self._create_customers(
            1, layer="graded", user=self.user_rep_west, team=self.team_west
        )
        self.user_rep_west.write(
            {
                "company_ids": [Command.link(company_b.id)],
                "company_id": company_b.id,
            }
        )
        self.user_rep_west.company_ids = [Command.unlink(main.id)]
        self.env.flush_all()
        leavers = self.env["crm.funnel.exception"]._funnel_check_leaver(
            {"company": main}
        )
        self.assertIn(self.user_rep_west.id, [row["user_id"] for row in leavers])
