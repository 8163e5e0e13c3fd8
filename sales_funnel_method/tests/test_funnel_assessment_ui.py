from odoo import fields
from odoo.tests import tagged

from .common_http import SalesFunnelHttpCase
from .test_funnel_allocation import FunnelAllocationCommon


@tagged("post_install", "-at_install")
class TestFunnelAssessmentUi(SalesFunnelHttpCase, FunnelAllocationCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # this month: Rep Li signs 12,000, Rep Zhang 5,000; Team West nothing
        cls._create_customers(layer="signed", grade="a", expected_revenue=12000)
        cls._create_customers(
            layer="signed", grade="a", user=cls.user_rep_2, expected_revenue=5000
        )

    def test_manager_sets_a_target_and_reads_the_ranking(self):
        self.start_tour(
            "/odoo",
            "sales_funnel_method_manager_sets_targets",
            login="funnel_manager_east",
        )
        target = self.env["crm.funnel.target"].search(
            [("user_id", "=", self.user_rep.id)]
        )
        self.assertRecordValues(
            target,
            [
                {
                    "year": fields.Date.today().year,
                    "kind": "revenue",
                    "team_id": self.team_east.id,
                    "month_01": 25000,
                    "year_total": 25000,
                    "create_uid": self.user_manager_east.id,
                }
            ],
        )

    def test_rep_reads_the_month_targets_on_my_funnel(self):
        month = f"month_{fields.Date.today().month:02d}"
        self.env["crm.funnel.target"].create(
            {
                "year": fields.Date.today().year,
                "team_id": self.team_east.id,
                "user_id": self.user_rep.id,
                "kind": "revenue",
                month: 24000,
            }
        )
        self.start_tour(
            "/odoo", "sales_funnel_method_rep_reads_targets", login="funnel_rep"
        )
