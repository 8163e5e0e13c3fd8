from odoo import api
from odoo.tests import tagged

from .common_http import SalesFunnelHttpCase


@tagged("post_install", "-at_install")
class TestFunnelDashboardUi(SalesFunnelHttpCase):
    """A manager's morning: Team East's two reps hold 9 graded customers for an
    ideal of 20, and 26 contacted ones, their ideal."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._create_customers(9, layer="graded", grade="b", name="Tour Graded")
        cls._create_customers(13, layer="contacted", grade="b", name="Tour Contacted")
        cls._create_customers(
            13,
            layer="contacted",
            grade="b",
            user=cls.user_rep_2,
            name="Tour Contacted",
        )

    def test_manager_reads_a_short_layer_and_opens_its_customers(self):
        self.start_tour(
            "/odoo",
            "sales_funnel_method_manager_dashboard",
            login="funnel_manager_east",
        )

    def test_a_chinese_speaking_manager(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(
            ["sales_funnel_method"], ["zh_CN"], overwrite=True
        )
        self.user_manager_east.lang = "zh_CN"
        self.start_tour(
            "/odoo",
            "sales_funnel_method_manager_dashboard_zh_cn",
            login="funnel_manager_east",
        )

    def test_holdings_board(self):
        self.start_tour(
            "/odoo/action-sales_funnel_method.crm_funnel_holdings_board_action",
            "sales_funnel_method_holdings_board",
            login="funnel_manager_east",
        )

    def test_the_dashboard_reads_only(self):
        """Nothing the dashboard, the holdings board and the figures' reports read
        writes: they work on a read-only cursor (a replica)."""
        self.env.flush_all()
        with self.registry.cursor(readonly=True) as cr:
            env = api.Environment(cr, self.user_manager_east.id, {})
            self.assertTrue(cr.readonly)
            data = env["crm.funnel.dashboard"].get_funnel_dashboard()
            self.assertEqual(data["layers"][1]["held"], 9)
            board = env["crm.funnel.dashboard"].get_holdings_board()
            self.assertEqual(board["teams"][0]["name"], "Team East")
            env["crm.funnel.report.move"].read_group(
                [], ["step_rate:avg", "days_median:avg"], ["layer", "kind"], lazy=False
            )
            env["crm.funnel.report.overview"].read_group(
                [], ["actual_count:sum", "reach_rate:avg"], ["layer"], lazy=False
            )
            env["crm.funnel.report.contact"].read_group(
                [], ["contact_count:sum"], ["days_bucket"], lazy=False
            )
