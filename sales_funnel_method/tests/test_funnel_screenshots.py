import base64
import os
import shutil
import tempfile
import time
import unittest
from pathlib import Path

from PIL import Image

from odoo import Command
from odoo.tests import HttpCase, tagged
from odoo.tests.common import TEST_CURSOR_COOKIE_NAME, ChromeBrowser

from odoo.addons.mail.tests.common import mail_new_test_user

from .common import SalesFunnelCommon

# The app page's screenshots (static/description/screenshots/, referenced by
# readme/USAGE.rst) are updated by `make screenshots`, which names that folder
# here; a plain test run takes them in a temporary folder only and leaves the
# source tree as it was.
SCREENSHOTS_DIR = os.environ.get("FUNNEL_SCREENSHOTS_DIR")
WIDTH, HEIGHT = 1366, 768

# The page as it rests: no transitions, animations or blinking caret, and no
# toasts (one browser logging in as several users makes the bus worker warn
# that the page is out of date; a danger toast still fails the screen, below).
# The RPCs in flight are counted from the start, so that a screen is taken
# only once everything it asked for has come back.
PAGE_SCRIPT = """
document.addEventListener("DOMContentLoaded", () => {
    const style = document.createElement("style");
    style.textContent = "*, *::before, *::after { transition: none !important; "
        + "animation: none !important; caret-color: transparent !important; } "
        + ".o_notification_manager { visibility: hidden !important; }";
    document.head.appendChild(style);
    const { rpcBus } = odoo.loader.modules.get("@web/core/network/rpc");
    const pending = new Set();
    rpcBus.addEventListener("RPC:REQUEST", ({ detail }) => pending.add(detail.data.id));
    rpcBus.addEventListener("RPC:RESPONSE", ({ detail }) => pending.delete(detail.data.id));
    window.funnelPendingRpcs = pending;
});
"""
# a screen is ready when nothing loads, no error is shown and the fonts are in
SETTLED = (
    "document.readyState === 'complete' && document.fonts.status === 'loaded'"
    " && window.funnelPendingRpcs.size === 0"
    " && !document.querySelector('.o_loading_indicator, .o_error_dialog,"
    " .o_view_sample_data, .o_notification_bar.bg-danger')"
)
CHART_DRAWN = (
    "(() => { const canvas = document.querySelector('.o_graph_renderer canvas');"
    " const chart = canvas && Chart.getChart(canvas);"
    " return !!chart && chart.data.datasets.length > 0"
    " && !Chart.animator.running(chart); })()"
)


def rows(selector, count):
    return f"document.querySelectorAll({selector!r}).length >= {count}"


