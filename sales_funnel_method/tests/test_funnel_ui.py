from odoo.tests import HttpCase, tagged

from .common import SalesFunnelCommon


@tagged("post_install", "-at_install")
class TestFunnelUi(HttpCase, SalesFunnelCommon):
    def test_rep_grades_a_resource_and_contacts_it(self):
        lead = self._create_customers(layer="resource", name="Tour Resource Customer")
        self.assertFalse(lead.funnel_grade)
        self.start_tour("/odoo", "sales_funnel_method_rep_grades_resource", login="funnel_rep")
        self.assertEqual(lead.funnel_layer, "contacted")
        self.assertEqual(lead.funnel_grade, "a")
        self.assertEqual(lead.funnel_product, "Website package")
        self.assertEqual(
            lead.funnel_move_ids.sorted("id").mapped("to_layer"), ["resource", "contacted"]
        )
        self.assertEqual(lead.funnel_move_ids.sorted("id")[-1].changed_by_id, self.user_rep)
