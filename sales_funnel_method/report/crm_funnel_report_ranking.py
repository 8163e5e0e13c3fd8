from datetime import datetime, time, timedelta

import pytz
from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.tools import SQL, date_utils, format_amount

from ..models.crm_funnel_exception import RATE_LAYERS
from ..models.crm_funnel_target import TARGET_LEVELS

# the ranking boards (排行榜): what the deck and the pool CRMs judge people by
BOARDS = [
    ("revenue", "Won Revenue"),
    ("signings", "Signings"),
    ("received", "New Customers Received"),
    ("contacts", "Contacts Logged"),
    ("forward", "Customers Moved Down a Layer"),
    ("step_rate", "Step Rate against the Ideal"),
    ("abandon_ratio", "Abandoned / Received"),
    ("fat_first", "Fat-first Ranking"),
]
BOARD_KEYS = [key for key, _label in BOARDS]
# boards a rep does not read about colleagues: the abandoned / received ratio judges
# a rep, and Reps & Quotas shows it to managers and the support group only
MANAGER_BOARDS = ("abandon_ratio",)
MANAGER_GROUPS = (
    "sales_funnel_method.sales_funnel_method_group_manager",
    "sales_funnel_method.sales_funnel_method_group_support",
    "sales_team.group_sale_manager",
)
PERIODS = [
    ("this_week", "This Week"),
    ("last_week", "Last Week"),
    ("this_month", "This Month"),
    ("last_month", "Last Month"),
    ("this_quarter", "This Quarter"),
    ("this_year", "This Year"),
    ("custom", "Custom"),
]
# how many lines each board shows when all boards are shown at once
TOP = 10


