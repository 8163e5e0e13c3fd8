from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time
from lxml import html

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged, users
from odoo.tools.safe_eval import safe_eval

from odoo.addons.crm.models.crm_lead import Lead as OdooLead
from odoo.addons.mail.models.mail_tracking_duration_mixin import (
    MailTrackingDurationMixin,
)
from odoo.addons.mail.tests.common import mail_new_test_user

from .test_funnel_allocation import FunnelAllocationCommon
from .test_funnel_exceptions import NOW, FunnelExceptionCommon

WORKING_PATH = ("graded", "contacted", "lead", "intent")


class FunnelFiguresCommon(FunnelExceptionCommon):
    """Hand-built histories, checked at NOW (see FunnelExceptionCommon): the
    expected figures are counted by hand from the story each test tells."""

    def _step(self, layer, domain=()):
        """(reached, moved on, step rate %) of ``layer`` in the move analysis."""
        [(reached, moved, rate)] = self.env["crm.funnel.report.move"]._read_group(
            [("layer", "=", layer), *domain],
            [],
            ["reached_count:sum", "moved_on_count:sum", "step_rate:avg"],
        )
        return reached, moved, rate

    def _through_the_funnel(self, leads, until="intent", start=25):
        """Walk ``leads`` (resources) down the working layers, a layer every 4 days."""
        for index, layer in enumerate(WORKING_PATH):
            self._move(leads, layer, start - 4 * (index + 1))
            if layer == until:
                break


@tagged("post_install", "-at_install")
class TestFunnelStepRates(FunnelFiguresCommon):
    """METHOD 2 and 11: of the customers that reached a layer, the share that reached
    the next one, whether the others left the layer or stalled in it."""

    def test_of_50_that_reached_lead_30_reached_intent(self):
        leads = self._at(20, 50, layer="lead", grade="b", name="Lead")
        self._move(leads[:30], "intent", 12)
        # the 20 others stall in Lead: they count, unlike in a rate of those leaving
        reached, moved, rate = self._step("lead")
        self.assertEqual((reached, moved), (50, 30))
        self.assertAlmostEqual(rate, 60.0)
        [(ideal,)] = self.env["crm.funnel.report.move"]._read_group(
            [("layer", "=", "lead")], [], ["ideal_step_rate:avg"]
        )
        self.assertAlmostEqual(ideal, 60.0)  # 30 % / 50 %, shown as the layers' rates
        # a move straight past Intent is a move on too
        self._move(leads[30:35], "signed", 5)
        self.assertEqual(self._step("lead")[:2], (50, 35))

    def test_a_reopened_customer_starts_a_new_path(self):
        self.company.funnel_cooldown_days = 0  # reopened once cooled down
        leads = self._at(25, 2, layer="lead", grade="b")
        with freeze_time(NOW - timedelta(days=20)):
            leads.action_set_lost()
        self.assertEqual(self._step("lead")[:2], (2, 0))
        # one comes back as a resource: it reaches Resource again, and the Lead it had
        # reached before does not gain its later moves
        with freeze_time(NOW - timedelta(days=10)):
            leads[0].with_context(active_test=False).write({"active": True})
        for days_ago, layer in (
            (8, "graded"),
            (6, "contacted"),
            (4, "lead"),
            (2, "intent"),
        ):
            self._move(leads[0], layer, days_ago)
        self.assertEqual(self._step("resource")[:2], (1, 1))
        self.assertEqual(self._step("lead")[:2], (3, 1))
        # the other is reopened straight into Signed: that signing moved its Lead on
        with freeze_time(NOW - timedelta(days=1)):
            leads[1].with_context(active_test=False).write(
                {
                    "active": True,
                    "stage_id": self.stages["signed"].id,
                    "user_id": self.user_rep.id,
                }
            )
        self.assertEqual(self._step("lead")[:2], (3, 2))

    def test_low_move_rate_at_5_of_20(self):
        leads = self._at(20, 20, layer="lead", grade="b")
        self._move(leads[:5], "intent", 12)
        self._run()
        finding = self._found("low_move_rate", user=self.user_rep, layer="lead")
        self.assertEqual(len(finding), 1)
        self.assertAlmostEqual(finding.measured, 0.25)
        self.assertAlmostEqual(finding.threshold, 0.45)
        self.assertEqual(finding.details, {"reached": 20, "moved": 5})
        self.assertEqual(finding.lead_ids, leads[5:])  # the stalled ones
        self.assertEqual(
            finding.description,
            "Of the 20 customers that reached Lead and had its ideal days to move on, 5 "
            "went on to a lower layer (25%), below 45% (the ideal step rate minus the "
            "tolerance).",
        )
        self.assertTrue(self._found("low_move_rate", team=self.team_east, layer="lead"))

    def test_no_low_move_rate_at_15_of_20(self):
        leads = self._at(20, 20, layer="lead", grade="b")
        self._move(leads[:15], "intent", 12)
        self._run()
        self.assertFalse(self._found("low_move_rate", layer="lead"))

    def test_customers_get_the_ideal_days_times_the_factor_to_move_on(self):
        # Lead: 5 ideal days x overdue factor 2 = 10 days before a customer counts
        self._at(9, 20, layer="lead", grade="b")
        self._run()
        self.assertFalse(self._found("low_move_rate", layer="lead"))
        self._run(NOW + timedelta(days=1, hours=1))
        self.assertTrue(self._found("low_move_rate", user=self.user_rep, layer="lead"))


