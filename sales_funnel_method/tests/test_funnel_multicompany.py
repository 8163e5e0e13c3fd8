from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged

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
