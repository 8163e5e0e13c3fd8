from odoo.exceptions import UserError
from odoo.tests import tagged, users

from .common import SalesFunnelCommon


@tagged("post_install", "-at_install")
class TestFunnelGrade(SalesFunnelCommon):
    """SPEC 3: a customer cannot leave resource/graded toward contact without a grade."""

    @users("funnel_rep")
    def test_ungraded_customer_cannot_be_contacted(self):
        lead = self._create_customers(layer="resource").with_user(self.env.user)
        with self.assertRaisesRegex(UserError, "needs a grade"):
            lead.write({"stage_id": self.stages["contacted"].id})
        self.assertEqual(lead.stage_id, self.stages["resource"])
        self.assertEqual(lead.funnel_move_ids.mapped("move_type"), ["entry"])
        # graded layer without a grade is allowed: grading is the work done there
        lead.write({"stage_id": self.stages["graded"].id})
        self.assertEqual(lead.funnel_layer, "graded")
        with self.assertRaises(UserError):
            lead.write({"stage_id": self.stages["signed"].id})
        lead.write(
            {"funnel_grade": "a", "funnel_product": "ERP", "funnel_sales_target": 9000}
        )
        lead.write({"stage_id": self.stages["contacted"].id})
        self.assertEqual(lead.funnel_layer, "contacted")

    @users("funnel_rep")
    def test_grade_given_in_the_same_write(self):
        lead = self._create_customers(layer="graded").with_user(self.env.user)
        lead.write({"stage_id": self.stages["lead"].id, "funnel_grade": "c"})
        self.assertEqual((lead.funnel_layer, lead.funnel_grade), ("lead", "c"))

    @users("funnel_director")
    def test_batch_write_refused_whole(self):
        graded = self._create_customers(5, layer="graded", grade="b")
        ungraded = self._create_customers(1, layer="graded", name="Ungraded")
        leads = (graded | ungraded).with_user(self.env.user)
        with self.assertRaisesRegex(UserError, "Ungraded 0"):
            leads.write({"stage_id": self.stages["contacted"].id})
        self.assertEqual(set(leads.mapped("funnel_layer")), {"graded"})
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

    def test_legacy_ungraded_customer_keeps_moving_below_graded(self):
        # a customer mapped into a later layer before grading existed moves on
        legacy = self._create_customers(layer=False)
        self.plain_stages[0].funnel_layer = "intent"
        self.assertEqual(legacy.funnel_layer, "intent")
        legacy.write({"stage_id": self.stages["signed"].id})
        self.assertEqual(legacy.funnel_layer, "signed")