@tagged("post_install", "-at_install")
class TestFunnelOutOfFunnel(FunnelFiguresCommon):
    """METHOD 7.1 and 11: a signing is judged on the customer's whole path."""

    def _signings(self):
        return self.env["crm.funnel.move"]._funnel_period_figures(
            NOW - timedelta(days=30), NOW, self.company
        )["signings"]

    def test_created_in_intent_is_out_of_the_funnel(self):
        walk_ins = self._at(20, 5, layer="intent", grade="a", name="Walk-in")
        self._move(walk_ins, "signed", 3)  # no layer skipped by this move itself
        regular = self._at(25, 5, layer="resource", grade="a", name="Regular")
        self._through_the_funnel(regular)
        self._move(regular, "signed", 2)
        self._run()
        finding = self._found("out_of_funnel", user=self.user_rep)
        self.assertAlmostEqual(finding.measured, 0.5)
        self.assertEqual(finding.lead_ids, walk_ins)
        self.assertEqual(finding.details, {"count": 5, "total": 10})
        self.assertTrue(
            finding.description.startswith(
                "5 of 10 signings (50%) were out of the funnel"
            )
        )

    def test_a_customer_moved_past_a_layer_is_out_of_the_funnel(self):
        leads = self._at(25, 5, layer="resource", grade="a")
        self._move(leads, "graded", 20)
        self._move(leads, "lead", 15)  # Contacted skipped
        self._move(leads, "intent", 10)
        self._move(leads, "signed", 5)
        self._run()
        self.assertEqual(
            self._found("out_of_funnel", user=self.user_rep).lead_ids, leads
        )

    def test_abandoned_to_signed_is_a_signing_out_of_the_funnel(self):
        self.company.funnel_cooldown_days = 0  # reopened once cooled down
        leads = self._at(28, 5, layer="resource", grade="a")
        self._through_the_funnel(leads, start=28)
        with freeze_time(NOW - timedelta(days=8)):
            leads.action_set_lost()
        self.assertEqual(self._signings(), 0)
        with freeze_time(NOW - timedelta(days=2)):
            leads.with_context(active_test=False).write(
                {
                    "active": True,
                    "stage_id": self.stages["signed"].id,
                    "user_id": self.user_rep.id,
                }
            )
        self.assertIn("reopen", leads.funnel_move_ids.mapped("move_type"))
        # a signing in every figure: the digest and summary, the overview, the checks
        self.assertEqual(self._signings(), 5)
        [(signed,)] = self.env["crm.funnel.report.overview"]._read_group(
            [("layer", "=", "signed"), ("kind", "=", "actual")],
            [],
            ["actual_count:sum"],
        )
        self.assertEqual(signed, 5)
        self._run()
        # the path through every working layer was before the abandon: the reopened
        # customer went from Abandoned straight to Signed
        self.assertEqual(
            self._found("out_of_funnel", user=self.user_rep).lead_ids, leads
        )
        intent = self._at(10, 4, layer="intent", grade="a", name="Intent")
        self._run()
        self.assertFalse(self._found("intent_few_signings", user=self.user_rep))
        self.assertTrue(intent)

    def test_a_signing_through_every_layer_is_in_the_funnel(self):
        leads = self._at(25, 5, layer="resource", grade="a")
        self._through_the_funnel(leads)
        self._move(leads, "signed", 2)
        self._run()
        self.assertFalse(self._found("out_of_funnel"))


