from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.tests import tagged, users
from odoo.tools import SQL
from odoo.tools.safe_eval import safe_eval

from .common import SalesFunnelCommon

NOW = datetime(2026, 9, 1, 9, 0, 0)


@tagged("post_install", "-at_install")
class TestFunnelWorklist(SalesFunnelCommon):
    """METHOD 6: My Funnel, bottom-up, fast movers and overdue customers first."""

    def _at(self, days_ago, **kwargs):
        with freeze_time(NOW - timedelta(days=days_ago)):
            return self._create_customers(**kwargs)

    def _move(self, lead, layer, days_ago):
        with freeze_time(NOW - timedelta(days=days_ago)):
            lead.write({"stage_id": self.stages[layer].id})

    def _worklist(self):
        action = self.env.ref("sales_funnel_method.crm_lead_action_my_funnel").sudo()
        view = self.env.ref("sales_funnel_method.crm_lead_view_list_worklist").sudo()
        order = view.arch_db.split('default_order="')[1].split('"')[0]
        domain = safe_eval(action.domain, {"uid": self.env.uid})
        with freeze_time(NOW):
            return self.env["crm.lead"].search(domain, order=order)

    def test_fast_mover(self):
        # contacted -> lead ideally takes 5 days: 2.5 days or less is fast (share 0.5)
        fast = self._at(10, layer="contacted", grade="b", name="Fast")
        self._move(fast, "lead", 10 - 2.5)
        slow = self._at(10, layer="contacted", grade="b", name="Slow")
        self._move(slow, "lead", 10 - 2.6)
        with freeze_time(NOW):
            (fast | slow).invalidate_recordset()
            self.assertTrue(fast.funnel_is_fast_mover)
            self.assertFalse(slow.funnel_is_fast_mover)
            self.assertEqual(fast.funnel_mark, "fast")
            found = self.env["crm.lead"].search(
                [("id", "in", (fast | slow).ids), ("funnel_is_fast_mover", "=", True)]
            )
            self.assertEqual(found, fast)
            for domain in (
                [("funnel_is_fast_mover", "=", False)],
                [("funnel_is_fast_mover", "!=", True)],
            ):
                found = self.env["crm.lead"].search(
                    [("id", "in", (fast | slow).ids), *domain]
                )
                self.assertEqual(found, slow, domain)
            # a customer archived (in SQL: archiving from the screens abandons it,
            # a move of its own) is no fast mover, even searched among archives
            self.env.flush_all()
            self.env.cr.execute(
                "UPDATE crm_lead SET active = FALSE WHERE id = %s", [fast.id]
            )
            self.env.invalidate_all()
            Lead = self.env["crm.lead"].with_context(active_test=False)

            def among_archives(is_fast):
                return Lead.search(
                    [
                        ("id", "in", (fast | slow).ids),
                        ("funnel_is_fast_mover", "=", is_fast),
                    ]
                )

            self.assertFalse(among_archives(True))
            self.assertFalse(fast.funnel_is_fast_mover)  # its badge says the same
            self.assertEqual(among_archives(False), fast | slow)
            # and My Funnel's order (in SQL) ranks it by the same key as its badge
            query = Lead._search([("id", "in", (fast | slow).ids)])
            self.env.cr.execute(
                query.select(
                    SQL.identifier(Lead._table, "id"),
                    Lead._field_to_sql(Lead._table, "funnel_worklist_priority", query),
                )
            )
            keys = dict(self.env.cr.fetchall())
            for lead in fast | slow:
                self.assertEqual(keys[lead.id], lead.funnel_worklist_priority)
            self.env.cr.execute(
                "UPDATE crm_lead SET active = TRUE WHERE id = %s", [fast.id]
            )
            self.env.invalidate_all()
        # moving back up is not a fast move down
        self._move(fast, "contacted", 7)
        fast.invalidate_recordset()
        self.assertFalse(fast.funnel_is_fast_mover)
        # the share is a setting
        self.env.company.funnel_fast_mover_share = 0.6
        slow.invalidate_recordset()
        self.assertTrue(slow.funnel_is_fast_mover)

    @users("funnel_rep")
    def test_bottom_up_then_fast_then_overdue_then_grade(self):
        resource = self._at(0, layer="resource", name="Resource")
        graded_c = self._at(0, layer="graded", grade="c", name="Graded C")
        graded_a = self._at(0, layer="graded", grade="a", name="Graded A")
        graded_overdue = self._at(3, layer="graded", grade="c", name="Graded overdue")
        intent = self._at(1, layer="intent", grade="b", name="Intent")
        signed = self._at(1, layer="signed", grade="b", name="Signed")
        lead_slow = self._at(20, layer="contacted", grade="a", name="Lead slow")
        self._move(lead_slow, "lead", 1)
        lead_fast = self._at(20, layer="contacted", grade="c", name="Lead fast")
        self._move(lead_fast, "lead", 19)
        self._move(lead_fast, "lead", 19)
        # neither the rep's implemented customers nor other reps' appear
        self._at(0, layer="implemented", grade="a", name="Implemented")
        self._at(0, layer="intent", grade="a", user=self.user_rep_2, name="Colleague")
        worklist = self._worklist()
        self.assertEqual(
            worklist.mapped("name"),
            (
                signed
                | intent
                | lead_fast
                | lead_slow
                | graded_overdue
                | graded_a
                | graded_c
                | resource
            ).mapped("name"),
        )
        with freeze_time(NOW):
            worklist.invalidate_recordset()
            self.assertEqual(lead_fast.funnel_mark, "fast")
            self.assertEqual(graded_overdue.funnel_mark, "overdue")
            self.assertFalse(graded_a.funnel_mark)
            self.assertEqual(
                worklist.mapped("funnel_worklist_priority"),
                sorted(worklist.mapped("funnel_worklist_priority")),
            )

    @users("funnel_rep")
    def test_holdings_against_the_ideal(self):
        self._create_customers(4, layer="graded", grade="a")
        self._create_customers(13, layer="contacted", grade="a")
        holdings = {
            row["layer"]: (row["held"], row["ideal"])
            for row in self.env["crm.lead"].get_funnel_holdings()
        }
        self.assertEqual(
            holdings,
            {
                "graded": (4, 10),
                "contacted": (13, 13),
                "lead": (0, 7),
                "intent": (0, 2),
            },
        )

    @users("funnel_manager_east")
    def test_manager_sees_holdings_per_rep_and_team(self):
        self._create_customers(3, layer="lead", grade="a")
        self._create_customers(
            1, layer="lead", grade="a", user=self.user_rep_west, team=self.team_west
        )
        report = self.env["crm.funnel.report.holding"]
        rows = report.search([("layer", "=", "lead")])
        self.assertEqual(rows.user_id, self.user_rep | self.user_rep_2)
        self.assertEqual(
            rows.filtered(lambda r: r.user_id == self.user_rep).shortfall_count, 4
        )
        groups = report.read_group(
            [("layer", "=", "lead")], ["held_count:sum", "ideal_count:sum"], ["team_id"]
        )
        self.assertEqual(
            [(g["held_count"], g["ideal_count"]) for g in groups], [(3, 14)]
        )

    @users("funnel_manager_east")
    def test_holdings_count_the_customers_a_rep_abandoned_cooling_down(self):
        """The Abandoned row: the customers the rep abandoned, archived while they
        cool down, beside the customers the rep holds in the other layers."""
        kept = self._create_customers(3, layer="contacted", grade="a")
        abandoned = self._create_customers(2, layer="contacted", grade="a")
        abandoned.with_user(self.user_rep).action_set_lost(
            lost_reason_id=self.env.ref("crm.lost_reason_1").id
        )
        self.assertFalse(any(abandoned.mapped("active")))
        self.assertFalse(abandoned.user_id)
        # a customer left active in the Abandoned layer with its rep (written
        # around the addon): held by the rep, in the same Abandoned row
        stray = self._create_customers(1, layer="contacted", grade="a")
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE crm_lead SET funnel_layer = 'abandoned' WHERE id = %s", [stray.id]
        )
        rows = self.env["crm.funnel.report.holding"].search(
            [("user_id", "=", self.user_rep.id)]
        )
        held = {row.layer: row.held_count for row in rows}
        self.assertEqual(held["contacted"], len(kept))
        self.assertEqual(held["abandoned"], 3)
        # a row per layer, each once
        self.assertEqual(len(rows), 8)
        self.assertEqual(len(held), 8)
