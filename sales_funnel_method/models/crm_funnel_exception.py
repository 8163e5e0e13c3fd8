from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import SQL

from .crm_stage import FUNNEL_LAYERS, HOLDING_LAYERS

EXCEPTION_TYPES = [
    ("out_of_funnel", "Out-of-funnel signings"),
    ("intent_few_signings", "Many intent customers, few signings"),
    ("low_move_rate", "Move rate below the ideal"),
    ("high_abandon_rate", "Abandon rate too high"),
    ("overdue", "Customers stuck in a layer"),
    ("low_holdings", "Holdings below the ideal"),
    ("leaver", "Customers held by a rep who left"),
]
# the layers whose step rate toward the next layer is watched (SPEC 2)
RATE_LAYERS = ("resource", "graded", "contacted", "lead", "intent")
SIGNING = SQL("move.to_layer = 'signed' AND move.move_type IN ('forward', 'entry')")


class CrmFunnelException(models.Model):
    """An exception of the sales funnel found by the scheduled checks (SPEC 7).

    One record per finding (type, rep or team, layer): running the checks again
    updates an open finding instead of duplicating it, and resolves the ones
    whose condition has cleared. The rep's team manager gets an activity.
    """

    _name = "crm.funnel.exception"
    _description = "Funnel Exception"
    _check_company_auto = True
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "state_sequence, date_found desc, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    exception_type = fields.Selection(
        EXCEPTION_TYPES, string="Type", required=True, index=True, readonly=True
    )
    user_id = fields.Many2one("res.users", string="Rep", index=True, readonly=True)
    team_id = fields.Many2one(
        "crm.team", string="Sales Team", index=True, readonly=True, check_company=True
    )
    manager_id = fields.Many2one(related="team_id.user_id", string="Team Manager")
    layer = fields.Selection(FUNNEL_LAYERS, readonly=True)
    measured = fields.Float(digits=(16, 2), readonly=True)
    threshold = fields.Float(digits=(16, 2), readonly=True)
    date_from = fields.Date(string="Period From", readonly=True)
    date_to = fields.Date(string="Period To", readonly=True)
    date_found = fields.Datetime(
        string="Found On", readonly=True, default=fields.Datetime.now
    )
    date_resolved = fields.Datetime(string="Resolved On", readonly=True)
    state = fields.Selection(
        [("open", "Open"), ("acknowledged", "Acknowledged"), ("resolved", "Resolved")],
        string="Status",
        default="open",
        required=True,
        index=True,
        tracking=True,
    )
    state_sequence = fields.Integer(compute="_compute_state_sequence", store=True)
    lead_ids = fields.Many2many(
        "crm.lead",
        string="Customers Concerned",
        readonly=True,
        context={"active_test": False},
    )
    lead_count = fields.Integer(string="Customers", compute="_compute_lead_count")
    description = fields.Text(string="Explanation", compute="_compute_description")
    company_id = fields.Many2one("res.company", index=True, readonly=True)

    @api.depends("state")
    def _compute_state_sequence(self):
        order = {"open": 1, "acknowledged": 2, "resolved": 3}
        for exception in self:
            exception.state_sequence = order.get(exception.state, 9)

    @api.depends("exception_type", "user_id", "team_id", "layer")
    def _compute_name(self):
        types = dict(self._fields["exception_type"]._description_selection(self.env))
        layers = dict(self._fields["layer"]._description_selection(self.env))
        for exception in self:
            who = exception.user_id.name or exception.team_id.name or ""
            parts = [
                types.get(exception.exception_type, ""),
                who,
                layers.get(exception.layer, ""),
            ]
            exception.name = " - ".join(part for part in parts if part)

    def _compute_lead_count(self):
        for exception in self:
            exception.lead_count = len(exception.lead_ids)

    @api.depends("exception_type", "measured", "threshold")
    def _compute_description(self):
        for exception in self:
            exception.description = exception._funnel_explain()

    def _funnel_explain(self):
        self.ensure_one()
        values = {
            "measured": round(self.measured, 2),
            "threshold": round(self.threshold, 2),
        }
        explanations = {
            "out_of_funnel": self.env._(
                "%(measured)s of the signings skipped funnel layers or were created straight in a "
                "late layer (limit %(threshold)s).",
                **values,
            ),
            "intent_few_signings": self.env._(
                "Signings per intent customer held: %(measured)s, below %(threshold)s.",
                **values,
            ),
            "low_move_rate": self.env._(
                "Share of the customers leaving this layer that moved on down the funnel: "
                "%(measured)s, below %(threshold)s (the ideal minus the tolerance).",
                **values,
            ),
            "high_abandon_rate": self.env._(
                "Abandoned per customer received: %(measured)s, above %(threshold)s.",
                **values,
            ),
            "overdue": self.env._(
                "Customers in this layer for up to %(measured)s days, beyond %(threshold)s days "
                "(the ideal move days times the overdue factor).",
                **values,
            ),
            "low_holdings": self.env._(
                "Holds %(measured)s customers in this layer, below %(threshold)s.",
                **values,
            ),
            "leaver": self.env._(
                "%(measured)s customers are still held by a rep who is archived or no longer in a "
                "sales team: hand them over.",
                **values,
            ),
        }
        return explanations.get(self.exception_type, "")

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_acknowledge(self):
        self.filtered(
            lambda exception: exception.state == "open"
        ).state = "acknowledged"

    def action_resolve(self):
        self.filtered(lambda exception: exception.state != "resolved").write(
            {"state": "resolved", "date_resolved": fields.Datetime.now()}
        )

    def action_reopen(self):
        self.filtered(lambda exception: exception.state == "resolved").write(
            {"state": "open", "date_resolved": False}
        )

    def action_view_leads(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm.crm_lead_all_leads")
        action.update(
            {
                "name": self.name,
                "domain": [("id", "in", self.lead_ids.ids)],
                "context": {"active_test": False},
                "view_mode": "list,form",
                "views": [(False, "list"), (False, "form")],
            }
        )
        return action

    # ------------------------------------------------------------
    # THE CHECKS
    # ------------------------------------------------------------

    @api.model
    def _cron_funnel_check_exceptions(self):
        companies = self.env["res.company"].sudo().search([])
        for index, company in enumerate(companies, start=1):
            self.sudo().with_company(company)._funnel_run_checks(company)
            self.env["ir.cron"]._notify_progress(
                done=index, remaining=len(companies) - index
            )

    @api.model
    def _funnel_run_checks(self, company=None):
        """Run every check for ``company``; create, update and resolve findings.

        :return: the findings of this run (created or updated)
        """
        company = company or self.env.company
        now = fields.Datetime.now()
        since = now - timedelta(days=company.funnel_exception_days)
        for model in (
            "crm.lead",
            "crm.funnel.move",
            "crm.funnel.assignment",
            "crm.stage",
            "crm.team.member",
        ):
            self.env[model].flush_model()
        context = {
            "company": company,
            "now": now,
            "since": since,
            "teams": self.env["crm.team.member"]._funnel_main_teams(company),
        }
        findings = []
        for check in (
            self._funnel_check_out_of_funnel,
            self._funnel_check_intent_few_signings,
            self._funnel_check_low_move_rate,
            self._funnel_check_high_abandon_rate,
            self._funnel_check_overdue,
            self._funnel_check_low_holdings,
            self._funnel_check_leaver,
        ):
            findings += check(context)
        return self._funnel_store_findings(findings, company, since, now)

    def _funnel_key(self):
        self.ensure_one()
        return (
            self.exception_type,
            self.user_id.id or False,
            self.team_id.id or False,
            self.layer or False,
        )

    @api.model
    def _funnel_store_findings(self, findings, company, since, now):
        existing = self.search(
            [("state", "in", ("open", "acknowledged")), ("company_id", "=", company.id)]
        )
        by_key = {exception._funnel_key(): exception for exception in existing}
        period = {"date_from": since.date(), "date_to": now.date()}
        found, to_create = self.browse(), []
        for finding in findings:
            key = (
                finding["exception_type"],
                finding.get("user_id") or False,
                finding.get("team_id") or False,
                finding.get("layer") or False,
            )
            lead_ids = sorted(set(finding.pop("lead_ids", None) or []))
            values = dict(finding, **period, lead_ids=[(6, 0, lead_ids)])
            exception = by_key.pop(key, None)
            if exception:
                exception.write(
                    {
                        k: v
                        for k, v in values.items()
                        if k
                        in ("measured", "threshold", "date_from", "date_to", "lead_ids")
                    }
                )
                found |= exception
            else:
                to_create.append(dict(values, company_id=company.id))
        created = self.create(to_create)
        created._funnel_notify_managers()
        # conditions that cleared since the last run
        cleared = self.browse([exception.id for exception in by_key.values()])
        cleared.write({"state": "resolved", "date_resolved": now})
        return found | created

    def _funnel_notify_managers(self):
        todo = self.env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)
        for exception in self:
            manager = exception.team_id.user_id
            # the finding goes to a manager of its own company only
            if (
                not manager
                or not todo
                or (
                    exception.company_id
                    and exception.company_id not in manager.company_ids
                )
            ):
                continue
            exception.activity_schedule(
                activity_type_id=todo.id,
                user_id=manager.id,
                summary=exception.name,
                note=Markup("<p>%s</p>") % exception._funnel_explain(),
            )

    @staticmethod
    def _company_filter(alias, company):
        return SQL(
            "(%s.company_id = %s OR %s.company_id IS NULL)",
            SQL.identifier(alias),
            company.id,
            SQL.identifier(alias),
        )

    def _per_rep_and_team(self, context, rows, build):
        """Turn GROUPING SETS rows ``(is_team_row, user_id, team_id, *values)`` into findings."""
        findings = []
        for is_team, user_id, team_id, *values in rows:
            if is_team:
                if not team_id:
                    continue
                finding = build(values)
                if finding:
                    findings.append(dict(finding, team_id=team_id, user_id=False))
            elif user_id:
                finding = build(values)
                if finding:
                    findings.append(
                        dict(
                            finding,
                            user_id=user_id,
                            team_id=context["teams"].get(user_id, team_id),
                        )
                    )
        return findings

    def _funnel_check_out_of_funnel(self, context):
        company = context["company"]
        self.env.cr.execute(
            SQL(
                """SELECT GROUPING(move.user_id) = 1, move.user_id, move.team_id,
                      COUNT(*), COUNT(*) FILTER (WHERE move.skipped_layers > 0),
                      ARRAY_AGG(move.lead_id) FILTER (WHERE move.skipped_layers > 0)
                 FROM crm_funnel_move move
                WHERE %s AND move.date >= %s AND %s
             GROUP BY GROUPING SETS ((move.user_id), (move.team_id))""",
                SIGNING,
                context["since"],
                self._company_filter("move", company),
            )
        )
        limit, sample = (
            company.funnel_exception_out_of_funnel_share,
            company.funnel_exception_min_sample,
        )

        def build(values):
            signings, skipped, lead_ids = values
            if signings < sample or skipped / signings <= limit:
                return None
            return {
                "exception_type": "out_of_funnel",
                "measured": skipped / signings,
                "threshold": limit,
                "lead_ids": lead_ids,
            }

        return self._per_rep_and_team(context, self.env.cr.fetchall(), build)

    def _funnel_check_intent_few_signings(self, context):
        company = context["company"]
        self.env.cr.execute(
            SQL(
                """WITH intent AS (
                   SELECT lead.user_id, lead.team_id, lead.id AS lead_id
                     FROM crm_lead lead
                    WHERE lead.active AND lead.funnel_layer = 'intent' AND lead.user_id IS NOT NULL
                      AND %(company_lead)s
               ), signed AS (
                   SELECT move.user_id, move.team_id, COUNT(*) AS signings
                     FROM crm_funnel_move move
                    WHERE %(signing)s AND move.date >= %(since)s AND %(company_move)s
                 GROUP BY move.user_id, move.team_id
               ), intent_by AS (
                   SELECT GROUPING(user_id) = 1 AS is_team, user_id, team_id,
                          COUNT(*) AS intents, ARRAY_AGG(lead_id) AS lead_ids
                     FROM intent GROUP BY GROUPING SETS ((user_id), (team_id))
               ), signed_by AS (
                   SELECT GROUPING(user_id) = 1 AS is_team, user_id, team_id, SUM(signings) AS signings
                     FROM signed GROUP BY GROUPING SETS ((user_id), (team_id))
               )
               SELECT intent_by.is_team, intent_by.user_id, intent_by.team_id, intent_by.intents,
                      COALESCE(signed_by.signings, 0), intent_by.lead_ids
                 FROM intent_by
            LEFT JOIN signed_by ON signed_by.is_team = intent_by.is_team
                  AND signed_by.user_id IS NOT DISTINCT FROM intent_by.user_id
                  AND signed_by.team_id IS NOT DISTINCT FROM intent_by.team_id""",
                company_lead=self._company_filter("lead", company),
                signing=SIGNING,
                since=context["since"],
                company_move=self._company_filter("move", company),
            )
        )
        minimum, ratio = (
            company.funnel_exception_intent_min,
            company.funnel_exception_intent_signing_ratio,
        )

        def build(values):
            intents, signings, lead_ids = values
            if intents < minimum or signings / intents >= ratio:
                return None
            return {
                "exception_type": "intent_few_signings",
                "layer": "intent",
                "measured": signings / intents,
                "threshold": ratio,
                "lead_ids": lead_ids,
            }

        return self._per_rep_and_team(context, self.env.cr.fetchall(), build)

    def _funnel_ideal_step_rates(self):
        """{layer: ideal share of its customers moving on to the next layer}."""
        self.env.cr.execute(
            """SELECT funnel_layer, MAX(funnel_ideal_reach_rate) FROM crm_stage
                WHERE funnel_layer IS NOT NULL GROUP BY funnel_layer"""
        )
        reach = dict(self.env.cr.fetchall())
        order = [key for key, _label in FUNNEL_LAYERS]
        rates = {}
        for layer in RATE_LAYERS:
            following = order[order.index(layer) + 1]
            if reach.get(layer) and reach.get(following):
                rates[layer] = reach[following] / reach[layer]
        return rates

    def _funnel_check_low_move_rate(self, context):
        company = context["company"]
        ideal = self._funnel_ideal_step_rates()
        if not ideal:
            return []
        self.env.cr.execute(
            SQL(
                """SELECT GROUPING(move.user_id) = 1, move.user_id, move.team_id, move.from_layer,
                      COUNT(*), COUNT(*) FILTER (WHERE move.move_type = 'forward'),
                      ARRAY_AGG(move.lead_id) FILTER (WHERE move.move_type != 'forward')
                 FROM crm_funnel_move move
                WHERE move.from_layer = ANY(%s) AND move.move_type IN ('forward', 'backward', 'abandon')
                  AND move.date >= %s AND %s
             GROUP BY GROUPING SETS ((move.user_id, move.from_layer), (move.team_id, move.from_layer))""",
                list(ideal),
                context["since"],
                self._company_filter("move", company),
            )
        )
        tolerance, sample = (
            company.funnel_exception_rate_tolerance,
            company.funnel_exception_min_sample,
        )

        def build(values):
            layer, leaving, forward, lead_ids = values
            limit = ideal[layer] - tolerance
            if leaving < sample or forward / leaving >= limit:
                return None
            return {
                "exception_type": "low_move_rate",
                "layer": layer,
                "measured": forward / leaving,
                "threshold": limit,
                "lead_ids": lead_ids,
            }

        return self._per_rep_and_team(context, self.env.cr.fetchall(), build)

    def _funnel_check_high_abandon_rate(self, context):
        company = context["company"]
        self.env.cr.execute(
            SQL(
                """WITH events AS (
                   SELECT move.user_id, move.team_id, 1 AS abandoned, 0 AS received, move.lead_id
                     FROM crm_funnel_move move
                    WHERE move.move_type = 'abandon' AND move.date >= %(since)s AND %(company_move)s
                UNION ALL
                   SELECT assignment.user_id, assignment.team_id, 0, 1, NULL
                     FROM crm_funnel_assignment assignment
                    WHERE assignment.user_id IS NOT NULL AND assignment.date >= %(since)s
                      AND %(company_assignment)s
               )
               SELECT GROUPING(user_id) = 1, user_id, team_id, SUM(abandoned), SUM(received),
                      ARRAY_AGG(lead_id) FILTER (WHERE lead_id IS NOT NULL)
                 FROM events
             GROUP BY GROUPING SETS ((user_id), (team_id))""",
                since=context["since"],
                company_move=self._company_filter("move", company),
                company_assignment=self._company_filter("assignment", company),
            )
        )
        limit, sample = (
            company.funnel_exception_abandon_ratio,
            company.funnel_exception_min_sample,
        )

        def build(values):
            abandoned, received, lead_ids = values
            if received < sample or abandoned / received <= limit:
                return None
            return {
                "exception_type": "high_abandon_rate",
                "measured": abandoned / received,
                "threshold": limit,
                "lead_ids": lead_ids,
            }

        return self._per_rep_and_team(context, self.env.cr.fetchall(), build)

    def _funnel_check_overdue(self, context):
        company = context["company"]
        factor = company.funnel_exception_overdue_factor
        self.env.cr.execute(
            SQL(
                """SELECT lead.user_id, lead.team_id, stage.funnel_layer, MAX(stage.funnel_ideal_days),
                      MAX(EXTRACT(EPOCH FROM (%(now)s - lead.funnel_layer_date)) / 86400),
                      ARRAY_AGG(lead.id)
                 FROM crm_lead lead
                 JOIN crm_stage stage ON stage.id = lead.stage_id
                WHERE lead.active AND lead.user_id IS NOT NULL AND stage.funnel_ideal_days > 0
                  AND lead.funnel_layer_date
                      < %(now)s - stage.funnel_ideal_days * %(factor)s * INTERVAL '1 day'
                  AND %(company)s
             GROUP BY lead.user_id, lead.team_id, stage.funnel_layer""",
                now=context["now"],
                factor=factor,
                company=self._company_filter("lead", company),
            )
        )
        merged = {}
        for (
            user_id,
            team_id,
            layer,
            ideal_days,
            days,
            lead_ids,
        ) in self.env.cr.fetchall():
            finding = merged.setdefault(
                (user_id, layer),
                {
                    "exception_type": "overdue",
                    "user_id": user_id,
                    "team_id": context["teams"].get(user_id, team_id),
                    "layer": layer,
                    "measured": 0.0,
                    "threshold": ideal_days * factor,
                    "lead_ids": [],
                },
            )
            finding["measured"] = max(finding["measured"], float(days))
            finding["lead_ids"] += lead_ids
        return list(merged.values())

    def _funnel_check_low_holdings(self, context):
        company = context["company"]
        share = company.funnel_exception_holding_share
        report = self.env["crm.funnel.report.holding"]
        self.env.cr.execute(
            SQL(
                """SELECT GROUPING(holding.user_id) = 1, holding.user_id, holding.team_id, holding.layer,
                      SUM(holding.held_count), SUM(holding.ideal_count)
                 FROM %s holding
                WHERE %s AND holding.layer = ANY(%s)
             GROUP BY GROUPING SETS ((holding.user_id, holding.layer), (holding.team_id, holding.layer))""",
                SQL.identifier(report._table),
                self._company_filter("holding", company),
                list(HOLDING_LAYERS),
            )
        )

        def build(values):
            layer, held, ideal = values
            limit = ideal * share
            if held >= limit:
                return None
            return {
                "exception_type": "low_holdings",
                "layer": layer,
                "measured": held,
                "threshold": limit,
            }

        return self._per_rep_and_team(context, self.env.cr.fetchall(), build)

    def _funnel_check_leaver(self, context):
        company = context["company"]
        self.env.cr.execute(
            SQL(
                """SELECT lead.user_id, MIN(lead.team_id), ARRAY_AGG(lead.id)
                 FROM crm_lead lead
                 JOIN res_users users ON users.id = lead.user_id
                WHERE lead.active AND lead.funnel_layer IS NOT NULL AND lead.funnel_layer != 'abandoned'
                  AND %s
                  AND (NOT users.active OR NOT EXISTS (
                        SELECT 1 FROM crm_team_member member
                          JOIN crm_team team ON team.id = member.crm_team_id AND team.active
                         WHERE member.user_id = users.id AND member.active))
             GROUP BY lead.user_id""",
                self._company_filter("lead", company),
            )
        )
        return [
            {
                "exception_type": "leaver",
                "user_id": user_id,
                "team_id": team_id,
                "measured": len(lead_ids),
                "threshold": 0,
                "lead_ids": lead_ids,
            }
            for user_id, team_id, lead_ids in self.env.cr.fetchall()
        ]
