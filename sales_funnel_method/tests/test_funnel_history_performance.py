import re
from datetime import timedelta
from unittest.mock import patch

from lxml import etree

from odoo import api, fields
from odoo.tests import tagged
from odoo.tools import SQL
from odoo.tools.safe_eval import safe_eval

from ..models import crm_funnel_move
from ..models.crm_funnel_contact import (
    PLANNED_INDEX,
    PLANNED_INDEX_COLUMNS,
    REPLACED_PLANNED_INDEX,
)
from ..models.crm_lead import HOLDINGS_INDEX
from ..report.crm_funnel_report_holding import HOLDER_INDEX
from .common import SalesFunnelCommon

LAST_MOVE_INDEX = "crm_funnel_move_lead_id_date_id_index"
MILESTONE_INDEX = "crm_funnel_move_milestone_covering_index"
REPLACED_MILESTONE_INDEX = "crm_funnel_move_milestone_date_index"
REACHED_INDEX = "crm_funnel_move_reached_layer_date_index"
REPLACED_REACHED_INDEX = "crm_funnel_move_reached_date_index"
LATEST_FORWARD_INDEX = "crm_funnel_move_latest_forward_index"


@tagged("post_install", "-at_install")
class TestFunnelHistoryIndexes(SalesFunnelCommon):
    """The move history's indexes are those its queries use."""

    def _plan(self, query, params=None, options=""):
        """The plan PostgreSQL makes for a captured query (EXPLAIN, with
        ``options`` such as ``(VERBOSE)``)."""
        if isinstance(query, SQL):
            self.env.cr.execute(SQL(f"EXPLAIN {options} %s", query))
        else:
            self.env.cr.execute(f"EXPLAIN {options} {query}", params)
        return "\n".join(row[0] for row in self.env.cr.fetchall())

    def test_indexes_of_the_move_history(self):
        self.env.cr.execute(
            """SELECT indexname, indexdef FROM pg_indexes
                WHERE tablename = 'crm_funnel_move' AND indexname != 'crm_funnel_move_pkey'"""
        )
        indexes = dict(self.env.cr.fetchall())
        self.assertIn("(lead_id, date, id)", indexes.get(LAST_MOVE_INDEX, ""))
        self.assertIn(
            "(date) INCLUDE (to_layer, from_layer, move_type, lead_id, user_id, "
            "team_id, company_id, id) WHERE ((to_layer)::text = ANY ",
            indexes.get(MILESTONE_INDEX, ""),
        )
        self.assertIn("'intent'", indexes[MILESTONE_INDEX])
        self.assertIn("'implemented'", indexes[MILESTONE_INDEX])
        self.assertIn(
            "(to_layer, date) INCLUDE (user_id, team_id, company_id, moved_on_date) "
            "WHERE reached",
            indexes.get(REACHED_INDEX, ""),
        )
        self.assertIn(
            "(lead_id) INCLUDE (days_in_layer, from_ideal_days) WHERE (latest AND",
            indexes.get(LATEST_FORWARD_INDEX, ""),
        )
        # the date filters of reports and checks, the record rules of reps and
        # managers, the abandons (a rare move type) and the support group's figures
        self.assertEqual(
            set(indexes),
            {
                LAST_MOVE_INDEX,
                MILESTONE_INDEX,
                REACHED_INDEX,
                LATEST_FORWARD_INDEX,
                "crm_funnel_move__date_index",
                "crm_funnel_move__move_type_index",
                "crm_funnel_move__changed_by_id_index",
                "crm_funnel_move__user_id_index",
                "crm_funnel_move__team_id_index",
            },
        )

    def _long_histories(self, count, moves=100):
        """``count`` customers of ``moves`` moves each, the last of them a fast move
        down (written in SQL after their entry, their path facts stored): enough
        for the planner to choose as on a real history."""
        leads = self._create_customers(count, layer="graded", grade="a")
        self.env.flush_all()
        self.env.cr.execute(
            """INSERT INTO crm_funnel_move (lead_id, date, move_type, to_layer, days_in_layer,
                                            from_ideal_days)
               SELECT lead.id, NOW() + step * INTERVAL '1 minute', 'forward', 'graded', 1, 5
                 FROM crm_lead lead, generate_series(1, %s) step
                WHERE lead.id = ANY(%s)""",
            [moves, leads.ids],
        )
        self.env["crm.funnel.move"]._funnel_refresh_missing_paths()
        self.env.cr.execute("ANALYZE crm_funnel_move")
        return leads

    def _assert_upgrade_replaces(self, index, old_index, old_definition, expected):
        """An update of the module (``init()``) drops ``old_index``, an index of
        earlier versions defined as ``old_definition``, and creates ``index``,
        whose definition holds ``expected``."""
        self.env.cr.execute(f"DROP INDEX {index}")
        self.env.cr.execute(
            f"CREATE INDEX {old_index} ON crm_funnel_move {old_definition}"
        )
        self.env["crm.funnel.move"].init()
        self.env.cr.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'crm_funnel_move'"
        )
        indexes = dict(self.env.cr.fetchall())
        self.assertNotIn(old_index, indexes)
        self.assertIn(expected, indexes.get(index, ""))

    def test_an_upgrade_replaces_the_arrivals_index(self):
        """The arrivals' index of earlier versions (by date alone) is dropped when
        the module is updated, and the one by layer then date created: an index
        left behind would slow every move."""
        self._assert_upgrade_replaces(
            REACHED_INDEX,
            REPLACED_REACHED_INDEX,
            "(date) INCLUDE (to_layer, user_id, team_id, company_id, moved_on_date) "
            "WHERE reached",
            "(to_layer, date) INCLUDE",
        )

    def test_an_upgrade_replaces_the_milestones_index(self):
        """The milestones' index of earlier versions (their date alone) is dropped
        when the module is updated, and the one holding what its readers take
        created."""
        self._assert_upgrade_replaces(
            MILESTONE_INDEX,
            REPLACED_MILESTONE_INDEX,
            "(date) WHERE to_layer IN ('intent', 'signed', 'implemented')",
            "(date) INCLUDE (to_layer",
        )

    def test_an_upgrade_replaces_the_plans_index(self):
        """The planned contacts' index of earlier versions (their date alone) is
        dropped when the module is updated, and the one that also holds what the
        contact curve reads of them created."""
        Contact = self.env["crm.funnel.contact"]
        self.env.cr.execute(f"DROP INDEX {PLANNED_INDEX}")
        self.env.cr.execute(
            f"CREATE INDEX {REPLACED_PLANNED_INDEX} ON crm_funnel_contact "
            "((next_date::timestamp)) WHERE next_date IS NOT NULL"
        )
        Contact.init()
        self.env.cr.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'crm_funnel_contact'"
        )
        indexes = dict(self.env.cr.fetchall())
        self.assertNotIn(REPLACED_PLANNED_INDEX, indexes)
        self.assertIn(
            f"INCLUDE ({', '.join(PLANNED_INDEX_COLUMNS)}) WHERE (next_date IS NOT NULL)",
            indexes.get(PLANNED_INDEX, ""),
        )
        # what the curve reads of a plan is in it: its branch of the view names
        # no other column of the contacts
        self.env.cr.execute(
            "SELECT pg_get_viewdef('crm_funnel_report_contact'::regclass)"
        )
        planned_branch = self.env.cr.fetchone()[0].split("UNION ALL")[1]
        read = set(re.findall(r"\bcontact\.(\w+)", planned_branch))
        self.assertLessEqual(read, {"next_date", *PLANNED_INDEX_COLUMNS})

    def test_last_move_of_a_customer_reads_the_composite_index(self):
        """The recorder finds whether a move is its customer's latest (no later
        move) through the composite index, as it refreshes a customer's path."""
        leads = self._long_histories(200)
        plan = self._plan(
            self.env["crm.funnel.move"]._funnel_refresh_paths_sql(leads[:5].ids)
        )
        self.assertIn(
            f"Index Only Scan using {LAST_MOVE_INDEX} on crm_funnel_move later_move",
            plan,
        )

    def test_fast_movers_read_the_latest_moves_down(self):
        """My Funnel's and the dashboard's fast movers are read from the latest moves
        down (their partial index), not by looking up every customer's last move;
        a customer's own mark (the list's order, its badge) probes that index."""
        leads = self._long_histories(200)
        Lead = self.env["crm.lead"]
        with self._captured_queries() as queries:
            count = Lead.search_count(
                [("id", "in", leads.ids), ("funnel_is_fast_mover", "=", True)]
            )
        self.assertEqual(count, 200)
        (query, params) = next(
            (query, params)
            for query, params in queries
            if "crm_funnel_move" in str(query)
        )
        plan = self._plan(query, params)
        self.assertIn(LATEST_FORWARD_INDEX, plan)
        self.assertNotIn(LAST_MOVE_INDEX, plan)
        self.env.cr.execute(
            SQL(
                "EXPLAIN SELECT lead.id FROM crm_lead lead WHERE lead.id = ANY(%s) AND %s",
                leads[:5].ids,
                Lead._funnel_fast_mover_sql(SQL("lead.id")),
            )
        )
        plan = "\n".join(row[0] for row in self.env.cr.fetchall())
        self.assertIn(LATEST_FORWARD_INDEX, plan)

    def test_signings_and_intent_arrivals_read_the_milestone_index(self):
        """The signings and the arrivals in Intent, a few moves among many, are
        read through their partial index, not by a scan of the whole history."""
        leads = self._create_customers(50, layer="graded", grade="a")
        self.env.flush_all()
        # 100 moves a customer, one in a hundred a signing or an arrival in Intent
        self.env.cr.execute(
            """INSERT INTO crm_funnel_move (lead_id, date, move_type, from_layer, to_layer,
                                            days_in_layer, from_ideal_days)
               SELECT lead.id, NOW() - step * INTERVAL '1 hour', 'forward', 'contacted',
                      CASE step WHEN 50 THEN 'intent' WHEN 99 THEN 'signed' ELSE 'graded' END,
                      1, 5
                 FROM crm_lead lead, generate_series(1, 100) step
                WHERE lead.id = ANY(%s)""",
            [leads.ids],
        )
        # the customers are won since: their revenue counts at their signing
        self.env.cr.execute(
            "UPDATE crm_lead SET funnel_layer = 'signed' WHERE id = ANY(%s)",
            [leads.ids],
        )
        self.env.cr.execute("ANALYZE crm_funnel_move")
        Allocation = self.env["crm.funnel.allocation"]
        for what, query in (
            (
                "signings",
                SQL(
                    "SELECT COUNT(*) FROM crm_funnel_move move WHERE %s",
                    Allocation._funnel_signing_sql("move"),
                ),
            ),
            (
                "arrivals in Intent",
                SQL(
                    "SELECT COUNT(*) FROM crm_funnel_move move WHERE move.to_layer = 'intent'"
                ),
            ),
            (
                "won revenue",
                SQL("SELECT COUNT(*) FROM (%s) won", Allocation._funnel_won_sql()),
            ),
        ):
            self.env.cr.execute(SQL("EXPLAIN %s", query))
            plan = "\n".join(row[0] for row in self.env.cr.fetchall())
            self.assertIn(MILESTONE_INDEX, plan, what)
            self.env.cr.execute(query)
            self.assertEqual(self.env.cr.fetchone()[0], 50, what)

    def test_the_targets_filters_reach_each_branch(self):
        """The targets' pivot always filters on the level (and often the kind):
        the filters reach each branch of the report's union, so that the other
        level's rows of every milestone are never built, instead of filtering
        the union's rows once built (its branches' columns of one type)."""
        self.env.cr.execute(
            """EXPLAIN SELECT COUNT(*) FROM crm_funnel_report_target
                WHERE level = 'rep' AND kind = 'signings'"""
        )
        plan = "\n".join(row[0] for row in self.env.cr.fetchall())
        self.assertNotIn("Subquery Scan on crm_funnel_report_target", plan)
        self.assertIn("'rep'::text", plan)

    def test_a_reps_holdings_read_the_holder_index(self):
        """My Funnel's header and a rep's holdings board filter the holdings on the
        rep: the filter reaches crm_lead through the index on who holds a customer
        (its rep, or the rep who abandoned it while it cools down), so their cost
        grows with the rep's customers, not the database's."""
        self._create_customers(3, layer="graded", grade="a")
        # the rep's 3 among other reps' customers, the planner's statistics fresh
        self._create_customers(60, layer="graded", grade="a", user=self.user_rep_2)
        self.env.flush_all()
        self.env.cr.execute("ANALYZE crm_lead")
        # the queries the header sends, as the ORM words them for the rep (its
        # record rules included), captured, then explained
        with self._captured_queries() as queries:
            held = {
                row["layer"]: row["held"]
                for row in self.env["crm.lead"]
                .with_user(self.user_rep)
                .get_funnel_holdings()
            }
        self.assertEqual(held["graded"], 3)
        reads = [
            (query, params)
            for query, params in queries
            if "crm_funnel_report_holding" in str(query)
        ]
        self.assertTrue(reads)
        # a few dozen customers here: forbid the scan of the table the planner
        # would pick, to see whether the rep's filter uses the index
        self.env.cr.execute("SET LOCAL enable_seqscan = off")
        self.addCleanup(self.env.cr.execute, "RESET enable_seqscan")
        plans = [self._plan(query, params) for query, params in reads]
        for plan in plans:
            self.assertNotIn("Seq Scan on crm_lead", plan)
        # (the search of the rep's rows reads no customer at all: PostgreSQL drops
        # the join of the counts it does not select; the fetch of the counts reads
        # the rep's customers through the index)
        self.assertTrue(any(HOLDER_INDEX in plan for plan in plans), plans)

    def test_reps_holdings_count_from_their_index(self):
        """The reps' holdings in the quota layers (quotas, claims, ranking boards)
        are counted from their partial index on (rep, layer), not by reading
        every customer the reps hold."""
        Service = self.env["crm.funnel.allocation"]
        before = Service._funnel_holdings(self.user_rep.ids).get(self.user_rep.id, 0)
        held = self._create_customers(10, layer="graded", grade="a")
        self._create_customers(4, layer="signed", grade="a")  # not a quota layer
        archived = self._create_customers(3, layer="lead", grade="a")
        # another rep's, which the count of this rep's leaves out
        self._create_customers(20, layer="graded", grade="a", user=self.user_rep_2)
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE crm_lead SET active = FALSE WHERE id = ANY(%s)", [archived.ids]
        )
        self.env.invalidate_all()
        self.env.cr.execute("ANALYZE crm_lead")
        with self._captured_queries() as queries:
            holdings = Service._funnel_holdings(self.user_rep.ids)
        # the active customers only, in the quota layers
        self.assertEqual(holdings.get(self.user_rep.id), before + len(held))
        [(query, params)] = [
            (query, params) for query, params in queries if "crm_lead" in str(query)
        ]
        # (an index-only scan at 100,000 customers once VACUUM has marked the
        # pages visible, which a test's transaction cannot do.) Among a test's
        # few customers, the planner's choice between this index and the general
        # ones on the rep or the layer hangs on statistics a test cannot fix:
        # earlier tests' rolled-back rows grow the table, and it was seen to
        # pick the holder index (a CI run) or the rep's index (a table grown by
        # 400,000 rolled-back rows). So the others are dropped, in the test's
        # transaction (rolled back with it): the plan then shows whether the
        # query's words match the partial index (its columns and its
        # condition), or scans the table
        self.env.cr.execute(
            """SELECT indexname FROM pg_indexes
                WHERE tablename = 'crm_lead' AND indexname != %s
                  AND indexdef ~ '\\m(user_id|funnel_layer|active)\\M'""",
            [HOLDINGS_INDEX],
        )
        others = [name for (name,) in self.env.cr.fetchall()]
        self.assertIn("crm_lead__user_id_index", others)
        for name in others:
            self.env.cr.execute(SQL("DROP INDEX %s", SQL.identifier(name)))
        self.env.cr.execute("SET LOCAL enable_seqscan = off")
        self.addCleanup(self.env.cr.execute, "RESET enable_seqscan")
        plan = self._plan(query, params)
        self.assertIn(HOLDINGS_INDEX, plan)
        self.assertNotIn("Seq Scan", plan)

    def test_moves_analysis_reads_the_arrivals_from_their_index(self):
        """The moves analysis's pivot (a period, not split by kind) reads the
        arrivals in a layer from their partial index, which holds every column it
        needs, and reads no ideal row: not a scan of the whole history."""
        leads = self._create_customers(50, layer="graded", grade="a")
        self.env.flush_all()
        # 100 moves a customer, one in a hundred an arrival in a layer
        self.env.cr.execute(
            """INSERT INTO crm_funnel_move (lead_id, date, move_type, from_layer, to_layer,
                                            days_in_layer, from_ideal_days, reached,
                                            moved_on_date)
               SELECT lead.id, NOW() - step * INTERVAL '1 hour', 'forward', 'resource',
                      'graded', 1, 5, step = 50, NOW()
                 FROM crm_lead lead, generate_series(1, 100) step
                WHERE lead.id = ANY(%s)""",
            [leads.ids],
        )
        self.env.cr.execute("ANALYZE crm_funnel_move")
        Report = self.env["crm.funnel.report.move"]
        domain = [("date", ">=", "2000-01-01")]
        # the pivot's query, as the ORM words it (captured, then explained); a
        # few thousand moves here: forbid the scan of the table, to see whether
        # the period can be read from the index at all
        with self._captured_queries() as queries:
            Report._read_group(
                domain,
                ["layer", "date:week"],
                [
                    "reached_count:sum",
                    "step_rate:avg",
                    "ideal_step_rate:avg",
                    "days_median:avg",
                ],
            )
        [(query, params)] = [
            (query, params)
            for query, params in queries
            if "crm_funnel_report_move" in str(query) and "GROUP BY" in str(query)
        ]
        self.env.cr.execute("SET LOCAL enable_seqscan = off")
        self.addCleanup(self.env.cr.execute, "RESET enable_seqscan")
        plan = self._plan(query, params)
        # (an index-only scan once VACUUM has marked the pages visible, which a
        # test's transaction cannot do)
        self.assertIn(REACHED_INDEX, plan)
        self.assertNotIn("Seq Scan on crm_funnel_move", plan)
        # the arrivals come layer by layer and meet their layer's ideal figures as
        # they are read (a range of dates per layer, or the index's order merged
        # with the layers): no hash probe for each arrival
        self.assertRegex(
            plan,
            r"Index Cond: \(\(to_layer = |Merge Cond: \(\(layer\.key\)::text = \(move\.to_layer\)",
        )
        self.assertNotRegex(
            plan, r"Hash Cond: \(\(move\.to_layer\)|Sort Key: move\.to_layer"
        )
        # and no ideal row built: the kind is filtered out before the twins
        self.assertIn("'actual'", plan)
        # the view is folded into the query (no WITH in it): only the columns the
        # pivot reads are computed
        self.assertNotIn("Subquery Scan on crm_funnel_report_move", plan)
        # the ideal step rate, a numeric division, is worked out once per layer,
        # not for every arrival: EXPLAIN (VERBOSE) wraps a value computed lower in
        # the plan in one more pair of parentheses, so the nodes showing the
        # division with the fewest are the ones computing it, and none of them
        # reads a move
        verbose = self._plan(query, params, "(VERBOSE, COSTS OFF)")
        division = re.compile(r"(\(*)100\.0 \* NULLIF\(")
        outputs = [
            (min(len(match.group(1)) for match in division.finditer(line)), line)
            for line in verbose.splitlines()
            if division.search(line)
        ]
        self.assertTrue(outputs, verbose)
        fewest = min(depth for depth, _line in outputs)
        computing = [line for depth, line in outputs if depth == fewest]
        self.assertFalse([line for line in computing if "move." in line], verbose)
        [(count, reached)] = Report._read_group(
            [*domain, ("lead_id", "in", leads.ids)],
            [],
            ["__count", "reached_count:sum"],
        )
        # the customers' own entries (50) and the arrivals inserted above (50),
        # each once: the ideal rows are not read when the pivot is not split
        self.assertEqual((count, reached), (100, 100))

    def test_contact_curve_reads_the_planned_contacts_from_their_index(self):
        """The contact time curve's planned contacts (dated by their next contact
        date) are read for its period from their partial index, not by a scan
        of every contact; the figures are those of the contacts themselves."""
        leads = self._create_customers(20, layer="graded", grade="a")
        self.env.flush_all()
        # 50 contacts a customer, one in ten planning a next contact
        self.env.cr.execute(
            """INSERT INTO crm_funnel_contact (lead_id, date, kind, layer, received_date,
                                               next_date, source, company_id)
               SELECT lead.id, NOW() - step * INTERVAL '1 day', 'phone', 'graded',
                      NOW() - INTERVAL '60 days',
                      CASE WHEN step %% 10 = 0 THEN (NOW() - step * INTERVAL '1 day'
                                                     + INTERVAL '3 days')::date END,
                      'log', lead.company_id
                 FROM crm_lead lead, generate_series(1, 50) step
                WHERE lead.id = ANY(%s)""",
            [leads.ids],
        )
        self.env.cr.execute("ANALYZE crm_funnel_contact")
        Report = self.env["crm.funnel.report.contact"]
        since = fields.Datetime.now() - timedelta(days=30)
        domain = [("date", ">=", since), ("lead_id", "in", leads.ids)]
        with self._captured_queries() as queries:
            rows = Report._read_group(
                domain, [], ["contact_count:sum", "planned_count:sum"]
            )
        [(query, params)] = [
            (query, params)
            for query, params in queries
            if "crm_funnel_report_contact" in str(query)
        ]
        # 30 contacts a customer in the last 30 days (days 1-29), and the plans
        # dated in them: those of the contacts of days 10, 20 and 30
        self.env.cr.execute(
            """SELECT COUNT(*) FILTER (WHERE date >= %(since)s),
                      COUNT(*) FILTER (WHERE next_date::timestamp >= %(since)s)
                 FROM crm_funnel_contact WHERE lead_id = ANY(%(leads)s)""",
            {"since": since, "leads": leads.ids},
        )
        self.assertEqual(rows, [self.env.cr.fetchone()])
        self.assertEqual(rows[0][1], 20 * 3)
        self.env.cr.execute("SET LOCAL enable_seqscan = off")
        self.addCleanup(self.env.cr.execute, "RESET enable_seqscan")
        plan = self._plan(query, params)
        self.assertIn(PLANNED_INDEX, plan)

    def test_contact_curve_union_is_folded_into_its_read(self):
        """The curve's two branches (contacts done, contacts planned) are folded
        into the query reading them (their filters stand outside the union), so
        each scan of the contacts yields the read's columns alone; the figures
        still leave out the teams outside the funnel, and the contacts per
        customer count the customers of the contacts done, in a total as in a
        grouped read."""
        leads = self._create_customers(4, layer="graded", grade="a")
        outside = self.env["crm.team"].create(
            {"name": "Service desk", "use_funnel": False}
        )
        self.env.flush_all()
        # 3 contacts a customer, two of them planning the next one; the first
        # customer has 2 more, logged by a team outside the funnel
        self.env.cr.execute(
            """INSERT INTO crm_funnel_contact (lead_id, date, kind, layer, received_date,
                                               next_date, source, company_id, team_id,
                                               user_id)
               SELECT lead.id, NOW() - step * INTERVAL '1 day', 'phone', 'graded',
                      NOW() - INTERVAL '20 days',
                      CASE WHEN step < 3 THEN (NOW() + INTERVAL '2 days')::date END,
                      'log', lead.company_id, lead.team_id, lead.user_id
                 FROM crm_lead lead, generate_series(1, 3) step
                WHERE lead.id = ANY(%(leads)s)
            UNION ALL
               SELECT %(first)s, NOW() - step * INTERVAL '1 day', 'visit', 'graded',
                      NOW() - INTERVAL '20 days', (NOW() + INTERVAL '1 day')::date,
                      'log', %(company)s, %(outside)s, %(rep)s
                 FROM generate_series(1, 2) step""",
            {
                "leads": leads.ids,
                "rep": self.user_rep.id,
                "first": leads[0].id,
                "company": leads[0].company_id.id,
                "outside": outside.id,
            },
        )
        self.assertTrue(leads[0].team_id.use_funnel)
        Report = self.env["crm.funnel.report.contact"]
        domain = [("lead_id", "in", leads.ids)]
        measures = [
            "__count",
            "contact_count:sum",
            "planned_count:sum",
            "contacts_per_customer:avg",
        ]
        self.assertEqual(leads.user_id, self.user_rep)
        # as the rep who made the contacts too: their record rules filter the
        # folded union as well
        with self._captured_queries() as queries:
            for report in (Report, Report.with_user(self.user_rep)):
                total = report._read_group(domain, [], measures)
                by_layer = report._read_group(domain, ["layer"], measures)
                # 12 contacts of 4 customers and their 8 plans
                self.assertEqual(total, [(20, 12, 8, 3.0)])
                self.assertEqual(by_layer, [("graded", 20, 12, 8, 3.0)])
        reads = [
            (query, params)
            for query, params in queries
            if "crm_funnel_report_contact" in str(query)
        ]
        self.assertEqual(len(reads), 4)
        self.assertIn("user_id", str(reads[-1][0]))  # the rep's rule
        for query, params in reads:
            plan = self._plan(query, params)
            self.assertNotIn("Subquery Scan", plan)
            # each branch's scan, by its alias (an index's name may start alike)
            self.assertEqual(
                len(re.findall(r" on crm_funnel_contact contact", plan)), 2, plan
            )