class CrmFunnelReportRanking(models.TransientModel):
    """The ranking boards (排行榜) of a period, per rep or per team.

    Won revenue is the allocation service's sales total (``_funnel_sales_totals``),
    a signing its ``_funnel_signing_sql``, received every assignment to a rep
    (allocation, claim, hand-over, direct assignment), contacts the tracking
    record, and the fat-first board the allocation's own ranking
    (``_funnel_ranking`` and ``_funnel_team_groups``) over its ranking window,
    whatever the period. Each board is one set-based query (or the service's),
    ranked in Python over the reps or teams: the cost does not grow with the
    customers. Lines with the same figure share a rank (1, 2, 2, 4).

    The boards cover the funnel's teams (``crm.team._funnel_team_sql``), as the
    other reports do: a sales team that does not work the funnel (Odoo's own
    "Sales") is on none of them. They are figures of the whole company, as the
    pool CRMs show them to everyone; only the abandoned / received board is kept for managers and the
    support group.
    """

    _name = "crm.funnel.report.ranking"
    _description = "Funnel Ranking Boards"
    _check_company_auto = True

    company_id = fields.Many2one(
        "res.company",
        required=True,
        readonly=True,
        default=lambda self: self.env.company,
    )
    period = fields.Selection(PERIODS, required=True, default="this_month")
    date_from = fields.Date(
        compute="_compute_dates",
        store=True,
        readonly=False,
        precompute=True,
        required=True,
    )
    date_to = fields.Date(
        compute="_compute_dates",
        store=True,
        readonly=False,
        precompute=True,
        required=True,
    )
    level = fields.Selection(
        TARGET_LEVELS,
        string="Rank",
        required=True,
        default="rep",
        help="Rank the reps, or the sales teams.",
    )
    board = fields.Selection(
        [("all", "All Boards"), *BOARDS],
        required=True,
        default="all",
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        check_company=True,
        help="Rank this team's reps only (the fat-first board keeps the company's order).",
    )
    board_html = fields.Html(
        string="Ranking Boards", compute="_compute_board_html", sanitize=False
    )

    @api.depends("period")
    def _compute_dates(self):
        today = fields.Date.context_today(self)
        for board in self:
            period = board.period
            if period == "custom" and board.date_from and board.date_to:
                continue
            day, granularity = today, "month"
            if period in ("this_week", "last_week"):
                granularity = "week"
                if period == "last_week":
                    day = today - timedelta(days=7)
            elif period == "last_month":
                day = date_utils.start_of(today, "month") - timedelta(days=1)
            elif period == "this_quarter":
                granularity = "quarter"
            elif period == "this_year":
                granularity = "year"
            board.date_from = date_utils.start_of(day, granularity)
            board.date_to = date_utils.end_of(day, granularity)

    @api.depends("period", "date_from", "date_to", "level", "board", "team_id")
    @api.depends_context("uid", "lang")
    def _compute_board_html(self):
        for board in self:
            board.board_html = board._funnel_render()

    @api.readonly
    def onchange(self, values, field_names, fields_spec):
        """The screen's form only reads until it is saved: opening it and changing
        its period, rank or board compute the boards on a new record, which Odoo
        answers from a read replica when it has one (``db_replica_host``; a
        request that tried to write there would be retried on the primary).
        Saving the form writes, on the primary."""
        return super().onchange(values, field_names, fields_spec)

    # ------------------------------------------------------------
    # THE BOARDS
    # ------------------------------------------------------------

    def _funnel_period(self):
        """[start, end) of the board's dates, from midnight in the user's time zone, in UTC."""
        self.ensure_one()
        tz = pytz.timezone(self.env.user.tz or "UTC")

        def utc(day):
            local = tz.localize(datetime.combine(day, time.min))
            return local.astimezone(pytz.utc).replace(tzinfo=None)

        return utc(self.date_from), utc(self.date_to + timedelta(days=1))

    @api.model
    def _funnel_visible_boards(self, boards=None):
        """The boards the current user reads."""
        boards = list(boards or BOARD_KEYS)
        if self.env.su or any(self.env.user.has_group(g) for g in MANAGER_GROUPS):
            return boards
        return [board for board in boards if board not in MANAGER_BOARDS]

    @api.model
    def _funnel_boards(
        self, company, start, end, level="rep", team_ids=None, boards=None
    ):
        """The ranking boards of ``company`` between ``start`` and ``end`` (UTC).

        :param level: "rep" or "team"
        :param team_ids: rank these teams, or these teams' reps, only
        :param boards: the boards wanted (all by default)
        :return: {board: [{"rank", "id", "name", "team_id", "team_name", "value",
            "numerator", "denominator", "ideal"}]}, best first
        """
        self.env["crm.funnel.allocation"]._funnel_check_company(company)
        boards = [board for board in (boards or BOARD_KEYS) if board in BOARD_KEYS]
        for model in (
            "crm.lead",
            "crm.funnel.move",
            "crm.funnel.assignment",
            "crm.funnel.contact",
        ):
            self.env[model].flush_model()
        figures = {}  # board: {id: (value, numerator, denominator, ideal)}
        period_boards = set(boards) - {"fat_first"}
        if "revenue" in period_boards:
            by_user, by_team = self.env["crm.funnel.allocation"]._funnel_sales_totals(
                company, since=start, until=end, funnel_teams=True
            )
            amounts = by_user if level == "rep" else by_team
            figures["revenue"] = {key: (amount,) for key, amount in amounts.items()}
        if period_boards & {"signings", "forward", "abandon_ratio"}:
            moves = self._funnel_move_counts(company, start, end, level)
            figures["signings"] = {key: (row[0],) for key, row in moves.items()}
            figures["forward"] = {key: (row[1],) for key, row in moves.items()}
        else:
            moves = {}
        if period_boards & {"received", "abandon_ratio"}:
            received = self._funnel_received_counts(company, start, end, level)
            figures["received"] = {key: (count,) for key, count in received.items()}
            figures["abandon_ratio"] = {
                key: (
                    moves.get(key, (0, 0, 0))[2] / received[key]
                    if received.get(key)
                    else None,
                    moves.get(key, (0, 0, 0))[2],
                    received.get(key, 0),
                )
                for key in set(received) | {k for k, row in moves.items() if row[2]}
            }
        if "contacts" in period_boards:
            figures["contacts"] = {
                key: (count,)
                for key, count in self._funnel_contact_counts(
                    company, start, end, level
                ).items()
            }
        if "step_rate" in period_boards:
            figures["step_rate"] = self._funnel_step_rates(company, start, end, level)

        teams_of, candidates = self._funnel_candidates(company, level, team_ids)
        result = {}
        fat_first = (
            self._funnel_fat_first(company, level, team_ids)
            if "fat_first" in boards
            else []
        )
        keys = set(candidates)
        if not team_ids:
            for board in period_boards:
                keys |= {key for key in figures.get(board, {}) if key}
        names = self._funnel_names(level, keys | {line["id"] for line in fat_first})
        team_names = self._funnel_names(
            "team", {team for teams in teams_of.values() for team in teams}
        )
        for board in boards:
            if board == "fat_first":
                for line in fat_first:
                    line.update(
                        name=names.get(line["id"], ""),
                        team_name=team_names.get(line["team_id"], "")
                        if level == "rep"
                        else "",
                    )
                result[board] = fat_first
                continue
            values = figures.get(board, {})
            lines = []
            for key in keys:
                value = values.get(key)
                if board in ("step_rate", "abandon_ratio") and not value:
                    continue  # no cohort, nothing received nor abandoned: no figure
                value = value or (0,)
                team_id = (teams_of.get(key) or [None])[0] if level == "rep" else None
                lines.append(
                    {
                        "id": key,
                        "name": names.get(key, ""),
                        "team_id": team_id,
                        "team_name": team_names.get(team_id, "") if team_id else "",
                        "value": value[0],
                        "numerator": value[1] if len(value) > 1 else None,
                        "denominator": value[2] if len(value) > 2 else None,
                        "ideal": value[3] if len(value) > 3 else None,
                    }
                )
            result[board] = self._funnel_rank(lines, self._funnel_order(board))
        return result

    @api.model
    def _funnel_order(self, board):
        """The sort key of a board's lines: best first."""
        if board == "abandon_ratio":
            # fewest abandons per customer received first; a rep who abandons without
            # having received anything after everyone who received, more abandons last
            return lambda line: (
                (0, line["value"])
                if line["value"] is not None
                else (1, -line["numerator"])
            )
        return lambda line: -line["value"]

    @api.model
    def _funnel_rank(self, lines, order):
        """Competition ranking (1, 2, 2, 4): lines of the same figure share a rank,
        listed by name."""
        lines.sort(key=lambda line: (order(line), line["name"], line["id"]))
        previous, rank = object(), 0
        for index, line in enumerate(lines, start=1):
            current = order(line)
            if current != previous:
                rank, previous = index, current
            line["rank"] = rank
        return lines

    @api.model
    def _funnel_candidates(self, company, level, team_ids=None):
        """({user id: [team ids]}, the reps or teams ranked even without a figure):
        the sales force of ``company`` (``crm.team.member._funnel_memberships``),
        or the members of ``team_ids``."""
        teams_of = {}
        for member in self.env["crm.team.member"]._funnel_memberships(company):
            if team_ids and member.crm_team_id.id not in team_ids:
                continue
            teams_of.setdefault(member.user_id.id, []).append(member.crm_team_id.id)
        if level == "team":
            teams = {team for teams in teams_of.values() for team in teams}
            return teams_of, teams | set(team_ids or [])
        return teams_of, set(teams_of)

    @api.model
    def _funnel_names(self, level, keys):
        keys = [key for key in keys if key]
        model = "res.users" if level == "rep" else "crm.team"
        return {
            record.id: record.name
            for record in self.env[model]
            .sudo()
            .with_context(active_test=False)
            .browse(keys)
        }

    @api.model
    def _funnel_company_sql(self, alias, company):
        return SQL(
            "(%s.company_id = %s OR %s.company_id IS NULL)",
            SQL.identifier(alias),
            company.id,
            SQL.identifier(alias),
        )

    @api.model
    def _funnel_team_filter_sql(self, alias):
        """SQL condition: the row ``alias`` is of no team or of a funnel team, as the
        reports read the history (a team archived since keeps its figures)."""
        return SQL(
            "(%s IS NULL OR %s)",
            SQL.identifier(alias, "team_id"),
            self.env["crm.team"]._funnel_team_sql(
                SQL.identifier(alias, "team_id"), active=False
            ),
        )

    @api.model
    def _funnel_level_key(self, alias, level):
        return SQL.identifier(alias, "user_id" if level == "rep" else "team_id")

    @api.model
    def _funnel_move_counts(self, company, start, end, level):
        """{id: (signings, moves down the funnel, abandons)} of each rep or team."""
        key = self._funnel_level_key("move", level)
        self.env.cr.execute(
            SQL(
                """SELECT %(key)s, COUNT(*) FILTER (WHERE %(signing)s),
                          COUNT(*) FILTER (WHERE move.move_type = 'forward'),
                          COUNT(*) FILTER (WHERE move.move_type = 'abandon')
                     FROM crm_funnel_move move
                    WHERE move.date >= %(start)s AND move.date < %(end)s AND %(company)s
                      AND %(key)s IS NOT NULL AND %(funnel_team)s
                 GROUP BY %(key)s""",
                key=key,
                signing=self.env["crm.funnel.allocation"]._funnel_signing_sql("move"),
                start=start,
                end=end,
                company=self._funnel_company_sql("move", company),
                funnel_team=self._funnel_team_filter_sql("move"),
            )
        )
        return {row[0]: row[1:] for row in self.env.cr.fetchall()}

    @api.model
    def _funnel_received_counts(self, company, start, end, level):
        """{id: customers received}: every assignment to a rep (allocation, claim,
        hand-over, direct assignment)."""
        return self._funnel_row_counts(
            "crm_funnel_assignment",
            company,
            start,
            end,
            level,
            SQL("crm_funnel_assignment.user_id IS NOT NULL"),
        )

    @api.model
    def _funnel_contact_counts(self, company, start, end, level):
        """{id: contacts in the tracking record}: logged, done activities and emails."""
        return self._funnel_row_counts("crm_funnel_contact", company, start, end, level)

    @api.model
    def _funnel_row_counts(self, table, company, start, end, level, where=None):
        """{id: rows of ``table`` dated in [start, end)} of each rep or team, in the
        company and the funnel's teams, the rows also matching ``where``."""
        key = self._funnel_level_key(table, level)
        self.env.cr.execute(
            SQL(
                """SELECT %(key)s, COUNT(*)
                     FROM %(table)s
                    WHERE %(key)s IS NOT NULL AND %(where)s
                      AND %(date)s >= %(start)s AND %(date)s < %(end)s
                      AND %(company)s AND %(funnel_team)s
                 GROUP BY %(key)s""",
                key=key,
                table=SQL.identifier(table),
                where=where or SQL("TRUE"),
                date=SQL.identifier(table, "date"),
                start=start,
                end=end,
                company=self._funnel_company_sql(table, company),
                funnel_team=self._funnel_team_filter_sql(table),
            )
        )
        return dict(self.env.cr.fetchall())

    @api.model
    def _funnel_step_cohorts_sql(self, company, start, end, level):
        """The cohorts of the step rate (METHOD 11), per rep or team and layer, as the
        move analysis counts them (``crm.funnel.move._funnel_reached_sql`` and
        ``_funnel_moved_on_join_sql``): the customers that reached a layer in the
        period (once on a path: coming back down after a step back up is no new
        arrival; a reopened customer starts a new path), for the rep and the team of
        the move that brought them there, in the funnel's teams; and of those, how
        many reached a lower layer on the same path, whether or not the others have
        left the layer. The period's end closes the cohort: a board of a past period
        does not change with what happened since. Rows: (id, layer, cohort,
        advanced).
        """
        Move = self.env["crm.funnel.move"]
        key = self._funnel_level_key("move", level)
        return SQL(
            """SELECT %(key)s, move.to_layer, COUNT(*),
                      COUNT(*) FILTER (WHERE moved_on.date < %(end)s)
                 FROM crm_funnel_move move
                      %(moved_on)s
                WHERE move.to_layer = ANY(%(layers)s) AND %(reached)s
                  AND move.date >= %(start)s AND move.date < %(end)s AND %(company)s
                  AND %(key)s IS NOT NULL AND %(funnel_team)s
             GROUP BY %(key)s, move.to_layer""",
            key=key,
            layers=list(RATE_LAYERS),
            moved_on=Move._funnel_moved_on_join_sql("move", "moved_on"),
            reached=Move._funnel_reached_sql("move"),
            start=start,
            end=end,
            company=self._funnel_company_sql("move", company),
            funnel_team=self._funnel_team_filter_sql("move"),
        )

    @api.model
    def _funnel_step_rates(self, company, start, end, level):
        """{id: (index, moved on, reached, expected)}: the customers that moved on
        over those that would have at the ideal step rates (index 1.0: the ideal)."""
        ideal = {
            layer: rate
            for layer, (rate, _days) in self.env["crm.funnel.exception"]
            ._funnel_ideal_layer_figures()
            .items()
        }
        self.env.cr.execute(self._funnel_step_cohorts_sql(company, start, end, level))
        totals = {}
        for key, layer, cohort, advanced in self.env.cr.fetchall():
            if not ideal.get(layer):
                continue
            reached, moved, expected = totals.get(key, (0, 0, 0.0))
            totals[key] = (
                reached + cohort,
                moved + advanced,
                expected + cohort * ideal[layer],
            )
        return {
            key: (moved / expected, moved, reached, round(expected, 1))
            for key, (reached, moved, expected) in totals.items()
            if expected
        }

    @api.model
    def _funnel_fat_first(self, company, level, team_ids=None):
        """The fat-first allocation's ranking, as the allocation reads it now."""
        service = self.env["crm.funnel.allocation"]
        force = service._funnel_sales_force(company)
        if level == "rep":
            return [
                {
                    "rank": line["rank"],
                    "id": line["user_id"],
                    "team_id": line["team_id"],
                    "value": line["won"],
                    "numerator": line["team_won"],
                    "denominator": force[line["user_id"]]["quota"]
                    - force[line["user_id"]]["holdings"],
                    "ideal": None,
                }
                for line in service._funnel_ranking(force)
                if not team_ids or line["team_id"] in team_ids
            ]
        lines, rank = [], 1
        team_won = force.team_won or {}
        for group in service._funnel_team_groups(force):
            for team_id in group:
                if not team_ids or team_id in team_ids:
                    lines.append(
                        {
                            "rank": rank,
                            "id": team_id,
                            "team_id": None,
                            "value": team_won.get(team_id, 0.0),
                            "numerator": None,
                            "denominator": None,
                            "ideal": None,
                        }
                    )
            rank += len(group)
        return lines

    # ------------------------------------------------------------
    # RENDERING
    # ------------------------------------------------------------

    @api.model
    def _funnel_board_labels(self):
        return {
            key: label
            for key, label in self._fields["board"]._description_selection(self.env)
        }

    @api.model
    def _funnel_board_help(self, company):
        return {
            "revenue": self.env._(
                "The expected revenue of the customers each signed in the period, a "
                "customer counted once, at its latest signing, while it is still won."
            ),
            "signings": self.env._(
                "Moves into Signed or Implemented from outside them."
            ),
            "received": self.env._(
                "Customers allocated, claimed, handed over or assigned directly."
            ),
            "contacts": self.env._(
                "Contacts in the tracking record: logged, done calls and meetings, emails."
            ),
            "forward": self.env._("Moves one or more layers down the funnel."),
            "step_rate": self.env._(
                "Of the customers that reached a layer in the period, those that reached "
                "a further layer by its end, over those that would have at the ideal step "
                "rates: 100% is the ideal."
            ),
            "abandon_ratio": self.env._(
                "Customers abandoned per customer received: fewer is better."
            ),
            "fat_first": self.env._(
                "The order in which allocation gives the best customers (胖子原则): teams "
                "by their sales total, then their reps by theirs, over the last "
                "%(days)s days, whatever the period.",
                days=company.funnel_ranking_days,
            ),
        }

    def _funnel_format(self, board, line, currency):
        value = line["value"]
        if board in ("revenue", "fat_first"):
            return format_amount(self.env, value or 0.0, currency)
        if board == "step_rate":
            return self.env._(
                "%(rate)s%% (%(moved)s of %(reached)s moved on, %(ideal)s at the ideal)",
                rate=round(100 * value),
                moved=line["numerator"],
                reached=line["denominator"],
                ideal=line["ideal"],
            )
        if board == "abandon_ratio":
            ratio = "-" if value is None else "%.2f" % value
            return self.env._(
                "%(ratio)s (%(abandoned)s / %(received)s)",
                ratio=ratio,
                abandoned=line["numerator"],
                received=line["denominator"],
            )
        return str(int(value or 0))

    def _funnel_render(self):
        self.ensure_one()
        if not self.date_from or not self.date_to:
            return Markup()
        if self.date_to < self.date_from:
            return Markup("<p class='text-danger'>%s</p>") % self.env._(
                "The period ends before it starts: choose the dates again."
            )
        start, end = self._funnel_period()
        wanted = None if self.board == "all" else [self.board]
        boards = self._funnel_visible_boards(wanted)
        if not boards:
            return Markup("<p class='text-muted'>%s</p>") % self.env._(
                "Managers and the support group read this board."
            )
        result = self._funnel_boards(
            self.company_id,
            start,
            end,
            level=self.level,
            team_ids=self.team_id.ids or None,
            boards=boards,
        )
        labels = self._funnel_board_labels()
        helps = self._funnel_board_help(self.company_id)
        currency = self.company_id.currency_id
        me = self.env.user.id if self.level == "rep" else None
        my_teams = set(
            self.env["crm.team.member"]
            ._funnel_memberships(self.company_id, self.env.user)
            .crm_team_id.ids
        )
        cards = []
        for board in boards:
            lines = result[board]
            shown = lines if wanted else lines[:TOP]
            if not wanted:
                shown += [
                    line
                    for line in lines[TOP:]
                    if self._funnel_is_mine(line, me, my_teams)
                ]
            head = [
                self.env._("Rank"),
                self.env._("Rep") if self.level == "rep" else self.env._("Sales Team"),
            ]
            if self.level == "rep":
                head.append(self.env._("Sales Team"))
            head.append(labels[board])
            rows = []
            for line in shown:
                cells = [line["rank"], escape(line["name"])]
                if self.level == "rep":
                    cells.append(escape(line["team_name"] or ""))
                cells.append(self._funnel_format(board, line, currency))
                mine = self._funnel_is_mine(line, me, my_teams)
                rows.append(
                    Markup("<tr class='%s'>%s</tr>")
                    % (
                        "o_funnel_ranking_line o_funnel_ranking_mine table-info"
                        if mine
                        else "o_funnel_ranking_line",
                        Markup("").join(Markup("<td>%s</td>") % cell for cell in cells),
                    )
                )
            body = (
                Markup(
                    "<table class='table table-sm o_funnel_ranking_table'>"
                    "<thead><tr>%s</tr></thead><tbody>%s</tbody></table>"
                )
                % (
                    Markup("").join(Markup("<th>%s</th>") % title for title in head),
                    Markup("").join(rows),
                )
                if rows
                else Markup("<p class='text-muted'>%s</p>")
                % self.env._("Nothing to rank in this period.")
            )
            cards.append(
                Markup(
                    "<div class='col-lg-6 mb-4 o_funnel_ranking_board' data-board='%s'>"
                    "<h4>%s</h4><p class='text-muted small'>%s</p>%s</div>"
                )
                % (board, labels[board], helps[board], body)
            )
        return Markup("<div class='row o_funnel_rankings'>%s</div>") % Markup("").join(
            cards
        )

    @api.model
    def _funnel_is_mine(self, line, me, my_teams):
        return line["id"] == me if me else line["id"] in my_teams
