from odoo.exceptions import ValidationError
from odoo.tests import tagged, users

from .common import SalesFunnelCommon


@tagged("post_install", "-at_install")
class TestFunnelSettingsValidation(SalesFunnelCommon):
    """A number out of range in the settings is refused with the setting's name,
    before the database's own check (which would log an error), and changes
    nothing."""

    def _save_settings(self, vals):
        settings = self.env["res.config.settings"].create(vals)
        settings.execute()

    @users("admin")
    def test_a_bad_number_in_the_settings_is_refused_by_name(self):
        company = self.env.company
        before = company.read(
            ["funnel_quota", "funnel_cooldown_days", "funnel_lock_limit"]
        )[0]
        cases = [
            ({"funnel_quota": -1}, "Customers per Rep"),
            ({"funnel_ranking_days": 0}, "Sales Ranking Window"),
            ({"funnel_cooldown_days": -5}, "Abandon Cool-down"),
            ({"funnel_discoverer_allowance": -1}, "Discoverer Allowance"),
            ({"funnel_return_contact_days_b": -2}, "Days without Contact, Grade B"),
            ({"funnel_return_sign_days": -1}, "Return when not Signed within"),
            ({"funnel_return_notice_days": -1}, "Warn before Returning"),
            ({"funnel_return_bar_days": -1}, "Previous Owner Waits"),
            ({"funnel_lock_limit": -1}, "Locked Customers per Rep"),
            ({"funnel_claim_daily_limit": -3}, "Claims per Rep per Day"),
            ({"funnel_fast_mover_share": 1.5}, "Fast Mover Share"),
            ({"funnel_probability_days": 0}, "at least one day"),
        ]
        for vals, message in cases:
            # Odoo's assertRaises rolls back as the request would
            with (
                self.subTest(vals=vals),
                self.assertNoLogs("odoo.sql_db", "ERROR"),
                self.assertRaises(ValidationError) as caught,
            ):
                # the quota and the cool-down change with it: nothing is saved
                self._save_settings(
                    dict({"funnel_quota": 21, "funnel_cooldown_days": 7}, **vals)
                )
            self.assertIn(message, str(caught.exception))
        self.assertEqual(
            company.read(["funnel_quota", "funnel_cooldown_days", "funnel_lock_limit"])[
                0
            ],
            before,
        )
        # a good value is saved
        self._save_settings({"funnel_quota": 21, "funnel_lock_limit": 4})
        self.assertEqual(company.funnel_quota, 21)
        self.assertEqual(company.funnel_lock_limit, 4)

    @users("funnel_support")
    def test_a_bad_lock_limit_of_a_rep_is_refused(self):
        member = self.env["crm.team.member"].search(
            [
                ("crm_team_id", "=", self.team_east.id),
                ("user_id", "=", self.user_rep.id),
            ]
        )
        with (
            self.assertNoLogs("odoo.sql_db", "ERROR"),
            self.assertRaises(ValidationError) as caught,
        ):
            member.write({"funnel_lock_limit_override": -2})
        self.assertIn("lock limit", str(caught.exception))
        self.assertIn("-2", str(caught.exception))
        self.assertEqual(member.funnel_lock_limit_override, 0)
        member.write({"funnel_lock_limit_override": 3})
        self.assertEqual(member.funnel_lock_limit_override, 3)
