from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import SalesFunnelCommon

T0 = datetime(2026, 2, 2, 9, 0, 0)


@tagged("post_install", "-at_install")
class TestFunnelAdoption(SalesFunnelCommon):
    """A CRM already in use: its own stages and tracked history become the funnel's."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Stage = cls.env["crm.stage"]
        cls.p_new = Stage.create({"name": "Own New", "sequence": 901})
        cls.p_qualified = Stage.create({"name": "Own Qualified", "sequence": 902})
        cls.p_won = Stage.create({"name": "Own Won", "sequence": 903, "is_won": True})
        cls.Lead = cls.env["crm.lead"].with_context(
            tracking_disable=False, mail_notrack=False
        )

    def _at(self, day, callback):
        with freeze_time(T0 + timedelta(days=day)):
            result = callback()
            self.env.flush_all()
            self.env.cr.precommit.run()  # Odoo writes its stage tracking at commit time
        return result

    def _create_at(self, day, **values):
        lead = self._at(day, lambda: self.Lead.create(dict(values, type="opportunity")))
        # PostgreSQL dates the row: give it the creation date of the story
        self.env.cr.execute(
            "UPDATE crm_lead SET create_date = %s, date_last_stage_update = %s WHERE id = %s",
            [T0 + timedelta(days=day), T0 + timedelta(days=day), lead.id],
        )
        lead.invalidate_recordset(["create_date", "date_last_stage_update"])
        return lead

    def _history(self):
        l1 = self._create_at(0, name="Tracked", stage_id=self.p_new.id)
        l2 = self._create_at(1, name="Quiet", stage_id=self.p_qualified.id)
        l3 = self._create_at(0, name="Lost", stage_id=self.p_new.id)
        self._at(1, lambda: l3.action_set_lost())
        self._at(2, lambda: l1.write({"stage_id": self.p_qualified.id}))
        self._at(5, lambda: l1.write({"stage_id": self.p_won.id}))
        return l1, l2, l3

    def _map(self, **values):
        values.setdefault("default_grade", "b")
        wizard = self.env["crm.funnel.mapping"].create(values)
        layers = {
            self.p_new: "resource",
            self.p_qualified: "contacted",
            self.p_won: "signed",
        }
        for line in wizard.line_ids:
            if line.stage_id in layers:
                line.funnel_layer = layers[line.stage_id]
        return wizard, wizard.action_apply()

    def test_installing_changed_nothing(self):
        l1, l2, l3 = self._history()
        self.assertEqual((l1 | l2 | l3).mapped("funnel_layer"), [False, False, False])
        self.assertFalse((l1 | l2 | l3).funnel_move_ids)
        self.assertEqual(l1.stage_id, self.p_won)

    def test_mapping_backfills_the_history(self):
        l1, l2, l3 = self._history()
        wizard, action = self._map()
        self.assertIn("3 stages mapped", action["params"]["message"])
        self.assertEqual(
            (l1 | l2 | l3).mapped("funnel_layer"), ["signed", "contacted", "resource"]
        )
        self.assertEqual(l1.stage_id, self.p_won)  # the company keeps its stages
        self.assertRecordValues(
            l1.funnel_move_ids.sorted(lambda move: (move.date, move.id)),
            [
                {
                    "move_type": "entry",
                    "from_layer": False,
                    "to_layer": "resource",
                    "date": T0,
                    "days_in_layer": 0.0,
                    "skipped_layers": 0,
                },
                {
                    "move_type": "forward",
                    "from_layer": "resource",
                    "to_layer": "contacted",
                    "date": T0 + timedelta(days=2),
                    "days_in_layer": 2.0,
                    "skipped_layers": 1,
                },
                {
                    "move_type": "forward",
                    "from_layer": "contacted",
                    "to_layer": "signed",
                    "date": T0 + timedelta(days=5),
                    "days_in_layer": 3.0,
                    "skipped_layers": 2,
                },
            ],
        )
        self.assertEqual(l1.funnel_layer_date, T0 + timedelta(days=5))
        # no tracked change: one entry dated from the last stage update
        self.assertRecordValues(
            l2.funnel_move_ids,
            [
                {
                    "move_type": "entry",
                    "to_layer": "contacted",
                    "date": T0 + timedelta(days=1),
                }
            ],
        )
        self.assertEqual(len(l3.with_context(active_test=False).funnel_move_ids), 1)
        # idempotent
        self.assertFalse(self.env["crm.funnel.move"]._funnel_backfill(l1 | l2 | l3))

    def test_mapping_ungraded_customers_into_graded_layers_needs_a_grade(self):
        l1, l2, l3 = self._history()
        with self.assertRaisesRegex(UserError, "no grade"):
            self._map(default_grade=False)
        self.assertEqual(
            (self.p_qualified | self.p_won).mapped("funnel_layer"), [False, False]
        )
        self.assertFalse((l1 | l2 | l3).with_context(active_test=False).funnel_move_ids)
        self._map(default_grade="c")
        self.assertEqual((l1 | l2).mapped("funnel_grade"), ["c", "c"])
        # the lost customer of a resource stage needs no grade
        self.assertFalse(l3.funnel_grade)

    def test_won_stages_map_to_won_layers(self):
        wizard = self.env["crm.funnel.mapping"].create({})
        line = wizard.line_ids.filtered(lambda line: line.stage_id == self.p_won)
        line.funnel_layer = "intent"
        with self.assertRaises(ValidationError):
            wizard.action_apply()

    def test_adopt_the_eight_layers_for_a_team(self):
        l1, l2, l3 = self._history()
        (l1 | l2).team_id = self.team_east
        other = self._create_at(
            1, name="West", stage_id=self.p_qualified.id, team_id=self.team_west.id
        )
        self._map(adopt=True, team_id=self.team_east.id)
        self.assertEqual(l2.stage_id, self.stages["contacted"])
        self.assertEqual(l1.stage_id, self.stages["signed"])
        self.assertEqual(
            other.stage_id, self.p_qualified
        )  # another team keeps its stage
        # same layer: moving onto the funnel's own stage is not a move
        self.assertEqual(len(l2.funnel_move_ids), 1)
        self.assertEqual(l1.funnel_move_ids.mapped("move_type").count("forward"), 2)
