import io
from contextlib import contextmanager
from datetime import datetime

import openpyxl
from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, tagged, users
from odoo.tools import file_open

from odoo.addons.mail.tests.common import mail_new_test_user

from ..models.crm_funnel_target import MONTH_FIELDS
from .test_funnel_allocation import FunnelAllocationCommon

YEAR = 2025


def on(month, day):
    return datetime(YEAR, month, day, 10, 0, 0)


def months(**values):
    """{month_01: ..., month_12: ...} from {"jan": 10000, ...}: 0 elsewhere."""
    keys = ["jan", "feb", "mar", "apr", "may", "jun"]
    keys += ["jul", "aug", "sep", "oct", "nov", "dec"]
    return {
        name: values.get(key, 0.0) for name, key in zip(MONTH_FIELDS, keys, strict=True)
    }


class FunnelAssessmentCommon(FunnelAllocationCommon):
    """A hand-built year of results and targets; the expected figures are worked
    out by hand from it, independently of the reports' SQL.

        5 Jan   every customer below is created in Lead
        15 Jan  Rep Li signs S1 (10,000); Rep Huang (West) signs S5 (7,000);
                Rep Li moves X and Y into Intent
        10 Feb  Rep Li signs S2 (5,000); Rep Zhang signs S4 (20,000)
        5 Mar   Rep Li signs S3 (5,000), moved back to Intent on 20 Mar: a
                signing, but no longer won revenue (nor a move into Intent)
        2 Apr   Rep Li moves Z into Intent

    Targets: Rep Li's revenue 10,000 a month from January to April, one signing
    a month all year, 4 moves into Intent in January and 2 in April; Rep Zhang's
    revenue 15,000 in February; Team East's revenue 20,000 in January, 40,000 in
    February and in March.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with freeze_time(on(1, 5)):
            cls.s1, cls.s2, cls.s3 = cls._create_customers(
                3, layer="lead", name="Li signs"
            )
            (cls.s1 | cls.s2 | cls.s3).write({"expected_revenue": 5000})
            cls.s1.expected_revenue = 10000
            cls.s4 = cls._create_customers(
                layer="lead", user=cls.user_rep_2, name="Zhang signs"
            )
            cls.s4.expected_revenue = 20000
            cls.s5 = cls._create_customers(
                layer="lead",
                user=cls.user_rep_west,
                team=cls.team_west,
                name="Huang signs",
            )
            cls.s5.expected_revenue = 7000
            cls.x, cls.y, cls.z = cls._create_customers(
                3, layer="lead", name="Li intent"
            )
        cls._move_on(cls.s1 | cls.s5, "signed", on(1, 15))
        cls._move_on(cls.x | cls.y, "intent", on(1, 15))
        cls._move_on(cls.s2 | cls.s4, "signed", on(2, 10))
        cls._move_on(cls.s3, "signed", on(3, 5))
        cls._move_on(cls.s3, "intent", on(3, 20))
        cls._move_on(cls.z, "intent", on(4, 2))
        Target = cls.env["crm.funnel.target"]
        cls.li_revenue = Target.create(
            {
                "year": YEAR,
                "team_id": cls.team_east.id,
                "user_id": cls.user_rep.id,
                "kind": "revenue",
                **months(jan=10000, feb=10000, mar=10000, apr=10000),
            }
        )
        cls.li_signings = Target.create(
            {
                "year": YEAR,
                "team_id": cls.team_east.id,
                "user_id": cls.user_rep.id,
                "kind": "signings",
                **dict.fromkeys(MONTH_FIELDS, 1),
            }
        )
        cls.li_intent = Target.create(
            {
                "year": YEAR,
                "team_id": cls.team_east.id,
                "user_id": cls.user_rep.id,
                "kind": "intent",
                **months(jan=4, apr=2),
            }
        )
        cls.zhang_revenue = Target.create(
            {
                "year": YEAR,
                "team_id": cls.team_east.id,
                "user_id": cls.user_rep_2.id,
                "kind": "revenue",
                **months(feb=15000),
            }
        )
        cls.east_revenue = Target.create(
            {
                "year": YEAR,
                "team_id": cls.team_east.id,
                "kind": "revenue",
                **months(jan=20000, feb=40000, mar=40000),
            }
        )

    @classmethod
    def _move_on(cls, leads, layer, when):
        with freeze_time(when):
            leads.write({"stage_id": cls.stages[layer].id})


@tagged("post_install", "-at_install")
class TestFunnelTargetReport(FunnelAssessmentCommon):
    def _figures(self, groupby, domain=()):
        rows = self.env["crm.funnel.report.target"]._read_group(
            [
                ("date", ">=", datetime(YEAR, 1, 1)),
                ("date", "<", datetime(YEAR + 1, 1, 1)),
            ]
            + list(domain),
            [*groupby, "kind"],
            ["target:sum", "actual:sum", "completion_rate:avg"],
        )
        return {
            tuple(keys): (target, actual, rate) for *keys, target, actual, rate in rows
        }

    def test_targets_against_actual_per_month(self):
        li = self._figures(
            ["date:month"], [("level", "=", "rep"), ("user_id", "=", self.user_rep.id)]
        )
        by_month = {(key[0].month, key[1]): value for key, value in li.items()}
        self.assertEqual(by_month[(1, "revenue")], (10000, 10000, 100.0))
        self.assertEqual(by_month[(2, "revenue")], (10000, 5000, 50.0))
        # S3 is no longer won: its signing counts, its revenue does not
        self.assertEqual(by_month[(3, "revenue")], (10000, 0, 0.0))
        self.assertEqual(by_month[(3, "signings")], (1, 1, 100.0))
        self.assertEqual(by_month[(1, "intent")], (4, 2, 50.0))
        self.assertEqual(by_month[(4, "intent")], (2, 1, 50.0))
        # no target in May: no completion rate (empty), rather than zero
        self.assertEqual(by_month[(5, "signings")], (1, 0, 0.0))
        self.assertEqual(by_month[(5, "revenue")], (0, 0, False))

    def test_targets_against_actual_per_quarter_and_year(self):
        li = self._figures(
            ["date:quarter"],
            [("level", "=", "rep"), ("user_id", "=", self.user_rep.id)],
        )
        by_quarter = {(key[0].month, key[1]): value for key, value in li.items()}
        self.assertEqual(by_quarter[(1, "revenue")], (30000, 15000, 50.0))
        self.assertEqual(by_quarter[(1, "signings")], (3, 3, 100.0))
        self.assertEqual(by_quarter[(4, "intent")], (2, 1, 50.0))
        year = self._figures(
            ["date:year"], [("level", "=", "rep"), ("user_id", "=", self.user_rep.id)]
        )
        by_kind = {key[1]: value for key, value in year.items()}
        self.assertEqual(by_kind["revenue"], (40000, 15000, 37.5))
        self.assertEqual(by_kind["signings"], (12, 3, 25.0))
        self.assertEqual(by_kind["intent"], (6, 3, 50.0))

    def test_team_level_counts_every_rep_of_the_team(self):
        teams = self._figures(["team_id", "date:quarter"], [("level", "=", "team")])
        east = {
            key[1].month: value
            for key, value in teams.items()
            if key[0] == self.team_east and key[2] == "revenue"
        }
        # Rep Li's 15,000 and Rep Zhang's 20,000 against the team's 100,000
        self.assertEqual(east[1], (100000, 35000, 35.0))
        west = {
            key[2]: value for key, value in teams.items() if key[0] == self.team_west
        }
        self.assertEqual(west["revenue"], (0, 7000, False))
        feb = self._figures(
            ["team_id", "date:month"],
            [("level", "=", "team"), ("team_id", "=", self.team_east.id)],
        )
        self.assertEqual(
            feb[(self.team_east, datetime(YEAR, 2, 1), "revenue")], (40000, 25000, 62.5)
        )

    def test_won_revenue_is_the_allocation_sales_total(self):
        """For a window up to now, the report's won revenue and the sales totals
        that rank the reps for allocation are the same figures."""
        by_user, by_team = self.Service._funnel_sales_totals(
            self.company, since=datetime(YEAR, 1, 1)
        )
        rows = self.env["crm.funnel.report.target"]._read_group(
            [("date", ">=", datetime(YEAR, 1, 1)), ("kind", "=", "revenue")],
            ["level", "user_id", "team_id"],
            ["actual:sum"],
        )
        reps = {
            user.id: amount
            for level, user, _team, amount in rows
            if level == "rep" and amount
        }
        teams = {
            team.id: amount
            for level, _user, team, amount in rows
            if level == "team" and amount
        }
        self.assertEqual(reps, by_user)
        self.assertEqual(teams, by_team)
        self.assertEqual(
            reps,
            {
                self.user_rep.id: 15000,
                self.user_rep_2.id: 20000,
                self.user_rep_west.id: 7000,
            },
        )

    def test_a_customer_signed_again_counts_at_its_last_signing(self):
        """R (8,000) is signed by Rep Li on 15 January, abandoned on 1 February and
        reopened straight into Signed on 3 March: its revenue is March's, on the
        ranking board and against the targets alike, and January's board and
        January's target actual agree (S1's 10,000 for Rep Li)."""
        self.company.funnel_cooldown_days = 0
        with freeze_time(on(1, 5)):
            r = self._create_customers(layer="lead", name="Li again")
            r.expected_revenue = 8000
        self._move_on(r, "signed", on(1, 15))
        with freeze_time(on(2, 1)):
            r.action_set_lost()
        with freeze_time(on(3, 3)):
            r.with_context(active_test=False).write(
                {
                    "active": True,
                    "stage_id": self.stages["signed"].id,
                    "user_id": self.user_rep.id,
                }
            )
        self.assertEqual(
            r.funnel_move_ids.sorted("date").mapped("move_type"),
            ["entry", "forward", "abandon", "reopen"],
        )
        Ranking = self.env["crm.funnel.report.ranking"]
        for month, li, east in ((1, 10000, 10000), (3, 8000, 8000)):
            start, end = datetime(YEAR, month, 1), datetime(YEAR, month + 1, 1)
            with self.subTest(month=month):
                boards = {
                    level: {
                        line["id"]: line["value"]
                        for line in Ranking._funnel_boards(
                            self.company, start, end, level=level, boards=["revenue"]
                        )["revenue"]
                        if line["value"]
                    }
                    for level in ("rep", "team")
                }
                rows = self.env["crm.funnel.report.target"]._read_group(
                    [
                        ("date", ">=", start),
                        ("date", "<", end),
                        ("kind", "=", "revenue"),
                    ],
                    ["level", "user_id", "team_id"],
                    ["actual:sum"],
                )
                report = {
                    level: {
                        (user if level == "rep" else team).id: amount
                        for row_level, user, team, amount in rows
                        if row_level == level and amount
                    }
                    for level in ("rep", "team")
                }
                self.assertEqual(boards, report)
                self.assertEqual(boards["rep"][self.user_rep.id], li)
                self.assertEqual(boards["team"][self.team_east.id], east)

    def test_report_queries_do_not_grow_with_customers(self):
        Report = self.env["crm.funnel.report.target"]

        def read():
            Report._read_group(
                [("level", "=", "rep")],
                ["user_id", "date:month", "kind"],
                ["target:sum", "actual:sum", "completion_rate:avg"],
            )

        self.env.flush_all()
        with self.assertQueryCount(1):
            read()
        with freeze_time(on(5, 1)):
            more = self._create_customers(40, layer="lead", grade="a", name="More")
        self._move_on(more, "signed", on(5, 20))
        self.env.flush_all()
        with self.assertQueryCount(1):
            read()

    @users("funnel_rep")
    def test_rep_sees_their_targets_on_my_funnel(self):
        with freeze_time(on(2, 20)):
            lines = self.env["crm.funnel.target"].get_funnel_my_targets()
        self.assertEqual(
            [
                (line["kind"], line["target"], line["actual"], line["rate"])
                for line in lines
            ],
            [("revenue", 10000, 5000, 50), ("signings", 1, 1, 100)],
        )
        # March: S3's signing, without revenue; no Intent target in March
        with freeze_time(on(3, 25)):
            lines = self.env["crm.funnel.target"].get_funnel_my_targets()
        self.assertEqual(
            {line["kind"]: line["rate"] for line in lines},
            {"revenue": 0, "signings": 100},
        )

    @users("funnel_rep_2")
    def test_my_funnel_shows_no_target_to_a_rep_without_one(self):
        with freeze_time(on(3, 25)):
            self.assertEqual(self.env["crm.funnel.target"].get_funnel_my_targets(), [])


@tagged("post_install", "-at_install")
class TestFunnelTargetAccess(FunnelAssessmentCommon):
    @users("funnel_rep")
    def test_rep_reads_own_targets_and_cannot_set_any(self):
        targets = self.env["crm.funnel.target"].search([("year", "=", YEAR)])
        # their own and their team's, not a colleague's
        self.assertEqual(
            targets,
            self.li_revenue | self.li_signings | self.li_intent | self.east_revenue,
        )
        with self.assertRaises(AccessError):
            self.env["crm.funnel.target"].create(
                {
                    "year": YEAR,
                    "team_id": self.team_east.id,
                    "user_id": self.user_rep.id,
                    "kind": "revenue",
                    "month_06": 1,
                }
            )
        with self.assertRaises(AccessError):
            self.li_revenue.with_user(self.env.user).write({"month_01": 1})
        self.assertEqual(self.li_revenue.month_01, 10000)
        with self.assertRaises(AccessError):
            self.env["crm.funnel.target.grid"].create({"year": YEAR})
        # the report: their own lines only
        users_ = self.env["crm.funnel.report.target"].search([]).mapped("user_id")
        self.assertEqual(users_, self.env.user)

    @users("funnel_manager_east")
    def test_team_manager_sets_the_targets_of_his_teams_only(self):
        Target = self.env["crm.funnel.target"]
        target = Target.create(
            {
                "year": YEAR,
                "team_id": self.team_east.id,
                "user_id": self.user_rep_2.id,
                "kind": "signings",
                "month_03": 2,
            }
        )
        self.assertEqual(target.year_total, 2)
        self.east_revenue.with_user(self.env.user).month_04 = 40000
        self.assertEqual(self.east_revenue.year_total, 140000)
        with self.assertRaises(AccessError):
            Target.create(
                {
                    "year": YEAR,
                    "team_id": self.team_west.id,
                    "user_id": self.user_rep_west.id,
                    "kind": "revenue",
                    "month_01": 1000,
                }
            )
        self.assertFalse(Target.sudo().search([("team_id", "=", self.team_west.id)]))

    @users("funnel_director")
    def test_director_sets_any_team_target(self):
        target = self.env["crm.funnel.target"].create(
            {
                "year": YEAR,
                "team_id": self.team_west.id,
                "kind": "revenue",
                "month_01": 5000,
            }
        )
        self.assertEqual(target.level, "team")
        self.assertEqual(target.company_id, self.env.company)

    def test_targets_stay_in_their_company(self):
        company_b = self.env["res.company"].create({"name": "Targets Company B"})
        rep_b = mail_new_test_user(
            self.env,
            login="funnel_target_rep_b",
            name="Rep B",
            company_id=company_b.id,
            company_ids=[Command.set(company_b.ids)],
            groups="sales_funnel_method.sales_funnel_method_group_rep",
        )
        team_b = self.env["crm.team"].create(
            {
                "name": "Team B",
                "company_id": company_b.id,
                "crm_team_member_ids": [Command.create({"user_id": rep_b.id})],
            }
        )
        target_b = self.env["crm.funnel.target"].create(
            {"year": YEAR, "team_id": team_b.id, "kind": "revenue", "month_01": 1}
        )
        self.assertEqual(target_b.company_id, company_b)
        visible = self.env["crm.funnel.target"].with_user(self.user_director).search([])
        self.assertIn(self.east_revenue, visible)
        self.assertNotIn(target_b, visible)
        rows = (
            self.env["crm.funnel.report.target"]
            .with_user(self.user_director)
            .search([("team_id", "=", team_b.id)])
        )
        self.assertFalse(rows)


@tagged("post_install", "-at_install")
class TestFunnelTargetRules(FunnelAssessmentCommon):
    @contextmanager
    def _refused(self, words):
        """The error names the problem, and what was written is rolled back."""
        with self.assertRaises(ValidationError) as error:
            yield
        self.assertIn(words, str(error.exception))

    def _target(self, **values):
        return self.env["crm.funnel.target"].create(
            dict(
                {"year": YEAR, "team_id": self.team_east.id, "kind": "revenue"},
                **values,
            )
        )

    def test_one_target_per_rep_figure_and_year(self):
        with self._refused("already a target"):
            self._target(user_id=self.user_rep.id, month_06=1)
        with self._refused("already a target"):
            self._target(month_06=1)  # Team East's revenue
        # another year, another figure, or after archiving the old one: fine
        self._target(user_id=self.user_rep.id, year=YEAR + 1)
        self.li_revenue.action_archive()
        self._target(user_id=self.user_rep.id, month_06=1)

    def test_bad_targets_are_refused(self):
        count = self.env["crm.funnel.target"].search_count([])
        with self._refused("not a member of Team East"):
            self._target(user_id=self.user_rep_west.id, kind="signings")
        with self._refused("cannot be negative"):
            self._target(user_id=self.user_rep_2.id, kind="signings", month_01=-1)
        with self._refused("whole customers"):
            self._target(user_id=self.user_rep_2.id, kind="signings", month_01=1.5)
        with self._refused("not a year"):
            self._target(user_id=self.user_rep_2.id, year=20025)
        self.assertEqual(self.env["crm.funnel.target"].search_count([]), count)


@tagged("post_install", "-at_install")
class TestFunnelTargetGrid(FunnelAssessmentCommon):
    @users("funnel_manager_east")
    def test_manager_fills_the_year_grid(self):
        with Form(self.env["crm.funnel.target.grid"]) as grid:
            grid.year = YEAR
            self.assertEqual(grid.team_id, self.team_east)  # the team he leads
            grid.kind = "revenue"
            # the team's line, then each member's, filled with what is set
            self.assertEqual(
                [grid.line_ids.edit(index).owner for index in range(3)],
                ["Team East (the team)", "Rep Li", "Rep Zhang"],
            )
            with grid.line_ids.edit(1) as line:
                self.assertEqual(line.month_02, 10000)
                line.month_05 = 12000
            with grid.line_ids.edit(2) as line:
                line.month_06 = 8000
        grid.record.action_save()
        self.assertEqual(self.li_revenue.month_05, 12000)
        self.assertEqual(self.li_revenue.month_01, 10000)
        self.assertEqual(self.zhang_revenue.month_06, 8000)
        # a figure nobody had a target for: lines are created for those filled in
        with Form(self.env["crm.funnel.target.grid"]) as grid:
            grid.year = YEAR
            grid.kind = "intent"
            with grid.line_ids.edit(2) as line:
                line.month_01 = 3
        grid.record.action_save()
        created = self.env["crm.funnel.target"].search(
            [
                ("year", "=", YEAR),
                ("kind", "=", "intent"),
                ("user_id", "=", self.user_rep_2.id),
            ]
        )
        self.assertEqual(created.month_01, 3)
        self.assertFalse(
            self.env["crm.funnel.target"].search(
                [("year", "=", YEAR), ("kind", "=", "intent"), ("level", "=", "team")]
            )
        )

    @users("funnel_manager_east")
    def test_manager_cannot_fill_another_team(self):
        grid = self.env["crm.funnel.target.grid"].create(
            {"year": YEAR, "team_id": self.team_west.id, "kind": "revenue"}
        )
        with self.assertRaisesRegex(AccessError, "teams you lead"):
            grid.action_save()

    @users("funnel_manager_east")
    def test_import_the_grid_from_a_spreadsheet(self):
        # the import template the list offers (get_import_templates), filled in
        [template] = self.env["crm.funnel.target"].get_import_templates()
        path = template["template"].lstrip("/")
        with file_open(path, "rb") as handle:
            book = openpyxl.load_workbook(io.BytesIO(handle.read()))
        sheet = book.active
        headers = [cell.value for cell in sheet[1]]
        sheet.delete_rows(2, sheet.max_row)
        sheet.append([YEAR + 1, "Team East", "", "Won Revenue", *[30000] * 12])
        sheet.append([YEAR + 1, "Team East", "Rep Zhang", "Signings", *[2] * 12])
        data = io.BytesIO()
        book.save(data)
        wizard = self.env["base_import.import"].create(
            {
                "res_model": "crm.funnel.target",
                "file": data.getvalue(),
                "file_name": "targets.xlsx",
                "file_type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            }
        )
        options = {"has_headers": True, "quoting": '"', "separator": ","}
        preview = wizard.parse_preview(options)
        self.assertFalse(preview.get("error"), preview)
        fields_ = [
            "/".join(preview["matches"][index])
            if index in preview["matches"]
            else False
            for index in range(len(headers))
        ]
        # the template's columns are the model's: each one maps to its field
        self.assertEqual(fields_, ["year", "team_id", "user_id", "kind", *MONTH_FIELDS])
        result = wizard.execute_import(fields_, headers, options)
        self.assertFalse(result["messages"], result["messages"])
        imported = self.env["crm.funnel.target"].search([("year", "=", YEAR + 1)])
        self.assertEqual(
            sorted(
                (t.level, t.kind, t.user_id.name or "", t.year_total) for t in imported
            ),
            [("rep", "signings", "Rep Zhang", 24), ("team", "revenue", "", 360000)],
        )


@tagged("post_install", "-at_install")
class TestFunnelTargetDemo(FunnelAllocationCommon):
    def test_demo_targets(self):
        """The demo's targets: each rep's and each team's, for the three figures,
        this year; a team's is its reps' plus a tenth, its manager has none."""
        self.team_east.crm_team_member_ids = [
            Command.create({"user_id": self.user_manager_east.id})
        ]
        targets = self.env["crm.funnel.demo"]._funnel_demo_targets(
            [self.team_east.id, self.team_west.id]
        )
        self.assertEqual(len(targets), 3 * (2 + 1) + 3 * (1 + 1))
        self.assertNotIn(self.user_manager_east, targets.user_id)
        east = targets.filtered(
            lambda target: (
                target.team_id == self.team_east
                and target.level == "team"
                and target.kind == "revenue"
            )
        )
        self.assertEqual(east.month_07, 2 * 40000 * 1.1)
        self.assertEqual(
            set(targets.mapped("year")), {fields.Date.context_today(targets).year}
        )
