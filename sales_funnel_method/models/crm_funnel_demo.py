import random
from datetime import timedelta

from odoo import api, fields, models

from .crm_stage import FUNNEL_LAYERS

# how many demo customers end in each layer (METHOD 2's shape: many at the top)
DEMO_LAYERS = {
    "resource": 40,
    "graded": 32,
    "contacted": 36,
    "lead": 24,
    "intent": 12,
    "signed": 10,
    "implemented": 8,
    "abandoned": 28,
}
COMPANY_WORDS = [
    "Suzhou",
    "Ningbo",
    "Chengdu",
    "Hangzhou",
    "Xiamen",
    "Qingdao",
    "Dalian",
    "Wuhan",
    "Changsha",
    "Kunming",
    "Nanjing",
    "Hefei",
    "Fuzhou",
    "Harbin",
    "Shenyang",
    "Lanzhou",
    "Guiyang",
    "Nanning",
]
TRADES = [
    "Precision Bearings",
    "Textiles",
    "Tea Trading",
    "Solar Panels",
    "Logistics",
    "Ceramics",
    "Printing Works",
    "Medical Devices",
    "Garden Tools",
    "Motor Parts",
    "Data Centre",
    "Foods",
]


class CrmFunnelDemo(models.AbstractModel):
    """Demo data that makes every screen meaningful: about two hundred customers
    across all eight layers with eight weeks of moves and logged contacts."""

    _name = "crm.funnel.demo"
    _description = "Sales Funnel Demo Data"

    @api.model
    def _funnel_demo_adopt_odoo_demo(self):
        """Odoo's own demo opportunities join the funnel: the lost ones are
        abandoned, the others take the layer nearest their stage; Odoo's default
        stages, then empty, go."""
        layers = {
            "crm.stage_lead1": "resource",
            "crm.stage_lead2": "contacted",
            "crm.stage_lead3": "intent",
            "crm.stage_lead4": "signed",
        }
        stages = {
            xmlid: self.env.ref(xmlid, raise_if_not_found=False) for xmlid in layers
        }
        stages = {xmlid: stage for xmlid, stage in stages.items() if stage}
        self.env["crm.stage"]._funnel_adopt_stages(
            {stage.id: layers[xmlid] for xmlid, stage in stages.items()}
        )
        Lead = self.env["crm.lead"].with_context(active_test=False)
        for stage in stages.values():
            if not stage.funnel_layer and not Lead.search_count(
                [("stage_id", "=", stage.id)]
            ):
                stage.unlink()

    @api.model
    def _funnel_demo_generate(self, teams, seed=8):
        """:param teams: the sales teams (xml ids or ids) whose members get the customers"""
        rng = random.Random(seed)
        now = fields.Datetime.now()
        teams = self.env["crm.team"].browse(
            [self.env.ref(team).id if isinstance(team, str) else team for team in teams]
        )
        members = [
            (member.user_id, team)
            for team in teams
            for member in team.crm_team_member_ids
        ]
        stages = {
            key: self.env.ref(f"sales_funnel_method.crm_stage_{key}")
            for key, _label in FUNNEL_LAYERS
        }
        order = [key for key, _label in FUNNEL_LAYERS[:7]]
        lost_reasons = self.env["crm.lost.reason"].search(
            [("funnel_reason", "=", True)]
        )
        Lead = self.env["crm.lead"].with_context(
            funnel_history_given=True, tracking_disable=True, mail_create_nolog=True
        )
        moves, contacts, assignments = [], [], []
        index = 0
        for target, count in DEMO_LAYERS.items():
            for _n in range(count):
                index += 1
                user, team = rng.choice(members)
                in_pool = target in ("resource", "graded") and rng.random() < 0.2
                grade = (
                    rng.choice("aabbbc")
                    if target != "resource" or rng.random() < 0.3
                    else False
                )
                name = f"{rng.choice(COMPANY_WORDS)} {rng.choice(TRADES)} {index:03d}"
                # the path down the funnel, from an entry up to eight weeks ago
                start = now - timedelta(days=rng.uniform(2, 56))
                path = (
                    order[: order.index(target) + 1]
                    if target != "abandoned"
                    else order[: rng.randint(1, 4)]
                )
                dates, when = [start], start
                for layer in path[:-1]:
                    ideal = stages[layer].funnel_ideal_days or 3
                    when = when + timedelta(
                        days=ideal * rng.choice([0.3, 0.8, 1, 1.3, 2])
                    )
                    dates.append(min(when, now - timedelta(hours=1)))
                abandoned_on = None
                if target == "abandoned":
                    abandoned_on = min(
                        dates[-1] + timedelta(days=rng.uniform(1, 6)),
                        now - timedelta(minutes=30),
                    )
                revenue = {"a": 60000, "b": 25000, "c": 8000}.get(
                    grade or "c"
                ) * rng.choice([0.5, 1, 1.5])
                lead = Lead.create(
                    {
                        "name": name,
                        "partner_name": name,
                        "type": "opportunity",
                        "stage_id": stages[target].id,
                        # an abandoned customer is archived (abandoning is "lost")
                        "active": target != "abandoned",
                        "funnel_grade": grade
                        or (target not in ("resource", "abandoned") and "b")
                        or False,
                        "user_id": False if in_pool else user.id,
                        "team_id": team.id,
                        "expected_revenue": revenue,
                        "funnel_product": "Website package",
                        "funnel_discoverer_id": user.id
                        if rng.random() < 0.15
                        else False,
                    }
                )
                rep = user if not in_pool else self.env["res.users"]
                previous_layer = False
                for layer, date in zip(path, dates, strict=True):
                    moves.append(
                        self._move(
                            lead, previous_layer, layer, date, dates, stages, rep, team
                        )
                    )
                    previous_layer = layer
                final_date = dates[-1]
                if abandoned_on:
                    moves.append(
                        self._move(
                            lead,
                            previous_layer,
                            "abandoned",
                            abandoned_on,
                            dates,
                            stages,
                            rep,
                            team,
                        )
                    )
                    final_date = abandoned_on
                if not in_pool:
                    assignments.append(
                        {
                            "lead_id": lead.id,
                            "kind": rng.choice(["allocation", "allocation", "claim"]),
                            "user_id": user.id,
                            "team_id": team.id,
                            "date": start,
                            "grade": lead.funnel_grade,
                            "layer": "resource",
                            "reason": "demo",
                            "company_id": lead.company_id.id,
                        }
                    )
                    for _c in range(rng.randint(0, 4)):
                        date = start + (min(final_date, now) - start) * rng.random()
                        contacts.append(
                            {
                                "lead_id": lead.id,
                                "date": date,
                                "user_id": user.id,
                                "team_id": team.id,
                                "kind": rng.choice(
                                    [
                                        "phone",
                                        "phone",
                                        "fax_mail",
                                        "visit",
                                        "demo",
                                        "salon",
                                    ]
                                ),
                                "layer": path[0],
                                "company_id": lead.company_id.id,
                            }
                        )
                values = {"funnel_layer_date": final_date}
                if target in ("signed", "implemented"):
                    values["date_closed"] = dates[path.index("signed")]
                Lead.browse(lead.id).sudo().write(values)
                if abandoned_on:
                    # the Abandoned layer's reasons, in turn
                    reason = (
                        lost_reasons[index % len(lost_reasons)]
                        if lost_reasons
                        else lost_reasons
                    )
                    Lead.browse(lead.id).sudo().write(
                        {
                            "probability": 0,
                            "lost_reason_id": reason.id,
                            "funnel_abandoned_by_id": user.id,
                            "user_id": False,
                        }
                    )
        self.env["crm.funnel.move"].sudo().create(moves)
        self.env["crm.funnel.assignment"].sudo().create(assignments)
        self.env["crm.funnel.contact"].sudo().create(contacts)
        self.env["crm.funnel.exception"].sudo()._funnel_run_checks()

    @api.model
    def _move(self, lead, from_layer, to_layer, date, dates, stages, user, team):
        Move = self.env["crm.funnel.move"]
        previous = (
            dates[dates.index(date) - 1]
            if from_layer and date in dates and dates.index(date)
            else None
        )
        days = (date - previous).total_seconds() / 86400 if previous else 0.0
        if to_layer == "abandoned" and from_layer:
            days = (date - dates[-1]).total_seconds() / 86400
        return {
            "lead_id": lead.id,
            "date": date,
            "from_layer": from_layer,
            "to_layer": to_layer,
            "from_stage_id": stages[from_layer].id if from_layer else False,
            "to_stage_id": stages[to_layer].id,
            "move_type": Move._funnel_move_type(from_layer, to_layer),
            "skipped_layers": Move._funnel_skipped_layers(from_layer, to_layer),
            "from_ideal_days": stages[from_layer].funnel_ideal_days
            if from_layer
            else 0,
            "days_in_layer": days,
            "user_id": user.id,
            "team_id": team.id,
            "changed_by_id": user.id or self.env.uid,
            "company_id": lead.company_id.id,
        }
