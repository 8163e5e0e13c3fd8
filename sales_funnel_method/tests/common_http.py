import logging

from odoo.tests import HttpCase

from .common import SalesFunnelCommon


class ServerLogWatch(logging.Handler):
    """Keeps what the server logs at ERROR or above, and any record with a
    traceback (a warning logged with ``exc_info``, such as Odoo's file type
    check failing on a download)."""

    def __init__(self):
        super().__init__(level=logging.NOTSET)
        self.records = []

    def emit(self, record):
        if record.name.endswith(".browser"):
            return  # the browser's own console: a failing tour reports it already
        if record.levelno >= logging.ERROR or record.exc_info:
            self.records.append(record)

    def take(self):
        records, self.records = self.records, []
        return records


class SalesFunnelHttpCase(HttpCase, SalesFunnelCommon):
    """Browser tests of the funnel: a tour passes only if the server logged no
    error and no traceback while it ran.

    The user sees a friendly message for many server errors (a database
    constraint, a failed file type check): the tour's own steps would pass, the
    log is where such a defect shows.
    """

    def setUp(self):
        super().setUp()
        self._server_log = ServerLogWatch()
        root = logging.getLogger()
        root.addHandler(self._server_log)
        self.addCleanup(root.removeHandler, self._server_log)
        # pytest-odoo runs Odoo at the "critical" log level by default: errors would
        # not even be logged. Warnings and errors are logged (and kept by pytest's
        # capture, shown for a failing test).
        odoo_logger = logging.getLogger("odoo")
        if odoo_logger.getEffectiveLevel() > logging.WARNING:
            self.addCleanup(odoo_logger.setLevel, odoo_logger.level)
            odoo_logger.setLevel(logging.WARNING)
        # cleanups run last-in first-out: the check runs before the handler goes
        self.addCleanup(self.assertServerLogClean)

    def start_tour(self, url_path, tour_name, step_delay=None, **kwargs):
        # a whole tour gets 3 minutes (Odoo's default: 60 s) and each of its steps
        # 30 s (funnel_tour_utils.js): on a loaded machine the reports answer
        # slower, and a slow answer is not a failure
        kwargs.setdefault("timeout", 180)
        return super().start_tour(url_path, tour_name, step_delay, **kwargs)

    def assertServerLogClean(self):
        """Fail on what the server logged at ERROR or with a traceback so far."""
        records = self._server_log.take()
        if records:
            formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
            lines = []
            for record in records:
                lines.append(formatter.format(record))
            self.fail(
                "the server logged %s error(s) or traceback(s) during the test:\n%s"
                % (len(records), "\n".join(lines))
            )
