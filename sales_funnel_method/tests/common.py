from contextlib import contextmanager
from unittest.mock import patch

from odoo import Command
from odoo.tests import TransactionCase
from odoo.tools import SQL

from odoo.addons.base.tests.common import DISABLED_MAIL_CONTEXT
from odoo.addons.mail.tests.common import mail_new_test_user

from ..models.crm_stage import FUNNEL_LAYERS, GRADED_LAYERS

LAYERS = [key for key, _label in FUNNEL_LAYERS]


class SalesFunnelCommon(TransactionCase):
    """The sales organisation every test works with (METHOD 8).

        funnel_director ............ Director: every customer
        funnel_support ............. Support group: the pool and the data
        Team East (led by funnel_manager_east)
            funnel_rep ............. Rep
            funnel_rep_2 ........... Rep
        Team West (led by funnel_manager_west)
            funnel_rep_west ........ Rep

    ``cls.stages`` maps each layer key to the stage the addon ships for it;
    ``cls.plain_stages`` are two stages outside the funnel, for comparisons
    with plain CRM.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, **DISABLED_MAIL_CONTEXT))
        cls.stages = {
            layer: cls.env.ref(f"sales_funnel_method.crm_stage_{layer}")
            for layer in LAYERS
        }
        cls.plain_stages = cls.env["crm.stage"].create(
            [
                {"name": "Plain A", "sequence": 900},
                {"name": "Plain B", "sequence": 901},
            ]
        )
        group = "sales_funnel_method.sales_funnel_method_group_"
        cls.user_director = mail_new_test_user(
            cls.env,
            login="funnel_director",
            name="Director Zhou",
            groups=group + "director",
        )
        cls.user_support = mail_new_test_user(
            cls.env,
            login="funnel_support",
            name="Support Lin",
            groups=group + "support",
        )
        cls.user_manager_east = mail_new_test_user(
            cls.env,
            login="funnel_manager_east",
            name="Manager Wang",
            groups=group + "manager",
        )
        cls.user_manager_west = mail_new_test_user(
            cls.env,
            login="funnel_manager_west",
            name="Manager Chen",
            groups=group + "manager",
        )
        cls.user_rep = mail_new_test_user(
            cls.env, login="funnel_rep", name="Rep Li", groups=group + "rep"
        )
        cls.user_rep_2 = mail_new_test_user(
            cls.env, login="funnel_rep_2", name="Rep Zhang", groups=group + "rep"
        )
        cls.user_rep_west = mail_new_test_user(
            cls.env, login="funnel_rep_west", name="Rep Huang", groups=group + "rep"
        )
        cls.team_east = cls.env["crm.team"].create(
            {
                "name": "Team East",
                "user_id": cls.user_manager_east.id,
                "crm_team_member_ids": [
                    Command.create({"user_id": cls.user_rep.id}),
                    Command.create({"user_id": cls.user_rep_2.id}),
                ],
            }
        )
        cls.team_west = cls.env["crm.team"].create(
            {
                "name": "Team West",
                "user_id": cls.user_manager_west.id,
                "crm_team_member_ids": [
                    Command.create({"user_id": cls.user_rep_west.id})
                ],
            }
        )

    def _drop_columns(self, table, columns):
        """Drop ``columns`` of ``table`` with what depends on them (indexes,
        views): the schema of a version that did not have them, before an
        upgrade."""
        self.env.cr.execute(
            SQL(
                "ALTER TABLE %s %s",
                SQL.identifier(table),
                SQL(", ").join(
                    SQL("DROP COLUMN %s CASCADE", SQL.identifier(column))
                    for column in columns
                ),
            )
        )

    @contextmanager
    def _captured_queries(self):
        """The queries sent inside the block, as the ORM words them: a list of
        (query, params), filled as they run."""
        queries = []
        execute = self.env.cr.execute

        def spy(query, params=None, log_exceptions=True):
            queries.append((query, params))
            return execute(query, params, log_exceptions)

        with patch.object(self.env.cr, "execute", spy):
            yield queries

    @classmethod
    def _create_customers(
        cls, count=1, layer="resource", user=None, team=None, grade=None, **vals
    ):
        """Create ``count`` opportunities in ``layer`` (as superuser). Customers of
        the Graded layer and further get grade B unless ``grade`` says otherwise
        (``False``: ungraded, which the funnel refuses there)."""
        user = cls.user_rep if user is None else user
        team = cls.team_east if team is None else team
        if grade is None and layer in GRADED_LAYERS:
            grade = "b"
        base = {
            "type": "opportunity",
            "stage_id": cls.stages[layer].id if layer else cls.plain_stages[0].id,
            "user_id": user.id,
            "team_id": team.id,
            "funnel_grade": grade or False,
        }
        base.update(vals)
        name = vals.get("name", f"Customer {layer}")
        return cls.env["crm.lead"].create(
            [dict(base, name=f"{name} {index}") for index in range(count)]
        )
