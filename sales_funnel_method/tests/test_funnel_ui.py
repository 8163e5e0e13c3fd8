import io
import logging
from datetime import timedelta

import openpyxl
from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged

from .common_http import SalesFunnelHttpCase

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@tagged("post_install", "-at_install")
class TestFunnelUi(SalesFunnelHttpCase):
    """Every screen of the funnel, clicked through in the browser by the role that
    uses it. Each tour also fails if the server logged an error or a traceback."""

    def _only_funnel_reps(self):
        self.env["crm.team.member"].search(
            [("crm_team_id", "not in", (self.team_east | self.team_west).ids)]
        ).action_archive()

    def _pool(self, name, grade=None, days_old=0):
        lead = self._create_customers(
            layer="resource", grade=grade, user=self.env["res.users"], name=name
        )
        if days_old:
            # PostgreSQL dates the row: make it older
            self.env.cr.execute(
                "UPDATE crm_lead SET create_date = create_date - %s * INTERVAL '1 day' "
                "WHERE id = %s",
                [days_old, lead.id],
            )
            lead.invalidate_recordset(["create_date"])
        return lead

    # ------------------------------------------------------------
    # THE LOG CHECK ITSELF
    # ------------------------------------------------------------

    def test_the_log_check_fails_on_an_error_or_a_traceback(self):
        logging.getLogger("odoo.sql_db").error("bad query: a simulated CHECK violation")
        with self.assertRaisesRegex(AssertionError, "simulated CHECK violation"):
            self.assertServerLogClean()
        try:
            raise ValueError("a simulated file type check")
        except ValueError:
            logging.getLogger("odoo.tools.mimetypes").warning("failed", exc_info=True)
        with self.assertRaisesRegex(AssertionError, "simulated file type check"):
            self.assertServerLogClean()
        logging.getLogger("odoo.http").warning("a warning without a traceback")
        self.assertServerLogClean()

    # ------------------------------------------------------------
    # A REP'S DAY
    # ------------------------------------------------------------

    def test_rep_lands_on_my_funnel(self):
        self._create_customers(layer="graded", grade="b", name="Tour Landing")
        self.start_tour(
            "/odoo", "sales_funnel_method_rep_lands_on_my_funnel", login="funnel_rep"
        )

    def test_home_action_is_my_funnel_or_the_dashboard_for_the_funnel_roles(self):
        my_funnel = self.env.ref("sales_funnel_method.crm_lead_action_my_funnel")
        dashboard = self.env.ref("sales_funnel_method.crm_funnel_dashboard_action")

        def home(login):
            self.authenticate(login, login)
            return self.make_jsonrpc_request("/web/session/get_session_info")[
                "home_action_id"
            ]

        self.assertEqual(home("funnel_rep"), my_funnel.id)
        self.assertEqual(home("funnel_manager_east"), dashboard.id)
        self.assertEqual(home("funnel_director"), dashboard.id)
        self.assertFalse(home("funnel_support"))
        # a home action the rep chose in their preferences stays theirs
        pipeline = self.env.ref("crm.crm_lead_action_pipeline")
        self.user_rep.action_id = pipeline.id
        self.assertEqual(home("funnel_rep"), pipeline.id)

    def test_rep_grades_a_resource_and_contacts_it(self):
        lead = self._create_customers(layer="resource", name="Tour Resource Customer")
        self.assertFalse(lead.funnel_grade)
        self.start_tour(
            "/odoo", "sales_funnel_method_rep_grades_resource", login="funnel_rep"
        )
        self.assertEqual(lead.funnel_layer, "contacted")
        self.assertEqual(lead.funnel_grade, "a")
        self.assertEqual(lead.funnel_product, "Website package")
        self.assertEqual(
            lead.funnel_move_ids.sorted("id").mapped("to_layer"),
            ["resource", "contacted"],
        )
        self.assertEqual(
            lead.funnel_move_ids.sorted("id")[-1].changed_by_id, self.user_rep
        )

    def test_rep_logs_a_contact(self):
        lead = self._create_customers(
            layer="contacted", grade="b", name="Tour Contact Customer"
        )
        self.start_tour(
            "/odoo", "sales_funnel_method_rep_logs_a_contact", login="funnel_rep"
        )
        self.assertEqual(len(lead.funnel_contact_ids), 1)
        self.assertEqual(lead.funnel_contact_ids.kind, "visit")
        self.assertEqual(
            lead.funnel_contact_ids.note, "Visited the plant, a quote next week"
        )
        self.assertEqual(lead.funnel_contact_ids.create_uid, self.user_rep)

    def test_rep_signs_and_abandons(self):
        to_sign = self._create_customers(layer="intent", grade="a", name="Tour To Sign")
        to_abandon = self._create_customers(
            layer="lead", grade="c", name="Tour To Abandon"
        )
        other_team = self._create_customers(layer=None, name="Tour Other Team")
        self.start_tour(
            "/odoo", "sales_funnel_method_rep_signs_and_abandons", login="funnel_rep"
        )
        self.assertEqual(to_sign.funnel_layer, "signed")
        self.assertEqual(to_sign.probability, 100)
        self.assertFalse(to_abandon.active)
        self.assertEqual(to_abandon.funnel_layer, "abandoned")
        reason = self.env.ref("sales_funnel_method.crm_lost_reason_unreachable")
        self.assertEqual(to_abandon.lost_reason_id, reason)
        self.assertEqual(
            to_abandon.funnel_move_ids.sorted("id")[-1].lost_reason_id, reason
        )
        self.assertTrue(other_team.active, "the dialog was cancelled")

    def _fast_and_slow(self):
        now = fields.Datetime.now()
        with freeze_time(now - timedelta(days=6)):
            slow = self._create_customers(
                layer="contacted", grade="a", name="Tour Slow Lead"
            )
            fast = self._create_customers(
                layer="contacted", grade="c", name="Tour Fast Mover"
            )
            self._create_customers(layer="graded", grade="a", name="Tour Graded")
        with freeze_time(now - timedelta(days=5)):
            fast.write({"stage_id": self.stages["lead"].id})  # one day: fast (ideal 5)
        with freeze_time(now - timedelta(hours=2)):
            slow.write({"stage_id": self.stages["lead"].id})  # nearly six days: slow
        self.assertTrue(fast.funnel_is_fast_mover)
        return fast, slow

    def test_rep_sees_the_fast_mover_on_top_of_my_funnel(self):
        self._fast_and_slow()
        self.start_tour("/odoo", "sales_funnel_method_my_funnel", login="funnel_rep")

    def test_a_chinese_speaking_rep(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(
            ["sales_funnel_method"], ["zh_CN"], overwrite=True
        )
        self.user_rep.lang = "zh_CN"
        _fast, slow = self._fast_and_slow()
        self._pool("Tour Pool Customer", grade="b")
        self.start_tour(
            "/odoo", "sales_funnel_method_my_funnel_zh_cn", login="funnel_rep"
        )
        self.assertFalse(slow.active)
        self.assertEqual(
            slow.lost_reason_id,
            self.env.ref("sales_funnel_method.crm_lost_reason_unreachable"),
        )

    # ------------------------------------------------------------
    # THE POOL
    # ------------------------------------------------------------

    def test_rep_claims_from_the_pool(self):
        self._only_funnel_reps()
        self._create_customers(layer="contacted", grade="b", name="Held")  # 29 free
        new_b = self._pool("Tour Pool B New", grade="b")
        old_b = self._pool("Tour Pool B Old", grade="b", days_old=3)
        a = self._pool("Tour Pool A", grade="a")
        self.start_tour("/odoo", "sales_funnel_method_rep_claims", login="funnel_rep")
        self.assertEqual(old_b.user_id, self.user_rep)
        self.assertEqual(old_b.funnel_assignment_ids.kind, "claim")
        self.assertFalse((a | new_b).user_id)

    def test_rep_claims_from_the_form(self):
        self._only_funnel_reps()
        pool = self._pool("Tour Pool A", grade="a")
        self.start_tour(
            "/odoo", "sales_funnel_method_rep_claims_from_form", login="funnel_rep"
        )
        self.assertEqual(pool.user_id, self.user_rep)

    def test_rep_at_capacity_cannot_claim(self):
        self._only_funnel_reps()
        member = self.team_east.crm_team_member_ids.filtered(
            lambda member: member.user_id == self.user_rep
        )
        member.funnel_quota_override = 1
        self._create_customers(layer="graded", grade="b", name="Held")
        pool = self._pool("Tour Pool A", grade="a")
        self.start_tour(
            "/odoo", "sales_funnel_method_rep_at_capacity", login="funnel_rep"
        )
        self.assertFalse(pool.user_id)

    def test_support_previews_and_runs_an_allocation(self):
        self._only_funnel_reps()
        self._create_customers(
            layer="signed", grade="a", expected_revenue=5000, name="Won"
        )
        pool = self._create_customers(
            3, layer="resource", grade="a", user=self.env["res.users"]
        )
        self.start_tour(
            "/odoo", "sales_funnel_method_support_allocates", login="funnel_support"
        )
        self.assertEqual(pool.user_id, self.user_rep)
        self.assertEqual(set(pool.funnel_assignment_ids.mapped("kind")), {"allocation"})

    def test_support_allocates_a_selection(self):
        self._only_funnel_reps()
        picked = self._pool("Tour Picked", grade="b")
        left = self._pool("Tour Left", grade="a")
        self.start_tour(
            "/odoo",
            "sales_funnel_method_support_allocates_selection",
            login="funnel_support",
        )
        self.assertTrue(picked.user_id)
        self.assertEqual(picked.funnel_assignment_ids.kind, "allocation")
        self.assertFalse(left.user_id)

    def test_support_hands_over_a_leaving_rep(self):
        self._only_funnel_reps()
        self._create_customers(
            layer="signed",
            grade="a",
            expected_revenue=9000,
            name="Rep Li's Signing",
        )
        intent = self._create_customers(
            layer="intent", grade="a", user=self.user_rep_2, name="Tour Leaver Intent"
        )
        contacted = self._create_customers(
            layer="contacted",
            grade="b",
            user=self.user_rep_2,
            name="Tour Leaver Contacted",
        )
        self.start_tour(
            "/odoo", "sales_funnel_method_support_hands_over", login="funnel_support"
        )
        self.assertEqual(intent.user_id, self.user_rep, "fat-first: the best seller")
        self.assertEqual(contacted.user_id, self.user_rep_west)
        handover = self.env["crm.funnel.handover"].search(
            [("user_id", "=", self.user_rep_2.id)]
        )
        self.assertEqual(handover.done_by_id, self.user_support)
        self.assertEqual(handover.assignment_ids.lead_id, intent | contacted)

    # ------------------------------------------------------------
    # MANAGERS
    # ------------------------------------------------------------

    def test_manager_reads_the_overview_and_exports_the_workbook(self):
        leads = self._create_customers(3, layer="resource", grade="a", name="Tour East")
        leads[:2].write({"stage_id": self.stages["graded"].id})
        self.start_tour(
            "/odoo", "sales_funnel_method_manager_reports", login="funnel_manager_east"
        )
        wizard = self.env["crm.funnel.workbook"].search(
            [("create_uid", "=", self.user_manager_east.id)]
        )
        self.assertEqual(len(wizard), 1)
        self.assertEqual(wizard.scope, "all")
        # the download the Export button starts (the headless browser does not
        # download), as the browser would get it
        url = wizard.with_user(self.user_manager_east).action_export()["url"]
        self.authenticate("funnel_manager_east", "funnel_manager_east")
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], XLSX)
        self.assertIn(".xlsx", response.headers["Content-Disposition"])
        book = openpyxl.load_workbook(io.BytesIO(response.content))
        self.assertEqual(book.sheetnames[-2:], ["Resource", "Abandoned"])
        self.assertEqual(book["Graded"].max_row, 3)  # the headers and two customers

    def test_manager_works_an_exception(self):
        stuck = self._create_customers(layer="lead", grade="b", name="Tour Stuck")
        exception = self.env["crm.funnel.exception"].create(
            {
                "exception_type": "overdue",
                "user_id": self.user_rep.id,
                "team_id": self.team_east.id,
                "layer": "lead",
                "measured": 12,
                "threshold": 10,
                "lead_ids": [(6, 0, stuck.ids)],
                "company_id": self.env.company.id,
            }
        )
        self.start_tour(
            "/odoo",
            "sales_funnel_method_manager_works_an_exception",
            login="funnel_manager_east",
        )
        self.assertEqual(exception.state, "open")
        self.assertEqual(
            set(exception.message_ids.tracking_value_ids.mapped("new_value_char")),
            {"Acknowledged", "Resolved", "Open"},
        )

    def test_director_maps_stages(self):
        mapped = self._create_customers(layer=None, grade="b", name="Tour Mapped")
        self.start_tour(
            "/odoo",
            "sales_funnel_method_director_maps_stages",
            login="funnel_director",
        )
        self.assertEqual(self.plain_stages[0].funnel_layer, "lead")
        self.assertFalse(self.plain_stages[1].funnel_layer)
        self.assertEqual(mapped.funnel_layer, "lead")
        self.assertIn("lead", mapped.funnel_move_ids.mapped("to_layer"))

    # ------------------------------------------------------------
    # CONFIGURATION
    # ------------------------------------------------------------

    def test_manager_edits_a_layer(self):
        self.start_tour(
            "/odoo",
            "sales_funnel_method_manager_edits_a_layer",
            login="funnel_manager_east",
        )
        self.assertEqual(self.stages["lead"].funnel_ideal_days, 6)

    def test_admin_sets_the_funnel_numbers(self):
        self.start_tour("/odoo", "sales_funnel_method_admin_settings", login="admin")
        self.assertEqual(self.env.company.funnel_quota, 25)
        self.assertEqual(self.env.company.funnel_discoverer_allowance, 3)

    def test_support_sets_a_quota(self):
        member = self.team_east.crm_team_member_ids.filtered(
            lambda member: member.user_id == self.user_rep
        )
        self.start_tour(
            "/odoo", "sales_funnel_method_support_sets_quota", login="funnel_support"
        )
        self.assertEqual(member.funnel_quota_override, 12)
        self.assertEqual(member.funnel_quota, 12)
