from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged, users

from .common import SalesFunnelCommon


@tagged("post_install", "-at_install")
class TestFunnelMoves(SalesFunnelCommon):
    """Every change of layer, by any path, lands in the move history."""

    def _last_move(self, lead):
        return lead.funnel_move_ids.sorted("id")[-1:]

    @users("funnel_rep")
    def test_creation_records_entry(self):
        Lead = self.env["crm.lead"]
        top = Lead.create(
            {"name": "New resource", "stage_id": self.stages["resource"].id}
        )
        move = top.funnel_move_ids
        self.assertEqual(len(move), 1)
        self.assertRecordValues(
            move,
            [
                {
                    "move_type": "entry",
                    "from_layer": False,
                    "to_layer": "resource",
                    "to_stage_id": self.stages["resource"].id,
                    "skipped_layers": 0,
                    "changed_by_id": self.env.user.id,
                    "user_id": self.env.user.id,
                }
            ],
        )
        # created straight into signed: an out-of-funnel customer (METHOD 7)
        late = Lead.create(
            {
                "name": "Walk-in",
                "stage_id": self.stages["signed"].id,
                "funnel_grade": "a",
            }
        )
        self.assertRecordValues(
            late.funnel_move_ids,
            [{"move_type": "entry", "to_layer": "signed", "skipped_layers": 5}],
        )
        outside = Lead.create({"name": "Outside", "stage_id": self.plain_stages[0].id})
        self.assertFalse(outside.funnel_move_ids)

    def test_stage_change_records_who_when_and_time_spent(self):
        start = datetime(2026, 5, 4, 8, 0, 0)
        with freeze_time(start):
            lead = self._create_customers(layer="contacted", grade="a")
        with freeze_time(start + timedelta(days=3, hours=12)):
            lead.with_user(self.user_rep).write({"stage_id": self.stages["lead"].id})
            self.assertEqual(
                lead.funnel_layer_date, start + timedelta(days=3, hours=12)
            )
        move = self._last_move(lead)
        self.assertRecordValues(
            move,
            [
                {
                    "move_type": "forward",
                    "from_layer": "contacted",
                    "to_layer": "lead",
                    "from_stage_id": self.stages["contacted"].id,
                    "to_stage_id": self.stages["lead"].id,
                    "date": start + timedelta(days=3, hours=12),
                    "days_in_layer": 3.5,
                    "skipped_layers": 0,
                    "changed_by_id": self.user_rep.id,
                    "user_id": self.user_rep.id,
                    "team_id": self.team_east.id,
                }
            ],
        )
        # the manager moves it back up and hands it to another rep in one write
        with freeze_time(start + timedelta(days=4)):
            lead.with_user(self.user_manager_east).write(
                {"stage_id": self.stages["contacted"].id, "user_id": self.user_rep_2.id}
            )
        self.assertRecordValues(
            self._last_move(lead),
            [
                {
                    "move_type": "backward",
                    "from_layer": "lead",
                    "to_layer": "contacted",
                    "changed_by_id": self.user_manager_east.id,
                    "user_id": self.user_rep_2.id,
                    "days_in_layer": 0.5,
                }
            ],
        )

    def test_skipping_layers_is_measured(self):
        lead = self._create_customers(layer="contacted", grade="a")
        lead.write({"stage_id": self.stages["signed"].id})
        self.assertRecordValues(
            self._last_move(lead), [{"move_type": "forward", "skipped_layers": 2}]
        )

    def test_stage_change_inside_a_layer_is_not_a_move(self):
        second_lead_stage = self.plain_stages[1]
        second_lead_stage.funnel_layer = "lead"
        with freeze_time("2026-02-01"):
            lead = self._create_customers(layer="lead", grade="b")
        with freeze_time("2026-02-03"):
            lead.write({"stage_id": second_lead_stage.id})
        self.assertEqual(lead.funnel_move_ids.mapped("move_type"), ["entry"])
        self.assertEqual(lead.funnel_layer_date, datetime(2026, 2, 1))

    @users("funnel_director")
    def test_batch_write_records_one_move_per_customer(self):
        graded = self._create_customers(4, layer="graded", grade="a")
        contacted = self._create_customers(3, layer="contacted", grade="b")
        intent = self._create_customers(2, layer="intent", grade="a")
        leads = (graded | contacted | intent).with_user(self.env.user)
        leads.write({"stage_id": self.stages["intent"].id})
        self.assertEqual(set(leads.mapped("funnel_layer")), {"intent"})
        moves = leads.funnel_move_ids.filtered(lambda m: m.move_type != "entry")
        self.assertEqual(len(moves), 7)  # those already in intent did not move
        self.assertEqual(
            sorted(moves.mapped("from_layer")), ["contacted"] * 3 + ["graded"] * 4
        )
        self.assertEqual(set(moves.mapped("changed_by_id")), {self.user_director})

    @users("funnel_rep")
    def test_mark_lost_is_the_move_to_abandoned(self):
        lead = self._create_customers(layer="lead", grade="b").with_user(self.env.user)
        reason = self.env.ref("crm.lost_reason_1")
        wizard = self.env["crm.lead.lost"].create(
            {
                "lead_ids": lead.ids,
                "lost_reason_id": reason.id,
                "lost_feedback": "<p>Chose a rival</p>",
            }
        )
        wizard.action_lost_reason_apply()
        self.assertFalse(lead.active)
        self.assertEqual(lead.probability, 0)
        self.assertEqual(lead.stage_id, self.stages["abandoned"])
        self.assertEqual(lead.lost_reason_id, reason)
        self.assertRecordValues(
            self._last_move(lead),
            [
                {
                    "move_type": "abandon",
                    "from_layer": "lead",
                    "to_layer": "abandoned",
                    "lost_reason_id": reason.id,
                    "changed_by_id": self.env.user.id,
                }
            ],
        )
        # cold handling (METHOD 5): the customer leaves the rep, the abandon counts for him
        self.assertFalse(lead.user_id)
        self.assertEqual(lead.funnel_abandoned_by_id, self.env.user)
        self.assertEqual(self._last_move(lead).user_id, self.env.user)
        # nobody brings it back by a plain restore during its cool-down; a team
        # manager can with a reason (their evaluation), and restoring brings the
        # customer back to the top of the funnel
        with self.assertRaisesRegex(UserError, "cools down until"):
            lead.toggle_active()
        with self.assertRaisesRegex(UserError, "cools down until"):
            lead.with_user(self.user_manager_east).toggle_active()
        self.env["crm.funnel.allocation"].with_user(
            self.user_manager_east
        )._funnel_restore_early(lead, "The customer called back")
        self.assertTrue(lead.active)
        self.assertEqual(lead.funnel_layer, "resource")
        self.assertRecordValues(
            self._last_move(lead),
            [
                {
                    "move_type": "reopen",
                    "from_layer": "abandoned",
                    "to_layer": "resource",
                }
            ],
        )

    @users("funnel_rep")
    def test_archive_and_mark_won(self):
        leads = self._create_customers(2, layer="intent", grade="a").with_user(
            self.env.user
        )
        leads[0].action_archive()
        self.assertEqual(leads[0].funnel_layer, "abandoned")
        leads[1].action_set_won()
        self.assertEqual(leads[1].stage_id, self.stages["signed"])
        self.assertEqual(leads[1].probability, 100)
        self.assertEqual(
            leads[0].funnel_move_ids.sorted("id").mapped("move_type"),
            ["entry", "abandon"],
        )
        self.assertEqual(
            leads[1].funnel_move_ids.sorted("id").mapped("move_type"),
            ["entry", "forward"],
        )

    def test_customers_outside_the_funnel_are_left_alone(self):
        lead = self._create_customers(layer=False)
        lead.action_set_lost()
        self.assertFalse(lead.active)
        self.assertEqual(lead.stage_id, self.plain_stages[0])
        lead.write({"stage_id": self.plain_stages[1].id})
        self.assertFalse(lead.funnel_move_ids)
        # entering the funnel from outside is a move too; a lost lead enters it
        # restored (an archived customer of the funnel is an abandoned one)
        with self.assertRaisesRegex(UserError, "Abandon"):
            lead.write({"stage_id": self.stages["resource"].id})
        lead.write({"stage_id": self.stages["resource"].id, "active": True})
        self.assertRecordValues(
            lead.funnel_move_ids, [{"move_type": "entry", "to_layer": "resource"}]
        )

    @users("funnel_support")
    def test_import_records_moves(self):
        lead = self._create_customers(layer="resource", user=self.env["res.users"])
        xmlid = lead.export_data(["id"])["datas"][0][0]
        result = self.env["crm.lead"].load(
            ["id", "stage_id/id", "funnel_grade"],
            [[xmlid, "sales_funnel_method.crm_stage_contacted", "a"]],
        )
        self.assertEqual(result["ids"], lead.ids, result["messages"])
        self.assertEqual(self._last_move(lead).to_layer, "contacted")
        self.assertEqual(self._last_move(lead).changed_by_id, self.env.user)

    @users("funnel_rep")
    def test_history_is_visible_from_the_lead(self):
        lead = self._create_customers(layer="graded", grade="a").with_user(
            self.env.user
        )
        lead.write({"stage_id": self.stages["contacted"].id})
        self.assertEqual(lead.funnel_move_count, 2)
        action = lead.action_view_funnel_moves()
        self.assertEqual(action["res_model"], "crm.funnel.move")
        moves = self.env["crm.funnel.move"].search(action["domain"])
        self.assertEqual(moves, lead.funnel_move_ids)
        self.assertEqual(moves[0].display_name, f"{lead.name}: Graded → Contacted")

    def test_copy_starts_a_new_history(self):
        lead = self._create_customers(layer="lead", grade="a")
        lead.write({"stage_id": self.stages["intent"].id})
        copy = lead.copy()
        # Odoo puts a duplicate back in the first stage: it starts over as a resource
        self.assertEqual(copy.funnel_layer, "resource")
        self.assertRecordValues(
            copy.funnel_move_ids, [{"move_type": "entry", "to_layer": "resource"}]
        )
        self.assertEqual(len(lead.funnel_move_ids), 2)
