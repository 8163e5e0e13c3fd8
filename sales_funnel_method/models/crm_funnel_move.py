from odoo import api, fields, models
from odoo.tools import SQL

from .crm_stage import FUNNEL_LAYERS, LAYER_RANK

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
        index=True,
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
    to_layer = fields.Selection(FUNNEL_LAYERS, index=True, readonly=True)
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
    company_id = fields.Many2one("res.company", readonly=True, index=True)
    lost_reason_id = fields.Many2one(
        "crm.lost.reason", readonly=True, ondelete="set null"
    )
    note = fields.Char(
        readonly=True,
        help="Why the move happened, when someone said so: the reason a manager gave "
        "for restoring a customer before the end of its cool-down, or the customer a "
        "merged move comes from.",
    )

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
        ``start`` and ``end``, for the weekly summary and the digest.

        :param readable: count only the moves and assignments the current user may
            read (their record rules), as the digest does for each recipient
        """
        self.flush_model()
        self.env["crm.funnel.assignment"].flush_model()
        team_filter = (
            SQL("AND move.team_id = ANY(%s)", list(team_ids)) if team_ids else SQL()
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
        assignment_team = (
            SQL("AND assignment.team_id = ANY(%s)", list(team_ids))
            if team_ids
            else SQL()
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
