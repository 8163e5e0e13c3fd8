from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.tests import tagged
from odoo.tools import SQL

from .common import SalesFunnelCommon

T0 = datetime(2025, 3, 3, 9)


@tagged("post_install", "-at_install")
class TestFunnelStoredPaths(SalesFunnelCommon):
    """The path facts each move stores (``reached``, ``moved_on_date``) are what the
    customer's whole history says, on every path that writes moves: the recorder,
    moves created out of order, edited or deleted, a merge, the back-fill and an
    upgrade from a version that did not store them. The step rates read them."""

    def _live(self, leads):
        """{move id: (reached, moved_on_date)} from the history, as defined."""
        Move = self.env["crm.funnel.move"]
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """SELECT move.id, COALESCE(%s, FALSE), moved_on.date
                     FROM crm_funnel_move move %s
                    WHERE move.lead_id = ANY(%s)""",
                Move._funnel_reached_live_sql("move"),
                Move._funnel_moved_on_live_join_sql("move", "moved_on"),
                leads.ids,
            )
        )
        return {row[0]: (row[1], row[2]) for row in self.env.cr.fetchall()}

    def _stored(self, leads):
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT id, reached, moved_on_date FROM crm_funnel_move WHERE lead_id = ANY(%s)",
            [leads.ids],
        )
        return {row[0]: (row[1], row[2]) for row in self.env.cr.fetchall()}

    def assertPathsStored(self, leads):
        live = self._live(leads)
        self.assertTrue(live)
        self.assertEqual(self._stored(leads), live)

    def _walk(self, leads, layers, start=0):
        for day, layer in enumerate(layers, start=start):
            with freeze_time(T0 + timedelta(days=day)):
                leads.write({"stage_id": self.stages[layer].id})

    def test_the_recorder_stores_each_path(self):
        with freeze_time(T0):
            leads = self._create_customers(3, layer="resource", grade="a")
        # down, a step back up and down again, an abandon and a reopening
        self._walk(leads, ["graded", "contacted", "graded", "contacted", "lead"], 1)
        self.env.company.funnel_cooldown_days = 0  # reopened at once
        with freeze_time(T0 + timedelta(days=10)):
            leads[0].action_set_lost()
        with freeze_time(T0 + timedelta(days=11)):
            leads[0].with_context(active_test=False).write({"active": True})
        self._walk(leads[0], ["graded"], 12)
        self.assertPathsStored(leads)
        moves = leads[1].funnel_move_ids.sorted(lambda move: (move.date, move.id))
        self.assertEqual(
            [(move.to_layer, move.reached) for move in moves],
            [
                ("resource", True),
                ("graded", True),
                ("contacted", True),
                ("graded", False),  # back up: no new arrival
                ("contacted", False),  # down again: reached it once
                ("lead", True),
            ],
        )
        # the entry moved down the next day, the first arrival in Contacted when
        # the customer reached Lead (its step back up does not count)
        self.assertEqual(moves[0].moved_on_date, moves[1].date)
        self.assertEqual(moves[2].moved_on_date, moves[5].date)
        self.assertFalse(moves[5].moved_on_date)
        # the reopened customer starts a new path: its old arrivals stay where
        # they went, the new Resource and Graded are arrivals again
        reopened = (
            leads[0]
            .with_context(active_test=False)
            .funnel_move_ids.sorted(lambda move: (move.date, move.id))
        )
        self.assertEqual(
            [(move.move_type, move.to_layer, move.reached) for move in reopened[-3:]],
            [
                ("abandon", "abandoned", False),
                ("reopen", "resource", True),
                ("forward", "graded", True),
            ],
        )
        self.assertEqual(reopened[-2].moved_on_date, reopened[-1].date)
        self.assertFalse(reopened[5].moved_on_date)  # lead, then abandoned

    def test_moves_created_out_of_order_edited_and_deleted(self):
        with freeze_time(T0):
            lead = self._create_customers(1, layer="resource", grade="a")
        Move = self.env["crm.funnel.move"].sudo()
        # an import of older moves, the newest first
        base = {
            "lead_id": lead.id,
            "company_id": lead.company_id.id,
            "move_type": "forward",
            "from_layer": "resource",
        }
        late = Move.create(
            dict(
                base,
                to_layer="lead",
                date=T0 + timedelta(days=5),
                from_layer="contacted",
            )
        )
        early = Move.create(
            dict(base, to_layer="contacted", date=T0 + timedelta(days=2))
        )
        self.assertPathsStored(lead)
        self.assertTrue(early.reached)
        self.assertEqual(early.moved_on_date, late.date)
        # moved after the later one: it no longer moved on
        early.write({"date": T0 + timedelta(days=6)})
        self.assertPathsStored(lead)
        self.assertFalse(early.reached)  # Lead, lower, was reached before
        early.write({"date": T0 + timedelta(days=2)})
        late.unlink()
        self.assertPathsStored(lead)
        self.assertTrue(early.reached)
        self.assertFalse(early.moved_on_date)

    def test_a_merge_joins_the_paths(self):
        with freeze_time(T0):
            first = self._create_customers(1, layer="resource", grade="a", name="Twin")
            second = self._create_customers(1, layer="resource", grade="a", name="Twin")
        self._walk(first, ["graded"], 1)
        self._walk(second, ["graded", "contacted"], 2)
        self.env["crm.funnel.move"]._funnel_transfer_history(first, second)
        self.assertPathsStored(first)
        self.assertEqual(len(first.funnel_move_ids), 5)
        # one arrival per layer on the joined path
        self.assertEqual(
            sorted(first.funnel_move_ids.filtered("reached").mapped("to_layer")),
            ["contacted", "graded", "resource"],
        )

    def test_the_backfill_and_an_upgrade_store_them(self):
        with freeze_time(T0):
            leads = self._create_customers(4, layer="resource", grade="b")
        self._walk(leads, ["graded", "contacted", "lead"], 1)
        self.env.flush_all()
        # as a version that did not store them left the history
        self.env.cr.execute(
            "UPDATE crm_funnel_move SET reached = NULL, moved_on_date = NULL"
            " WHERE lead_id = ANY(%s)",
            [leads.ids],
        )
        self.env.invalidate_all()
        self.env["crm.funnel.move"]._funnel_refresh_paths()
        self.assertPathsStored(leads)
        self.assertEqual(
            len(
                self.env["crm.funnel.move"].search(
                    [("lead_id", "in", leads.ids), ("reached", "=", True)]
                )
            ),
            16,
        )
