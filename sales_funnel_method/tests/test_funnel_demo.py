from odoo.tests import tagged

from .common import SalesFunnelCommon


@tagged("post_install", "-at_install")
class TestFunnelDemo(SalesFunnelCommon):
    """The demo data generator of `make run` (the database of the test suite has no demo)."""

    def test_demo_fills_every_screen(self):
        self.env["crm.funnel.demo"]._funnel_demo_generate(
            [self.team_east.id, self.team_west.id]
        )
        Lead = self.env["crm.lead"].with_context(active_test=False)
        leads = Lead.search(
            [("partner_name", "!=", False), ("funnel_layer", "!=", False)]
        )
        self.assertGreaterEqual(len(leads), 180)
        self.assertEqual(len(set(leads.mapped("funnel_layer"))), 8)
        self.assertTrue(
            all(
                not lead.active
                for lead in leads.filtered(
                    lambda lead: lead.funnel_layer == "abandoned"
                )
            )
        )
        moves = leads.funnel_move_ids
        self.assertGreater(len(moves), len(leads))
        for lead in leads[:50]:
            last = lead.funnel_move_ids.sorted("date")[-1]
            self.assertEqual(
                (last.to_layer, last.date), (lead.funnel_layer, lead.funnel_layer_date)
            )
        self.assertTrue(leads.funnel_contact_ids)
        self.assertTrue(
            self.env["crm.funnel.exception"].search_count([("state", "=", "open")])
        )
        # the reports have something to show
        overview = self.env["crm.funnel.report.overview"]._read_group(
            [], ["kind"], ["customer_count:sum"]
        )
        self.assertEqual({kind for kind, _count in overview}, {"actual", "ideal"})
        self.assertTrue(self.env["crm.funnel.report.contact"].search_count([]))
