from odoo import api, fields, models

from .crm_funnel_target import MONTH_FIELDS

# a rep's monthly targets in the demo (the demo's customers sign about one a month
# each, worth some 25,000 to 60,000): some reps reach them, some do not
DEMO_REP_TARGETS = {"revenue": 40000, "signings": 1, "intent": 2}


class CrmFunnelDemo(models.AbstractModel):
    _inherit = "crm.funnel.demo"

    @api.model
    def _funnel_demo_targets(self, teams):
        """This year's targets (业绩目标) of the demo teams and of their reps; a
        team's target is its reps' plus a tenth.

        :param teams: the sales teams (xml ids or ids)
        """
        year = fields.Date.context_today(self).year
        teams = self.env["crm.team"].browse(
            [self.env.ref(team).id if isinstance(team, str) else team for team in teams]
        )
        vals_list = []
        for team in teams:
            users = team.crm_team_member_ids.user_id - team.user_id
            for kind, amount in DEMO_REP_TARGETS.items():
                for user in users:
                    vals_list.append(
                        {
                            "year": year,
                            "kind": kind,
                            "team_id": team.id,
                            "user_id": user.id,
                            **dict.fromkeys(MONTH_FIELDS, amount),
                        }
                    )
                team_amount = round(amount * len(users) * 1.1)
                vals_list.append(
                    {
                        "year": year,
                        "kind": kind,
                        "team_id": team.id,
                        "user_id": False,
                        **dict.fromkeys(MONTH_FIELDS, team_amount),
                    }
                )
        return self.env["crm.funnel.target"].create(vals_list)
