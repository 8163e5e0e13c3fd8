from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.sql import (
    column_exists,
    create_index,
    drop_index,
    index_exists,
    make_index_name,
)

from .crm_stage import FUNNEL_LAYERS, LAYER_RANK

# the layers a customer passes through on its way to a signing (METHOD 1 and 11)
WORKING_LAYERS = ("graded", "contacted", "lead", "intent")
# the funnel, top to bottom (abandoned stands beside it)
FUNNEL_ORDER = tuple(key for key, _label in FUNNEL_LAYERS[:7])

# what a customer's path is made of: a change to one of them changes the stored
# path facts (reached, moved_on_date, latest) of the customer's moves
PATH_FIELDS = {"lead_id", "date", "to_layer", "move_type"}

# customers above which a refresh of their path facts first refreshes the
# planner's statistics of the history (one ANALYZE, a fraction of a second)
ANALYZE_ABOVE = 5000

# fields indexed by earlier versions that no query filters or joins on alone
UNINDEXED_FIELDS = ("lead_id", "to_layer", "company_id")
# the layers whose arrivals are read apart from the history: Intent, and the won
# layers of the signings
# (create_index keeps an index of the same name: a change of the layers needs a
# new name, and the old index dropped in init())
MILESTONE_LAYERS = ("intent", "signed", "implemented")
# by date, with every column their readers take (the signings, the won revenue
# and its "no later signing", the arrivals in Intent: the targets, the ranking
# boards, the sales totals), so that they read the index alone, not a heap page
# for each milestone (same rule for a change of its columns: a new name)
MILESTONE_INDEX = "crm_funnel_move_milestone_covering_index"
MILESTONE_INDEX_COLUMNS = (
    "to_layer",
    "from_layer",
    "move_type",
    "lead_id",
    "user_id",
    "team_id",
    "company_id",
    "id",
)
# indexes of earlier versions, replaced by the ones above
REPLACED_INDEXES = (
    "crm_funnel_move_reached_date_index",
    "crm_funnel_move_milestone_date_index",
)
# the arrivals in a layer (the moves that reached it), by layer then date, with
# every column the moves analysis reads: its pivot reads them from the index alone
# instead of the whole history, a range of dates per layer, each joined to its
# layer's ideal figures as it is read (a hash join of every arrival otherwise).
# Same rule for a change of its columns: a new name, the old one dropped in init()
REACHED_INDEX = "crm_funnel_move_reached_layer_date_index"
REACHED_INDEX_COLUMNS = (
    "user_id",
    "team_id",
    "company_id",
    "moved_on_date",
)
# the customers' latest moves down, with what tells a fast one: the fast movers
# (My Funnel, the dashboard) are read from it instead of looking up the last move
# of every customer (same rule for a change of its columns: a new name)
LATEST_FORWARD_INDEX = "crm_funnel_move_latest_forward_index"


def create_index_as(cr, name, definition):
    """Create the index ``name`` as ``CREATE INDEX name ON <definition>`` (SQL)
    unless it exists: for the indexes Odoo's ``create_index`` cannot express (an
    INCLUDE, an expression). Kept by name, as ``create_index`` does: a change of
    the definition needs a new name."""
    if not index_exists(cr, name):
        cr.execute(SQL("CREATE INDEX %s ON %s", SQL.identifier(name), definition))


MOVE_TYPES = [
    ("entry", "Entered the funnel"),
    ("forward", "Down the funnel"),
    ("backward", "Back up the funnel"),
    ("abandon", "Abandonment"),
    ("reopen", "Reopened"),
    ("exit", "Left the funnel"),
]


