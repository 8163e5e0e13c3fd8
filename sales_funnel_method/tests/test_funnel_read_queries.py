from datetime import date, datetime, timedelta
from unittest import TestCase
from unittest.mock import patch

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time
from lxml import etree
from psycopg2.errors import DivisionByZero

from odoo.osv import expression
from odoo.tests import tagged, users
from odoo.tools import mute_logger
from odoo.tools.safe_eval import safe_eval

from ..models.sql_settings import local_work_mem
from .test_funnel_allocation import FunnelAllocationCommon

NOW = datetime(2025, 6, 16, 9)

# each report's pivot as its view opens it, and the queries one opening costs
# whatever the customers: the SELECT ... GROUP BY, the sort memory of a count of
# distinct values (work_mem, set for the read and set back), and the display
# names of its many2one
# groups (teams; users with their partners; companies), read again after the
# cache is cleared
BUDGETS = {
    "crm.funnel.report.overview": 1,
    "crm.funnel.report.holding": 4,  # + team, user and partner names
    "crm.funnel.report.move": 4,  # + the rule's user, company, partner
    "crm.funnel.report.abandon": 4,  # + team, user and partner names
    "crm.funnel.report.contact": 3,  # + work_mem and back (contacts per customer)
    "crm.funnel.report.target": 3,  # + user and partner names
}
# the reports with a row per move or contact (the others have one per rep and
# layer or day, or per target)
GROWING = (
    "crm.funnel.report.overview",
    "crm.funnel.report.move",
    "crm.funnel.report.contact",
)
# the reports their menu opens with a filter (a period; the targets' level too)
FILTERED = (
    "crm.funnel.report.overview",
    "crm.funnel.report.move",
    "crm.funnel.report.abandon",
    "crm.funnel.report.contact",
    "crm.funnel.report.target",
    "crm.funnel.report.support",
)
# the support group's figures: + the members' and the user's names and company
SUPPORT_BUDGET = 5