@tagged("post_install", "-at_install")
class TestFunnelScreenshots(HttpCase, SalesFunnelCommon):
    """The screenshots of the app page, taken in headless Chromium on the demo
    data each time the suite runs, so that a screen that no longer comes up
    fails; ``make screenshots`` puts them on the app page.

    One browser takes them all, logging in as the user who works on each
    screen; a screen that does not come up fails the test.
    """

    browser_size = f"{WIDTH}x{HEIGHT}"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # three reps a team (enough for every screen), and only the funnel's teams
        group = "sales_funnel_method.sales_funnel_method_group_rep"
        for login, name, team in [
            ("funnel_rep_3", "Rep Wu", cls.team_east),
            ("funnel_rep_west_2", "Rep Zhao", cls.team_west),
            ("funnel_rep_west_3", "Rep Sun", cls.team_west),
        ]:
            user = mail_new_test_user(cls.env, login=login, name=name, groups=group)
            team.crm_team_member_ids = [Command.create({"user_id": user.id})]
        cls.env["crm.team.member"].search(
            [("crm_team_id", "not in", (cls.team_east | cls.team_west).ids)]
        ).action_archive()
        cls.env["crm.funnel.demo"]._funnel_demo_generate(
            [cls.team_east.id, cls.team_west.id]
        )
        cls.customer = cls.env["crm.lead"].search(
            [
                ("user_id", "=", cls.user_rep.id),
                ("funnel_layer", "in", ("lead", "intent")),
                ("funnel_grade", "!=", False),
            ],
            order="expected_revenue desc, id",
            limit=1,
        )
        cls.customer.funnel_sales_target = cls.customer.expected_revenue

    # ------------------------------------------------------------
    # THE BROWSER
    # ------------------------------------------------------------

    def _start_browser(self):
        try:
            browser = ChromeBrowser(self)
        except unittest.SkipTest as error:
            self.fail(f"No browser to take the screenshots: {error}")
        self.http_request_key = self.canonical_tag + "_browser_js"
        self.http_request_strict_check = True
        browser._websocket_request(
            "Page.addScriptToEvaluateOnNewDocument", params={"source": PAGE_SCRIPT}
        )
        return browser

    def _stop_browser(self, browser):
        browser.stop()
        self._wait_remaining_requests()
        self.http_request_key = self.canonical_tag
        self.opener.cookies[TEST_CURSOR_COOKIE_NAME] = self.http_request_key

    def _check_browser(self, browser, name):
        if browser._result.done() and browser._result.exception():
            self.fail(f"{name}: the browser failed: {browser._result.exception()}")
        self.assertFalse(browser.had_failure, f"{name}: an error in the browser")

    def _run(self, browser, name, code):
        """Run ``code`` in the page, as a user's click would."""
        result = browser._websocket_request(
            "Runtime.evaluate",
            params={"expression": code, "awaitPromise": True},
            timeout=30,
        )
        if "exceptionDetails" in result:
            self.fail(f"{name}: {code} failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def _holds(self, browser, name, condition):
        return self._run(
            browser,
            name,
            f"(() => {{ try {{ return !!({condition}); }}"
            " catch { return false; } })()",
        )

    def _wait(self, browser, name, *conditions, timeout=30):
        conditions = (SETTLED, *conditions)
        ready = " && ".join(f"({condition})" for condition in conditions)
        deadline = time.monotonic() + timeout
        while not self._holds(browser, name, ready):
            if time.monotonic() > deadline:
                browser.take_screenshot(prefix=f"sc_failed_{name}_")
                unmet = [c for c in conditions if not self._holds(browser, name, c)]
                self.fail(f"{name}: the screen never showed {' and '.join(unmet)}")
            time.sleep(0.2)
        self._check_browser(browser, name)

    def _screenshot(self, browser, name, url, ready, steps=(), login=None):
        """Open ``url`` (as ``login`` if given), play ``steps`` (a condition to
        wait for, then the code to run), wait for the ``ready`` conditions and
        save the page as ``name``.png."""
        if login:
            self.authenticate(login, login, browser=browser)
            self.cr.flush()
            self.cr.clear()
        browser.navigate_to(f"{self.base_url()}{url}", wait_stop=True)
        # the first page of a run builds the asset bundles
        self._wait(browser, name, "!!odoo.__WOWL_DEBUG__", timeout=120)
        for condition, code in steps:
            self._wait(browser, name, condition)
            self._run(browser, name, code)
        # taken again if something started moving while it was taken
        for _attempt in range(3):
            self._wait(browser, name, *ready)
            result = browser._websocket_request(
                "Page.captureScreenshot", params={"format": "png"}, timeout=30
            )
            if self._holds(browser, name, " && ".join((SETTLED, *ready))):
                break
        else:
            self.fail(f"{name}: the screen kept changing while it was taken")
        self._check_browser(browser, name)
        path = self.taken / f"{name}.png"
        path.write_bytes(base64.b64decode(result["data"], validate=True))
        return path

    # ------------------------------------------------------------
    # TESTS
    # ------------------------------------------------------------

    def test_screenshots_of_the_main_views(self):
        # taken aside, and put on the app page only when all of them are good
        taken = tempfile.TemporaryDirectory()
        self.addCleanup(taken.cleanup)
        self.taken = Path(taken.name)
        browser = self._start_browser()
        try:
            paths = [
                # the rep's worklist with the holdings against the ideal
                self._screenshot(
                    browser,
                    "my_funnel",
                    "/odoo/action-sales_funnel_method.crm_lead_action_my_funnel",
                    [
                        rows(".o_funnel_holdings .o_funnel_holding", 3),
                        rows(".o_list_view .o_data_row", 10),
                    ],
                    login="funnel_rep",
                ),
                # a customer: grade, layer, days against the ideal, the layer's
                # standard and sales methods
                self._screenshot(
                    browser,
                    "customer_form",
                    "/odoo/action-sales_funnel_method.crm_lead_action_my_funnel/"
                    f"{self.customer.id}",
                    [
                        "document.querySelector('.o_notebook_headers"
                        " a[name=funnel].active')",
                        "document.querySelector('.o_field_widget[name=funnel_standard]')"
                        ".textContent.trim()",
                        rows(".o_field_widget[name=funnel_grade] input:checked", 1),
                    ],
                    steps=[
                        (
                            rows(".o_notebook_headers a[name=funnel]", 1),
                            "document.querySelector('.o_notebook_headers"
                            " a[name=funnel]').click()",
                        ),
                        (
                            rows(".o_field_widget[name=funnel_method_hints]", 1),
                            "document.querySelector('.o_field_widget[name=funnel_grade]')"
                            ".closest('.o_inner_group').scrollIntoView()",
                        ),
                    ],
                ),
                # the manager's funnel beside the ideal one, over the whole demo
                self._screenshot(
                    browser,
                    "funnel_overview",
                    "/odoo/action-sales_funnel_method.crm_funnel_report_overview_action",
                    [CHART_DRAWN, "!document.querySelector('.o_searchview_facet')"],
                    steps=[
                        (
                            rows(".o_searchview_facet .o_facet_remove", 1),
                            "document.querySelector('.o_searchview_facet"
                            " .o_facet_remove').click()",
                        ),
                    ],
                    login="funnel_manager_east",
                ),
                # the findings of the daily exception check
                self._screenshot(
                    browser,
                    "exceptions",
                    "/odoo/action-sales_funnel_method.crm_funnel_exception_action",
                    [rows(".o_list_view .o_data_row", 10)],
                ),
                # the manager's morning: each layer of the team against the ideal
                self._screenshot(
                    browser,
                    "dashboard",
                    "/odoo/action-sales_funnel_method.crm_funnel_dashboard_action",
                    [
                        rows(".o_funnel_dashboard .o_funnel_layer", 5),
                        rows(".o_funnel_dashboard .o_funnel_band", 5),
                    ],
                ),
                # every rep's holdings per layer against the ideal, team subtotals
                self._screenshot(
                    browser,
                    "holdings_board",
                    "/odoo/action-sales_funnel_method.crm_funnel_holdings_board_action",
                    [
                        rows(".o_funnel_holdings_table .o_funnel_rep_line", 3),
                        rows(".o_funnel_holdings_table .o_funnel_team_total", 1),
                    ],
                ),
                # the ranking boards (排行榜) of the period
                self._screenshot(
                    browser,
                    "ranking_board",
                    "/odoo/action-sales_funnel_method.crm_funnel_report_ranking_action",
                    [rows(".o_funnel_ranking_board tbody tr", 3)],
                ),
                # the support group's fat-first preview, over the pool
                self._screenshot(
                    browser,
                    "allocation_preview",
                    "/odoo/action-sales_funnel_method.crm_lead_action_pool",
                    [
                        rows(".modal .o_funnel_allocation_line", 2),
                        "document.querySelector('.modal button[name=action_allocate]')",
                    ],
                    steps=[
                        (
                            rows(".o_list_view .o_data_row", 1),
                            "odoo.__WOWL_DEBUG__.root.env.services.action.doAction("
                            "'sales_funnel_method.crm_funnel_allocate_action')",
                        ),
                    ],
                    login="funnel_support",
                ),
            ]
        finally:
            self._stop_browser(browser)
        for path in paths:
            with Image.open(path) as image:
                self.assertEqual(image.format, "PNG", path.name)
                self.assertEqual(image.size, (WIDTH, HEIGHT), path.name)
                colours = image.convert("RGB").getcolors(maxcolors=WIDTH * HEIGHT)
                self.assertGreater(len(colours), 64, f"{path.name} looks blank")
        if SCREENSHOTS_DIR:
            target = Path(SCREENSHOTS_DIR)
            target.mkdir(parents=True, exist_ok=True)
            for path in paths:
                shutil.copyfile(path, target / path.name)