class CrmFunnelMove(models.Model):
    """One move of a customer between two funnel layers.

    Written by crm.lead itself on every change of layer, whatever the path
    (status bar, kanban, import, batch write, won, lost, restore), and never
    edited afterwards: reports and exception checks read this history.
    """

    _name = "crm.funnel.move"
    _inherit = ["crm.funnel.report.mixin"]
    _description = "Funnel Layer Move"
    _order = "date desc, id desc"
    _rec_name = "lead_id"
    _check_company_auto = True

    lead_id = fields.Many2one(
        "crm.lead",
        string="Customer",
        required=True,
        check_company=True,
        ondelete="cascade",
        readonly=True,
    )
    date = fields.Datetime(
        string="Moved On",
        required=True,
        index=True,
        readonly=True,
        default=fields.Datetime.now,
    )
    from_layer = fields.Selection(FUNNEL_LAYERS, readonly=True)
    to_layer = fields.Selection(FUNNEL_LAYERS, readonly=True)
    from_stage_id = fields.Many2one("crm.stage", ondelete="set null", readonly=True)
    to_stage_id = fields.Many2one("crm.stage", ondelete="set null", readonly=True)
    move_type = fields.Selection(
        MOVE_TYPES, string="Move", required=True, index=True, readonly=True
    )
    skipped_layers = fields.Integer(
        readonly=True,
        help="How many funnel layers the move jumped over. A customer created directly "
        "in a later layer skipped every layer above it.",
    )
    from_ideal_days = fields.Integer(
        string="Ideal Days of Layer Left",
        readonly=True,
        help="The ideal move days of the layer left, when the move happened.",
    )
    days_in_layer = fields.Float(
        string="Days in Layer Left",
        digits=(16, 2),
        readonly=True,
        help="How long the customer stayed in the layer it left.",
    )
    changed_by_id = fields.Many2one(
        "res.users", string="Moved By", readonly=True, index=True
    )
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        readonly=True,
        index=True,
        help="The customer's salesperson at the time of the move.",
    )
    team_id = fields.Many2one(
        "crm.team",
        check_company=True,
        string="Sales Team",
        readonly=True,
        index=True,
        help="The customer's sales team at the time of the move.",
    )
    company_id = fields.Many2one("res.company", readonly=True)
    lost_reason_id = fields.Many2one(
        "crm.lost.reason", readonly=True, ondelete="set null"
    )
    note = fields.Char(
        readonly=True,
        help="Why the move happened, when someone said so: the reason a manager gave "
        "for restoring a customer before the end of its cool-down, or the customer a "
        "merged move comes from.",
    )
    # the customer's path, stored by the move recorder (_funnel_refresh_paths) so
    # that the step rates read them instead of searching every customer's history
    reached = fields.Boolean(
        string="Reached the Layer",
        readonly=True,
        help="The move brought the customer to its layer for the first time on its "
        "path: it entered the funnel there, moved down into it or was reopened into "
        "it. The step rates count these moves.",
    )
    moved_on_date = fields.Datetime(
        string="Moved Down On",
        readonly=True,
        help="When the customer next reached a lower layer than this move's, on the "
        "same path (empty while it has not: it stalled, went back up or was abandoned).",
    )
    latest = fields.Boolean(
        string="Latest Move",
        readonly=True,
        help="The customer's latest move: no move of the customer came after it.",
    )

    def _auto_init(self):
        # a history written before its paths were stored (or before the latest move
        # was) gets them once
        missing = not all(
            column_exists(self.env.cr, self._table, column)
            for column in ("reached", "moved_on_date", "latest")
        )
        res = super()._auto_init()
        if missing:
            self._funnel_refresh_paths()
        return res

    def init(self):
        res = super().init()
        # "the last move of each customer", a customer's path before or after a
        # move (every lateral and EXISTS over the history) and the customer's
        # moves (its tab, the cascade on delete): one index for all of them
        create_index(
            self.env.cr,
            "crm_funnel_move_lead_id_date_id_index",
            self._table,
            ["lead_id", "date", "id"],
        )
        for name in REPLACED_INDEXES:
            drop_index(self.env.cr, name, self._table)
        # the milestones: the signings (moves into a won layer) and the arrivals in
        # Intent, a tenth of the history, that the targets, the ranking boards and
        # the won revenue read (a scan of the whole history each otherwise), with
        # the columns they read (create_index knows no INCLUDE)
        create_index_as(
            self.env.cr,
            MILESTONE_INDEX,
            SQL(
                "%s (date) INCLUDE (%s) WHERE to_layer IN %s",
                SQL.identifier(self._table),
                SQL(", ").join(map(SQL.identifier, MILESTONE_INDEX_COLUMNS)),
                MILESTONE_LAYERS,
            ),
        )
        # the arrivals in a layer, with what the moves analysis reads of them
        create_index_as(
            self.env.cr,
            REACHED_INDEX,
            SQL(
                "%s (to_layer, date) INCLUDE (%s) WHERE reached",
                SQL.identifier(self._table),
                SQL(", ").join(map(SQL.identifier, REACHED_INDEX_COLUMNS)),
            ),
        )
        # the latest moves down, at most one a customer (see _funnel_fast_move_sql)
        create_index_as(
            self.env.cr,
            LATEST_FORWARD_INDEX,
            SQL(
                "%s (lead_id) INCLUDE (days_in_layer, from_ideal_days) "
                "WHERE latest AND move_type = 'forward'",
                SQL.identifier(self._table),
            ),
        )
        # the single-column indexes of earlier versions that no query uses: the
        # layer and the company are never selective enough (the move type is, for
        # the rare abandons and reopenings; the author, for the support group's
        # figures), the customer's is the composite's first column. Odoo keeps an
        # index that a field no longer asks for: drop them here
        for fname in UNINDEXED_FIELDS:
            drop_index(self.env.cr, make_index_name(self._table, fname), self._table)
        return res

    @api.model_create_multi
    def create(self, vals_list):
        moves = super().create(vals_list)
        self._funnel_refresh_paths(moves.lead_id.ids)
        return moves

    def write(self, vals):
        if not PATH_FIELDS & set(vals):
            return super().write(vals)
        lead_ids = set(self.lead_id.ids)
        res = super().write(vals)
        self._funnel_refresh_paths(list(lead_ids | set(self.lead_id.ids)))
        return res

    def unlink(self):
        lead_ids = self.lead_id.ids
        res = super().unlink()
        self._funnel_refresh_paths(lead_ids)
        return res

    @api.model
    def _funnel_refresh_paths(self, lead_ids=None):
        """Store the path facts of the moves of the customers ``lead_ids`` (every
        customer when None) as their whole history now says: whether each move
        reached its layer (``_funnel_reached_live_sql``), when the customer then
        moved down (``_funnel_moved_on_live_join_sql``) and whether it is the
        customer's latest move (``_funnel_latest_live_sql``). One statement, for
        the customers' own moves only; the recorder calls it on every create,
        write and delete of moves, the merge and the back-fill after theirs."""
        if lead_ids is not None and not lead_ids:
            return
        self.flush_model(list(PATH_FIELDS))
        if lead_ids is None or len(lead_ids) > ANALYZE_ABOVE:
            # a history just written in bulk (install, back-fill, import) may still
            # look empty to the planner, which would then scan the whole table for
            # each move instead of reading the customer's moves through its index
            self.env.cr.execute("ANALYZE crm_funnel_move")
        self.env.cr.execute(self._funnel_refresh_paths_sql(lead_ids))
        self.invalidate_model(["reached", "moved_on_date", "latest"])

    @api.model
    def _funnel_refresh_paths_sql(self, lead_ids=None):
        """SQL: the statement of ``_funnel_refresh_paths``."""
        # the facts are computed once per move (MATERIALIZED: not inlined into
        # both the SET and the comparison), then only changed rows are written
        return SQL(
            """WITH path AS MATERIALIZED (
                   SELECT move.id, COALESCE(%(reached)s, FALSE) AS reached,
                          moved_on.date AS moved_on_date, %(latest)s AS latest,
                          move.reached AS was_reached, move.moved_on_date AS was_moved_on,
                          move.latest AS was_latest
                     FROM crm_funnel_move move
                          %(moved_on)s
                    WHERE %(leads)s
               )
               UPDATE crm_funnel_move move
                  SET reached = path.reached, moved_on_date = path.moved_on_date,
                      latest = path.latest
                 FROM path
                WHERE move.id = path.id
                  AND (path.was_reached IS DISTINCT FROM path.reached
                       OR path.was_moved_on IS DISTINCT FROM path.moved_on_date
                       OR path.was_latest IS DISTINCT FROM path.latest)""",
            reached=self._funnel_reached_live_sql("move"),
            moved_on=self._funnel_moved_on_live_join_sql("move", "moved_on"),
            latest=self._funnel_latest_live_sql("move"),
            leads=SQL("TRUE")
            if lead_ids is None
            else SQL("move.lead_id = ANY(%s)", list(lead_ids)),
        )

    @api.model
    def _funnel_refresh_missing_paths(self):
        """Store the path facts of the customers whose moves have none (written by
        raw SQL, bypassing the recorder): one scan of the history, then one
        refresh of those customers' moves. Returns their ids. Until then, such a
        customer's facts are those of its moves written through the recorder
        (its fast-mover mark, its step rates); the daily check catches them up."""
        self.flush_model(["reached", "latest"])
        self.env.cr.execute(
            "SELECT ARRAY_AGG(DISTINCT lead_id) FROM crm_funnel_move"
            " WHERE reached IS NULL OR latest IS NULL"
        )
        lead_ids = self.env.cr.fetchone()[0] or []
        self._funnel_refresh_paths(lead_ids)
        return lead_ids

    @api.depends("lead_id", "from_layer", "to_layer")
    def _compute_display_name(self):
        labels = dict(self._fields["to_layer"]._description_selection(self.env))
        for move in self:
            move.display_name = self.env._(
                "%(customer)s: %(from_layer)s → %(to_layer)s",
                customer=move.lead_id.name or "",
                from_layer=labels.get(move.from_layer, "-"),
                to_layer=labels.get(move.to_layer, "-"),
            )

    @api.model
    def _funnel_move_type(self, from_layer, to_layer):
        """Classify a change of layer; both arguments are layer keys or False."""
        if not from_layer:
            return "entry"
        if not to_layer:
            return "exit"
        if to_layer == "abandoned":
            return "abandon"
        if from_layer == "abandoned":
            return "reopen"
        return (
            "forward" if LAYER_RANK[to_layer] > LAYER_RANK[from_layer] else "backward"
        )

    @api.model
    def _funnel_skipped_layers(self, from_layer, to_layer):
        """Layers jumped over by a move down the funnel (an entry starts at the top)."""
        if not to_layer or to_layer == "abandoned":
            return 0
        if not from_layer:
            return LAYER_RANK[to_layer] - 1
        if from_layer == "abandoned":
            return 0
        return max(LAYER_RANK[to_layer] - LAYER_RANK[from_layer] - 1, 0)

    # ------------------------------------------------------------
    # THE FUNNEL'S FIGURES, IN SQL (one definition for reports and checks)
    # ------------------------------------------------------------

    @api.model
    def _funnel_rank_sql(self, layer):
        """SQL: the funnel rank (1 resource ... 7 implemented) of the layer key
        ``layer``; NULL for abandoned and outside the funnel."""
        return SQL(
            "ARRAY_POSITION(%s::varchar[], %s::varchar)", list(FUNNEL_ORDER), layer
        )

    @api.model
    def _funnel_reopened_between_sql(self, after, until, inclusive=True):
        """SQL condition: the customer was reopened (from Abandoned) after the move
        ``after`` and before (``inclusive``: or at) the move ``until``, so that the
        two moves are on different paths through the funnel. A reopened customer
        starts a new path: it is received again, often by another rep."""
        after, until = SQL.identifier(after), SQL.identifier(until)
        return SQL(
            """EXISTS (SELECT 1 FROM crm_funnel_move reopen
                        WHERE reopen.lead_id = %(until)s.lead_id AND reopen.move_type = 'reopen'
                          AND (reopen.date, reopen.id) > (%(after)s.date, %(after)s.id)
                          AND (reopen.date, reopen.id) %(op)s (%(until)s.date, %(until)s.id))""",
            after=after,
            until=until,
            op=SQL("<=") if inclusive else SQL("<"),
        )

    @api.model
    def _funnel_out_of_funnel_sql(self, move="move"):
        """SQL condition: the signing ``move`` is out of the funnel (METHOD 7.1): on
        its path the customer did not pass through every working layer (Graded,
        Contacted, Lead, Intent): created in a late layer, imported as signed,
        moved past a layer, or reopened from Abandoned straight into Signed."""
        return SQL(
            """(SELECT COUNT(DISTINCT path.to_layer) FROM crm_funnel_move path
                 WHERE path.lead_id = %(move)s.lead_id AND path.to_layer = ANY(%(working)s)
                   AND (path.date, path.id) < (%(move)s.date, %(move)s.id)
                   AND NOT %(reopened)s) < %(count)s""",
            move=SQL.identifier(move),
            working=list(WORKING_LAYERS),
            reopened=self._funnel_reopened_between_sql("path", move),
            count=len(WORKING_LAYERS),
        )

    @api.model
    def _funnel_reached_sql(self, move="move"):
        """SQL condition: the move ``move`` is a customer reaching its layer (METHOD 2,
        11), as stored on the move (``reached``, see ``_funnel_reached_live_sql``)."""
        return SQL("%s", SQL.identifier(move, "reached"))

    @api.model
    def _funnel_moved_on_join_sql(self, move="move", alias="moved_on"):
        """SQL: a join giving, as ``alias.date``, when the customer of the move
        ``move`` first reached a lower layer on the same path, as stored on the move
        (``moved_on_date``, see ``_funnel_moved_on_live_join_sql``)."""
        return SQL(
            "CROSS JOIN LATERAL (SELECT %s AS date) %s",
            SQL.identifier(move, "moved_on_date"),
            SQL.identifier(alias),
        )

    @api.model
    def _funnel_reached_live_sql(self, move="move"):
        """SQL condition, from the customer's whole history: the move ``move`` is a
        customer reaching its layer (METHOD 2, 11): it entered the funnel there,
        moved down into it, or was reopened into it, and had not reached that layer
        or a lower one before on its path (a customer coming back down after a step
        back up reached it once)."""
        alias = SQL.identifier(move)
        return SQL(
            """(%(move)s.move_type IN ('entry', 'forward', 'reopen')
                AND %(rank)s IS NOT NULL
                AND NOT EXISTS (
                    SELECT 1 FROM crm_funnel_move before
                     WHERE before.lead_id = %(move)s.lead_id
                       AND (before.date, before.id) < (%(move)s.date, %(move)s.id)
                       AND %(before_rank)s >= %(rank)s
                       AND NOT %(reopened)s))""",
            move=alias,
            rank=self._funnel_rank_sql(SQL("%s.to_layer", alias)),
            before_rank=self._funnel_rank_sql(SQL("before.to_layer")),
            reopened=self._funnel_reopened_between_sql("before", move),
        )

    @api.model
    def _funnel_latest_live_sql(self, move="move"):
        """SQL condition: no move of the customer of the move ``move`` came after it
        (in the history's order: date, then id), from the whole history; stored on
        the move as ``latest``."""
        return SQL(
            """NOT EXISTS (
                   SELECT 1 FROM crm_funnel_move later_move
                    WHERE later_move.lead_id = %(move)s.lead_id
                      AND (later_move.date, later_move.id) > (%(move)s.date, %(move)s.id)
               )""",
            move=SQL.identifier(move),
        )

    @api.model
    def _funnel_fast_move_sql(self, move="move"):
        """SQL condition: the move ``move`` is its customer's latest and a fast move
        down: in at most the company's fast mover share of the ideal days of the
        layer it left (METHOD 6). Flushes the moves' pending writes it reads."""
        self.flush_model(["lead_id", "move_type", "days_in_layer", "from_ideal_days"])
        return SQL(
            """(%(move)s.latest AND %(move)s.move_type = 'forward'
                AND %(move)s.from_ideal_days > 0
                AND %(move)s.days_in_layer <= %(share)s * %(move)s.from_ideal_days)""",
            move=SQL.identifier(move),
            share=self.env.company.funnel_fast_mover_share,
        )

    @api.model
    def _funnel_moved_on_live_join_sql(self, move="move", alias="moved_on"):
        """SQL, from the customer's whole history: a LEFT JOIN LATERAL giving, as
        ``alias.date``, when the customer of the move ``move`` first reached a lower
        layer than the one ``move`` brought it to, on the same path (NULL while it
        has not: it stalled, went back up or was abandoned). A move straight to a
        layer further down counts; a reopen straight into Signed counts as the
        signing it is."""
        move_alias = SQL.identifier(move)
        return SQL(
            """LEFT JOIN LATERAL (
                   SELECT later.date FROM crm_funnel_move later
                    WHERE later.lead_id = %(move)s.lead_id
                      AND (later.date, later.id) > (%(move)s.date, %(move)s.id)
                      AND %(later_rank)s > %(rank)s
                      AND NOT %(reopened)s
                 ORDER BY later.date, later.id
                    LIMIT 1
               ) %(alias)s ON TRUE""",
            move=move_alias,
            later_rank=self._funnel_rank_sql(SQL("later.to_layer")),
            rank=self._funnel_rank_sql(SQL("%s.to_layer", move_alias)),
            reopened=self._funnel_reopened_between_sql(move, "later", inclusive=False),
            alias=SQL.identifier(alias),
        )

    @api.model
    def _funnel_stage_durations(self, leads):
        """The stage bar's times of funnel customers, from their move history:
        {lead id: {stage id (str): seconds}}. A stage of a layer has the time the
        customer spent in that layer when it left it from there (the moves' days in
        layer, as the reports read them); the current stage the time in the current
        layer (as Days in Layer); stages outside the funnel keep what
        ``leads.duration_tracking`` had (Odoo's reading of the stage tracking)."""
        self.flush_model(["lead_id", "from_layer", "from_stage_id", "days_in_layer"])
        self.env.cr.execute(
            SQL(
                """SELECT move.lead_id, move.from_stage_id, SUM(move.days_in_layer) * 86400
                     FROM crm_funnel_move move
                    WHERE move.lead_id = ANY(%s) AND move.from_layer IS NOT NULL
                      AND move.from_stage_id IS NOT NULL
                 GROUP BY move.lead_id, move.from_stage_id""",
                leads._origin.ids,
            )
        )
        spent = defaultdict(dict)
        for lead_id, stage_id, seconds in self.env.cr.fetchall():
            spent[lead_id][str(stage_id)] = int(seconds)
        layer_stages = {
            str(stage_id)
            for stage_id in self.env["crm.stage"]
            .with_context(active_test=False)
            ._search([("funnel_layer", "!=", False)])
        }
        now = fields.Datetime.now()
        durations = {}
        for lead in leads:
            stages = {
                key: value
                for key, value in (lead.duration_tracking or {}).items()
                if str(key) not in layer_stages
            }
            stages.update(spent.get(lead._origin.id, {}))
            if lead.funnel_layer_date:
                stages[str(lead.stage_id.id)] = max(
                    int((now - lead.funnel_layer_date).total_seconds()), 0
                )
            durations[lead.id] = stages
        return durations

    @api.model
    def _funnel_transfer_history(self, target, sources):
        """Hand the funnel history of ``sources`` (customers merged into ``target``)
        over to ``target``, as crm hands over their messages: every move, assignment
        and contact is kept, each move noting the customer it comes from."""
        if not sources:
            return
        models_ = ("crm.funnel.move", "crm.funnel.assignment", "crm.funnel.contact")
        for model in models_:
            self.env[model].flush_model(["lead_id"])
        self.env["crm.lead"].flush_model(["name"])
        self.env.cr.execute(
            SQL(
                """UPDATE crm_funnel_move move
                      SET lead_id = %(target)s,
                          note = COALESCE(move.note || ' ', '')
                                 || %(prefix)s || ' ' || COALESCE(lead.name, '')
                     FROM crm_lead lead
                    WHERE lead.id = move.lead_id AND move.lead_id = ANY(%(sources)s)""",
                target=target.id,
                sources=sources.ids,
                prefix=self.env._("Merged from:"),
            )
        )
        # the merged moves join the target's path: its steps are counted again
        self._funnel_refresh_paths(target.ids)
        for table in ("crm_funnel_assignment", "crm_funnel_contact"):
            self.env.cr.execute(
                SQL(
                    "UPDATE %s SET lead_id = %s WHERE lead_id = ANY(%s)",
                    SQL.identifier(table),
                    target.id,
                    sources.ids,
                )
            )
        for model in models_:
            self.env[model].invalidate_model(
                ["lead_id", "note"] if model == "crm.funnel.move" else ["lead_id"]
            )
        (target | sources).invalidate_recordset(
            ["funnel_move_ids", "funnel_assignment_ids", "funnel_contact_ids"]
        )

    @api.model
    def _funnel_period_figures(
        self, start, end, companies, team_ids=None, readable=False
    ):
        """Signings, moves down the funnel and the abandoned / received ratio between
        ``start`` and ``end``, for the weekly summary and the digest, in the funnel's
        teams (``crm.team._funnel_team_sql``, as the reports count them).

        :param readable: count only the moves and assignments the current user may
            read (their record rules), as the digest does for each recipient
        """
        self.flush_model()
        self.env["crm.funnel.assignment"].flush_model()
        Team = self.env["crm.team"]
        team_filter = SQL(
            "AND (move.team_id IS NULL OR %s) %s",
            Team._funnel_team_sql(SQL("move.team_id"), active=False),
            SQL("AND move.team_id = ANY(%s)", list(team_ids)) if team_ids else SQL(),
        )
        if readable and not self.env.su:
            team_filter = SQL(
                "%s AND move.id IN %s", team_filter, self._search([]).subselect()
            )
        self.env.cr.execute(
            SQL(
                """SELECT COUNT(*) FILTER (WHERE %s),
                      COUNT(*) FILTER (WHERE move.move_type = 'forward'),
                      COUNT(*) FILTER (WHERE move.move_type = 'abandon')
                 FROM crm_funnel_move move
                WHERE move.date >= %s AND move.date < %s
                  AND (move.company_id = ANY(%s) OR move.company_id IS NULL) %s""",
                self.env["crm.funnel.allocation"]._funnel_signing_sql("move"),
                start,
                end,
                companies.ids,
                team_filter,
            )
        )
        signings, forward, abandoned = self.env.cr.fetchone()
        assignment_team = SQL(
            "AND (assignment.team_id IS NULL OR %s) %s",
            Team._funnel_team_sql(SQL("assignment.team_id"), active=False),
            SQL("AND assignment.team_id = ANY(%s)", list(team_ids))
            if team_ids
            else SQL(),
        )
        if readable and not self.env.su:
            assignment_team = SQL(
                "%s AND assignment.id IN %s",
                assignment_team,
                self.env["crm.funnel.assignment"]._search([]).subselect(),
            )
        self.env.cr.execute(
            SQL(
                """SELECT COUNT(*) FROM crm_funnel_assignment assignment
                WHERE assignment.user_id IS NOT NULL AND assignment.date >= %s AND assignment.date < %s
                  AND (assignment.company_id = ANY(%s) OR assignment.company_id IS NULL) %s""",
                start,
                end,
                companies.ids,
                assignment_team,
            )
        )
        received = self.env.cr.fetchone()[0]
        return {
            "signings": signings,
            "forward": forward,
            "abandoned": abandoned,
            "received": received,
            "abandon_ratio": abandoned / received if received else 0.0,
        }