@tagged("post_install", "-at_install")
class TestFunnelReadQueries(FunnelAllocationCommon):
    """What a manager and a rep open every day costs the same queries for a few
    customers as for many: each report's pivot, My Funnel's header, the rep's
    targets and the holdings board (the dashboard and the ranking boards have
    theirs in test_funnel_figures and test_funnel_rankings)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["crm.funnel.target"].create(
            [
                {
                    "year": NOW.year,
                    "user_id": cls.user_rep.id,
                    "team_id": cls.team_east.id,
                    "kind": kind,
                    "month_06": 10,
                }
                for kind in ("revenue", "signings", "intent")
            ]
        )
        cls._history(6)

    @classmethod
    def _history(cls, count):
        """``count`` customers for each rep, moved down, contacted, some signed
        and one abandoned, this month."""
        for user, team in (
            (cls.user_rep, cls.team_east),
            (cls.user_rep_2, cls.team_east),
            (cls.user_rep_west, cls.team_west),
        ):
            with freeze_time(NOW - timedelta(days=10)):
                leads = cls._create_customers(
                    count, layer="resource", grade="b", user=user, team=team
                )
            for days_ago, layer, share in (
                (8, "graded", 1),
                (6, "contacted", 2),
                (4, "lead", 3),
                (2, "intent", 4),
                (1, "signed", 6),
            ):
                with freeze_time(NOW - timedelta(days=days_ago)):
                    leads[: count // share].write({"stage_id": cls.stages[layer].id})
                    cls.env["crm.funnel.contact"]._funnel_record(
                        leads[: count // share], "visit"
                    )
            with freeze_time(NOW - timedelta(days=3)):
                leads[-1].action_set_lost()
        cls.env.flush_all()

    def _default_domain(self, model):
        """The domain of the filters the report's action applies when the menu
        opens it (its search_default_* keys), as the web client builds it: a
        filter's own domain, or a date filter's default period (this month or
        this year)."""
        action = (
            self.env["ir.actions.act_window"]
            .sudo()
            .search(
                [("res_model", "=", model), ("context", "ilike", "search_default_")],
                order="id",
                limit=1,
            )
        )
        if not action:
            return []
        context = safe_eval(action.context, {"uid": self.env.uid})
        arch = etree.fromstring(
            self.env[model].get_view(action.search_view_id.id, "search")["arch"]
        )
        filters = {node.get("name"): node for node in arch.iter("filter")}
        domains = []
        for key, value in context.items():
            node = filters.get(key.removeprefix("search_default_"))
            if not key.startswith("search_default_") or not value or node is None:
                continue
            if node.get("date"):
                today = date.today()
                first = (
                    today.replace(month=1, day=1)
                    if node.get("default_period") == "year"
                    else today.replace(day=1)
                )
                domains.append([(node.get("date"), ">=", first.isoformat())])
            else:
                domains.append(
                    safe_eval(
                        node.get("domain"),
                        {
                            "uid": self.env.uid,
                            "context_today": date.today,
                            "relativedelta": relativedelta,
                        },
                    )
                )
        return expression.AND(domains)

    def _pivot_queries(self, model):
        """The queries of the pivot's read_group, rows and columns as the view says,
        filtered as its action opens it."""
        Report = self.env[model]
        domain = self._default_domain(model)
        if model in FILTERED:
            self.assertTrue(domain, model)
        arch = etree.fromstring(Report.get_view(view_type="pivot")["arch"])
        groupby, measures = [], []
        for node in arch.iter("field"):
            name = node.get("name")
            if node.get("type") in ("row", "col"):
                interval = node.get("interval")
                groupby.append(f"{name}:{interval}" if interval else name)
            elif node.get("type") == "measure":
                measures.append(f"{name}:{Report._fields[name].aggregator}")
        self.env.invalidate_all()
        Report.read_group(
            domain, measures, groupby, lazy=False
        )  # caches (rules, names)
        self.env.invalidate_all()
        with self.assertQueryCount(BUDGETS.get(model, SUPPORT_BUDGET)):
            groups = Report.read_group(domain, measures, groupby, lazy=False)
        return groups

    def _all_pivots(self):
        with freeze_time(NOW):
            return {model: self._pivot_queries(model) for model in BUDGETS}

    @users("funnel_manager_east")
    def test_report_pivots_at_two_sizes(self):
        small = self._all_pivots()
        self._history(40)
        large = self._all_pivots()
        for model, groups in small.items():
            self.assertTrue(groups, model)
            if model in GROWING:
                # rows of moves, assignments and contacts: many more of them
                self.assertGreater(
                    sum(group["__count"] for group in large[model]),
                    2 * sum(group["__count"] for group in groups),
                    model,
                )

    @users("funnel_support")
    def test_support_figures_pivot_at_two_sizes(self):
        model = "crm.funnel.report.support"
        with freeze_time(NOW):
            small = self._pivot_queries(model)
        self._history(40)
        with freeze_time(NOW):
            large = self._pivot_queries(model)
        self.assertTrue(small)
        # the customers the support group's members registered: more of them
        self.assertGreater(
            sum(group["registered_count"] for group in large),
            sum(group["registered_count"] for group in small),
        )

    def _my_funnel_queries(self):
        Lead = self.env["crm.lead"]
        Target = self.env["crm.funnel.target"]
        with freeze_time(NOW):
            Lead.get_funnel_holdings()
            Target.get_funnel_my_targets()
            self.env.invalidate_all()
            # the rows of the rep's holdings, then their fields
            with self.assertQueryCount(2):
                holdings = Lead.get_funnel_holdings()
            # the month's figures, the user and partner (the rep's day), the
            # company and its currency (the amounts' symbol)
            with self.assertQueryCount(5):
                targets = Target.get_funnel_my_targets()
        return holdings, targets

    @users("funnel_rep")
    def test_my_funnel_header_at_two_sizes(self):
        holdings, _targets = self._my_funnel_queries()
        self._history(40)
        more, targets = self._my_funnel_queries()
        self.assertGreater(
            sum(row["held"] for row in more), sum(row["held"] for row in holdings)
        )
        self.assertTrue(targets)

    def _board_queries(self):
        Dashboard = self.env["crm.funnel.dashboard"]
        with freeze_time(NOW):
            for _warm in range(2):  # the record rules' caches, for each company
                Dashboard.get_holdings_board({})
                self.env.invalidate_all()
            # the company, its funnel teams and their members with their users and
            # partners, the report, the user's companies
            with self.assertQueryCount(7):
                return Dashboard.get_holdings_board({})

    @users("funnel_manager_east")
    def test_holdings_board_at_two_sizes(self):
        self._board_queries()
        self._history(40)
        self.assertTrue(self._board_queries())

    def _work_mem(self):
        self.env.cr.execute("SHOW work_mem")
        return self.env.cr.fetchone()[0]

    def _read_with_work_mem(self, measures):
        """Read the contact curve by layer: the work_mem its query ran with."""
        seen = []
        execute = self.env.cr.execute

        def spy(query, params=None, log_exceptions=True):
            if "crm_funnel_report_contact" in str(query):
                execute("SHOW work_mem")
                seen.append(self.env.cr.fetchone()[0])
            return execute(query, params, log_exceptions)

        with freeze_time(NOW), patch.object(self.env.cr, "execute", spy):
            groups = self.env["crm.funnel.report.contact"].read_group(
                [], measures, ["layer"], lazy=False
            )
        self.assertTrue(groups)
        return seen

    @users("funnel_manager_east")
    def test_sort_memory_is_the_reads_alone(self):
        """The contact curve's distinct customers sort with more memory, for that
        read only: the next reads of the same request (a screen may read
        several reports in one) run with the memory they had."""
        self.env.cr.execute("SET LOCAL work_mem = '5MB'")
        self.assertEqual(
            self._read_with_work_mem(["contacts_per_customer:avg"]), ["64MB"]
        )
        self.assertEqual(self._work_mem(), "5MB")
        # a read without a distinct count runs with the memory it finds
        self.assertEqual(self._read_with_work_mem(["contact_count:sum"]), ["5MB"])
        self.assertEqual(self._work_mem(), "5MB")

    def test_sort_memory_set_back_after_an_error(self):
        """A Python error in the read sets the memory back, and so does a
        database error rolled back to a savepoint inside it; an error that
        aborts the transaction leaves it to the rollback, without a query on
        the aborted transaction."""
        cr = self.env.cr
        cr.execute("SET LOCAL work_mem = '5MB'")
        # unittest's assertRaises: Odoo's own rolls back to a savepoint of its
        # own, which would set the memory back whatever the helper does
        with TestCase.assertRaises(self, ValueError), local_work_mem(cr):
            self.assertEqual(self._work_mem(), "64MB")
            raise ValueError("not the database's")
        self.assertEqual(self._work_mem(), "5MB")
        with (
            TestCase.assertRaises(self, DivisionByZero),
            mute_logger("odoo.sql_db"),
            local_work_mem(cr),
            cr.savepoint(),
        ):
            cr.execute("SELECT 1 / 0")
        self.assertEqual(self._work_mem(), "5MB")
        # the transaction aborted: its rollback (here to a savepoint) sets it back
        with (
            TestCase.assertRaises(self, DivisionByZero),
            mute_logger("odoo.sql_db"),
            cr.savepoint(),
            local_work_mem(cr),
        ):
            cr.execute("SELECT 1 / 0")
        self.assertEqual(self._work_mem(), "5MB")
