from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import Form, tagged, users

from odoo.addons.mail.tests.common import mail_new_test_user

from ..models.crm_funnel_exception import RATE_LAYERS
from .test_funnel_allocation import FunnelAllocationCommon

# the week ranked: Monday 2 June to Sunday 8 June 2025
START, END = datetime(2025, 6, 2), datetime(2025, 6, 9)


def day(number, hour=10):
    """A day of the week ranked (1: Monday)."""
    return START + timedelta(days=number - 1, hours=hour)


class FunnelRankingCommon(FunnelAllocationCommon):
    """A hand-built week; the expected boards are worked out by hand from it.

    Every customer is created on 25 May, before the week, by the superuser.

                        Rep Li (East)     Rep Zhang (East)   Rep Huang (West)
        signs           A 10,000, B 5,000 C 15,000           E 7,000
        moves down      A, B, G, G2       C, H, I, H again   E
                        (G, G2: Graded    (H, I: Contacted
                        to Contacted)     to Lead; H on to Intent)
        claims          3, abandons 1     1, abandons it     3
        contacts        1                 4                  2

    Outside the week: Rep Huang signs F (50,000) on 30 May.
    Targets of June 2025: Rep Li's won revenue 20,000, Team East's 50,000.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with freeze_time(datetime(2025, 5, 25, 9)):
            cls.a, cls.b = cls._create_customers(2, layer="lead", name="Li")
            cls.a.expected_revenue = 10000
            cls.b.expected_revenue = 5000
            cls.g, cls.g2 = cls._create_customers(2, layer="graded", name="Li G")
            cls.c = cls._create_customers(layer="lead", user=cls.user_rep_2, name="C")
            cls.c.expected_revenue = 15000
            cls.h, cls.i = cls._create_customers(
                2, layer="contacted", user=cls.user_rep_2, name="Zhang"
            )
            west = {"user": cls.user_rep_west, "team": cls.team_west}
            cls.e, cls.f = cls._create_customers(2, layer="lead", name="West", **west)
            cls.e.expected_revenue = 7000
            cls.f.expected_revenue = 50000
            cls.pool = cls._pool(7, grade="b", team=cls.team_east)
        cls._move_on(cls.f, "signed", datetime(2025, 5, 30, 10))
        cls._move_on(cls.a | cls.b | cls.c | cls.e, "signed", day(2))
        cls._move_on(cls.g | cls.g2, "contacted", day(2))
        cls._move_on(cls.h | cls.i, "lead", day(3))
        cls._move_on(cls.h, "intent", day(4))
        with freeze_time(day(3)):
            cls.Service._funnel_claim(cls.pool[:3], cls.user_rep)
            cls.Service._funnel_claim(cls.pool[3:4], cls.user_rep_2)
            cls.Service._funnel_claim(cls.pool[4:7], cls.user_rep_west)
        with freeze_time(day(5)):
            (cls.pool[0] | cls.pool[3]).action_set_lost()
        Contact = cls.env["crm.funnel.contact"]
        for lead, count in ((cls.a, 1), (cls.c, 4), (cls.e, 2)):
            for index in range(count):
                Contact._funnel_record(lead, "phone", date=day(3, 10 + index))
        Target = cls.env["crm.funnel.target"]
        Target.create(
            [
                {
                    "year": 2025,
                    "team_id": cls.team_east.id,
                    "user_id": cls.user_rep.id,
                    "kind": "revenue",
                    "month_06": 20000,
                },
                {
                    "year": 2025,
                    "team_id": cls.team_east.id,
                    "kind": "revenue",
                    "month_06": 50000,
                },
            ]
        )

    @classmethod
    def _move_on(cls, leads, layer, when):
        with freeze_time(when):
            leads.write({"stage_id": cls.stages[layer].id})

    def _boards(self, level="rep", **kwargs):
        boards = self.env["crm.funnel.report.ranking"]._funnel_boards(
            self.env.company, START, END, level=level, **kwargs
        )
        return {
            board: [(line["rank"], line["name"], line["value"]) for line in lines]
            for board, lines in boards.items()
        }


@tagged("post_install", "-at_install")
class TestFunnelRankings(FunnelRankingCommon):
    def test_rep_boards_order_and_ties(self):
        boards = self._boards()
        # ties share a rank (1, 1, 3), listed by name
        self.assertEqual(
            boards["revenue"],
            [(1, "Rep Li", 15000), (1, "Rep Zhang", 15000), (3, "Rep Huang", 7000)],
        )
        self.assertEqual(
            boards["signings"],
            [(1, "Rep Li", 2), (2, "Rep Huang", 1), (2, "Rep Zhang", 1)],
        )
        self.assertEqual(
            boards["received"],
            [(1, "Rep Huang", 3), (1, "Rep Li", 3), (3, "Rep Zhang", 1)],
        )
        self.assertEqual(
            boards["contacts"],
            [(1, "Rep Zhang", 4), (2, "Rep Huang", 2), (3, "Rep Li", 1)],
        )
        self.assertEqual(
            boards["forward"],
            [(1, "Rep Li", 4), (1, "Rep Zhang", 4), (3, "Rep Huang", 1)],
        )
        # fewest abandons per customer received first
        self.assertEqual(
            [(rank, name) for rank, name, _value in boards["abandon_ratio"]],
            [(1, "Rep Huang"), (2, "Rep Li"), (3, "Rep Zhang")],
        )
        self.assertEqual(
            [value for _rank, _name, value in boards["abandon_ratio"]],
            [0.0, 1 / 3, 1.0],
        )

    def test_step_rate_against_the_ideal(self):
        """Zhang: H and I reached Lead in the week, H went on to Intent, where it
        stayed: 1 moved on where 2 x 60% (lead to intent, ideally) and 1 x 10/30
        (intent to signed) would have. Li: G and G2 reached Contacted and stayed:
        0 of 2 x 50/90. Huang reached no layer in the week (E went from Lead to
        Signed, and Signed starts no step)."""
        lines = self.env["crm.funnel.report.ranking"]._funnel_boards(
            self.env.company, START, END, boards=["step_rate"]
        )["step_rate"]
        self.assertEqual(
            [(line["rank"], line["name"]) for line in lines],
            [(1, "Rep Zhang"), (2, "Rep Li")],
        )
        zhang, li = lines
        self.assertAlmostEqual(zhang["value"], 1 / (2 * 0.6 + 1 / 3))
        self.assertEqual((zhang["numerator"], zhang["denominator"]), (1, 3))
        self.assertAlmostEqual(li["value"], 0.0)
        self.assertEqual((li["numerator"], li["denominator"]), (0, 2))
        # the week's end closes the cohort: a move after it does not count
        self._move_on(self.g, "lead", END + timedelta(hours=1))
        lines = self.env["crm.funnel.report.ranking"]._funnel_boards(
            self.env.company, START, END, boards=["step_rate"]
        )["step_rate"]
        self.assertEqual(lines[1]["numerator"], 0)

    def test_step_rate_counts_the_move_analysis_cohorts(self):
        """The board and the move analysis count the same cohorts: a customer reaches
        a layer once on its path. K entered Lead on 25 May, went back up to
        Contacted on 28 May and came back down to Lead in the week: no new arrival
        in Lead, Rep Li's cohort stays G and G2."""
        with freeze_time(datetime(2025, 5, 25, 9)):
            k = self._create_customers(layer="lead", name="Li K")
        self._move_on(k, "contacted", datetime(2025, 5, 28, 10))
        self._move_on(k, "lead", day(2))
        lines = self.env["crm.funnel.report.ranking"]._funnel_boards(
            self.env.company, START, END, boards=["step_rate"]
        )["step_rate"]
        board = {
            line["name"]: (line["denominator"], line["numerator"]) for line in lines
        }
        self.assertEqual(board, {"Rep Zhang": (3, 1), "Rep Li": (2, 0)})
        rows = self.env["crm.funnel.report.move"]._read_group(
            [
                ("date", ">=", START),
                ("date", "<", END),
                ("kind", "=", "actual"),
                ("layer", "in", list(RATE_LAYERS)),
            ],
            ["user_id"],
            ["reached_count:sum", "moved_on_count:sum"],
        )
        self.assertEqual(
            board, {user.name: (reached, moved) for user, reached, moved in rows}
        )

    def test_team_boards(self):
        boards = self._boards(level="team")
        self.assertEqual(
            boards["revenue"], [(1, "Team East", 30000), (2, "Team West", 7000)]
        )
        self.assertEqual(boards["signings"], [(1, "Team East", 3), (2, "Team West", 1)])
        self.assertEqual(boards["received"], [(1, "Team East", 4), (2, "Team West", 3)])
        self.assertEqual(boards["contacts"], [(1, "Team East", 5), (2, "Team West", 2)])
        self.assertEqual(boards["forward"], [(1, "Team East", 8), (2, "Team West", 1)])
        self.assertEqual(
            boards["abandon_ratio"], [(1, "Team West", 0.0), (2, "Team East", 0.5)]
        )
        self.assertEqual([name for _r, name, _v in boards["step_rate"]], ["Team East"])

    def test_teams_outside_the_funnel_are_left_out(self):
        """Odoo's own "Sales" team does not work the funnel: what its rep signs,
        moves on, receives, abandons and logs in the week is on no board, neither
        is the team, and the weekly summary's and the digest's figures leave it
        out."""
        sales = self.env.ref("sales_team.team_sales_department")
        self.assertFalse(sales.use_funnel)
        plain = mail_new_test_user(
            self.env,
            login="funnel_plain_rep",
            name="Rep Plain",
            groups="sales_funnel_method.sales_funnel_method_group_rep",
        )
        self.env["crm.team.member"].create(
            {"crm_team_id": sales.id, "user_id": plain.id}
        )
        figures = self.env["crm.funnel.move"]._funnel_period_figures
        before = figures(START, END, self.env.company)
        self.assertEqual(
            (before["signings"], before["forward"], before["received"]), (4, 9, 7)
        )
        with freeze_time(datetime(2025, 5, 25, 9)):
            signed, stalled, received = self._create_customers(
                3, layer="contacted", user=plain, team=sales, name="Plain"
            )
            received.user_id = self.user_rep
        signed.expected_revenue = 99000
        self._move_on(signed, "signed", day(2))
        self._move_on(stalled, "lead", day(2))
        with freeze_time(day(3)):
            received.user_id = plain  # a direct assignment: received
            self.env["crm.funnel.contact"]._funnel_record(signed, "phone", date=day(3))
        with freeze_time(day(4)):
            received.action_set_lost()
        self.assertIn(plain, received.funnel_assignment_ids.user_id)
        for level, name in (("rep", "Rep Plain"), ("team", sales.name)):
            for board, lines in self._boards(level=level).items():
                with self.subTest(level=level, board=board):
                    self.assertNotIn(name, [line[1] for line in lines])
        self.assertEqual(figures(START, END, self.env.company), before)

    def test_a_team_ranks_its_own_reps(self):
        boards = self._boards(team_ids=self.team_east.ids)
        self.assertEqual(boards["contacts"], [(1, "Rep Zhang", 4), (2, "Rep Li", 1)])

    def test_fat_first_board_is_the_allocation_order(self):
        self._won(self.user_rep, 10000)
        self._won(self.user_rep_2, 30000)
        west = self._won(self.user_rep_west, 40000)
        # Rep Huang signed it in Team West
        west.team_id = self.team_west
        west.funnel_move_ids.team_id = self.team_west
        force = self.Service._funnel_sales_force(self.company)
        expected = [
            (line["rank"], line["user_id"], line["team_id"], line["won"])
            for line in self.Service._funnel_ranking(force)
        ]
        lines = self.env["crm.funnel.report.ranking"]._funnel_boards(
            self.company, START, END, boards=["fat_first"]
        )["fat_first"]
        self.assertEqual(
            [
                (line["rank"], line["id"], line["team_id"], line["value"])
                for line in lines
            ],
            expected,
        )
        # East (40,000 over its reps) and West (40,000) tie: no ranking between them
        self.assertEqual(
            [(rank, name) for rank, name, _value in self._boards("team")["fat_first"]],
            [(1, "Team East"), (1, "Team West")],
        )
        self.assertEqual(
            [line[1] for line in expected],
            [self.user_rep_west.id, self.user_rep_2.id, self.user_rep.id],
        )

    def test_the_allocation_preview_links_to_the_fat_first_board(self):
        arch = self.env["crm.funnel.allocate"].get_views([(False, "form")])["views"][
            "form"
        ]["arch"]
        self.assertIn(
            "/odoo/action-sales_funnel_method.crm_funnel_report_ranking_action_fat_first",
            arch,
        )
        action = self.env.ref(
            "sales_funnel_method.crm_funnel_report_ranking_action_fat_first"
        )
        board = (
            self.env["crm.funnel.report.ranking"]
            .with_context(default_board="fat_first")
            .create({})
        )
        self.assertIn("fat_first", action.context)
        self.assertIn("data-board='fat_first'", str(board.board_html))
        self.assertNotIn("data-board='revenue'", str(board.board_html))

    def _assert_board_queries(self, budget):
        """The boards' queries as the screen computes them for a rep, a manager
        and the superuser, caches warmed; the superuser's boards returned."""
        for user in (self.user_rep, self.user_manager_east, self.env.user):
            Ranking = self.env["crm.funnel.report.ranking"].with_user(user)
            Ranking._funnel_boards(self.company, START, END)  # warm the caches
            self.env.invalidate_all()
            self.env.flush_all()
            with self.subTest(user=user.login), self.assertQueryCount(budget):
                boards = Ranking._funnel_boards(self.company, START, END)
        return boards

    def test_board_queries_do_not_grow_with_customers(self):
        # 16 queries at both sizes, for each user: one per figure (won revenue,
        # signings and moves down, receipts, contacts, the step rates and their
        # ideal), the reps' teams (three membership reads, the company, the
        # members), then the fat-first ranking (holdings, won revenue over its
        # window) and the names of the reps and teams shown
        self._assert_board_queries(16)
        with freeze_time(datetime(2025, 5, 25, 9)):
            more = self._create_customers(40, layer="lead", name="More")
            more |= self._create_customers(
                20, layer="contacted", user=self.user_rep_west, team=self.team_west
            )
        self._move_on(more, "signed", day(6))
        for lead in more[:10]:
            self.env["crm.funnel.contact"]._funnel_record(lead, "visit", date=day(6))
        boards = self._assert_board_queries(16)
        self.assertEqual(
            {line["name"]: line["value"] for line in boards["signings"]},
            {"Rep Li": 42, "Rep Huang": 21, "Rep Zhang": 1},
        )