@tagged("post_install", "-at_install")
class TestFunnelTeams(FunnelFiguresCommon):
    """Checks and reports cover the funnel's teams only (crm.team.use_funnel)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_plain = mail_new_test_user(
            cls.env,
            login="plain_rep",
            name="Plain Rep",
            groups="sales_funnel_method.sales_funnel_method_group_rep",
        )
        cls.team_plain = cls.env["crm.team"].create(
            {
                "name": "Plain Sales",
                "use_funnel": False,
                "user_id": cls.user_manager_west.id,
                "crm_team_member_ids": [Command.create({"user_id": cls.user_plain.id})],
            }
        )

    def test_odoo_sales_team_does_not_work_the_funnel(self):
        self.assertFalse(self.env.ref("sales_team.team_sales_department").use_funnel)
        self.assertTrue(self.team_east.use_funnel)  # created after the install
        self.assertTrue(self.env["crm.team"].create({"name": "New Team"}).use_funnel)

    def test_a_team_outside_the_funnel_gets_no_finding_nor_report_rows(self):
        self._at(
            20,
            6,
            layer="contacted",
            grade="b",
            user=self.user_plain,
            team=self.team_plain,
        )
        self._run()
        findings = self.Exception.search([])
        self.assertTrue(findings)  # the funnel's reps hold nothing: findings for them
        self.assertNotIn(self.user_plain, findings.user_id)
        self.assertNotIn(self.team_plain, findings.team_id)
        for report in (
            "crm.funnel.report.holding",
            "crm.funnel.report.move",
            "crm.funnel.report.overview",
        ):
            with self.subTest(report=report):
                self.assertFalse(
                    self.env[report].search_count(
                        [
                            "|",
                            ("user_id", "=", self.user_plain.id),
                            ("team_id", "=", self.team_plain.id),
                        ]
                    )
                )
        # ticked, the team is checked like any other
        self.team_plain.use_funnel = True
        self._run()
        self.assertTrue(self._found("overdue", user=self.user_plain))
        self.assertTrue(self._found("low_holdings", team=self.team_plain))


@tagged("post_install", "-at_install")
class TestFunnelNumbers(FunnelFiguresCommon):
    """Findings read as numbers, in English and Chinese."""

    def _receive_and_abandon(self, received, abandoned):
        pool = self._at(25, received, layer="resource", grade="b", user=self.no_user)
        with freeze_time(NOW - timedelta(days=20)):
            self.Service._funnel_claim(pool, self.user_rep)
            pool[:abandoned].action_set_lost()

    def test_counts_rates_and_days(self):
        self._at(12.5, 3, layer="contacted", grade="b")
        self._receive_and_abandon(received=6, abandoned=4)
        self._run()
        overdue = self._found("overdue", user=self.user_rep, layer="contacted")
        self.assertEqual(
            overdue.description,
            "3 customers in this layer for up to 12.5 days, beyond 10.0 days (the ideal "
            "move days times the overdue factor).",
        )
        abandon = self._found("high_abandon_rate", user=self.user_rep)
        self.assertEqual(
            abandon.description,
            "4 customers abandoned for 6 received (67%), above 50%.",
        )
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(
            ["sales_funnel_method"], ["zh_CN"], overwrite=True
        )
        chinese = abandon.with_context(lang="zh_CN").description
        self.assertIn("67%", chinese)
        self.assertIn("放弃", chinese)
        self.assertNotIn("abandoned", chinese)


@tagged("post_install", "-at_install")
class TestFunnelTimeInLayer(FunnelFiguresCommon):
    """The stage bar (statusbar_duration), Days in Layer and the move history tell
    one time in layer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Stage = cls.env["crm.stage"]
        cls.own_new = Stage.create({"name": "Own New", "sequence": 901})
        cls.own_qualified = Stage.create({"name": "Own Qualified", "sequence": 902})
        cls.Tracked = cls.env["crm.lead"].with_context(
            tracking_disable=False, mail_notrack=False
        )

    def _tracked_at(self, days_ago, callback):
        with freeze_time(NOW - timedelta(days=days_ago)):
            result = callback()
            self.env.flush_all()
            self.env.cr.precommit.run()  # Odoo writes its stage tracking at commit time
        return result

    def _stage_bar(self, lead):
        lead.invalidate_recordset(["duration_tracking"])
        return {int(key): value for key, value in lead.duration_tracking.items()}

    def test_new_moves(self):
        lead = self._at(6, layer="resource", grade="a")
        self._move(lead, "graded", 4.5)
        with freeze_time(NOW):
            bar = self._stage_bar(lead)
            self.assertEqual(lead.funnel_days_in_layer, 4)
            self.assertEqual(bar[self.stages["graded"].id] // 86400, 4)
            self.assertEqual(bar[self.stages["graded"].id], 4.5 * 86400)
            self.assertEqual(
                bar[self.stages["resource"].id],
                round(
                    lead.funnel_move_ids.filtered("from_layer").days_in_layer * 86400
                ),
            )

    def test_a_back_filled_history(self):
        """A CRM in use maps its stages: the history comes from Odoo's stage tracking,
        whose rows PostgreSQL dates at the real time of the test, not the story's."""
        tracked = self._tracked_at(
            20,
            lambda: self.Tracked.create(
                {"name": "Tracked", "type": "opportunity", "stage_id": self.own_new.id}
            ),
        )
        quiet = self._tracked_at(
            15,
            lambda: self.Tracked.create(
                {
                    "name": "Quiet",
                    "type": "opportunity",
                    "stage_id": self.own_qualified.id,
                }
            ),
        )
        for lead, days_ago in ((tracked, 20), (quiet, 15)):
            when = NOW - timedelta(days=days_ago)
            self.env.cr.execute(
                "UPDATE crm_lead SET create_date = %s, date_last_stage_update = %s WHERE id = %s",
                [when, when, lead.id],
            )
        self._tracked_at(12, lambda: tracked.write({"stage_id": self.own_qualified.id}))
        (tracked | quiet).invalidate_recordset()
        wizard = self.env["crm.funnel.mapping"].create({"default_grade": "b"})
        for line in wizard.line_ids:
            if line.stage_id == self.own_new:
                line.funnel_layer = "resource"
            elif line.stage_id == self.own_qualified:
                line.funnel_layer = "contacted"
        with freeze_time(NOW - timedelta(days=1)):
            wizard.action_apply()
        with freeze_time(NOW):
            for lead, days in ((tracked, 12), (quiet, 15)):
                with self.subTest(lead=lead.name):
                    bar = self._stage_bar(lead)
                    self.assertEqual(lead.funnel_days_in_layer, days)
                    self.assertEqual(bar[self.own_qualified.id] // 86400, days)
            # the layer left: as long in the stage bar as in the move history
            left = tracked.funnel_move_ids.filtered(lambda move: move.from_layer)
            self.assertEqual(left.days_in_layer, 8)
            self.assertEqual(self._stage_bar(tracked)[self.own_new.id], 8 * 86400)
            # Odoo's own reading of the tracking would say otherwise
            MailTrackingDurationMixin._compute_duration_tracking(tracked)
            odoo_bar = tracked.duration_tracking
            self.assertNotEqual(odoo_bar.get(str(self.own_qualified.id)), 12 * 86400)


@tagged("post_install", "-at_install")
class TestFunnelProbability(FunnelFiguresCommon):
    """A funnel customer's probability is its layer's chance to sign (METHOD 2)."""

    def test_off_when_the_crm_already_scores(self):
        Company = self.env["res.company"]
        self.assertEqual(self.company.funnel_probability, "ideal")  # a new CRM
        self.env["crm.lead.scoring.frequency"].create(
            {"variable": "stage_id", "value": "1", "won_count": 1, "lost_count": 1}
        )
        self.assertEqual(Company._default_funnel_probability(), "scoring")

    def test_the_ideal_chance_to_sign(self):
        self.company.funnel_probability = "ideal"
        leads = {
            layer: self._create_customers(
                layer=layer, grade="b", expected_revenue=30000, name=layer
            )
            for layer in ("resource", "graded", "contacted", "lead", "intent", "signed")
        }
        self.assertEqual(
            {layer: lead.probability for layer, lead in leads.items()},
            {
                "resource": 10.0,
                "graded": 10.0,
                "contacted": 11.11,
                "lead": 20.0,
                "intent": 33.33,
                "signed": 100.0,
            },
        )
        # the pipeline's weighted revenue is the funnel's forecast
        self.assertEqual(leads["intent"].prorated_revenue, 9999.0)
        # a move changes it; a probability set by hand stays
        leads["lead"].write({"stage_id": self.stages["intent"].id})
        self.assertEqual(leads["lead"].probability, 33.33)
        leads["contacted"].probability = 50
        leads["contacted"].write({"stage_id": self.stages["lead"].id})
        self.assertEqual(leads["contacted"].probability, 50)
        self.assertEqual(leads["contacted"].automated_probability, 20.0)

    def test_predictive_scoring_kept_on_request(self):
        lead = self._create_customers(layer="resource", grade="b")
        self.assertEqual(lead._pls_get_naive_bayes_probabilities(), {lead.id: 10.0})
        self.company.funnel_probability = "scoring"
        self.assertEqual(
            lead._pls_get_naive_bayes_probabilities(),
            OdooLead._pls_get_naive_bayes_probabilities(lead),
        )

    def test_the_measured_chance_to_sign(self):
        self.company.write({"funnel_probability_days": 60})
        leads = self._at(40, 10, layer="intent", grade="a")
        self._move(leads[:5], "signed", 30)
        waiting = self._at(0, 2, layer="intent", grade="b")
        self.assertEqual(waiting.mapped("probability"), [33.33, 33.33])
        with freeze_time(NOW):
            self.company.funnel_probability = "measured"
        # 12 customers reached Intent over the last 60 days, 5 of them signed since
        self.assertEqual(self.company.funnel_measured_chances, {"intent": 41.67})
        self.assertEqual(waiting.mapped("probability"), [41.67, 41.67])
        # the layers without enough history keep their ideal chance
        self.assertEqual(
            self._create_customers(layer="lead", grade="b").probability, 20.0
        )


@tagged("post_install", "-at_install")
class TestFunnelDashboard(FunnelFiguresCommon):
    """The manager's morning screen: one server call, as the manager."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_company = cls.env["res.company"].create({"name": "Not Mine"})
        with freeze_time(NOW - timedelta(days=10)):
            cls._create_customers(9, layer="graded", grade="b", name="East Graded")
            cls.west = cls._create_customers(
                3, layer="lead", grade="a", user=cls.user_rep_west, team=cls.team_west
            )

    def _dashboard(self, **filters):
        with freeze_time(NOW):
            return self.env["crm.funnel.dashboard"].get_funnel_dashboard(filters)

    @users("funnel_manager_east")
    def test_the_managers_funnel(self):
        data = self._dashboard()
        layers = {layer["layer"]: layer for layer in data["layers"]}
        self.assertEqual(
            list(layers),
            [
                "resource",
                "graded",
                "contacted",
                "lead",
                "intent",
                "signed",
                "implemented",
            ],
        )
        graded = layers["graded"]
        # his two reps should hold 10 graded customers each; the west is not his
        self.assertEqual((graded["held"], graded["ideal_held"]), (9, 20))
        self.assertTrue(graded["held_short"] and graded["short"])
        self.assertEqual(layers["lead"]["held"], 0)
        self.assertEqual((graded["reached"], graded["moved_on"]), (9, 0))
        self.assertEqual(graded["step_rate"], 0.0)
        self.assertAlmostEqual(graded["ideal_step_rate"], 90.0)
        self.assertEqual(layers["contacted"]["ideal_days"], 5)
        self.assertEqual(data["filters"]["days"], 30)  # the exception window
        self.assertEqual(
            {team["name"] for team in data["options"]["teams"]},
            {"Team East", "Team West"},
        )
        leads = self.env["crm.lead"].search(graded["domain"])
        self.assertEqual(len(leads), 9)
        self.assertEqual(set(leads.mapped("funnel_layer")), {"graded"})

    @users("funnel_director")
    def test_filters(self):
        west = self._dashboard(team_id=self.team_west.id)
        lead = next(layer for layer in west["layers"] if layer["layer"] == "lead")
        self.assertEqual((lead["held"], lead["ideal_held"]), (3, 7))
        self.assertEqual(self.env["crm.lead"].search(lead["domain"]), self.west)
        rep = self._dashboard(user_id=self.user_rep_2.id, days=7)
        self.assertEqual(rep["layers"][1]["held"], 0)
        self.assertEqual(rep["layers"][1]["reached"], 0)  # reached 10 days ago
        self.assertEqual(rep["period"]["from"], "2026-06-08")
        with self.assertRaises(AccessError):
            self._dashboard(company_id=self.other_company.id)

    def test_exceptions_and_fast_movers_beside_the_funnel(self):
        with freeze_time(NOW - timedelta(days=3)):
            fast = self._create_customers(layer="contacted", grade="a", name="Fast")
        self._move(fast, "lead", 2)  # one day for five ideal
        self._run()
        data = (
            self.env["crm.funnel.dashboard"]
            .with_user(self.user_manager_east)
            .get_funnel_dashboard()
        )
        self.assertEqual(
            [lead["name"] for lead in data["fast_movers"]["items"]], [fast.name]
        )
        self.assertGreater(data["exceptions"]["count"], 0)
        names = [item["name"] for item in data["exceptions"]["items"]]
        self.assertIn("Holdings below the ideal - Rep Li", names)
        self.assertTrue(
            all(item["description"] for item in data["exceptions"]["items"])
        )

    def test_the_contact_time_curve_beside_the_funnel(self):
        """The fourth daily question: how often and when the customers were
        contacted, in weeks since the rep received them, made and planned."""
        Contact = self.env["crm.funnel.contact"]
        east = self.env["crm.lead"].search(
            [("name", "like", "East Graded")], order="id", limit=2
        )
        # received ten days before NOW: day 1 is the first week, day 8 the second
        self.env.cr.execute(
            "UPDATE crm_lead SET date_open = %s WHERE id = ANY(%s)",
            [NOW - timedelta(days=10), (east | self.west).ids],
        )
        self.env.invalidate_all()
        Contact._funnel_record(east, "phone", date=NOW - timedelta(days=9))
        Contact._funnel_record(
            east[0],
            "visit",
            date=NOW - timedelta(days=2),
            next_date=(NOW - timedelta(days=1)).date(),
        )
        Contact._funnel_record(self.west[0], "phone", date=NOW - timedelta(days=9))
        self.env.flush_all()
        director = self.env["crm.funnel.dashboard"].with_user(self.user_director)
        with freeze_time(NOW):
            data = director.get_funnel_dashboard({"team_id": self.team_east.id})
            west = director.get_funnel_dashboard({"team_id": self.team_west.id})
        contacts = data["contacts"]
        self.assertEqual(
            (contacts["count"], contacts["customers"], contacts["planned"]), (3, 2, 1)
        )
        self.assertEqual(contacts["per_customer"], 1.5)
        self.assertEqual(
            [(b["key"], b["made"], b["planned"]) for b in contacts["buckets"]],
            [("w1", 2, 0), ("w2", 1, 1)],
        )
        report = self.env["crm.funnel.report.contact"].with_user(self.user_director)
        self.assertEqual(
            set(report.search(contacts["domain"]).mapped("lead_id")), set(east)
        )
        self.assertEqual(west["contacts"]["count"], 1)
        self.assertEqual(west["contacts"]["customers"], 1)

    @users("funnel_manager_east")
    def test_queries_do_not_grow_with_customers(self):
        dashboard = self.env["crm.funnel.dashboard"]

        def count(filters=None, budget=15):
            self.env.flush_all()
            self.env.invalidate_all()
            # warm the caches (rules, translations)
            dashboard.get_funnel_dashboard(filters)
            self.env.invalidate_all()
            with self.assertQueryCount(budget):
                return dashboard.get_funnel_dashboard(filters)

        # the whole company, a team, a rep of it: the same 15 queries at both
        # sizes for each scope: the company, its funnel teams, the user's
        # memberships and the reps' names (users, partners), the ideal figures,
        # the holdings, the moves, the company's users, the open exceptions and
        # their count, the fast movers and their count, the contact curve's
        # weeks and its totals
        scopes = (
            (None, 15),
            ({"team_id": self.team_east.id}, 15),
            ({"team_id": self.team_east.id, "user_id": self.user_rep.id}, 15),
        )
        for filters, budget in scopes:
            count(filters, budget)
        more = self._at(5, 60, layer="contacted", grade="b")
        self._move(more[:30], "lead", 2)
        data = count()
        self.assertEqual(data["layers"][2]["held"], 30)
        for filters, budget in scopes[1:]:
            self.assertTrue(count(filters, budget))


@tagged("post_install", "-at_install")
class TestFunnelAllocationPreview(FunnelAllocationCommon):
    """The preview shows why: each rep's rank and sales total beside what they
    would receive."""

    def test_rank_and_sales_total_beside_what_each_rep_receives(self):
        self._create_customers(
            layer="signed",
            user=self.user_rep_west,
            team=self.team_west,
            expected_revenue=50000,
            name="Won West",
        )
        self._create_customers(layer="signed", expected_revenue=20000, name="Won East")
        self._pool(3, grade="a")
        wizard = self.env["crm.funnel.allocate"].with_user(self.user_support).create({})
        table = html.fromstring(wizard.preview_html)
        head = [cell.text_content() for cell in table.xpath("//th")]
        self.assertEqual(
            head[:5], ["Rep", "Team", "Rank", "Team Sales Total", "Sales Total"]
        )
        lines = [
            [cell.text_content() for cell in row.xpath("td")]
            for row in table.xpath("//tbody/tr")
        ]
        self.assertEqual(
            [(line[0], line[2], line[-2]) for line in lines],
            [("Rep Huang", "1", "3"), ("Rep Li", "2", "0"), ("Rep Zhang", "3", "0")],
        )
        self.assertIn("50,000.00", lines[0][3])  # Team West's total
        self.assertIn("50,000.00", lines[0][4])
        self.assertIn("20,000.00", lines[1][3])
        self.assertIn("20,000.00", lines[1][4])
        self.assertIn("0.00", lines[2][4])
        self.assertEqual(
            table.xpath("//tbody/tr/@class"),
            [
                "o_funnel_allocation_line",
                "o_funnel_allocation_idle text-muted",
                "o_funnel_allocation_idle text-muted",
            ],
        )


@tagged("post_install", "-at_install")
class TestFunnelReceived(FunnelFiguresCommon):
    """Received counts every way a rep gets a customer, a manager's direct
    assignment (kind "manual") included."""

    def test_a_managers_direct_assignment_is_received(self):
        leads = self._at(25, 6, layer="contacted", grade="b")  # Rep Li's
        with freeze_time(NOW - timedelta(days=20)):
            leads.with_user(self.user_manager_east).write(
                {"user_id": self.user_rep_2.id}
            )
            leads[:4].with_user(self.user_rep_2).action_set_lost()
        self.assertEqual(set(leads.funnel_assignment_ids.mapped("kind")), {"manual"})
        [(abandoned, received)] = self.env["crm.funnel.report.abandon"]._read_group(
            [("user_id", "=", self.user_rep_2.id)],
            [],
            ["abandoned_count:sum", "received_count:sum"],
        )
        self.assertEqual((abandoned, received), (4, 6))
        self._run()
        finding = self._found("high_abandon_rate", user=self.user_rep_2)
        self.assertEqual(finding.details, {"abandoned": 4, "received": 6})


@tagged("post_install", "-at_install")
class TestFunnelReportDefaults(FunnelAllocationCommon):
    """The reports open on a rolling period, never on the calendar month only
    (which shows nothing on the 1st)."""

    REPORTS = ("overview", "move", "abandon", "contact", "support")

    @users("funnel_director")
    def test_reports_open_on_the_last_30_days(self):
        for report in self.REPORTS:
            with self.subTest(report=report):
                action = self.env.ref(
                    f"sales_funnel_method.crm_funnel_report_{report}_action"
                ).sudo()
                defaults = [
                    key.removeprefix("search_default_")
                    for key, value in safe_eval(action.context).items()
                    if key.startswith("search_default_") and value
                ]
                self.assertEqual(defaults, ["last_30_days"])
                arch = self.env[action.res_model].get_views(
                    [(action.search_view_id.id, "search")]
                )["views"]["search"]["arch"]
                [default] = html.fromstring(arch).xpath(
                    "//filter[@name='last_30_days']"
                )
                self.assertFalse(html.fromstring(arch).xpath("//@default_period"))
                # opened on 1 June: the 30 days before, not June's first day
                domain = safe_eval(
                    default.get("domain"),
                    {
                        "context_today": lambda: date(2025, 6, 1),
                        "relativedelta": relativedelta,
                    },
                )
                self.assertEqual(domain, [("date", ">=", "2025-05-02")])
