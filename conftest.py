"""Project-wide pytest policy: a skipped test is a failure.

Odoo skips a browser tour with nothing but a log line when Chromium or
websocket-client is missing; the suite must not pass in that case.
"""


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped and session.exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    skipped = terminalreporter.stats.get("skipped", [])
    if skipped:
        terminalreporter.write_line(
            f"FAILED: {len(skipped)} test(s) skipped; skipped tests (browser tours "
            "included) count as failures in this project.",
            red=True,
        )