@tagged("post_install", "-at_install")
class TestFunnelRankingScreen(FunnelRankingCommon):
    def _screen(self, **values):
        return (
            self.env["crm.funnel.report.ranking"]
            .create(
                dict(
                    {
                        "period": "custom",
                        "date_from": START.date(),
                        "date_to": (END - timedelta(days=1)).date(),
                    },
                    **values,
                )
            )
            .board_html
        )

    @users("funnel_rep")
    def test_rep_reads_the_boards_but_not_the_abandon_ratio(self):
        html = str(self._screen())
        for board in (
            "revenue",
            "signings",
            "received",
            "contacts",
            "forward",
            "step_rate",
            "fat_first",
        ):
            self.assertIn(f"data-board='{board}'", html)
        self.assertNotIn("data-board='abandon_ratio'", html)
        # their own line stands out
        self.assertIn("o_funnel_ranking_mine", html)
        self.assertIn("Rep Zhang", html)
        html = str(self._screen(board="abandon_ratio"))
        self.assertIn("Managers and the support group read this board", html)

    @users("funnel_manager_east")
    def test_manager_reads_every_board(self):
        html = str(self._screen(level="team"))
        self.assertIn("data-board='abandon_ratio'", html)
        self.assertIn("Team West", html)

    @users("funnel_rep")
    def test_periods(self):
        with freeze_time("2025-06-04 12:00:00"):
            with Form(self.env["crm.funnel.report.ranking"]) as form:
                self.assertEqual(form.period, "this_month")
                self.assertEqual(
                    (str(form.date_from), str(form.date_to)),
                    ("2025-06-01", "2025-06-30"),
                )
                form.period = "last_week"
                self.assertEqual(
                    (str(form.date_from), str(form.date_to)),
                    ("2025-05-26", "2025-06-01"),
                )
                form.period = "this_quarter"
                self.assertEqual(str(form.date_from), "2025-04-01")
                form.period = "this_week"
                self.assertIn("Rep Li", form.board_html)

    def test_boards_stay_in_their_company(self):
        company_b = self.env["res.company"].create({"name": "Ranking Company B"})
        rep_b = mail_new_test_user(
            self.env,
            login="funnel_ranking_rep_b",
            name="Rep Ranking B",
            company_id=company_b.id,
            company_ids=[Command.set(company_b.ids)],
            groups="sales_funnel_method.sales_funnel_method_group_rep",
        )
        team_b = self.env["crm.team"].create(
            {
                "name": "Team Ranking B",
                "company_id": company_b.id,
                "crm_team_member_ids": [Command.create({"user_id": rep_b.id})],
            }
        )
        with freeze_time(datetime(2025, 5, 25, 9)):
            lead_b = self._create_customers(
                layer="lead", user=rep_b, team=team_b, company_id=company_b.id
            )
        self._move_on(lead_b, "signed", day(2))
        boards = self._boards()
        self.assertNotIn("Rep Ranking B", [name for _r, name, _v in boards["signings"]])
        Ranking = self.env["crm.funnel.report.ranking"]
        b_boards = (
            Ranking.with_user(rep_b)
            .with_company(company_b)
            ._funnel_boards(company_b, START, END)
        )
        self.assertEqual(
            [(line["name"], line["value"]) for line in b_boards["signings"]],
            [("Rep Ranking B", 1)],
        )
        with self.assertRaises(AccessError):
            Ranking.with_user(self.user_rep)._funnel_boards(company_b, START, END)


