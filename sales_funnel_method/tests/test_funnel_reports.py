import io
from datetime import datetime, timedelta
from statistics import mean, median
from unittest.mock import patch

import openpyxl
from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged, users
from odoo.tools import SQL

from ..models.crm_funnel_contact import (
    CURVE_COLUMNS,
    curve_bucket,
    curve_days,
    curve_sql,
)
from ..models.crm_funnel_report_mixin import top_level_terms
from .test_funnel_allocation import FunnelAllocationCommon

T0 = datetime(2026, 4, 6, 9, 0, 0)  # a Monday
# every measure of the moves analysis
MOVE_MEASURES = [
    "reached_count:sum",
    "moved_on_count:sum",
    "step_rate:avg",
    "ideal_step_rate:avg",
    "days_in_layer:avg",
    "days_median:avg",
    "ideal_days:avg",
]


class FunnelReportCommon(FunnelAllocationCommon):
    """A small hand-built history; the expected figures are written out by hand
    from it, independently of the reports' SQL.

        funnel_rep       4 resources entered at T0; A, B, C graded after 1 day, D
                         abandoned after 2 days; A, B contacted after 1 more day;
                         A reached Lead 4 days later.
        funnel_rep_west  2 resources entered at T0; E graded after 3 days.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with freeze_time(T0):
            cls.a, cls.b, cls.c, cls.d = cls._create_customers(
                4, layer="resource", grade="b", name="East"
            )
            cls.e, cls.f = cls._create_customers(
                2,
                layer="resource",
                grade="c",
                user=cls.user_rep_west,
                team=cls.team_west,
                name="West",
            )
        cls._move_at(cls.a | cls.b | cls.c, "graded", 1)
        with freeze_time(T0 + timedelta(days=2)):
            cls.d.action_set_lost()
        cls._move_at(cls.a | cls.b, "contacted", 2)
        cls._move_at(cls.a, "lead", 6)
        cls._move_at(cls.e, "graded", 3)

    @classmethod
    def _move_at(cls, leads, layer, day):
        with freeze_time(T0 + timedelta(days=day)):
            leads.write({"stage_id": cls.stages[layer].id})


@tagged("post_install", "-at_install")
class TestFunnelMoveReport(FunnelReportCommon):
    """Step rates cohort by cohort (METHOD 2, 11): of the customers that reached a
    layer, the share that reached a lower one, stalled customers included."""

    def _by_layer(self, domain=(), groupby=("layer",)):
        Report = self.env["crm.funnel.report.move"]
        rows = Report._read_group(
            list(domain),
            list(groupby),
            MOVE_MEASURES,
        )
        return {
            row[0] if len(groupby) == 1 else row[:2]: row[len(groupby) :]
            for row in rows
        }

    def test_step_rates_and_days_against_the_ideal(self):
        rep = self._by_layer([("user_id", "=", self.user_rep.id)])
        reached, moved, rate, ideal_rate, days_mean, days_median, ideal_days = rep[
            "resource"
        ]
        # A, B, C moved on after a day; D was abandoned
        self.assertEqual((reached, moved), (4, 3))
        self.assertAlmostEqual(rate, 75.0)
        self.assertAlmostEqual(ideal_rate, 100.0)
        self.assertAlmostEqual(days_mean, 1)
        self.assertAlmostEqual(days_median, 1)
        self.assertEqual(ideal_days, 1)
        # C stalled in Graded: 2 of 3, not the 100 % of those that left it
        reached, moved, rate, ideal_rate, days_mean, _median, _ideal = rep["graded"]
        self.assertEqual((reached, moved), (3, 2))
        self.assertAlmostEqual(rate, 200 / 3)
        self.assertAlmostEqual(ideal_rate, 90.0)
        self.assertAlmostEqual(days_mean, 1)
        reached, moved, rate, ideal_rate, days_mean, _median, ideal_days = rep[
            "contacted"
        ]
        self.assertEqual((reached, moved, rate), (2, 1, 50.0))
        self.assertAlmostEqual(ideal_rate, 100 * 50 / 90)
        self.assertAlmostEqual(days_mean, 4)
        self.assertEqual(ideal_days, 5)
        # A reached Lead and has not moved on yet: no days, a rate of 0
        reached, moved, rate, _ideal_rate, days_mean, _median, _ideal = rep["lead"]
        self.assertEqual((reached, moved, rate), (1, 0, 0.0))
        self.assertFalse(days_mean)
        # the whole company: both reps' resources (E graded after 3 days, F stalled)
        everyone = self._by_layer()
        reached, moved, rate, _ideal, days_mean, days_median, _ideal_days = everyone[
            "resource"
        ]
        self.assertEqual((reached, moved), (6, 4))
        self.assertAlmostEqual(rate, 100 * 4 / 6)
        self.assertAlmostEqual(days_mean, mean([1, 1, 1, 3]))
        self.assertAlmostEqual(days_median, median([1, 1, 1, 3]))

    def test_the_ideal_beside_the_actual(self):
        """Split by kind (the graph), each layer has its ideal beside the actual;
        not split (the pivot), the actual alone: never the two mixed."""
        rows = self._by_layer(
            [("user_id", "=", self.user_rep.id)], groupby=("layer", "kind")
        )
        self.assertAlmostEqual(rows[("graded", "actual")][2], 200 / 3)
        self.assertAlmostEqual(rows[("graded", "ideal")][2], 90.0)
        self.assertAlmostEqual(rows[("contacted", "ideal")][2], 100 * 50 / 90)
        self.assertAlmostEqual(rows[("contacted", "ideal")][4], 5)  # ideal days
        # the median too: the actual rows' days, or the ideal days
        self.assertAlmostEqual(rows[("graded", "actual")][5], 1)
        self.assertAlmostEqual(rows[("contacted", "ideal")][5], 5)
        self.assertEqual(
            rows[("graded", "ideal")][:2], (0, 0)
        )  # no customer counted twice
        [(reached, moved, rate, *_rest)] = self.env[
            "crm.funnel.report.move"
        ]._read_group(
            [("user_id", "=", self.user_rep.id)],
            [],
            ["reached_count:sum", "moved_on_count:sum", "step_rate:avg"],
        )
        # 4 resources, 3 graded, 2 contacted, 1 lead: 6 of them moved on
        self.assertEqual((reached, moved), (10, 6))
        self.assertAlmostEqual(rate, 60.0)
        # the count is the customers', split by kind or not (each customer has an
        # actual row and its ideal twin)
        Report = self.env["crm.funnel.report.move"]
        mine = [("user_id", "=", self.user_rep.id)]
        self.assertEqual(Report._read_group(mine, [], ["__count"]), [(10,)])
        self.assertEqual(
            dict(Report._read_group(mine, ["kind"], ["__count"])),
            {"actual": 10, "ideal": 10},
        )
        self.assertEqual(
            dict(Report._read_group(mine, ["moved_on_count"], ["__count"])),
            {0: 4, 1: 6},
        )
        # filtered on the ideal: the ideal twins alone, with the ideal step rates
        [(count, reached, rate)] = Report._read_group(
            [*mine, ("kind", "=", "ideal")],
            [],
            ["__count", "reached_count:sum", "step_rate:avg"],
        )
        self.assertEqual((count, reached), (10, 0))
        # the ideal step rates: resource 100, graded 90, contacted 50/90, lead 30/50
        self.assertAlmostEqual(rate, (4 * 100 + 3 * 90 + 2 * 100 * 50 / 90 + 60) / 10)

    def test_a_customer_back_down_reached_its_layer_once(self):
        lead = self.b
        self._move_at(lead, "graded", 3)  # back up
        self._move_at(lead, "contacted", 4)  # down again: not a second customer
        rows = self._by_layer([("user_id", "=", self.user_rep.id)])
        self.assertEqual(rows["contacted"][:2], (2, 1))

    def test_period_filter(self):
        first_day = self._by_layer([("date", "<", T0 + timedelta(days=1, hours=12))])
        self.assertEqual(set(first_day), {"resource", "graded"})
        self.assertEqual(first_day["resource"][:2], (6, 4))

    @users("funnel_manager_west")
    def test_team_manager_sees_his_team_only(self):
        rows = self._by_layer()
        self.assertEqual(rows["resource"][:2], (2, 1))  # funnel_rep_west's E and F

    def test_top_level_terms_of_a_domain(self):
        """The terms every record of a domain satisfies: those ANDed at its root,
        not those under an OR or a NOT, however deep."""
        kind, graded, lead = (
            ("kind", "=", "actual"),
            ("layer", "=", "graded"),
            ("layer", "=", "lead"),
        )
        for domain, terms in (
            ([], [(1, "=", 1)]),
            ([kind], [kind]),
            ([kind, graded], [kind, graded]),
            (["&", ["kind", "=", "actual"], graded], [kind, graded]),
            (["|", kind, graded], []),
            (["!", kind], []),
            (["!", "&", kind, graded], []),
            ([kind, "|", graded, lead], [kind]),
            (["|", graded, "&", kind, lead], []),
            (["&", "!", graded, kind], [kind]),
            ([graded, "&", kind, "|", lead, "!", kind], [graded, kind]),
        ):
            with self.subTest(domain=domain):
                self.assertEqual(sorted(top_level_terms(domain)), sorted(terms))
        # a long domain (an import's ids, a long filter) is read without recursion
        self.assertEqual(len(top_level_terms([kind] * 5000)), 5000)
        self.assertEqual(top_level_terms(["|"] * 4999 + [kind] * 5000), [])

    def test_reading_the_actual_rows_alone_is_a_filter(self):
        """The reads that cannot tell an actual row from its ideal twin take the
        actual rows alone, with plain aggregates; a caller asking for that
        (``funnel_actual_only``) gets the same figures as a filter on the kind, and
        never the ideal rows."""
        Report = self.env["crm.funnel.report.move"]
        measures = ["__count", *MOVE_MEASURES]
        actual_only = Report.with_context(funnel_actual_only=True)
        self.assertEqual(
            [
                kind
                for kind, _count in actual_only._read_group([], ["kind"], ["__count"])
            ],
            ["actual"],
        )
        filtered = Report._read_group([("kind", "=", "actual")], ["layer"], measures)
        self.assertEqual(actual_only._read_group([], ["layer"], measures), filtered)
        # a filter keeping the actual rows alone is read with plain aggregates too
        # (no test of the kind per group); one that may keep ideal rows is not
        for domain, plain in (
            ([("kind", "=", "actual"), ("layer", "!=", False)], True),
            (["|", ("kind", "=", "actual"), ("layer", "=", "graded")], False),
            (["!", ("kind", "=", "actual")], False),
            # beside an OR (the dashboard's matured layers), still at the top
            (
                [
                    ("kind", "=", "actual"),
                    "|",
                    ("layer", "=", "graded"),
                    ("layer", "=", "lead"),
                ],
                True,
            ),
            (
                [
                    "|",
                    ("layer", "=", "graded"),
                    "&",
                    ("kind", "=", "actual"),
                    ("layer", "=", "lead"),
                ],
                False,
            ),
        ):
            with self.subTest(domain=domain), self._captured_queries() as queries:
                Report._read_group(domain, ["layer"], measures)
            grouped = [
                str(query) for query, _params in queries if "GROUP BY" in str(query)
            ]
            self.assertEqual(len(grouped), 1)
            self.assertEqual("BOOL_OR" not in grouped[0], plain, domain)
        matured = [row for row in filtered if row[0] in ("graded", "lead")]
        self.assertEqual(len(matured), 2)
        self.assertEqual(
            Report._read_group(
                [
                    ("kind", "=", "actual"),
                    "|",
                    ("layer", "=", "graded"),
                    ("layer", "=", "lead"),
                ],
                ["layer"],
                measures,
            ),
            matured,
        )
        self.assertEqual(
            Report._read_group(
                [("kind", "=", "actual"), ("layer", "!=", False)], ["layer"], measures
            ),
            filtered,
        )
        # read as the pivot opens it (by layer, not by kind): the same figures
        self.assertEqual(Report._read_group([], ["layer"], measures), filtered)
        # the median over each group's values, interpolated between the two middle
        # ones when they are even in number: C and E move on 3 days after reaching
        # Graded, A and B took 1 day
        self._move_at(self.c, "contacted", 4)
        self._move_at(self.e, "contacted", 6)
        graded = {
            row[0]: row[1:]
            for row in Report._read_group(
                [("layer", "=", "graded")], ["layer"], ["days_median:avg"]
            )
        }
        self.assertAlmostEqual(graded["graded"][0], 2)
        # the same split by kind (each kind's values apart), and the median in a
        # HAVING and an ORDER BY, where Odoo words them too
        by_kind = Report._read_group(
            [],
            ["layer", "kind"],
            ["days_median:avg"],
            having=[("days_median:avg", ">", 0)],
            order="days_median:avg desc",
        )
        self.assertIn(("graded", "actual", 2), by_kind)
        medians = [value for _layer, _kind, value in by_kind]
        self.assertEqual(medians, sorted(medians, reverse=True))
        self.assertTrue(all(value > 0 for value in medians))
        # the mark of a read of the actual rows stays with it: the groups' records
        # come back in the caller's environment
        [(user, _count)] = Report._read_group(
            [("user_id", "=", self.user_rep.id)], ["user_id"], ["__count"]
        )
        self.assertEqual(user, self.user_rep)
        self.assertNotIn("funnel_actual_only", user.env.context)

    def test_report_queries_do_not_grow_with_customers(self):
        Report = self.env["crm.funnel.report.move"]
        self.env.flush_all()
        # the query alone (its median gathers the values of each group, no sort
        # room asked), split by kind (the graph) or not
        with self.assertQueryCount(1):
            Report._read_group(
                [],
                ["layer", "user_id"],
                ["reached_count:sum", "step_rate:avg", "days_median:avg"],
            )
        with self.assertQueryCount(1):
            Report._read_group([], ["layer", "kind"], ["days_median:avg"])
        with freeze_time(T0):
            more = self._create_customers(60, layer="resource", grade="a")
        self._move_at(more, "graded", 1)
        self.env.flush_all()
        with self.assertQueryCount(1):
            Report._read_group(
                [],
                ["layer", "user_id"],
                ["reached_count:sum", "step_rate:avg", "days_median:avg"],
            )
        with self.assertQueryCount(1):
            Report._read_group([], ["layer", "kind"], ["days_median:avg"])


@tagged("post_install", "-at_install")
class TestFunnelOverviewAbandonContact(FunnelReportCommon):
    def test_overview_actual_against_ideal(self):
        Report = self.env["crm.funnel.report.overview"]
        rows = Report._read_group(
            [("user_id", "=", self.user_rep.id)],
            ["layer", "kind"],
            ["customer_count:sum"],
        )
        values = {(layer, kind): value for layer, kind, value in rows}
        # 4 resources entered: ideally 4 graded, 3.6 contacted, 2 leads, 1.2 intent, 0.4 signed
        self.assertEqual(values[("resource", "actual")], 4)
        self.assertEqual(values[("resource", "ideal")], 4)
        self.assertEqual(values[("graded", "actual")], 3)
        self.assertAlmostEqual(values[("contacted", "ideal")], 4 * 0.9)
        self.assertEqual(values[("contacted", "actual")], 2)
        self.assertEqual(values[("lead", "actual")], 1)
        self.assertAlmostEqual(values[("lead", "ideal")], 4 * 0.5)
        self.assertAlmostEqual(values[("signed", "ideal")], 4 * 0.1)
        self.assertNotIn(("signed", "actual"), values)
        # the pivot's measures: actual and ideal side by side, reach rates in %
        pivot = {
            layer: values
            for layer, *values in Report._read_group(
                [("user_id", "=", self.user_rep.id)],
                ["layer"],
                [
                    "actual_count:sum",
                    "ideal_count:sum",
                    "reach_rate:avg",
                    "ideal_reach_rate:avg",
                ],
            )
        }
        self.assertEqual(pivot["contacted"][:2], [2, 4 * 0.9])
        self.assertAlmostEqual(pivot["contacted"][2], 100 * 2 / 4)
        self.assertAlmostEqual(pivot["contacted"][3], 90.0)
        self.assertEqual(pivot["signed"][0], 0)
        self.assertAlmostEqual(pivot["signed"][3], 10.0)
        [(actual, ideal)] = Report._read_group(
            [("user_id", "=", self.user_rep.id)],
            [],
            ["actual_count:sum", "ideal_count:sum"],
        )
        self.assertEqual(actual, 4 + 3 + 2 + 1)  # the Total adds customers, not ideals
        # groups come in the funnel's order, not alphabetically
        layers = [
            layer
            for layer, _count in Report._read_group(
                [], ["layer"], ["customer_count:sum"]
            )
        ]
        self.assertEqual(
            layers, ["resource", "graded", "contacted", "lead", "intent", "signed"]
        )
        # as the web client asks for it (read_group orders by the group-bys)
        web = Report.read_group(
            [], ["customer_count:sum"], ["layer", "kind"], lazy=False
        )
        self.assertEqual(list(dict.fromkeys(row["layer"] for row in web)), layers)

    def test_abandon_ratio(self):
        pool = self._pool(2, grade="a")
        with freeze_time(T0 + timedelta(days=3)):
            self.Service._funnel_claim(pool, self.user_rep)
            pool[0].action_set_lost()
        rows = self.env["crm.funnel.report.abandon"]._read_group(
            [],
            ["user_id"],
            ["abandoned_count:sum", "received_count:sum", "abandon_ratio:avg"],
        )
        figures = {user: values for user, *values in rows}
        # D abandoned at day 2, and one of the two claimed customers
        self.assertEqual(figures[self.user_rep][:2], [2, 2])
        self.assertAlmostEqual(figures[self.user_rep][2], 1.0)
        self.assertNotIn(self.user_rep_west, figures)
        team = self.env["crm.funnel.report.abandon"]._read_group(
            [],
            ["team_id"],
            ["abandoned_count:sum", "received_count:sum", "abandon_ratio:avg"],
        )
        self.assertEqual(
            [(t, a, r) for t, a, r, _ratio in team], [(self.team_east, 2, 2)]
        )

    def test_contact_time_curve(self):
        x, y = self._pool(2, grade="a")
        with freeze_time(T0):
            self.Service._funnel_claim(x | y, self.user_rep)
        Contact = self.env["crm.funnel.contact"]
        for lead, hours in ((x, 12), (x, 36), (x, 77), (y, 29)):
            Contact._funnel_record(lead, "phone", date=T0 + timedelta(hours=hours))
        Report = self.env["crm.funnel.report.contact"]
        rows = Report._read_group([], ["days_since_received"], ["contact_count:sum"])
        self.assertEqual(dict(rows), {0: 1, 1: 2, 3: 1})
        [(per_customer,)] = Report._read_group([], [], ["contacts_per_customer:avg"])
        self.assertAlmostEqual(per_customer, 4 / 2)
        by_layer = Report._read_group([], ["layer"], ["contacts_per_customer:avg"])
        self.assertEqual(by_layer, [("resource", 2.0)])
        # the curve's x axis: even weeks since received, empty ones included
        Contact._funnel_record(x, "visit", date=T0 + timedelta(days=16))
        curve = Report.read_group(
            [], ["contact_count:sum"], ["days_bucket"], lazy=False
        )
        self.assertEqual(
            [(row["days_bucket"], row["contact_count"]) for row in curve],
            [("w1", 4), ("w2", 0), ("w3", 1)],
        )
        self.assertEqual(curve[1]["__count"], 0)
        self.assertEqual(
            Report.search_count(curve[1]["__domain"]), 0
        )  # a click on an empty week opens nothing

    def assertCurveDaysStored(self, contacts):
        """The contacts' stored days and weeks are those the SQL words (the upgrade
        fills them with it, and the curve reads a contact written without them
        with it)."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """SELECT id, days_since_received, days_bucket, planned_days,
                          planned_bucket, %s, %s, %s, %s, next_date IS NOT NULL
                     FROM crm_funnel_contact contact WHERE id = ANY(%s)
                 ORDER BY id""",
                *(
                    SQL(curve_sql(name))
                    for name in (
                        "days_since_received",
                        "days_bucket",
                        "planned_days",
                        "planned_bucket",
                    )
                ),
                contacts.ids,
            )
        )
        rows = self.env.cr.fetchall()
        self.assertEqual(len(rows), len(contacts))
        for row in rows:
            self.assertEqual(row[1:5], row[5:9])
            self.assertEqual(bool(row[4]), row[9])  # a planned week with a plan
        return rows

    def test_contact_curve_days_are_stored_on_every_path(self):
        """The curve's days and weeks are stored on the contact when it is logged,
        follow a later change of its dates, are filled by an upgrade in SQL, and
        the curve reads the same figures from a contact written in SQL without
        them."""
        x, y = self._pool(2, grade="a")
        with freeze_time(T0):
            self.Service._funnel_claim(x | y, self.user_rep)
        Contact = self.env["crm.funnel.contact"]
        contacts = Contact.browse()
        for lead, hours, next_days in ((x, 12, 9), (x, 200, False), (y, 1500, 2)):
            contacts |= Contact._funnel_record(
                lead,
                "phone",
                date=T0 + timedelta(hours=hours),
                next_date=(T0 + timedelta(days=next_days)).date()
                if next_days
                else False,
            )
        rows = self.assertCurveDaysStored(contacts)
        self.assertEqual(
            [row[1:5] for row in rows],
            [(0, "w1", 8, "w2"), (8, "w2", 0, None), (62, "w9", 1, "w1")],
        )
        # a later change of the dates (the received date, written as the service
        # would) is followed
        contacts[0].sudo().write({"received_date": T0 - timedelta(days=14)})
        self.assertEqual(
            self.assertCurveDaysStored(contacts[0])[0][1:5], (14, "w3", 22, "w4")
        )
        Report = self.env["crm.funnel.report.contact"]
        domain = [("lead_id", "in", (x | y).ids)]
        measures = ["contact_count:sum", "planned_count:sum"]
        curve = Report._read_group(domain, ["days_bucket"], measures)
        self.assertEqual(
            curve,
            [("w1", 0, 1), ("w2", 1, 0), ("w3", 1, 0), ("w4", 0, 1), ("w9", 1, 0)],
        )
        # written in SQL without them: read with the SQL, the same curve
        self.env.cr.execute(
            """UPDATE crm_funnel_contact SET days_since_received = NULL,
                      days_bucket = NULL, planned_days = NULL, planned_bucket = NULL
                WHERE id = ANY(%s)""",
            [contacts.ids],
        )
        self.env.invalidate_all()
        self.assertEqual(Report._read_group(domain, ["days_bucket"], measures), curve)
        # an upgrade from a version without the columns fills them in SQL, not
        # contact by contact; from the release without planned contacts either
        # (no next_date: its plans are gone, and so are their weeks)
        for dropped, stored in (
            (
                CURVE_COLUMNS,
                [(14, "w3", 22, "w4"), (8, "w2", 0, None), (62, "w9", 1, "w1")],
            ),
            (
                (*CURVE_COLUMNS, "next_date"),
                [(14, "w3", 0, None), (8, "w2", 0, None), (62, "w9", 0, None)],
            ),
        ):
            self._drop_columns("crm_funnel_contact", dropped)
            with patch.object(
                type(Contact), "_compute_curve_days", autospec=True
            ) as compute:
                self.registry.init_models(
                    self.env.cr,
                    ["crm.funnel.contact", "crm.funnel.report.contact"],
                    {"module": "sales_funnel_method"},
                    install=False,
                )
                self.env.flush_all()
            compute.assert_not_called()
            self.env.invalidate_all()
            self.assertEqual(
                [row[1:5] for row in self.assertCurveDaysStored(contacts)], stored
            )
        self.assertEqual(
            Report._read_group(domain, ["days_bucket"], measures),
            [(bucket, made, 0) for bucket, made, _planned in curve if made],
        )

    def test_contact_curve_days_in_python_and_in_sql(self):
        """The days and weeks the ORM stores are those the SQL words, at the edges:
        a contact before its received date, on a week's first and last second, a
        planned date before the received date, missing dates."""
        received = datetime(2026, 4, 6, 9, 0, 0)
        cases = [
            (received, received - timedelta(hours=1), None),
            (received, received + timedelta(days=7) - timedelta(seconds=1), None),
            (received, received + timedelta(days=7), None),
            (received, received + timedelta(days=7, microseconds=1), None),
            (received, received + timedelta(days=56), None),
            (received, received + timedelta(days=400), (received - timedelta(days=3))),
            (received, received, (received + timedelta(days=14)).date()),
            (received, received, (received + timedelta(days=13)).date()),
            (None, received, received.date()),
        ]
        self.env.cr.execute(
            SQL(
                "SELECT %s FROM (VALUES %s) AS contact(received_date, date, next_date)",
                SQL(", ").join(SQL(curve_sql(name)) for name in CURVE_COLUMNS),
                SQL(", ").join(
                    SQL(
                        "(%s::timestamp, %s::timestamp, %s::date)",
                        since,
                        until,
                        planned and planned.date()
                        if isinstance(planned, datetime)
                        else planned,
                    )
                    for since, until, planned in cases
                ),
            )
        )
        in_sql = self.env.cr.fetchall()
        in_python = []
        for since, until, planned in cases:
            planned = planned.date() if isinstance(planned, datetime) else planned
            days = curve_days(since, until)
            planned_days = curve_days(since, planned)
            in_python.append(
                (
                    days,
                    curve_bucket(days),
                    planned_days,
                    curve_bucket(planned_days) if planned else None,
                )
            )
        self.assertEqual(in_python, in_sql)
        self.assertEqual(
            [row[:2] for row in in_sql],
            [
                (0, "w1"),
                (6, "w1"),
                (7, "w2"),
                (7, "w2"),
                (56, "w9"),
                (400, "w9"),
                (0, "w1"),
                (0, "w1"),
                (0, "w1"),
            ],
        )
        self.assertEqual(
            [row[2:] for row in in_sql[5:]],
            [(0, "w1"), (13, "w2"), (12, "w2"), (0, "w1")],
        )


@tagged("post_install", "-at_install")
class TestFunnelTrackingRecord(FunnelReportCommon):
    @users("funnel_rep")
    def test_log_a_contact_in_two_clicks(self):
        lead = self.a.with_user(self.env.user)
        action = lead.action_funnel_log_contact()
        wizard = (
            self.env[action["res_model"]]
            .with_context(**action["context"])
            .create({"kind": "demo", "note": "演示了网站原型"})
        )
        wizard.action_log()
        contact = lead.funnel_contact_ids
        self.assertRecordValues(
            contact,
            [
                {
                    "kind": "demo",
                    "note": "演示了网站原型",
                    "user_id": self.env.user.id,
                    "layer": "lead",
                }
            ],
        )
        self.assertIn("演示了网站原型", contact.message_id.body)
        self.assertEqual(contact.message_id, lead.message_ids[0])
        self.assertEqual(lead.funnel_contact_count, 1)

    def test_future_contacts_are_refused(self):
        wizard = self.env["crm.funnel.contact.log"].create(
            {"lead_id": self.a.id, "date": fields.Datetime.now() + timedelta(days=1)}
        )
        with self.assertRaisesRegex(Exception, "future"):
            wizard.action_log()
        self.assertFalse(self.a.funnel_contact_ids)

    def test_done_calls_and_emails_count(self):
        lead = self.b
        activity = lead.activity_schedule(
            "mail.mail_activity_data_call", user_id=self.user_rep.id
        )
        activity.action_feedback(feedback="Called the manager")
        self.assertRecordValues(
            lead.funnel_contact_ids, [{"kind": "phone", "source": "activity"}]
        )
        partner = self.env["res.partner"].create(
            {"name": "Buyer", "email": "buyer@example.com"}
        )
        lead.partner_id = partner
        lead.message_post(
            body="Our offer",
            partner_ids=partner.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self.assertEqual(
            sorted(lead.funnel_contact_ids.mapped("kind")), ["email", "phone"]
        )
        lead.message_post(body="internal note", subtype_xmlid="mail.mt_note")
        self.assertEqual(len(lead.funnel_contact_ids), 2)
        # the customer follows the opportunity and gets the message; then writes back
        lead.message_subscribe(partner_ids=partner.ids)
        lead.message_post(
            body="Follow-up", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        lead.message_post(
            body="Thanks, call me",
            message_type="email",
            author_id=partner.id,
            subtype_xmlid="mail.mt_comment",
        )
        self.assertEqual(len(lead.funnel_contact_ids), 4)


@tagged("post_install", "-at_install")
class TestFunnelWorkbook(FunnelReportCommon):
    def _export(self, user, **values):
        wizard = (
            self.env["crm.funnel.workbook"]
            .with_user(user)
            .with_context(lang=user.lang)
            .create(values)
        )
        action = wizard.action_export()
        self.assertEqual(
            action["url"], f"/web/content/{wizard.attachment_id.id}?download=true"
        )
        self.assertEqual(
            wizard.attachment_id.mimetype,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        return openpyxl.load_workbook(io.BytesIO(wizard.attachment_id.raw))

    def test_one_sheet_per_layer_in_the_deck_order(self):
        self.c.write({"partner_name": "苏州精密轴承有限公司", "contact_name": "王经理"})
        self.env["crm.funnel.contact"]._funnel_record(
            self.c, "phone", note="介绍了产品", date=T0 + timedelta(days=1)
        )
        self.env["crm.funnel.contact"]._funnel_record(
            self.c, "visit", date=T0 + timedelta(days=2)
        )
        book = self._export(self.user_rep, scope="mine")
        self.assertEqual(
            book.sheetnames,
            [
                "Implemented",
                "Signed",
                "Intent",
                "Lead",
                "Contacted",
                "Graded",
                "Resource",
                "Abandoned",
            ],
        )
        headers = [cell.value for cell in book["Graded"][1]]
        self.assertEqual(
            headers,
            [
                "Customer",
                "Contact",
                "Grade",
                "Rep",
                "Entered Layer On",
                "Days in Layer",
                "Expected Revenue",
                "Next Activity",
                "Tracking Record",
            ],
        )
        for name in book.sheetnames:
            self.assertEqual([cell.value for cell in book[name][1]], headers)
            self.assertEqual(book[name].freeze_panes, "A2")
        graded = list(book["Graded"].iter_rows(min_row=2, values_only=True))
        self.assertEqual(len(graded), 1)
        self.assertEqual(
            graded[0][:4], ("苏州精密轴承有限公司", "王经理", "B", "Rep Li")
        )
        self.assertEqual(graded[0][4], T0 + timedelta(days=1))
        self.assertEqual(
            graded[0][8].splitlines(),
            ["2026-04-08 Visit", "2026-04-07 Phone: 介绍了产品"],
        )
        self.assertGreaterEqual(
            book["Graded"].column_dimensions["A"].width, 2 * len("苏州精密轴承有限公司")
        )
        self.assertEqual(
            [row[0] for row in book["Lead"].iter_rows(min_row=2, values_only=True)],
            [self.a.name],
        )
        self.assertEqual(
            len(list(book["Abandoned"].iter_rows(min_row=2))), 0
        )  # D left the rep
        # West's customers are not the rep's
        self.assertNotIn(
            "West 0", str([list(sheet.values) for sheet in book.worksheets])
        )

    def test_team_and_all_respect_access(self):
        book = self._export(self.user_manager_east, scope="all")
        names = {
            row[0]
            for sheet in book.worksheets
            for row in sheet.iter_rows(min_row=2, values_only=True)
        }
        self.assertEqual(names, {"East 0", "East 1", "East 2", "East 3"})
        book = self._export(self.user_director, scope="team", team_id=self.team_west.id)
        names = {
            row[0]
            for sheet in book.worksheets
            for row in sheet.iter_rows(min_row=2, values_only=True)
        }
        self.assertEqual(names, {"West 0", "West 1"})

    def test_chinese_workbook(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(
            ["sales_funnel_method"], ["zh_CN"], overwrite=True
        )
        self.user_rep.lang = "zh_CN"
        book = self._export(self.user_rep, scope="mine")
        self.assertEqual(book.sheetnames[0], "已实施客户")
        self.assertEqual(book.sheetnames[-2], "客户资源")


@tagged("post_install", "-at_install")
class TestFunnelWeeklySummary(FunnelReportCommon):
    def test_managers_and_directors_get_their_teams(self):
        mails = self.env["crm.funnel.summary"]._funnel_send_summaries(
            T0, T0 + timedelta(days=7)
        )
        by_user = {mail.recipient_ids.user_ids: mail for mail in mails}
        self.assertIn(self.user_manager_east, by_user)
        self.assertIn(self.user_manager_west, by_user)
        self.assertIn(self.user_director, by_user)
        self.assertNotIn(self.user_rep, by_user)
        east = by_user[self.user_manager_east].body_html
        self.assertIn("Rep Li", east)
        self.assertIn("Rep Zhang", east)
        self.assertNotIn("Rep Huang", east)
        # the week in the east: A, B, C graded, A, B contacted, A to lead; D abandoned
        self.assertIn("<b>6</b> moves down the funnel", " ".join(east.split()))
        self.assertIn("<b>1</b> customers abandoned", " ".join(east.split()))
        director = by_user[self.user_director].body_html
        self.assertIn("Rep Huang", director)
        self.assertIn("Rep Li", director)

    def test_digest_kpis(self):
        digest = self.env.ref("digest.digest_digest_default")
        self.assertTrue(digest.kpi_funnel_signings)
        with freeze_time(T0 + timedelta(days=6)):
            self._create_customers(2, layer="signed", grade="a")
        values = digest.with_context(
            start_datetime=T0, end_datetime=T0 + timedelta(days=7)
        )
        self.assertEqual(values.kpi_funnel_signings_value, 2)
        self.assertEqual(
            values.kpi_funnel_moves_value, 7
        )  # 6 in the east, E in the west
