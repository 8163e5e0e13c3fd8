from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from .crm_funnel_target import TARGET_KINDS, month_bounds
from .crm_stage import FUNNEL_LAYERS, HOLDING_LAYERS

DIRECTOR_GROUP = "sales_funnel_method.sales_funnel_method_group_director"


class CrmFunnelSummary(models.AbstractModel):
    """The weekly summary (按周汇总, METHOD 9): each team manager gets their teams'
    holdings against the ideal and the week's moves; each director all teams'."""

    _name = "crm.funnel.summary"
    _description = "Funnel Weekly Summary"

    @api.model
    def _cron_funnel_weekly_summary(self):
        end = fields.Datetime.now()
        return self._funnel_send_summaries(end - timedelta(days=7), end)

    @api.model
    def _funnel_recipients(self):
        """{user: teams} of the summary: team managers get their teams, directors all."""
        Team = self.env["crm.team"].sudo()
        teams = Team.search(
            [("crm_team_member_ids", "!=", False), *Team._funnel_team_domain()]
        )
        recipients = defaultdict(lambda: self.env["crm.team"])
        for team in teams:
            manager = team.user_id
            if (
                manager.active
                and not manager.share
                and (not team.company_id or team.company_id in manager.company_ids)
            ):
                recipients[manager] |= team
        directors = (
            self.env.ref(DIRECTOR_GROUP)
            .sudo()
            .users.filtered(lambda user: user.active and not user.share and user.email)
        )
        for director in directors:
            # a director reads the teams of the companies they work in
            recipients[director] |= teams.filtered(
                lambda team, director=director: (
                    not team.company_id or team.company_id in director.company_ids
                )
            )
        return recipients

    @api.model
    def _funnel_send_summaries(self, start, end):
        mails = self.env["mail.mail"]
        for user, teams in self._funnel_recipients().items():
            if not user.email:
                continue
            body = self.env["ir.qweb"]._render(
                "sales_funnel_method.funnel_weekly_summary",
                self._funnel_summary_values(teams, start, end, user),
                minimal_qcontext=True,
            )
            mails |= (
                self.env["mail.mail"]
                .sudo()
                .create(
                    {
                        "subject": self.with_context(lang=user.lang).env._(
                            "Sales funnel: the week of %(date)s",
                            date=fields.Date.to_string(start.date()),
                        ),
                        "body_html": body,
                        "recipient_ids": [(4, user.partner_id.id)],
                        "email_from": self.env.company.email_formatted
                        or user.email_formatted,
                        "auto_delete": True,
                    }
                )
            )
        return mails

    @api.model
    def _funnel_summary_values(self, teams, start, end, user):
        labels = dict(
            self.env["crm.lead"]
            .with_context(lang=user.lang)
            ._fields["funnel_layer"]
            ._description_selection(
                self.env(context=dict(self.env.context, lang=user.lang))
            )
        )
        holdings = (
            self.env["crm.funnel.report.holding"]
            .sudo()
            .search(
                [
                    ("team_id", "in", teams.ids),
                    ("layer", "in", list(HOLDING_LAYERS)),
                    ("ideal_count", ">", 0),
                ]
            )
        )
        layers = [
            key for key, _label in FUNNEL_LAYERS if key in set(holdings.mapped("layer"))
        ]
        rows = defaultdict(dict)
        for line in holdings:
            rows[(line.team_id, line.user_id)][line.layer] = line
        figures = self.env["crm.funnel.move"]._funnel_period_figures(
            start, end, teams.company_id | self.env.company, team_ids=teams.ids
        )
        self.env.cr.execute(
            SQL(
                """SELECT move.from_layer, move.to_layer, COUNT(*)
                 FROM crm_funnel_move move
                WHERE move.date >= %s AND move.date < %s AND move.team_id = ANY(%s)
                  AND move.from_layer IS NOT NULL
             GROUP BY move.from_layer, move.to_layer
             ORDER BY COUNT(*) DESC, move.from_layer, move.to_layer""",
                start,
                end,
                teams.ids,
            )
        )
        transitions = [
            {
                "from": labels.get(from_layer, ""),
                "to": labels.get(to_layer, ""),
                "count": count,
            }
            for from_layer, to_layer, count in self.env.cr.fetchall()
        ]
        return {
            "user": user,
            "start": fields.Date.to_string(start.date()),
            "end": fields.Date.to_string(end.date()),
            "layers": [(layer, labels[layer]) for layer in layers],
            "rows": [
                {"team": team.name, "rep": rep.name, "cells": cells}
                for (team, rep), cells in sorted(
                    rows.items(), key=lambda item: (item[0][0].name, item[0][1].name)
                )
            ],
            "figures": figures,
            "transitions": transitions,
            # targets against actual and the top of each ranking board (考核)
            **self._funnel_assessment_values(teams, start, end, user),
        }

    @api.model
    def _funnel_assessment_values(self, teams, start, end, user):
        """The month's targets against actual of ``teams`` and their reps, and the
        top three of each ranking board of the week among the teams' reps."""
        Target = self.env["crm.funnel.target"].with_context(lang=user.lang)
        Ranking = self.env["crm.funnel.report.ranking"].with_context(lang=user.lang)
        last_day = fields.Datetime.context_timestamp(
            self.with_context(tz=user.tz), end - timedelta(seconds=1)
        ).date()
        month_start, month_end = month_bounds(user, last_day)
        progress = Target._funnel_progress(
            [("team_id", "in", teams.ids)],
            month_start,
            month_end,
            groupby=("level", "team_id", "user_id"),
        )
        kinds = [key for key, _label in TARGET_KINDS]
        lines = defaultdict(dict)
        for (level, team, rep, kind), figures in progress.items():
            lines[(team, rep if level == "rep" else self.env["res.users"])][kind] = (
                figures
            )
        currency = self.env.company.currency_id
        targets = [
            {
                "team": team.name,
                "rep": rep.name or "",
                "cells": [
                    Target._funnel_progress_text(cells.get(kind), kind, currency)
                    for kind in kinds
                ],
            }
            for (team, rep), cells in sorted(
                lines.items(),
                key=lambda item: (
                    item[0][0].name,
                    bool(item[0][1]),
                    item[0][1].name or "",
                ),
            )
        ]
        rankings = []
        labels = Ranking._funnel_board_labels()
        by_company = defaultdict(list)
        for team in teams:
            by_company[team.company_id or self.env.company].append(team.id)
        for company, team_ids in by_company.items():
            boards = Ranking._funnel_boards(
                company, start, end, level="rep", team_ids=team_ids
            )
            rankings += [
                {
                    "board": labels[board],
                    "lines": [
                        {
                            "rank": line["rank"],
                            "name": line["name"],
                            "value": Ranking._funnel_format(
                                board, line, company.currency_id
                            ),
                        }
                        for line in lines_[:3]
                    ],
                }
                for board, lines_ in boards.items()
                if lines_
            ]
        return {
            "target_month": fields.Date.to_string(last_day)[:7],
            "target_kinds": [
                label
                for _key, label in Target._fields["kind"]._description_selection(
                    Target.env
                )
            ],
            "targets": targets,
            "rankings": rankings,
        }
