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
