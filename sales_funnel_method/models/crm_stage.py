from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

# The eight layers of the method (METHOD 1), top of the funnel first. Layers 1-7
# are the funnel; "abandoned" stands beside it.
FUNNEL_LAYERS = [
    ("resource", "Resource"),
    ("graded", "Graded"),
    ("contacted", "Contacted"),
    ("lead", "Lead"),
    ("intent", "Intent"),
    ("signed", "Signed"),
    ("implemented", "Implemented"),
    ("abandoned", "Abandoned"),
]
LAYER_RANK = {key: rank for rank, (key, _label) in enumerate(FUNNEL_LAYERS, start=1)}
# A customer may not reach these layers from resource/graded without a grade (METHOD 3).
LAYERS_PAST_GRADED = frozenset(["contacted", "lead", "intent", "signed", "implemented"])
# A customer in any of these layers has a grade: it gets one to enter Graded (METHOD 3).
GRADED_LAYERS = frozenset(["graded", *LAYERS_PAST_GRADED])
# Layers whose stages must be won stages (METHOD 1).
WON_LAYERS = frozenset(["signed", "implemented"])
# The working layers whose customers count against a rep's quota (METHOD 4).
HOLDING_LAYERS = ("resource", "graded", "contacted", "lead", "intent")


class CrmStage(models.Model):
    _inherit = "crm.stage"

    funnel_layer = fields.Selection(
        FUNNEL_LAYERS,
        index=True,
        copy=False,
        help="The layer of the sales funnel this stage stands for. Customers in this "
        "stage are in this layer. Several stages may map to one layer; a stage "
        "without a layer is outside the funnel.",
    )
    funnel_ideal_days = fields.Integer(
        string="Ideal Move Days",
        help="How many days a customer should stay in this layer before moving on "
        "(移动日). A customer in the layer longer than this is overdue. 0: no ideal.",
    )
    funnel_ideal_reach_rate = fields.Float(
        string="Ideal Reach Rate (%)",
        digits=(5, 2),
        help="Share of the resources that should reach this layer, counted from the "
        "top of the funnel (移动率): of 100 resources, 90 reach Contacted, 10 sign. "
        "0: no ideal.",
    )
    funnel_ideal_holding = fields.Integer(
        string="Ideal Holding per Rep",
        help="How many customers one rep should hold in this layer (理想拥有数). 0: no ideal.",
    )
    funnel_standard = fields.Text(
        string="Layer Standard",
        translate=True,
        help="When a customer belongs in this layer: the standard state of the layer.",
    )
    funnel_method_hints = fields.Text(
        string="Sales Methods",
        translate=True,
        help="The sales methods recommended to reps for customers in this layer.",
    )

    _sql_constraints = [
        (
            "funnel_ideal_days_positive",
            "CHECK(funnel_ideal_days >= 0)",
            "The ideal move days of a layer cannot be negative.",
        ),
        (
            "funnel_ideal_reach_rate_range",
            "CHECK(funnel_ideal_reach_rate >= 0 AND funnel_ideal_reach_rate <= 100)",
            "The ideal reach rate of a layer is a percentage between 0 and 100.",
        ),
        (
            "funnel_ideal_holding_positive",
            "CHECK(funnel_ideal_holding >= 0)",
            "The ideal holding per rep of a layer cannot be negative.",
        ),
    ]

    @api.constrains("funnel_layer", "is_won")
    def _check_funnel_layer_is_won(self):
        for stage in self:
            if stage.funnel_layer in WON_LAYERS and not stage.is_won:
                raise ValidationError(
                    self.env._(
                        "Stage “%(stage)s” is mapped to the layer %(layer)s: it must be a won stage.",
                        stage=stage.name,
                        layer=stage._funnel_layer_label(),
                    )
                )
            if (
                stage.is_won
                and stage.funnel_layer
                and stage.funnel_layer not in WON_LAYERS
            ):
                raise ValidationError(
                    self.env._(
                        "Stage “%(stage)s” is a won stage: it can only be mapped to the "
                        "Signed or Implemented layer, not to %(layer)s.",
                        stage=stage.name,
                        layer=stage._funnel_layer_label(),
                    )
                )

    def write(self, vals):
        """A stage that changes layer moves its customers with it: each gets a move
        in the history (a back-filled history when it had none), under the same rules
        as any other move. Never customers in a new layer without a move."""
        if "funnel_layer" not in vals:
            return super().write(vals)
        service = self.env["crm.funnel.allocation"]
        if not service._funnel_is_allocator():
            # a stage's layer moves its customers: the pool's rules and the history
            # are the support group's and the directors' (team managers edit the
            # layers' ideal state)
            raise AccessError(
                self.env._(
                    "Only the support group and directors map stages to funnel layers: "
                    "it moves the stages' customers between layers."
                )
            )
        new_layer = vals["funnel_layer"] or False
        changing = self.filtered(lambda stage: stage.funnel_layer != new_layer)
        Lead = self.env["crm.lead"].sudo().with_context(active_test=False)
        leads = Lead.search([("stage_id", "in", changing.ids)]) if changing else Lead
        if leads and not self.env.su:
            # (the addon's own data and hooks, as superuser, restore layers after a
            # reinstall: the grades went with the uninstall, the history comes back)
            self._funnel_check_remap(leads, new_layer)
        before = {
            lead.id: (
                lead.stage_id,
                lead.funnel_layer,
                lead.funnel_layer_date,
                lead.user_id,
            )
            for lead in leads
        }
        result = super().write(vals)
        if leads:
            Move = self.env["crm.funnel.move"]
            leads.invalidate_recordset(["funnel_layer"])
            Move.flush_model(["lead_id"])
            self.env.cr.execute(
                SQL(
                    "SELECT DISTINCT lead_id FROM crm_funnel_move WHERE lead_id = ANY(%s)",
                    leads.ids,
                )
            )
            has_history = {row[0] for row in self.env.cr.fetchall()}
            new = leads.filtered(lambda lead: lead.id not in has_history)
            if new:
                # customers entering the funnel: their history from Odoo's tracking
                Move._funnel_backfill(new)
            moved = leads - new
            if moved:
                moved._funnel_record_moves({lead.id: before[lead.id] for lead in moved})
                moved.with_context(tracking_disable=True).write(
                    {"funnel_layer_date": fields.Datetime.now()}
                )
        return result

    def _funnel_check_remap(self, leads, new_layer):
        """Refuse a new layer its customers could not enter by a move. Stages are
        shared by every company: the check counts every customer, and names only
        those the user may read."""
        readable = leads.with_user(self.env.user)._filtered_access("read")
        active = leads.filtered("active")
        cooling = leads.filtered(
            lambda lead: not lead.active and lead.funnel_layer == "abandoned"
        )
        if cooling and new_layer != "abandoned":
            raise UserError(
                self.env._(
                    "%(count)s abandoned customers of these stages cool down in the "
                    "Abandoned layer: a stage holding them stays in it. Map another stage "
                    "instead, or restore these customers first.",
                    count=len(cooling),
                )
            )
        if new_layer in GRADED_LAYERS:
            ungraded = active.filtered(lambda lead: not lead.funnel_grade)
            if ungraded:
                raise UserError(
                    self.env._(
                        "%(count)s customers of these stages have no grade, and the layer "
                        "%(layer)s needs one (A, B or C). Grade them first, or map the stages "
                        "with Map Stages to Layers, which grades them for you: %(customers)s",
                        count=len(ungraded),
                        layer=dict(
                            self._fields["funnel_layer"]._description_selection(
                                self.env
                            )
                        )[new_layer],
                        customers=", ".join(
                            (ungraded & readable)[:10].mapped("display_name")
                        ),
                    )
                )
        if new_layer == "abandoned" and active:
            raise UserError(
                self.env._(
                    "%(count)s customers of these stages are active: the Abandoned layer "
                    "holds abandoned (lost) customers only. Mark them as lost first, or map "
                    "the stages to another layer.",
                    count=len(active),
                )
            )

    def _funnel_layer_label(self):
        self.ensure_one()
        return dict(self._fields["funnel_layer"]._description_selection(self.env)).get(
            self.funnel_layer, ""
        )

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    @api.model
    def _funnel_adopt_stages(self, layer_by_stage, default_grade="b", team=None):
        """Move the customers of existing stages onto the funnel's own layers.

        :param dict layer_by_stage: stage id -> layer key; the customers of each
            stage move to the first stage of that layer. Lost customers go to the
            abandoned layer instead.
        :param str default_grade: grade given to ungraded customers that land
            past the graded layer from outside it (they could not get there
            otherwise); False to grade nobody
        :param team: only move the customers of this sales team, which then
            works the funnel
        Every move is recorded in the move history, as any other move.
        """
        if team:
            team.use_funnel = True
        Lead = self.env["crm.lead"].with_context(active_test=False)
        for stage_id, layer in layer_by_stage.items():
            domain = [("stage_id", "=", stage_id)]
            if team:
                domain.append(("team_id", "=", team.id))
            leads = Lead.search(domain)
            lost = leads.filtered(lambda lead: not lead.active)
            if lost:
                lost.write({"stage_id": lost._funnel_layer_stage("abandoned").id})
            active = leads - lost
            if not active:
                continue
            if layer in GRADED_LAYERS and default_grade:
                active.filtered(lambda lead: not lead.funnel_grade).write(
                    {"funnel_grade": default_grade}
                )
            active.write({"stage_id": active._funnel_layer_stage(layer).id})