@tagged("post_install", "-at_install")
class TestFunnelBackfillQueries(SalesFunnelCommon):
    """The back-fill of the move history costs the same queries for 10 customers
    as for 100 (install on a CRM in use, the mapping wizard, a reinstall)."""

    def _tracked_customers(self, count):
        """``count`` customers entered in Resource and moved to Contacted with Odoo's
        stage tracking on, whose move history is gone (as after a reinstall)."""
        Lead = self.env["crm.lead"].with_context(
            tracking_disable=False, mail_notrack=False
        )
        leads = Lead.create(
            [
                {
                    "name": f"Tracked {index}",
                    "type": "opportunity",
                    "stage_id": self.stages["resource"].id,
                    "user_id": self.user_rep.id,
                    "team_id": self.team_east.id,
                    "funnel_grade": "b",
                }
                for index in range(count)
            ]
        )
        self.env.flush_all()
        self.env.cr.precommit.run()  # Odoo writes its stage tracking at commit time
        leads.write({"stage_id": self.stages["contacted"].id})
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.env.cr.execute(
            "DELETE FROM crm_funnel_move WHERE lead_id = ANY(%s)", [leads.ids]
        )
        self.env.invalidate_all()
        return self.env["crm.lead"].browse(leads.ids)

    def _backfill_queries(self, count):
        leads = self._tracked_customers(count)
        Move = self.env["crm.funnel.move"]
        before = self.env.cr.sql_log_count
        moves = Move._funnel_backfill(leads)
        self.env.flush_all()
        queries = self.env.cr.sql_log_count - before
        # each customer: its entry in Resource, its move to Contacted, by its rep
        self.assertEqual(len(moves), 2 * count)
        self.assertEqual(
            sorted(moves.mapped("move_type")), sorted(["entry", "forward"] * count)
        )
        self.assertEqual(set(moves.mapped("changed_by_id")), {self.env.user})
        # its path facts stored: the move to Contacted is each customer's latest
        self.assertEqual(
            moves.filtered("latest").mapped("to_layer"), ["contacted"] * count
        )
        for lead in leads:
            self.assertEqual(
                lead.funnel_move_ids.sorted("id").mapped("to_layer"),
                ["resource", "contacted"],
            )
        self.assertEqual(
            set(leads.mapped("funnel_layer_date")),
            set(
                moves.filtered(lambda move: move.move_type == "forward").mapped("date")
            ),
        )
        return queries

    def test_backfill_query_count_does_not_grow_with_the_customers(self):
        self._backfill_queries(3)  # the caches (the stage field, the registry)
        queries_10 = self._backfill_queries(10)
        queries_100 = self._backfill_queries(100)
        self.assertEqual(queries_10, queries_100)

    def test_backfill_query_budget(self):
        self._backfill_queries(3)
        for count in (10, 100):
            leads = self._tracked_customers(count)
            # the sorts' memory, one INSERT ... SELECT of the moves with the layer
            # dates in the same statement, then the moves' path facts
            with self.assertQueryCount(3):
                moves = self.env["crm.funnel.move"]._funnel_backfill(leads)
                self.env.flush_all()
            self.assertEqual(len(moves), 2 * count)
            self.assertEqual(moves.filtered("reached"), moves)
            # each entry moved on when its customer reached Contacted
            for lead in leads:
                entry, contacted = lead.funnel_move_ids.sorted("id")
                self.assertEqual(entry.moved_on_date, contacted.date)
                self.assertFalse(contacted.moved_on_date)
            # a second back-fill finds the history written and leaves it alone
            self.assertFalse(self.env["crm.funnel.move"]._funnel_backfill(leads))

    def test_backfill_of_many_customers_analyzes_the_history_once(self):
        # above ANALYZE_ABOVE customers (5,000; 5 here), the planner's statistics
        # of the history are renewed before the path facts: one query more
        self._backfill_queries(3)
        with patch.object(crm_funnel_move, "ANALYZE_ABOVE", 5):
            for count in (10, 100):
                leads = self._tracked_customers(count)
                with self.assertQueryCount(4):
                    moves = self.env["crm.funnel.move"]._funnel_backfill(leads)
                    self.env.flush_all()
                self.assertEqual(len(moves), 2 * count)
                self.assertEqual(moves.filtered("reached"), moves)


