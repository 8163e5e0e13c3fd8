from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.tests import HttpCase, tagged

from .common import SalesFunnelCommon


@tagged("post_install", "-at_install")
class TestFunnelUi(HttpCase, SalesFunnelCommon):
    def test_rep_grades_a_resource_and_contacts_it(self):
        lead = self._create_customers(layer="resource", name="Tour Resource Customer")
        self.assertFalse(lead.funnel_grade)
        self.start_tour(
            "/odoo", "sales_funnel_method_rep_grades_resource", login="funnel_rep"
        )
        self.assertEqual(lead.funnel_layer, "contacted")
        self.assertEqual(lead.funnel_grade, "a")
        self.assertEqual(lead.funnel_product, "Website package")
        self.assertEqual(
            lead.funnel_move_ids.sorted("id").mapped("to_layer"),
            ["resource", "contacted"],
        )
        self.assertEqual(
            lead.funnel_move_ids.sorted("id")[-1].changed_by_id, self.user_rep
        )

    def _only_funnel_reps(self):
        self.env["crm.team.member"].search(
            [("crm_team_id", "not in", (self.team_east | self.team_west).ids)]
        ).action_archive()

    def test_support_previews_and_runs_an_allocation(self):
        self._only_funnel_reps()
        self._create_customers(
            layer="signed", grade="a", expected_revenue=5000, name="Won"
        )
        pool = self._create_customers(
            3, layer="resource", grade="a", user=self.env["res.users"]
        )
        self.start_tour(
            "/odoo", "sales_funnel_method_support_allocates", login="funnel_support"
        )
        self.assertEqual(pool.user_id, self.user_rep)
        self.assertEqual(set(pool.funnel_assignment_ids.mapped("kind")), {"allocation"})

    def test_rep_claims_from_the_pool(self):
        pool = self._create_customers(
            layer="resource",
            grade="b",
            user=self.env["res.users"],
            name="Tour Pool Customer",
        )
        self.start_tour("/odoo", "sales_funnel_method_rep_claims", login="funnel_rep")
        self.assertEqual(pool.user_id, self.user_rep)
        self.assertEqual(pool.funnel_assignment_ids.kind, "claim")

    def _fast_and_slow(self):
        now = fields.Datetime.now()
        with freeze_time(now - timedelta(days=6)):
            slow = self._create_customers(
                layer="contacted", grade="a", name="Tour Slow Lead"
            )
            fast = self._create_customers(
                layer="contacted", grade="c", name="Tour Fast Mover"
            )
            self._create_customers(layer="graded", grade="a", name="Tour Graded")
        with freeze_time(now - timedelta(days=5)):
            fast.write({"stage_id": self.stages["lead"].id})  # one day: fast (ideal 5)
        with freeze_time(now - timedelta(hours=2)):
            slow.write({"stage_id": self.stages["lead"].id})  # nearly six days: slow
        self.assertTrue(fast.funnel_is_fast_mover)

    def test_rep_sees_the_fast_mover_on_top_of_my_funnel(self):
        self._fast_and_slow()
        self.start_tour("/odoo", "sales_funnel_method_my_funnel", login="funnel_rep")

    def test_a_chinese_speaking_rep(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(
            ["sales_funnel_method"], ["zh_CN"], overwrite=True
        )
        self.user_rep.lang = "zh_CN"
        self._fast_and_slow()
        self.start_tour(
            "/odoo", "sales_funnel_method_my_funnel_zh_cn", login="funnel_rep"
        )

    def test_manager_reads_the_overview_and_exports_the_workbook(self):
        leads = self._create_customers(3, layer="resource", grade="a", name="Tour East")
        leads[:2].write({"stage_id": self.stages["graded"].id})
        self.start_tour(
            "/odoo", "sales_funnel_method_manager_reports", login="funnel_manager_east"
        )
        wizard = self.env["crm.funnel.workbook"].search(
            [("create_uid", "=", self.user_manager_east.id)]
        )
        self.assertEqual(len(wizard), 1)
        self.assertEqual(wizard.scope, "all")
        self.assertTrue(wizard.file_data)
