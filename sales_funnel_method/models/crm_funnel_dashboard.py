from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.osv import expression

from .crm_funnel_contact import DAY_BUCKETS
from .crm_stage import FUNNEL_LAYERS

# the funnel the dashboard draws: the seven layers, top to bottom
DASHBOARD_LAYERS = [key for key, _label in FUNNEL_LAYERS[:7]]
PERIODS = (7, 30, 90, 365)
# how many open exceptions and fast movers the dashboard lists beside the funnel
LISTED = 8


class CrmFunnelDashboard(models.AbstractModel):
    """The manager's morning screen (METHOD 6): the funnel layer by layer,
    holdings, step rates and days against the ideal, the open exceptions, the fast
    movers and the contact time curve, for a team, a rep, a period and a company.

    Everything comes from the funnel's reports and records, read as the user
    (their record rules apply) with a fixed number of queries whatever the
    number of customers, and nothing is written: it works on a read-only cursor.
    """

    _name = "crm.funnel.dashboard"
    _description = "Funnel Dashboard"

    # ------------------------------------------------------------
    # SCOPE
    # ------------------------------------------------------------

    @api.model
    def _funnel_scope(self, filters):
        """Check the filters sent by the client; return (company, team, rep, days)."""
        filters = filters or {}
        user = self.env.user
        company = self.env.company
        if filters.get("company_id"):
            company = self.env["res.company"].browse(int(filters["company_id"]))
            if company not in user.company_ids:
                raise AccessError(
                    self.env._(
                        "You do not work in this company: choose one of your companies."
                    )
                )
        Team = self.env["crm.team"]
        team = Team.browse(int(filters["team_id"])) if filters.get("team_id") else Team
        rep = (
            self.env["res.users"].browse(int(filters["user_id"]))
            if filters.get("user_id")
            else self.env["res.users"]
        )
        days = int(filters.get("days") or company.funnel_exception_days or 30)
        if days <= 0 or days > 3660:
            days = company.funnel_exception_days or 30
        return company, team, rep, days

    @api.model
    def _funnel_scope_domain(self, company, team, rep, user_field="user_id"):
        domain = [("company_id", "in", [company.id, False])]
        if team:
            domain.append(("team_id", "=", team.id))
        if rep:
            domain.append((user_field, "=", rep.id))
        return domain

    @api.model
    def _funnel_options(self, company):
        """The teams and reps the filters offer: the company's funnel teams the user
        may read, and their reps."""
        Team = self.env["crm.team"].with_company(company)
        teams = Team.search_fetch(
            [*Team._funnel_team_domain(), ("company_id", "in", [company.id, False])],
            ["name"],
            order="sequence, name",
        )
        # the company's reps of those teams, as the allocation service defines
        # them; a rep in two teams counts in the oldest membership, as in the
        # holdings
        members = self.env["crm.team.member"]._funnel_memberships(company, teams=teams)
        reps = {}
        for member in members:
            reps.setdefault(
                member.user_id.id,
                {
                    "id": member.user_id.id,
                    "name": member.user_id.name,
                    "team_id": member.crm_team_id.id,
                },
            )
        return teams, list(reps.values())

    # ------------------------------------------------------------
    # THE DASHBOARD
    # ------------------------------------------------------------

    @api.model
    @api.readonly
    def get_funnel_dashboard(self, filters=None):
        """Everything the funnel dashboard shows, for ``filters`` ({company_id,
        team_id, user_id, days}, all optional)."""
        company, team, rep, days = self._funnel_scope(filters)
        return self.with_company(company)._funnel_dashboard_data(
            company, team, rep, days
        )

    @api.model
    def _funnel_dashboard_data(self, company, team, rep, days):
        now = fields.Datetime.now()
        since = now - timedelta(days=days)
        teams, reps = self._funnel_options(company)
        scope = self._funnel_scope_domain(company, team, rep)
        labels = dict(
            self.env["crm.lead"]
            ._fields["funnel_layer"]
            ._description_selection(self.env)
        )

        ideal = self._funnel_ideal_state()
        holdings = {
            layer: (int(held), int(ideal_held))
            for layer, held, ideal_held in self.env[
                "crm.funnel.report.holding"
            ]._read_group(
                [*scope, ("layer", "in", DASHBOARD_LAYERS)],
                ["layer"],
                ["held_count:sum", "ideal_count:sum"],
            )
        }
        # as the exception check counts them: the customers that reached a layer in
        # the period and had its ideal days times the overdue factor to move on
        factor = company.funnel_exception_overdue_factor
        matured = expression.OR(
            [
                [
                    ("layer", "=", layer),
                    ("date", "<=", now - timedelta(days=(ideal_days or 0) * factor)),
                ]
                for layer, ideal_days in ideal["days"].items()
                if layer in DASHBOARD_LAYERS
            ]
            or [expression.FALSE_DOMAIN]
        )
        steps = {
            layer: values
            for layer, *values in self.env["crm.funnel.report.move"]._read_group(
                [*scope, ("kind", "=", "actual"), ("date", ">=", since), *matured],
                ["layer"],
                ["reached_count:sum", "moved_on_count:sum", "days_in_layer:avg"],
            )
        }
        scope_reps = [
            entry["id"]
            for entry in reps
            if (not team or entry["team_id"] == team.id)
            and (not rep or entry["id"] == rep.id)
        ]
        layers = []
        for layer in DASHBOARD_LAYERS:
            held, ideal_held = holdings.get(layer, (0, 0))
            reached, moved, mean_days = steps.get(layer, (0, 0, None))
            if mean_days is False:  # nobody moved on: no days to show
                mean_days = None
            ideal_rate, ideal_days = (
                ideal["step_rates"].get(layer),
                ideal["days"].get(layer),
            )
            rate = 100.0 * moved / reached if reached else None
            layers.append(
                {
                    "layer": layer,
                    "label": labels.get(layer, layer),
                    "held": held,
                    "ideal_held": ideal_held,
                    "held_short": bool(ideal_held and held < ideal_held),
                    "reached": reached,
                    "moved_on": moved,
                    "step_rate": rate,
                    "ideal_step_rate": ideal_rate,
                    "rate_short": bool(
                        rate is not None and ideal_rate and rate < ideal_rate
                    ),
                    "days": mean_days,
                    "ideal_days": ideal_days,
                    "days_long": bool(
                        mean_days is not None and ideal_days and mean_days > ideal_days
                    ),
                    "domain": [
                        ("funnel_layer", "=", layer),
                        ("user_id", "in", scope_reps),
                        ("company_id", "in", [company.id, False]),
                    ],
                }
            )
        for band in layers:
            band["short"] = (
                band["held_short"] or band["rate_short"] or band["days_long"]
            )
        return {
            "filters": {
                "company_id": company.id,
                "team_id": team.id or False,
                "user_id": rep.id or False,
                "days": days,
            },
            "options": {
                "companies": [
                    {"id": c.id, "name": c.name} for c in self.env.user.company_ids
                ],
                "teams": [{"id": t.id, "name": t.name} for t in teams],
                "reps": reps,
                "periods": sorted(set(PERIODS) | {days}),
            },
            "period": {
                "from": fields.Date.to_string(since.date()),
                "to": fields.Date.to_string(now.date()),
            },
            "layers": layers,
            "exceptions": self._funnel_dashboard_exceptions(company, team, rep),
            "fast_movers": self._funnel_dashboard_fast_movers(scope, labels),
            "contacts": self._funnel_dashboard_contacts(scope, since, now),
        }

    @api.model
    def _funnel_ideal_state(self):
        """The layers' ideal step rates (%) and move days, from the stages."""
        rows = self.env["crm.stage"]._read_group(
            [("funnel_layer", "!=", False)],
            ["funnel_layer"],
            ["funnel_ideal_reach_rate:max", "funnel_ideal_days:max"],
        )
        reach = {layer: rate for layer, rate, _days in rows}
        days = {layer: ideal_days or None for layer, _rate, ideal_days in rows}
        step_rates = {}
        for index, layer in enumerate(DASHBOARD_LAYERS[:-1]):
            following = DASHBOARD_LAYERS[index + 1]
            if reach.get(layer) and reach.get(following):
                step_rates[layer] = 100.0 * reach[following] / reach[layer]
        return {"step_rates": step_rates, "days": days}

    @api.model
    def _funnel_dashboard_exceptions(self, company, team, rep):
        Exception = self.env["crm.funnel.exception"]
        domain = [
            ("state", "in", ("open", "acknowledged")),
            ("company_id", "in", [company.id, False]),
        ]
        if team:
            domain.append(("team_id", "=", team.id))
        if rep:
            domain.append(("user_id", "=", rep.id))
        findings = Exception.search_fetch(
            domain,
            [
                "name",
                "exception_type",
                "state",
                "measured",
                "threshold",
                "layer",
                "details",
            ],
            limit=LISTED,
        )
        return {
            "count": Exception.search_count(domain),
            "domain": domain,
            "items": [
                {
                    "id": finding.id,
                    "name": finding.name,
                    "state": finding.state,
                    "description": finding._funnel_explain(),
                }
                for finding in findings
            ],
        }

    @api.model
    def _funnel_dashboard_fast_movers(self, scope, labels):
        Lead = self.env["crm.lead"]
        domain = [
            *scope,
            ("funnel_is_fast_mover", "=", True),
            ("funnel_layer", "in", DASHBOARD_LAYERS),
        ]
        leads = Lead.search_fetch(
            domain,
            ["name", "funnel_layer", "user_id"],
            order="funnel_worklist_priority, id",
            limit=LISTED,
        )
        return {
            "count": Lead.search_count(domain),
            "domain": domain,
            "items": [
                {
                    "id": lead.id,
                    "name": lead.name,
                    "layer": labels.get(lead.funnel_layer, ""),
                    "user": lead.user_id.name or "",
                }
                for lead in leads
            ],
        }

    @api.model
    def _funnel_dashboard_contacts(self, scope, since, now):
        """The contact time curve of the period (the fourth daily question): the
        contacts made and planned in each week since the rep received the
        customer, and how many customers they reached."""
        Contact = self.env["crm.funnel.report.contact"]
        domain = [*scope, ("date", ">=", since), ("date", "<=", now)]
        rows = {
            bucket: (int(made or 0), int(planned or 0))
            for bucket, made, planned in Contact._read_group(
                domain, ["days_bucket"], ["contact_count:sum", "planned_count:sum"]
            )
        }
        [(customers, made)] = Contact._read_group(
            [*domain, ("contact_count", "=", 1)],
            [],
            ["customer_count:count_distinct", "contact_count:sum"],
        )
        labels = dict(Contact._fields["days_bucket"]._description_selection(self.env))
        last = max(
            (index for index, (key, _l) in enumerate(DAY_BUCKETS) if key in rows),
            default=-1,
        )
        made = int(made or 0)
        return {
            "count": made,
            "customers": customers,
            "per_customer": made / customers if customers else None,
            "planned": sum(planned for _made, planned in rows.values()),
            "buckets": [
                {
                    "key": key,
                    "label": labels.get(key, key),
                    "made": rows.get(key, (0, 0))[0],
                    "planned": rows.get(key, (0, 0))[1],
                }
                for key, _label in DAY_BUCKETS[: last + 1]
            ],
            "domain": domain,
        }

    # ------------------------------------------------------------
    # THE HOLDINGS BOARD
    # ------------------------------------------------------------

    @api.model
    @api.readonly
    def get_holdings_board(self, filters=None):
        """Reps in rows, the eight layers in columns: each cell what the rep holds
        against the ideal, with team subtotals (METHOD 2, 6)."""
        company, team, _rep, _days = self._funnel_scope(filters)
        return self.with_company(company)._funnel_holdings_board_data(company, team)

    @api.model
    def _funnel_holdings_board_data(self, company, team):
        labels = dict(
            self.env["crm.lead"]
            ._fields["funnel_layer"]
            ._description_selection(self.env)
        )
        teams, _reps = self._funnel_options(company)
        domain = [("company_id", "in", [company.id, False])]
        if team:
            domain.append(("team_id", "=", team.id))
        rows = self.env["crm.funnel.report.holding"]._read_group(
            domain,
            ["team_id", "user_id", "layer"],
            ["held_count:sum", "ideal_count:sum"],
            order="team_id, user_id, layer",
        )
        layers = [key for key, _label in FUNNEL_LAYERS]
        board = {}
        for row_team, user, layer, held, ideal in rows:
            team_line = board.setdefault(
                row_team.id,
                {
                    "id": row_team.id,
                    "name": row_team.display_name,
                    "reps": {},
                    "total": {key: {"held": 0, "ideal": 0} for key in layers},
                },
            )
            rep_line = team_line["reps"].setdefault(
                user.id, {"id": user.id, "name": user.name, "cells": {}}
            )
            held, ideal = int(held), int(ideal)
            rep_line["cells"][layer] = {"held": held, "ideal": ideal}
            team_line["total"][layer]["held"] += held
            team_line["total"][layer]["ideal"] += ideal
        return {
            "filters": {"company_id": company.id, "team_id": team.id or False},
            "options": {
                "companies": [
                    {"id": c.id, "name": c.name} for c in self.env.user.company_ids
                ],
                "teams": [{"id": t.id, "name": t.name} for t in teams],
            },
            "layers": [{"layer": key, "label": labels.get(key, key)} for key in layers],
            "teams": [
                dict(line, reps=list(line["reps"].values())) for line in board.values()
            ],
        }
