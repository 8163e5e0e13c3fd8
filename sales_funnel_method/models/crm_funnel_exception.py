from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.misc import formatLang

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
# the layers whose step rate toward the next layer is watched (METHOD 2)
RATE_LAYERS = ("resource", "graded", "contacted", "lead", "intent")
# the checks whose measure is a share, shown as a percentage
RATE_TYPES = (
    "out_of_funnel",
    "intent_few_signings",
    "low_move_rate",
    "high_abandon_rate",
)


class CrmFunnelException(models.Model):
    """An exception of the sales funnel found by the scheduled checks (METHOD 7).

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
    details = fields.Json(
        readonly=True,
        help="The figures behind the finding: the counts of a rate, the layers short.",
    )
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

    @api.depends("exception_type", "measured", "threshold", "layer", "details")
    @api.depends_context("lang")
    def _compute_description(self):
        for exception in self:
            exception.description = exception._funnel_explain()

    def _funnel_format(self, value, kind):
        """A figure as a manager reads it: ``count`` without decimals, ``rate`` (a
        share) as a percentage, ``days`` with one decimal, in the user's language."""
        if kind == "count":
            return formatLang(self.env, round(value or 0), digits=0)
        if kind == "rate":
            return "%s%%" % formatLang(self.env, (value or 0) * 100, digits=0)
        return formatLang(self.env, value or 0, digits=1)

    def _funnel_explain(self):
        self.ensure_one()
        details = self.details or {}
        rate = "rate" if self.exception_type in RATE_TYPES else "count"
        values = {
            "measured": self._funnel_format(self.measured, rate),
            "threshold": self._funnel_format(self.threshold, rate),
        }
        values.update(
            {
                key: self._funnel_format(value, "count")
                for key, value in details.items()
                if isinstance(value, (int, float))
            }
        )
        layers = dict(self._fields["layer"]._description_selection(self.env))
        if self.exception_type == "overdue":
            values["measured"] = self._funnel_format(self.measured, "days")
            values["threshold"] = self._funnel_format(self.threshold, "days")
            if "count" not in values:
                values["count"] = self._funnel_format(len(self.lead_ids), "count")
        if self.exception_type == "low_move_rate":
            values["layer"] = layers.get(self.layer, "")
        if self.exception_type == "low_holdings":
            values["layers"] = ", ".join(
                self.env._(
                    "%(layer)s %(held)s of %(ideal)s",
                    layer=layers.get(short["layer"], short["layer"]),
                    held=self._funnel_format(short["held"], "count"),
                    ideal=self._funnel_format(short["ideal"], "count"),
                )
                for short in details.get("layers", [])
            )
            values["count"] = self._funnel_format(
                len(details.get("layers", [])), "count"
            )
        explanations = {
            "out_of_funnel": lambda: self.env._(
                "%(count)s of %(total)s signings (%(measured)s) were out of the funnel: the "
                "customer did not pass through every working layer on its way (created in a "
                "late layer, moved past a layer, or reopened straight into Signed). Limit: "
                "%(threshold)s.",
                **values,
            ),
            "intent_few_signings": lambda: self.env._(
                "%(signings)s signings for %(intents)s intent customers held (%(measured)s), "
                "below %(threshold)s.",
                **values,
            ),
            "low_move_rate": lambda: self.env._(
                "Of the %(reached)s customers that reached %(layer)s and had its ideal days "
                "to move on, %(moved)s went on to a lower layer (%(measured)s), below "
                "%(threshold)s (the ideal step rate minus the tolerance).",
                **values,
            ),
            "high_abandon_rate": lambda: self.env._(
                "%(abandoned)s customers abandoned for %(received)s received (%(measured)s), "
                "above %(threshold)s.",
                **values,
            ),
            "overdue": lambda: self.env._(
                "%(count)s customers in this layer for up to %(measured)s days, beyond "
                "%(threshold)s days (the ideal move days times the overdue factor).",
                **values,
            ),
            "low_holdings": lambda: self.env._(
                "Below the ideal holding in %(count)s layers: %(layers)s.",
                **values,
            ),
            "leaver": lambda: self.env._(
                "%(measured)s customers are still held by a rep who is archived or no longer in a "
                "sales team: hand them over.",
                **values,
            ),
        }
        explain = explanations.get(self.exception_type)
        if explain is None:
            return ""
        try:
            return explain()
        except KeyError:
            # a finding stored before its figures were kept
            return ""

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
        # moves written by a path that bypassed the recorder (a raw INSERT of an
        # import or another module) get their path facts before they are counted
        self.env["crm.funnel.move"].sudo()._funnel_refresh_missing_paths()
        companies = self.env["res.company"].sudo().search([])
        for index, company in enumerate(companies, start=1):
            self.sudo().with_company(company)._funnel_run_checks(company)
            # the chances to sign follow the layers' ideal and the day's history
            if company.funnel_probability != "scoring":
                company.with_company(company)._funnel_refresh_probabilities()
            self.env["ir.cron"]._notify_progress(
                done=index, remaining=len(companies) - index
            )

    @api.model
    def _funnel_run_checks(self, company=None):
        """Run every check for ``company``; create, update and resolve findings.

        The checks cover the funnel's teams only (``crm.team._funnel_team_domain``):
        a sales team that does not work the funnel gets no finding.

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
            "crm.team",
            "crm.team.member",
        ):
            self.env[model].flush_model()
        Team = self.env["crm.team"].sudo()
        context = {
            "company": company,
            "now": now,
            "since": since,
            # the reps of the funnel's teams and their main team (crm.team.member)
            "teams": self.env["crm.team.member"]._funnel_main_teams(company),
            "funnel_teams": set(Team.search(Team._funnel_team_domain()).ids),
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
                        in (
                            "measured",
                            "threshold",
                            "details",
                            "date_from",
                            "date_to",
                            "lead_ids",
                        )
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
                note=Markup("<p>%s</p>")
                % exception.with_context(lang=manager.lang)._funnel_explain(),
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
        """Turn GROUPING SETS rows ``(is_team_row, user_id, team_id, *values)`` into
        findings, for the reps and the teams of the funnel only."""
        findings = []
        for is_team, user_id, team_id, *values in rows:
            if is_team:
                if team_id not in context["funnel_teams"]:
                    continue
                finding = build(values)
                if finding:
                    findings.append(dict(finding, team_id=team_id, user_id=False))
            elif user_id in context["teams"]:
                finding = build(values)
                if finding:
                    findings.append(
                        dict(
                            finding, user_id=user_id, team_id=context["teams"][user_id]
                        )
                    )
        return findings

    def _funnel_check_out_of_funnel(self, context):
        company = context["company"]
        Move = self.env["crm.funnel.move"]
        self.env.cr.execute(
            SQL(
                """SELECT GROUPING(signing.user_id) = 1, signing.user_id, signing.team_id,
                      COUNT(*), COUNT(*) FILTER (WHERE signing.outside),
                      ARRAY_AGG(signing.lead_id) FILTER (WHERE signing.outside)
                 FROM (SELECT move.user_id, move.team_id, move.lead_id, %s AS outside
                         FROM crm_funnel_move move
                        WHERE %s AND move.date >= %s AND %s) signing
             GROUP BY GROUPING SETS ((signing.user_id), (signing.team_id))""",
                Move._funnel_out_of_funnel_sql("move"),
                self.env["crm.funnel.allocation"]._funnel_signing_sql("move"),
                context["since"],
                self._company_filter("move", company),
            )
        )
        limit, sample = (
            company.funnel_exception_out_of_funnel_share,
            company.funnel_exception_min_sample,
        )

        def build(values):
            signings, outside, lead_ids = values
            if signings < sample or outside / signings <= limit:
                return None
            return {
                "exception_type": "out_of_funnel",
                "measured": outside / signings,
                "threshold": limit,
                "details": {"count": outside, "total": signings},
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
                signing=self.env["crm.funnel.allocation"]._funnel_signing_sql("move"),
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
                "details": {"intents": intents, "signings": int(signings)},
                "lead_ids": lead_ids,
            }

        return self._per_rep_and_team(context, self.env.cr.fetchall(), build)

    def _funnel_ideal_layer_figures(self):
        """{layer: (ideal share of its customers reaching the next layer, ideal days)}
        for the layers that have an ideal step rate."""
        self.env.cr.execute(
            """SELECT funnel_layer, MAX(funnel_ideal_reach_rate), MAX(funnel_ideal_days)
                 FROM crm_stage WHERE funnel_layer IS NOT NULL GROUP BY funnel_layer"""
        )
        ideal = {layer: (rate, days) for layer, rate, days in self.env.cr.fetchall()}
        order = [key for key, _label in FUNNEL_LAYERS]
        figures = {}
        for layer in RATE_LAYERS:
            following = order[order.index(layer) + 1]
            rate, days = ideal.get(layer, (0, 0))
            next_rate = ideal.get(following, (0, 0))[0]
            if rate and next_rate:
                figures[layer] = (next_rate / rate, days or 0)
        return figures

    def _funnel_check_low_move_rate(self, context):
        """Step rates as the move analysis measures them (one definition): of the
        customers that reached a layer in the window, the share that went on to a
        lower layer, stalled ones included. A customer counts once it had the
        layer's ideal days times the overdue factor to move on."""
        company = context["company"]
        ideal = self._funnel_ideal_layer_figures()
        if not ideal:
            return []
        Move = self.env["crm.funnel.move"]
        factor = company.funnel_exception_overdue_factor
        layers = list(ideal)
        self.env.cr.execute(
            SQL(
                """SELECT GROUPING(cohort.user_id) = 1, cohort.user_id, cohort.team_id,
                      cohort.layer, COUNT(*), COUNT(*) FILTER (WHERE cohort.moved),
                      ARRAY_AGG(cohort.lead_id) FILTER (WHERE NOT cohort.moved)
                 FROM (SELECT move.user_id, move.team_id, move.to_layer AS layer, move.lead_id,
                              moved_on.date IS NOT NULL AS moved
                         FROM crm_funnel_move move
                         JOIN unnest(%(layers)s::varchar[], %(waits)s::float[]) AS wait(layer, days)
                           ON wait.layer = move.to_layer
                              %(moved_on)s
                        WHERE %(reached)s AND move.date >= %(since)s
                          AND move.date <= %(now)s - wait.days * INTERVAL '1 day'
                          AND %(company)s) cohort
             GROUP BY GROUPING SETS ((cohort.user_id, cohort.layer),
                                     (cohort.team_id, cohort.layer))""",
                layers=layers,
                waits=[float(ideal[layer][1] * factor) for layer in layers],
                moved_on=Move._funnel_moved_on_join_sql("move", "moved_on"),
                reached=Move._funnel_reached_sql("move"),
                since=context["since"],
                now=context["now"],
                company=self._company_filter("move", company),
            )
        )
        tolerance, sample = (
            company.funnel_exception_rate_tolerance,
            company.funnel_exception_min_sample,
        )

        def build(values):
            layer, reached, moved, lead_ids = values
            limit = ideal[layer][0] - tolerance
            if reached < sample or moved / reached >= limit:
                return None
            return {
                "exception_type": "low_move_rate",
                "layer": layer,
                "measured": moved / reached,
                "threshold": limit,
                "details": {"reached": reached, "moved": moved},
                "lead_ids": lead_ids,
            }

        return self._per_rep_and_team(context, self.env.cr.fetchall(), build)

    def _funnel_check_high_abandon_rate(self, context):
        company = context["company"]
        # every kind of assignment is a customer received
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
                "details": {"abandoned": int(abandoned), "received": int(received)},
                "lead_ids": lead_ids,
            }

        return self._per_rep_and_team(context, self.env.cr.fetchall(), build)

    def _funnel_check_overdue(self, context):
        company = context["company"]
        factor = company.funnel_exception_overdue_factor
        self.env.cr.execute(
            SQL(
                """SELECT lead.user_id, stage.funnel_layer, MAX(stage.funnel_ideal_days),
                      MAX(EXTRACT(EPOCH FROM (%(now)s - lead.funnel_layer_date)) / 86400),
                      ARRAY_AGG(lead.id)
                 FROM crm_lead lead
                 JOIN crm_stage stage ON stage.id = lead.stage_id
                WHERE lead.active AND lead.user_id = ANY(%(reps)s) AND stage.funnel_ideal_days > 0
                  AND lead.funnel_layer_date
                      < %(now)s - stage.funnel_ideal_days * %(factor)s * INTERVAL '1 day'
                  AND %(company)s
             GROUP BY lead.user_id, stage.funnel_layer""",
                now=context["now"],
                reps=list(context["teams"]),
                factor=factor,
                company=self._company_filter("lead", company),
            )
        )
        return [
            {
                "exception_type": "overdue",
                "user_id": user_id,
                "team_id": context["teams"][user_id],
                "layer": layer,
                "measured": float(days),
                "threshold": ideal_days * factor,
                "details": {"count": len(lead_ids)},
                "lead_ids": lead_ids,
            }
            for user_id, layer, ideal_days, days, lead_ids in self.env.cr.fetchall()
        ]

    def _funnel_check_low_holdings(self, context):
        """One finding per rep (and per team) listing every layer held below the
        ideal: a company of 50 reps gets at most 50 findings, not 200."""
        company = context["company"]
        share = company.funnel_exception_holding_share
        report = self.env["crm.funnel.report.holding"]
        self.env.cr.execute(
            SQL(
                """WITH layer AS (
                   SELECT GROUPING(holding.user_id) = 1 AS is_team, holding.user_id,
                          holding.team_id, holding.layer, MIN(holding.layer_sequence) AS rank,
                          SUM(holding.held_count) AS held, SUM(holding.ideal_count) AS ideal
                     FROM %s holding
                    WHERE %s AND holding.layer = ANY(%s) AND holding.ideal_count > 0
                 GROUP BY GROUPING SETS ((holding.user_id, holding.team_id, holding.layer),
                                         (holding.team_id, holding.layer))
               )
               SELECT is_team, user_id, team_id, ARRAY_AGG(layer ORDER BY rank),
                      ARRAY_AGG(held ORDER BY rank), ARRAY_AGG(ideal ORDER BY rank)
                 FROM layer
                WHERE held < ideal * %s
             GROUP BY is_team, user_id, team_id""",
                SQL.identifier(report._table),
                self._company_filter("holding", company),
                list(HOLDING_LAYERS),
                share,
            )
        )

        def build(values):
            layers, held, ideal = values
            return {
                "exception_type": "low_holdings",
                "measured": sum(ideal) - sum(held),
                "threshold": sum(ideal),
                "details": {
                    "layers": [
                        {"layer": layer, "held": int(h), "ideal": int(i)}
                        for layer, h, i in zip(layers, held, ideal, strict=True)
                    ]
                },
            }

        return self._per_rep_and_team(context, self.env.cr.fetchall(), build)

    def _funnel_check_leaver(self, context):
        company = context["company"]
        Team = self.env["crm.team"]
        self.env.cr.execute(
            SQL(
                """SELECT lead.user_id, MIN(lead.team_id), ARRAY_AGG(lead.id)
                 FROM crm_lead lead
                 JOIN res_users users ON users.id = lead.user_id
                WHERE lead.active AND lead.funnel_layer IS NOT NULL AND lead.funnel_layer != 'abandoned'
                  AND %s AND (lead.team_id IS NULL OR %s)
                  AND (NOT users.active OR NOT EXISTS (
                        SELECT 1 FROM crm_team_member member
                         WHERE member.user_id = users.id AND %s))
             GROUP BY lead.user_id""",
                self._company_filter("lead", company),
                Team._funnel_team_sql(SQL("lead.team_id"), active=False),
                # no longer one of the company's reps, as the allocation service
                # defines them (crm.team.member._funnel_memberships)
                self.env["crm.team.member"]._funnel_membership_sql("member", company),
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
