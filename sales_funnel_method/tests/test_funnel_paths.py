from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.tests import tagged
from odoo.tools import SQL

from .common import SalesFunnelCommon

T0 = datetime(2025, 3, 3, 9)


@tagged("post_install", "-at_install")
class TestFunnelStoredPaths(SalesFunnelCommon):
    """The path facts each move stores (``reached``, ``moved_on_date``, ``latest``)
    are what the
    customer's whole history says, on every path that writes moves: the recorder,
    moves created out of order, edited or deleted, a merge, the back-fill and an
    upgrade from a version that did not store them. The step rates read them."""

    def _live(self, leads):
        """{move id: (reached, moved_on_date, latest)} from the history, as defined."""
        Move = self.env["crm.funnel.move"]
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """SELECT move.id, COALESCE(%s, FALSE), moved_on.date, %s
                     FROM crm_funnel_move move %s
                    WHERE move.lead_id = ANY(%s)""",
                Move._funnel_reached_live_sql("move"),
                Move._funnel_latest_live_sql("move"),
                Move._funnel_moved_on_live_join_sql("move", "moved_on"),
                leads.ids,
            )
        )
        return {row[0]: tuple(row[1:]) for row in self.env.cr.fetchall()}

    def _stored(self, leads):
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT id, reached, moved_on_date, latest FROM crm_funnel_move"
            " WHERE lead_id = ANY(%s)",
            [leads.ids],
        )
        return {row[0]: tuple(row[1:]) for row in self.env.cr.fetchall()}

    def assertPathsStored(self, leads):
        live = self._live(leads)
        self.assertTrue(live)
        stored = self._stored(leads)
        self.assertEqual(stored, live)
        # the latest move of each customer, worked out here: its last by date,
        # then by id (two moves of the same second)
        moves = self.env["crm.funnel.move"].search([("lead_id", "in", leads.ids)])
        last = {
            max(
                moves.filtered(lambda move, lead=lead: move.lead_id == lead),
                key=lambda move: (move.date, move.id),
            ).id
            for lead in moves.lead_id
        }
        self.assertEqual(
            {move_id for move_id, facts in stored.items() if facts[2]}, last
        )

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
        self.assertTrue(early.latest)
        # two moves of the same second: the later id is the latest
        twin = Move.create(dict(base, to_layer="lead", date=early.date))
        self.assertPathsStored(lead)
        self.assertTrue(twin.latest)
        self.assertFalse(early.latest)

    def test_a_move_given_to_another_customer(self):
        with freeze_time(T0):
            first, second = self._create_customers(2, layer="resource", grade="a")
        self._walk(first, ["graded", "contacted"], 1)
        graded = first.funnel_move_ids.filtered(lambda move: move.to_layer == "graded")
        self.assertTrue(first.funnel_move_ids[-1:].reached)
        entry = first.funnel_move_ids.filtered(lambda move: move.move_type == "entry")
        self.assertEqual(entry.moved_on_date, graded.date)
        graded.sudo().write({"lead_id": second.id})
        self.assertPathsStored(first | second)
        # the first customer's entry moved on when it reached Contacted now
        contacted = first.funnel_move_ids.filtered(
            lambda move: move.to_layer == "contacted"
        )
        self.assertEqual(entry.moved_on_date, contacted.date)
        self.assertTrue(graded.reached)

    def test_a_merge_joins_the_paths(self):
        with freeze_time(T0):
            first = self._create_customers(1, layer="resource", grade="a", name="Twin")
            second = self._create_customers(1, layer="resource", grade="a", name="Twin")
        self._walk(first, ["graded"], 1)
        self._walk(second, ["graded", "contacted"], 2)
        moves = (first | second).funnel_move_ids
        survivor = (first | second)._merge_opportunity()
        self.assertEqual(len((first | second).exists()), 1)
        self.assertEqual(survivor.funnel_move_ids, moves)
        self.assertPathsStored(survivor)
        # one arrival per layer on the joined path
        self.assertEqual(
            sorted(survivor.funnel_move_ids.filtered("reached").mapped("to_layer")),
            ["contacted", "graded", "resource"],
        )

    def test_an_upgrade_stores_them_for_the_history(self):
        with freeze_time(T0):
            leads = self._create_customers(4, layer="resource", grade="b")
        self._walk(leads, ["graded", "contacted", "lead"], 1)
        self.env.flush_all()
        # the history as a version that stored the step facts but not the latest
        # move left it, then one that stored none of them
        for dropped in (["latest"], ["reached", "moved_on_date", "latest"]):
            self._drop_columns("crm_funnel_move", dropped)
            self.env.invalidate_all()
            # what -u runs: the columns again, filled, then the report's view
            self.registry.init_models(
                self.env.cr,
                ["crm.funnel.move", "crm.funnel.report.move"],
                {"module": "sales_funnel_method"},
                install=False,
            )
            self.assertPathsStored(leads)
        Move = self.env["crm.funnel.move"]
        moves = Move.search([("lead_id", "in", leads.ids)])
        self.assertEqual(len(moves.filtered("reached")), 16)
        self.assertEqual(len(moves.filtered("moved_on_date")), 12)  # all but Lead
        # the moves analysis reads them again
        rows = self.env["crm.funnel.report.move"]._read_group(
            [("lead_id", "in", leads.ids), ("kind", "=", "actual")],
            ["layer"],
            ["reached_count:sum", "moved_on_count:sum"],
        )
        self.assertEqual(
            {layer: (reached, moved) for layer, reached, moved in rows},
            {
                "resource": (4, 4),
                "graded": (4, 4),
                "contacted": (4, 4),
                "lead": (4, 0),
            },
        )

    def test_moves_written_around_the_recorder_are_caught_up(self):
        with freeze_time(T0):
            lead = self._create_customers(1, layer="resource", grade="b")
        self.env.flush_all()
        # an import writing the history in SQL: no path facts
        self.env.cr.execute(
            """INSERT INTO crm_funnel_move (lead_id, date, move_type, from_layer, to_layer,
                                            company_id)
               VALUES (%s, %s, 'forward', 'resource', 'graded', %s)""",
            [lead.id, T0 + timedelta(days=1), lead.company_id.id],
        )
        self.env.invalidate_all()
        self.assertEqual(
            self.env["crm.funnel.move"]._funnel_refresh_missing_paths(), lead.ids
        )
        self.assertPathsStored(lead)
        self.assertEqual(len(lead.funnel_move_ids.filtered("reached")), 2)
        # one written with its step facts but not whether it is the latest
        self.env.cr.execute(
            """INSERT INTO crm_funnel_move (lead_id, date, move_type, from_layer, to_layer,
                                            company_id, reached)
               VALUES (%s, %s, 'forward', 'graded', 'contacted', %s, TRUE)""",
            [lead.id, T0 + timedelta(days=2), lead.company_id.id],
        )
        self.env.invalidate_all()
        self.assertEqual(
            self.env["crm.funnel.move"]._funnel_refresh_missing_paths(), lead.ids
        )
        self.assertPathsStored(lead)
        # the daily check job does it before counting
        self.assertFalse(self.env["crm.funnel.move"]._funnel_refresh_missing_paths())
