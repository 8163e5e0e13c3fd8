from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import tagged, users

from .test_funnel_allocation import FunnelAllocationCommon

NOW = datetime(2026, 6, 15, 12, 0, 0)


class FunnelExceptionCommon(FunnelAllocationCommon):
    """Exceptions are checked at NOW over a 30-day window with a minimum sample of 5."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write(
            {
                "funnel_exception_days": 30,
                "funnel_exception_min_sample": 5,
                "funnel_exception_out_of_funnel_share": 0.3,
                "funnel_exception_intent_min": 4,
                "funnel_exception_intent_signing_ratio": 0.25,
                "funnel_exception_rate_tolerance": 0.15,
                "funnel_exception_abandon_ratio": 0.5,
                "funnel_exception_overdue_factor": 2.0,
                "funnel_exception_holding_share": 1.0,
            }
        )
        cls.Exception = cls.env["crm.funnel.exception"]

    def _run(self, when=NOW):
        with freeze_time(when):
            return self.Exception._funnel_run_checks(self.company)

    def _found(self, exception_type, user=None, team=None, layer=None):
        domain = [("exception_type", "=", exception_type), ("state", "=", "open")]
        if user is not None:
            domain.append(("user_id", "=", user.id))
        if team is not None:
            domain.append(("team_id", "=", team.id))
            if user is None:
                domain.append(("user_id", "=", False))
        if layer is not None:
            domain.append(("layer", "=", layer))
        return self.Exception.search(domain)

    def _at(self, days_ago, count=1, **kwargs):
        with freeze_time(NOW - timedelta(days=days_ago)):
            return self._create_customers(count, **kwargs)

    def _move(self, leads, layer, days_ago):
        with freeze_time(NOW - timedelta(days=days_ago)):
            leads.write({"stage_id": self.stages[layer].id})


@tagged("post_install", "-at_install")
class TestFunnelExceptionTypes(FunnelExceptionCommon):
    def _sign(self, skipped, regular):
        """``skipped`` customers created straight in Signed, ``regular`` ones signed
        after passing through every working layer."""
        self._at(5, skipped, layer="signed", grade="a", name="Walk-in")
        regular = self._at(25, regular, layer="resource", grade="a", name="Regular")
        for days_ago, layer in enumerate(
            ("graded", "contacted", "lead", "intent", "signed"), start=0
        ):
            self._move(regular, layer, 20 - 4 * days_ago)

    def test_out_of_funnel_signings_fire(self):
        self._sign(skipped=4, regular=6)  # 40% of 10 signings
        self._run()
        finding = self._found("out_of_funnel", user=self.user_rep)
        self.assertEqual(len(finding), 1)
        self.assertAlmostEqual(finding.measured, 0.4)
        self.assertEqual(finding.threshold, 0.3)
        self.assertEqual(finding.team_id, self.team_east)
        self.assertEqual(len(finding.lead_ids), 4)
        self.assertEqual(len(self._found("out_of_funnel", team=self.team_east)), 1)

    def test_out_of_funnel_signings_at_the_threshold_do_not_fire(self):
        self._sign(skipped=3, regular=7)  # exactly 30%
        self._run()
        self.assertFalse(self._found("out_of_funnel"))

    def test_out_of_funnel_needs_a_sample(self):
        self._sign(skipped=2, regular=2)  # 50%, but only 4 signings
        self._run()
        self.assertFalse(self._found("out_of_funnel"))

    def test_many_intent_few_signings(self):
        self._at(10, 4, layer="intent", grade="a")
        self._run()
        finding = self._found("intent_few_signings", user=self.user_rep)
        self.assertEqual(
            (finding.measured, finding.layer, len(finding.lead_ids)), (0.0, "intent", 4)
        )

    def test_intent_with_enough_signings_does_not_fire(self):
        self._at(10, 4, layer="intent", grade="a")
        self._sign(skipped=0, regular=1)  # 1 signing for 4 intent customers: 0.25
        self._run()
        self.assertFalse(self._found("intent_few_signings", user=self.user_rep))

    def test_few_intent_customers_do_not_fire(self):
        self._at(10, 3, layer="intent", grade="a")
        self._run()
        self.assertFalse(self._found("intent_few_signings"))

    def _leave_lead_layer(self, forward, abandoned):
        leads = self._at(20, forward + abandoned, layer="lead", grade="b")
        self._move(leads[:forward], "intent", 10)
        with freeze_time(NOW - timedelta(days=10)):
            leads[forward:].action_set_lost()

    def test_low_move_rate_fires(self):
        # lead -> intent should be 30% / 50% = 60%; tolerance 15 points: alarm below 45%
        self._leave_lead_layer(forward=4, abandoned=6)
        self._run()
        finding = self._found("low_move_rate", user=self.user_rep, layer="lead")
        self.assertAlmostEqual(finding.measured, 0.4)
        self.assertAlmostEqual(finding.threshold, 0.45)
        self.assertEqual(len(finding.lead_ids), 6)
        self.assertTrue(self._found("low_move_rate", team=self.team_east, layer="lead"))

    def test_move_rate_above_the_limit_does_not_fire(self):
        self._leave_lead_layer(forward=5, abandoned=5)  # 50% >= 45%
        self._run()
        self.assertFalse(self._found("low_move_rate", layer="lead"))

    def _receive_and_abandon(self, received, abandoned):
        pool = self._at(25, received, layer="resource", grade="b", user=self.no_user)
        with freeze_time(NOW - timedelta(days=20)):
            self.Service._funnel_claim(pool, self.user_rep)
            pool[:abandoned].action_set_lost()

    def test_high_abandon_rate_fires(self):
        self._receive_and_abandon(received=6, abandoned=4)
        self._run()
        finding = self._found("high_abandon_rate", user=self.user_rep)
        self.assertAlmostEqual(finding.measured, 4 / 6, places=2)
        self.assertEqual(len(finding.lead_ids), 4)

    def test_abandon_rate_at_the_threshold_does_not_fire(self):
        self._receive_and_abandon(received=6, abandoned=3)
        self._run()
        self.assertFalse(self._found("high_abandon_rate"))

    def test_stuck_customers(self):
        # contacted: 5 ideal days x factor 2 = 10 days
        stuck = self._at(10, 1, layer="contacted", grade="b")
        self._run(NOW)
        self.assertFalse(self._found("overdue"))
        self._run(NOW + timedelta(hours=1))
        finding = self._found("overdue", user=self.user_rep, layer="contacted")
        self.assertEqual(finding.lead_ids, stuck)
        self.assertEqual(finding.threshold, 10)
        self.assertGreater(finding.measured, 10)

    def test_holdings_below_the_ideal(self):
        """One finding per rep (and per team) listing the layers short."""
        self._at(1, 9, layer="graded", grade="b")
        self._at(1, 13, layer="contacted", grade="b")
        self._run()
        finding = self._found("low_holdings", user=self.user_rep)
        self.assertEqual(len(finding), 1)
        self.assertFalse(finding.layer)
        self.assertEqual(
            finding.details["layers"],
            [
                {"layer": "graded", "held": 9, "ideal": 10},
                {"layer": "lead", "held": 0, "ideal": 7},
                {"layer": "intent", "held": 0, "ideal": 2},
            ],
        )
        self.assertEqual(
            finding.description,
            "Below the ideal holding in 3 layers: Graded 9 of 10, Lead 0 of 7, Intent 0 of 2.",
        )
        # the team: 2 reps, ideal 20 graded customers
        team = self._found("low_holdings", team=self.team_east)
        self.assertEqual(len(team), 1)
        self.assertEqual(
            team.details["layers"][:2],
            [
                {"layer": "graded", "held": 9, "ideal": 20},
                {"layer": "contacted", "held": 13, "ideal": 26},
            ],
        )
        self._at(1, 1, layer="graded", grade="b")
        self._run()
        self.assertEqual(
            [short["layer"] for short in finding.details["layers"]], ["lead", "intent"]
        )
        # 3 reps with nothing: 3 findings, and 2 for the teams, not one per layer
        self.assertEqual(len(self._found("low_holdings")), 5)

    def test_rep_who_left(self):
        held = self._at(3, 2, layer="lead", grade="b", user=self.user_rep_2)
        self._run()
        self.assertFalse(self._found("leaver"))
        member = self._member(self.user_rep_2)
        member.action_archive()
        self._run()
        finding = self._found("leaver", user=self.user_rep_2)
        self.assertEqual(finding.lead_ids, held)
        self.assertEqual(finding.team_id, self.team_east)
        # archived users count too
        member.action_unarchive()
        self._run()
        self.assertFalse(self._found("leaver"))
        self.user_rep_2.active = False
        self._run()
        self.assertTrue(self._found("leaver", user=self.user_rep_2))


@tagged("post_install", "-at_install")
class TestFunnelExceptionLifecycle(FunnelExceptionCommon):
    def test_idempotent_with_one_activity_for_the_team_manager(self):
        stuck = self._at(20, 2, layer="contacted", grade="b")
        self._run()
        finding = self._found("overdue", user=self.user_rep)
        self.assertEqual(finding.activity_ids.user_id, self.user_manager_east)
        count = self.Exception.search_count([])
        self._run(NOW + timedelta(hours=2))
        self.assertEqual(self.Exception.search_count([]), count)
        self.assertEqual(self._found("overdue", user=self.user_rep), finding)
        self.assertEqual(len(finding.activity_ids), 1)
        # acknowledged findings are kept up to date, not duplicated
        finding.action_acknowledge()
        self._run(NOW + timedelta(hours=3))
        self.assertEqual(self.Exception.search_count([]), count)
        self.assertEqual(finding.state, "acknowledged")
        self.assertEqual(finding.lead_ids, stuck)

    def test_cleared_condition_is_resolved(self):
        stuck = self._at(20, 1, layer="contacted", grade="b")
        self._run()
        finding = self._found("overdue", user=self.user_rep)
        self._move(stuck, "lead", 0)
        self._run()
        self.assertEqual(finding.state, "resolved")
        self.assertTrue(finding.date_resolved)
        self.assertFalse(self._found("overdue"))

    def test_daily_cron(self):
        self._at(20, 1, layer="contacted", grade="b")
        with freeze_time(NOW):
            self.env.ref(
                "sales_funnel_method.ir_cron_funnel_exceptions"
            ).method_direct_trigger()
        self.assertTrue(self._found("overdue", user=self.user_rep))


@tagged("post_install", "-at_install")
class TestFunnelExceptionAccess(FunnelExceptionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with freeze_time(NOW - timedelta(days=20)):
            cls._create_customers(1, layer="contacted", grade="b", name="East stuck")
            cls._create_customers(
                1,
                layer="contacted",
                grade="b",
                user=cls.user_rep_west,
                team=cls.team_west,
                name="West stuck",
            )
        with freeze_time(NOW):
            cls.env["crm.funnel.exception"]._funnel_run_checks(cls.company)
        cls.east = cls.env["crm.funnel.exception"].search(
            [("exception_type", "=", "overdue"), ("user_id", "=", cls.user_rep.id)]
        )
        cls.west = cls.env["crm.funnel.exception"].search(
            [("exception_type", "=", "overdue"), ("user_id", "=", cls.user_rep_west.id)]
        )

    @users("funnel_rep")
    def test_rep_sees_own_and_cannot_change(self):
        mine = self.env["crm.funnel.exception"].search(
            [("exception_type", "=", "overdue")]
        )
        self.assertEqual(mine, self.east)
        with self.assertRaises(AccessError):
            self.east.with_user(self.env.user).action_acknowledge()

    @users("funnel_manager_east")
    def test_manager_sees_and_handles_his_team(self):
        visible = self.env["crm.funnel.exception"].search(
            [("exception_type", "=", "overdue")]
        )
        self.assertEqual(visible, self.east)
        self.east.with_user(self.env.user).action_acknowledge()
        self.assertEqual(self.east.state, "acknowledged")
        with self.assertRaises(AccessError):
            self.west.with_user(self.env.user).read(["name"])

    @users("funnel_director")
    def test_director_sees_all(self):
        visible = self.env["crm.funnel.exception"].search(
            [("exception_type", "=", "overdue")]
        )
        self.assertEqual(visible, self.east | self.west)


@tagged("post_install", "-at_install")
class TestFunnelExceptionQueries(FunnelExceptionCommon):
    def _queries(self, count):
        # the same findings whatever the count: every rep has stuck resources
        # and holds nothing in the working layers
        for user, team in (
            (self.user_rep, self.team_east),
            (self.user_rep_2, self.team_east),
            (self.user_rep_west, self.team_west),
        ):
            self._at(20, count // 3, layer="resource", user=user, team=team)
        self.env.invalidate_all()
        # 324 measured at 50 customers as at 500 (and a margin of 6): the checks'
        # reads, then the 13 findings with their activities and chatter (Odoo's
        # per-record mail work)
        with freeze_time(NOW), self.assertQueryCount(__system__=330):
            findings = self.Exception._funnel_run_checks(self.company)
        self.assertEqual(
            len(findings.filtered(lambda f: f.exception_type == "overdue")), 3
        )
        return findings

    # per rep: stuck resources, a resource step rate of 0 and one holdings finding;
    # per team: the step rate and the holdings
    def test_50_customers(self):
        self.assertEqual(len(self._queries(50)), 13)

    def test_500_customers(self):
        self.assertEqual(len(self._queries(500)), 13)
