from odoo.exceptions import AccessError
from odoo.tests import tagged, users

from .common import SalesFunnelCommon


@tagged("post_install", "-at_install")
class TestFunnelSecurity(SalesFunnelCommon):
    """METHOD 8: what each role sees and changes, tested as that role."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lead_rep = cls._create_customers(layer="contacted", grade="a", name="Mine")
        cls.lead_rep_2 = cls._create_customers(
            layer="contacted", grade="a", user=cls.user_rep_2, name="Colleague"
        )
        cls.lead_west = cls._create_customers(
            layer="lead",
            grade="b",
            user=cls.user_rep_west,
            team=cls.team_west,
            name="West",
        )
        cls.lead_pool = cls._create_customers(
            layer="resource", user=cls.env["res.users"], name="Pool"
        )
        cls.all_leads = cls.lead_rep | cls.lead_rep_2 | cls.lead_west | cls.lead_pool

    def _visible(self):
        return self.env["crm.lead"].search([("id", "in", self.all_leads.ids)])

    def _visible_moves(self):
        return (
            self.env["crm.funnel.move"]
            .search([("lead_id", "in", self.all_leads.ids)])
            .lead_id
        )

    @users("funnel_rep")
    def test_rep_sees_and_changes_own_customers(self):
        self.assertEqual(self._visible(), self.lead_rep | self.lead_pool)
        self.assertEqual(self._visible_moves(), self.lead_rep)
        mine = self.lead_rep.with_user(self.env.user)
        mine.write({"stage_id": self.stages["lead"].id})
        self.assertEqual(mine.funnel_layer, "lead")
        colleague = self.lead_rep_2.with_user(self.env.user)
        with self.assertRaises(AccessError):
            colleague.read(["name"])
        with self.assertRaises(AccessError):
            colleague.write({"stage_id": self.stages["lead"].id})
        with self.assertRaises(AccessError):
            self.env["crm.funnel.move"].browse(
                self.lead_rep_2.funnel_move_ids.ids
            ).read(["date"])

    @users("funnel_manager_east")
    def test_team_manager_sees_his_team(self):
        team_east = self.lead_rep | self.lead_rep_2 | self.lead_pool
        self.assertEqual(self._visible(), team_east)
        self.assertEqual(self._visible_moves(), team_east)
        team_lead = self.lead_rep_2.with_user(self.env.user)
        team_lead.write({"stage_id": self.stages["intent"].id})
        self.assertEqual(team_lead.funnel_layer, "intent")
        with self.assertRaises(AccessError):
            self.lead_west.with_user(self.env.user).read(["name"])

    @users("funnel_director")
    def test_director_sees_everything(self):
        self.assertEqual(self._visible(), self.all_leads)
        self.assertEqual(
            self._visible_moves(),
            self.lead_rep | self.lead_rep_2 | self.lead_west | self.lead_pool,
        )
        self.lead_west.with_user(self.env.user).write(
            {"stage_id": self.stages["intent"].id}
        )
        # the director edits the ideal state
        self.stages["intent"].with_user(self.env.user).funnel_ideal_holding = 3
        self.assertEqual(self.stages["intent"].funnel_ideal_holding, 3)

    @users("funnel_support")
    def test_support_group_sees_pool_and_data(self):
        # the data: every customer and the whole move history, read only
        self.assertEqual(self._visible(), self.all_leads)
        self.assertEqual(len(self._visible_moves()), 4)
        pool = self.lead_pool.with_user(self.env.user)
        pool.write({"funnel_grade": "b", "stage_id": self.stages["graded"].id})
        self.assertEqual(pool.funnel_layer, "graded")
        self.assertEqual(
            self.lead_rep.with_user(self.env.user).name, self.lead_rep.name
        )
        with self.assertRaises(AccessError):
            self.lead_rep.with_user(self.env.user).write(
                {"stage_id": self.stages["lead"].id}
            )
        with self.assertRaises(AccessError):
            self.stages["lead"].with_user(self.env.user).funnel_ideal_days = 9

    @users("funnel_director")
    def test_history_cannot_be_rewritten(self):
        move = self.lead_west.funnel_move_ids.with_user(self.env.user)
        self.assertEqual(len(move), 1)
        with self.assertRaises(AccessError):
            move.write({"to_layer": "signed"})
        with self.assertRaises(AccessError):
            move.unlink()
        with self.assertRaises(AccessError):
            self.env["crm.funnel.move"].create(
                {
                    "lead_id": self.lead_west.id,
                    "move_type": "forward",
                    "to_layer": "signed",
                }
            )

    def test_existing_salesmen_keep_working(self):
        """A plain CRM salesman, without any funnel group, still works the funnel."""
        from odoo.addons.mail.tests.common import mail_new_test_user

        salesman = mail_new_test_user(
            self.env, login="plain_salesman", groups="sales_team.group_sale_salesman"
        )
        lead = self._create_customers(layer="graded", grade="a", user=salesman)
        lead.with_user(salesman).write({"stage_id": self.stages["contacted"].id})
        self.assertEqual(lead.with_user(salesman).funnel_move_count, 2)
        self.assertEqual(lead.funnel_move_ids.sorted("id")[-1].changed_by_id, salesman)