@tagged("post_install", "-at_install")
class TestFunnelReadReplica(SalesFunnelCommon):
    """The reports, the dashboard, the ranking boards and My Funnel's header read on
    a read-only cursor, as Odoo 18 runs them on a replica (``db_replica_host``)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._create_customers(3, layer="graded", grade="a")
        lead = cls._create_customers(1, layer="graded", grade="b")
        lead.stage_id = cls.stages["contacted"]
        cls._create_customers(2, layer="resource", user=cls.user_rep_2)

    def _read_everything(self, env):
        """Read every report the user may read, the dashboard and the holdings
        board, My Funnel and its header, the ranking boards: (the reports read,
        the header's holdings, My Funnel's list)."""
        read = []
        for model_name in (
            "crm.funnel.report.overview",
            "crm.funnel.report.holding",
            "crm.funnel.report.move",
            "crm.funnel.report.abandon",
            "crm.funnel.report.contact",
            "crm.funnel.report.support",
            "crm.funnel.report.target",
        ):
            Report = env[model_name]
            if not Report.has_access("read"):
                continue  # a report of another role
            read.append(model_name)
            measures = [
                f"{name}:{field.aggregator}"
                for name, field in Report._fields.items()
                if field.store
                and field.aggregator
                and field.type in ("integer", "float")
            ]
            groupby = "user_id" if "user_id" in Report._fields else "company_id"
            groups = Report.web_read_group([], measures, [groupby], lazy=False)
            self.assertIn("groups", groups, model_name)
        dashboard = env["crm.funnel.dashboard"]
        self.assertTrue(dashboard.get_funnel_dashboard({}))
        self.assertTrue(dashboard.get_holdings_board({}))
        # My Funnel's list as the web client opens it: the action's domain, the
        # fields of its list view
        action = env.ref("sales_funnel_method.crm_lead_action_my_funnel").sudo()
        Lead = env["crm.lead"]
        arch = Lead.get_views([(action.view_id.id, "list")])["views"]["list"]["arch"]
        specification = {}
        for node in etree.fromstring(arch).iter("field"):
            field = Lead._fields[node.get("name")]
            specification[field.name] = (
                {"fields": {"display_name": {}}}
                if field.type in ("many2one", "one2many", "many2many")
                else {}
            )
        domain = safe_eval(action.domain, {"uid": env.uid})
        my_funnel = Lead.web_search_read(domain, specification)
        # the header: the holdings and the month's targets
        self.assertIsInstance(env["crm.funnel.target"].get_funnel_my_targets(), list)
        # the ranking boards' form as the web client opens it: a new record's
        # values, the boards computed with them
        Ranking = env["crm.funnel.report.ranking"]
        form = Ranking.get_views([(False, "form")])["views"]["form"]["arch"]
        specification = {
            node.get("name"): (
                {"fields": {"display_name": {}}}
                if Ranking._fields[node.get("name")].type == "many2one"
                else {}
            )
            for node in etree.fromstring(form).iter("field")
        }
        self.assertIn("board_html", specification)
        values = Ranking.onchange({}, [], specification)["value"]
        self.assertIn("data-board='signings'", str(values["board_html"]))
        # then another period, rank and board, as the user picks them
        values.update(period="last_month", level="team", board="signings")
        values = {
            name: value["id"] if isinstance(value, dict) else value
            for name, value in values.items()
        }
        changed = Ranking.onchange(values, ["period"], specification)["value"]
        self.assertIn("data-board='signings'", str(changed["board_html"]))
        self.assertNotIn("data-board='revenue'", str(changed["board_html"]))
        return read, Lead.get_funnel_holdings(), my_funnel

    def test_the_screens_that_only_read_go_to_the_replica(self):
        """Odoo sends a call to the replica when its method says it only reads
        (``@api.readonly``): the dashboard, the holdings board, My Funnel's
        header (its holdings and its targets) and the ranking boards' form until
        it is saved."""
        for model_name, method in (
            ("crm.funnel.dashboard", "get_funnel_dashboard"),
            ("crm.funnel.dashboard", "get_holdings_board"),
            ("crm.lead", "get_funnel_holdings"),
            ("crm.funnel.target", "get_funnel_my_targets"),
            ("crm.funnel.report.ranking", "onchange"),
        ):
            function = getattr(type(self.env[model_name]), method)
            self.assertTrue(getattr(function, "_readonly", False), method)

    def test_reports_dashboard_and_header_on_a_read_only_cursor(self):
        self.env.flush_all()
        # in tests, the registry's read-only cursors are the test transaction made
        # read-only (SET TRANSACTION READ ONLY in a savepoint): a write fails there
        self.registry.enter_test_mode(self.env.cr)
        self.addCleanup(self.registry.leave_test_mode)
        reports_read = {}
        for user in (
            self.user_rep,
            self.user_manager_east,
            self.user_director,
            self.user_support,
        ):
            with self.registry.cursor(readonly=True) as cr:
                self.assertTrue(cr.readonly)
                env = api.Environment(cr, user.id, {})
                reports_read[user], header, my_funnel = self._read_everything(env)
                if user == self.user_rep:
                    held = {row["layer"]: row["held"] for row in header}
                    self.assertEqual(held.get("graded"), 3)
                    self.assertEqual(held.get("contacted"), 1)
                    self.assertEqual(my_funnel["length"], 4)
                    self.assertEqual(
                        {record["funnel_layer"] for record in my_funnel["records"]},
                        {"graded", "contacted"},
                    )
        # every report was read by someone
        self.assertEqual(len(set().union(*reports_read.values())), 7)
        self.assertIn("crm.funnel.report.move", reports_read[self.user_rep])

    def test_a_write_on_the_read_only_cursor_fails(self):
        # what makes the test above able to fail
        self.env.flush_all()
        self.registry.enter_test_mode(self.env.cr)
        self.addCleanup(self.registry.leave_test_mode)
        with self.assertRaisesRegex(Exception, "read-only transaction"):
            with self.registry.cursor(readonly=True) as cr:
                env = api.Environment(cr, self.user_director.id, {})
                env["crm.lead"].search([], limit=1).write({"name": "changed"})
                env.flush_all()
