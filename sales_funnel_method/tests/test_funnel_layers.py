from datetime import datetime, timedelta

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged, users
from odoo.tools import mute_logger

from .common import LAYERS, SalesFunnelCommon


@tagged("post_install", "-at_install")
class TestFunnelLayers(SalesFunnelCommon):
    def test_layers_ship_in_deck_order_with_ideal_state(self):
        stages = self.env["crm.stage"].search(
            [("funnel_layer", "!=", False)], order="sequence, id"
        )
        self.assertEqual(stages.mapped("funnel_layer"), LAYERS)
        # METHOD 2: move days per transition, cumulative reach rates, holdings per rep
        self.assertEqual(stages.mapped("funnel_ideal_days"), [1, 1, 5, 5, 5, 5, 0, 0])
        self.assertEqual(
            stages.mapped("funnel_ideal_reach_rate"), [100, 100, 90, 50, 30, 10, 0, 0]
        )
        self.assertEqual(
            stages.mapped("funnel_ideal_holding"), [0, 10, 13, 7, 2, 0, 0, 0]
        )
        self.assertEqual(
            stages.filtered("is_won").mapped("funnel_layer"), ["signed", "implemented"]
        )
        self.assertTrue(self.stages["abandoned"].fold)
        for layer in LAYERS:
            self.assertTrue(
                self.stages[layer].funnel_standard, f"{layer} has no standard"
            )
        self.assertFalse(self.stages["abandoned"].funnel_method_hints)
        self.assertIn("Phone", self.stages["resource"].funnel_method_hints)

    def test_won_layers_are_won_stages(self):
        with self.assertRaises(ValidationError):
            self.plain_stages[0].funnel_layer = "signed"
        won_plain = self.env["crm.stage"].create({"name": "Won plain", "is_won": True})
        with self.assertRaises(ValidationError):
            won_plain.funnel_layer = "intent"
        won_plain.funnel_layer = "implemented"
        self.assertEqual(won_plain.funnel_layer, "implemented")

    def test_ideal_state_bounds(self):
        for field, value in (
            ("funnel_ideal_days", -1),
            ("funnel_ideal_reach_rate", 101),
            ("funnel_ideal_holding", -3),
        ):
            with (
                self.subTest(field=field),
                mute_logger("odoo.sql_db"),
                self.assertRaises(IntegrityError),
            ):
                self.stages["lead"].write({field: value})
                self.stages["lead"].flush_recordset()

    @users("funnel_manager_east")
    def test_manager_edits_ideal_state(self):
        stage = self.stages["contacted"].with_user(self.env.user)
        stage.write({"funnel_ideal_days": 3, "funnel_ideal_holding": 15})
        self.assertEqual((stage.funnel_ideal_days, stage.funnel_ideal_holding), (3, 15))

    @users("funnel_rep")
    def test_rep_cannot_edit_ideal_state(self):
        stage = self.stages["contacted"].with_user(self.env.user)
        self.assertEqual(stage.funnel_ideal_days, 5)  # reps read the ideal state
        with self.assertRaises(AccessError):
            stage.write({"funnel_ideal_days": 30})

    def test_lead_knows_its_layer_days_and_overdue(self):
        start = datetime(2026, 3, 2, 9, 0, 0)
        with freeze_time(start):
            lead = self._create_customers(layer="contacted", grade="b")
            self.assertEqual(lead.funnel_layer, "contacted")
            self.assertEqual(lead.funnel_layer_date, start)
            self.assertEqual(lead.funnel_days_in_layer, 0)
            self.assertFalse(lead.funnel_is_overdue)
        overdue = [("id", "=", lead.id), ("funnel_is_overdue", "=", True)]
        on_time = [("id", "=", lead.id), ("funnel_is_overdue", "=", False)]
        # contacted -> lead should take 5 days: exactly 5 days is not overdue yet
        with freeze_time(start + timedelta(days=5)):
            lead.invalidate_recordset()
            self.assertEqual(lead.funnel_days_in_layer, 5)
            self.assertFalse(lead.funnel_is_overdue)
            self.assertFalse(self.env["crm.lead"].search(overdue))
            self.assertEqual(self.env["crm.lead"].search(on_time), lead)
        with freeze_time(start + timedelta(days=5, hours=1)):
            lead.invalidate_recordset()
            self.assertTrue(lead.funnel_is_overdue)
            self.assertEqual(self.env["crm.lead"].search(overdue), lead)
            self.assertFalse(self.env["crm.lead"].search(on_time))
            # a manager's new ideal applies at once
            self.stages["contacted"].funnel_ideal_days = 6
            lead.invalidate_recordset()
            self.assertFalse(lead.funnel_is_overdue)
            self.assertFalse(self.env["crm.lead"].search(overdue))

    def test_layers_without_ideal_days_are_never_overdue(self):
        with freeze_time("2026-01-01"):
            implemented = self._create_customers(layer="implemented", grade="a")
            plain = self._create_customers(layer=False)
        with freeze_time("2026-06-01"):
            (implemented | plain).invalidate_recordset()
            self.assertEqual(implemented.funnel_days_in_layer, 151)
            self.assertFalse(implemented.funnel_is_overdue)
            self.assertFalse(plain.funnel_layer)
            self.assertFalse(plain.funnel_is_overdue)
            found = self.env["crm.lead"].search(
                [
                    ("id", "in", (implemented | plain).ids),
                    ("funnel_is_overdue", "=", True),
                ]
            )
            self.assertFalse(found)

    def test_mapping_a_stage_moves_its_leads_with_their_history(self):
        leads = self._create_customers(2, layer=False, grade="a")
        self.assertEqual(leads.mapped("funnel_layer"), [False, False])
        stage = self.plain_stages[0].with_user(self.user_director)
        stage.funnel_layer = "lead"
        self.assertEqual(leads.mapped("funnel_layer"), ["lead", "lead"])
        # entering the funnel: a history (back-filled, here a single entry)
        for lead in leads:
            self.assertEqual(lead.funnel_move_ids.mapped("to_layer"), ["lead"])
        # a re-mapped stage moves its customers: one move each, never a silent change
        stage.funnel_layer = "intent"
        for lead in leads:
            moves = lead.funnel_move_ids.sorted("id")
            self.assertEqual(moves.mapped("to_layer"), ["lead", "intent"])
            self.assertEqual(moves[-1].move_type, "forward")
            self.assertEqual(moves[-1].changed_by_id, self.user_director)
        self.assertEqual(leads.mapped("funnel_layer"), ["intent", "intent"])
        # out of the funnel: an exit
        stage.funnel_layer = False
        self.assertEqual(leads.funnel_move_ids.mapped("move_type").count("exit"), 2)

    def test_an_abandoned_layer_stage_holds_lost_customers_only(self):
        active = self._create_customers(1, layer=False)
        with self.assertRaisesRegex(UserError, "active"):
            self.plain_stages[0].with_user(
                self.user_director
            ).funnel_layer = "abandoned"
        self.assertFalse(active.funnel_layer)