@tagged("post_install", "-at_install")
class TestFunnelSupportFigures(FunnelAllocationCommon):
    """The support group's figures, as the support group works."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_support_2 = mail_new_test_user(
            cls.env,
            login="funnel_support_2",
            name="Support Ma",
            groups="sales_funnel_method.sales_funnel_method_group_support",
        )

    def _figures(self):
        rows = self.env["crm.funnel.report.support"]._read_group(
            [("date", ">=", START), ("date", "<", END)],
            ["user_id"],
            [
                "registered_count:sum",
                "graded_count:sum",
                "allocated_count:sum",
                "handover_count:sum",
                "duplicate_count:sum",
            ],
        )
        return {user.login: tuple(values) for user, *values in rows}

    def test_support_members_figures(self):
        Lead = self.env["crm.lead"].with_user(self.user_support)
        with freeze_time(day(1)):
            resources = Lead.create(
                [
                    {
                        "name": f"Registered {index}",
                        "type": "opportunity",
                        "team_id": self.team_east.id,
                        "user_id": False,  # into the pool, not to its creator
                        "stage_id": self.stages["resource"].id,
                    }
                    for index in range(4)
                ]
            )
        self.assertEqual(set(resources.mapped("funnel_layer")), {"resource"})
        # the request that registered them ends (mail tracks no change of a record
        # in the transaction that created it)
        self.env.flush_all()
        self.env.cr.precommit.run()
        with freeze_time(day(2)):
            # graded and moved to Graded in one write: one customer graded
            resources[:2].write(
                {"funnel_grade": "a", "stage_id": self.stages["graded"].id}
            )
            # cleaned out of the pool
            resources[3].action_set_lost()
        with freeze_time(day(3)):
            # re-graded on another day, as the chatter's tracking records it
            Lead.with_context(tracking_disable=False, mail_notrack=False).browse(
                resources[0].id
            ).write({"funnel_grade": "b"})
            self.env.flush_all()
            self.env.cr.precommit.run()
            self.Service.with_user(self.user_support)._funnel_allocate(resources[:2])
        # the other member allocates one customer; a director one more (not support)
        with freeze_time(day(3)):
            self.Service.with_user(self.user_support_2)._funnel_allocate(resources[2])
            extra = self._pool(grade="a", team=self.team_east)
            self.Service.with_user(self.user_director)._funnel_allocate(extra)
        with freeze_time(day(4)):
            self.env["crm.funnel.handover.wizard"].with_user(self.user_support).create(
                {"user_id": self.user_rep_west.id}
            ).action_handover()
        figures = self._figures()
        self.assertEqual(figures["funnel_support"], (4, 4, 2, 1, 0))
        self.assertEqual(figures["funnel_support_2"], (0, 0, 1, 0, 0))
        self.assertNotIn("funnel_director", figures)

    def test_support_queries_do_not_grow_with_customers(self):
        def read():
            self.env.flush_all()
            with self.assertQueryCount(1):
                self._figures()

        read()
        with freeze_time(day(2)):
            pool = (
                self.env["crm.lead"]
                .with_user(self.user_support)
                .create(
                    [
                        {
                            "name": f"More {index}",
                            "type": "opportunity",
                            "user_id": False,
                        }
                        for index in range(30)
                    ]
                )
            )
            self.Service.with_user(self.user_support)._funnel_allocate(pool)
        self.assertEqual(self._figures()["funnel_support"][::2], (30, 30, 0))
        read()

    def test_who_reads_the_support_figures(self):
        Report = self.env["crm.funnel.report.support"]
        company_b = self.env["res.company"].create({"name": "Support Company B"})
        # registered in company B by the superuser (a member of the support group)
        self._pool(grade="a", company_id=company_b.id)
        self._pool(grade="a", company_id=self.env.company.id)
        self.env.flush_all()
        self.assertEqual(
            set(Report.sudo().search([]).company_id.ids),
            {self.env.company.id, company_b.id},
        )
        for user in (self.user_support, self.user_director):
            self.assertEqual(
                Report.with_user(user).search([]).company_id, self.env.company
            )
        for user in (self.user_rep, self.user_manager_east):
            with self.assertRaises(AccessError):
                Report.with_user(user).search([])


@tagged("post_install", "-at_install")
class TestFunnelAssessmentSummary(FunnelRankingCommon):
    def test_weekly_summary_has_targets_and_rankings(self):
        mails = self.env["crm.funnel.summary"]._funnel_send_summaries(START, END)
        by_user = {mail.recipient_ids.user_ids: mail for mail in mails}
        east = " ".join(by_user[self.user_manager_east].body_html.split())
        self.assertIn("Targets against actual, 2025-06", east)
        # Rep Li: A and B, 15,000 of 20,000; Team East: A, B and C, 30,000 of 50,000
        self.assertRegex(
            east, r"Rep Li</td>\s*<td>[^<]*15,000[^<]*/[^<]*20,000[^<]*\(75%\)"
        )
        self.assertRegex(
            east, r"<td></td>\s*<td>[^<]*30,000[^<]*/[^<]*50,000[^<]*\(60%\)"
        )
        self.assertIn("Ranking boards of the week", east)
        self.assertRegex(
            east, r"Contacts Logged</th>\s*<td>\s*1\. Rep Zhang: 4\s*</td>"
        )
        # the team's own reps only
        self.assertNotIn("Rep Huang", east)
        director = by_user[self.user_director].body_html
        self.assertIn("Rep Huang", director)

    def test_digest_kpis(self):
        digest = self.env.ref("digest.digest_digest_default").with_context(
            start_datetime=START, end_datetime=END
        )
        self.assertTrue(digest.kpi_funnel_won_revenue)
        # the teams' won revenue: A, B, C (East) and E (West)
        self.assertEqual(digest.kpi_funnel_won_revenue_value, 37000)
        self.assertEqual(digest.kpi_funnel_intent_moves_value, 1)
        # Team East's own 30,000 (A, B and C) against its 50,000 for June, counted
        # for 7 of its 30 days: Team West has no target, its 7,000 is not measured
        self.assertAlmostEqual(
            digest.kpi_funnel_revenue_completion_value, 100 * 30000 / (50000 * 7 / 30)
        )
