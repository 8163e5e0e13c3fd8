import threading
from unittest.mock import patch

from odoo import api
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestFunnelDailyCron(TransactionCase):
    """The daily allocation runs each company in a transaction of its own: one
    company's failure neither undoes nor stops the others', and the job fails
    (it does not report progress, which would make Odoo run it again at once).

    It commits, as the cron worker lets it: the test runs it on a cursor of its
    own, with its company data committed and restored afterwards.
    """

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            self.main_company_id = env.ref("base.main_company").id
            self.main_auto = env.ref("base.main_company").funnel_auto_allocate
            self.failing_id = (
                env["res.company"]
                .create(
                    {
                        "name": "Failing Funnel Co",
                        "sequence": 0,
                        "funnel_auto_allocate": True,
                    }
                )
                .id
            )
            env.ref("base.main_company").funnel_auto_allocate = True
        self.addCleanup(self._restore)

    def _restore(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            env["res.company"].browse(
                self.main_company_id
            ).funnel_auto_allocate = self.main_auto
            failing = env["res.company"].browse(self.failing_id)
            try:
                with cr.savepoint():
                    failing.unlink()
            except Exception:  # noqa: BLE001 - referenced elsewhere: archive it
                failing.write({"active": False, "funnel_auto_allocate": False})

    def test_a_failing_company_does_not_stop_the_others(self):
        Allocation = self.registry["crm.funnel.allocation"]
        allocated = []

        def allocate(service, leads=None, company=None):
            if company.id == self.failing_id:
                raise ValueError("this company's pool is broken")
            allocated.append(company.id)
            return service.env["crm.funnel.assignment"]

        with (
            self.registry.cursor() as cr,
            patch.object(Allocation, "_funnel_allocate", allocate),
            patch.object(threading.current_thread(), "testing", False),
        ):
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            logger = "odoo.addons.sales_funnel_method.models.crm_funnel_allocation"
            with (
                self.assertLogs(logger, "ERROR") as logged,
                self.assertRaisesRegex(UserError, "Failing Funnel Co"),
            ):
                env["crm.funnel.allocation"]._cron_funnel_daily()
        self.assertIn("this company's pool is broken", "\n".join(logged.output))
        # the failing company came first (sequence 0): the main one still ran
        self.assertIn(self.main_company_id, allocated)
