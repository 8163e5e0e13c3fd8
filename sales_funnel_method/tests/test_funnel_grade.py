from odoo.exceptions import UserError
from odoo.tests import tagged, users

from .common import SalesFunnelCommon


@tagged("post_install", "-at_install")
class TestFunnelGrade(SalesFunnelCommon):
    """METHOD 3: a customer gets a grade to enter the Graded layer, and keeps one
    further down the funnel."""

    @users("funnel_rep")
    def test_ungraded_customer_cannot_be_graded_or_contacted(self):
        lead = self._create_customers(layer="resource").with_user(self.env.user)
        for layer in ("graded", "contacted", "signed"):
            with self.assertRaisesRegex(UserError, "needs a grade"):
                lead.write({"stage_id": self.stages[layer].id})
            self.assertEqual(lead.stage_id, self.stages["resource"])
        self.assertEqual(lead.funnel_move_ids.mapped("move_type"), ["entry"])
        lead.write(
            {"funnel_grade": "a", "funnel_product": "ERP", "funnel_sales_target": 9000}
        )
        lead.write({"stage_id": self.stages["graded"].id})
        lead.write({"stage_id": self.stages["contacted"].id})
        self.assertEqual(lead.funnel_layer, "contacted")
        self.assertEqual(
            lead.funnel_move_ids.sorted("id").mapped("to_layer"),
            ["resource", "graded", "contacted"],
        )

    @users("funnel_rep")
    def test_grade_given_in_the_same_write(self):
        lead = self._create_customers(layer="resource").with_user(self.env.user)
        lead.write({"stage_id": self.stages["graded"].id, "funnel_grade": "c"})
        self.assertEqual((lead.funnel_layer, lead.funnel_grade), ("graded", "c"))

    @users("funnel_rep")
    def test_created_in_graded_needs_a_grade(self):
        Lead = self.env["crm.lead"]
        with self.assertRaisesRegex(UserError, "needs a grade"):
            Lead.create({"name": "Unchecked", "stage_id": self.stages["graded"].id})
        self.assertFalse(Lead.search([("name", "=", "Unchecked")]))

    @users("funnel_director")
    def test_batch_write_refused_whole(self):
        graded = self._create_customers(5, layer="resource", grade="b")
        ungraded = self._create_customers(1, layer="resource", name="Ungraded")
        leads = (graded | ungraded).with_user(self.env.user)
        with self.assertRaisesRegex(UserError, "Ungraded 0"):
            leads.write({"stage_id": self.stages["contacted"].id})
        self.assertEqual(set(leads.mapped("funnel_layer")), {"resource"})
        self.assertEqual(len(leads.funnel_move_ids), 6)  # the entries only

    @users("funnel_rep")
    def test_created_past_graded_needs_a_grade(self):
        Lead = self.env["crm.lead"]
        with self.assertRaisesRegex(UserError, "needs a grade"):
            Lead.create({"name": "Walk-in", "stage_id": self.stages["intent"].id})
        self.assertFalse(Lead.search([("name", "=", "Walk-in")]))
        lead = Lead.create(
            {
                "name": "Walk-in",
                "stage_id": self.stages["intent"].id,
                "funnel_grade": "a",
            }
        )
        self.assertEqual(lead.funnel_layer, "intent")

    @users("funnel_support")
    def test_import_respects_grading(self):
        Lead = self.env["crm.lead"]
        result = Lead.load(
            ["name", "stage_id/id"],
            [["Imported ungraded", "sales_funnel_method.crm_stage_contacted"]],
        )
        self.assertFalse(result["ids"])
        self.assertTrue(
            any("needs a grade" in m["message"] for m in result["messages"])
        )
        self.assertFalse(Lead.search([("name", "=", "Imported ungraded")]))
        result = Lead.load(
            ["name", "stage_id/id", "funnel_grade"],
            [["Imported graded", "sales_funnel_method.crm_stage_contacted", "b"]],
        )
        self.assertEqual(len(result["ids"]), 1, result["messages"])
        self.assertEqual(Lead.browse(result["ids"]).funnel_layer, "contacted")

    @users("funnel_rep")
    def test_abandoning_and_mark_won_paths(self):
        ungraded = self._create_customers(2, layer="resource").with_user(self.env.user)
        # abandoning an ungraded resource is fine
        ungraded[0].action_set_lost()
        self.assertEqual(ungraded[0].funnel_layer, "abandoned")
        # mark won goes past graded: refused without a grade
        with self.assertRaisesRegex(UserError, "needs a grade"):
            ungraded[1].action_set_won()
        self.assertEqual(ungraded[1].funnel_layer, "resource")

    @users("funnel_rep")
    def test_grade_cannot_be_removed_past_graded(self):
        lead = self._create_customers(layer="lead", grade="b").with_user(self.env.user)
        with self.assertRaisesRegex(UserError, "needs a grade"):
            lead.funnel_grade = False
        self.assertEqual(lead.funnel_grade, "b")
        resource = self._create_customers(layer="resource", grade="c").with_user(
            self.env.user
        )
        resource.funnel_grade = False
        self.assertFalse(resource.funnel_grade)

    @users("funnel_director")
    def test_a_stage_mapped_to_a_graded_layer_needs_graded_customers(self):
        """Re-mapping a stage moves its customers: under the grade rule, with a move."""
        legacy = self._create_customers(layer=False, grade=False)
        stage = self.plain_stages[0].with_user(self.env.user)
        with self.assertRaisesRegex(UserError, "no grade"):
            stage.funnel_layer = "intent"
        self.assertFalse(stage.funnel_layer)
        self.assertFalse(legacy.funnel_layer)
        self.assertFalse(legacy.funnel_move_ids)
        legacy.with_user(self.env.user).funnel_grade = "c"
        stage.funnel_layer = "intent"
        self.assertEqual(legacy.funnel_layer, "intent")
        self.assertEqual(legacy.funnel_move_ids.mapped("to_layer"), ["intent"])
