from odoo import api, fields, models

from ..models.crm_lead import GRADES
from ..models.crm_stage import FUNNEL_LAYERS, GRADED_LAYERS


class CrmFunnelMapping(models.TransientModel):
    """Map a CRM already in use onto the funnel (adoption).

    Each existing stage is mapped to a layer; its customers then carry that
    layer, and their move history is back-filled from Odoo's stage tracking.
    Optionally, the customers then move onto the addon's own eight stages.
    """

    _name = "crm.funnel.mapping"
    _description = "Map Stages to Funnel Layers"

    line_ids = fields.One2many("crm.funnel.mapping.line", "mapping_id", string="Stages")
    adopt = fields.Boolean(
        string="Move Customers onto the Eight Layers",
        help="After mapping, move the customers of the mapped stages onto the funnel's own "
        "stages of the same layer (the pipeline becomes the funnel). Leave unchecked to keep "
        "your own stages, each standing for a layer.",
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Only for Sales Team",
        help="Move only this team's customers onto the eight layers.",
    )
    default_grade = fields.Selection(
        GRADES,
        string="Grade Ungraded Customers",
        help="Customers in Graded or a later layer have a grade (A, B or C). The active "
        "customers of stages mapped to those layers that have none get this grade; "
        "leave empty to grade them yourself first.",
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if "line_ids" in fields_list:
            funnel = self.env["crm.stage"].search(
                [("id", "in", self._funnel_own_stages().ids)]
            )
            stages = self.env["crm.stage"].search([("id", "not in", funnel.ids)])
            values["line_ids"] = [
                (0, 0, {"stage_id": stage.id, "funnel_layer": stage.funnel_layer})
                for stage in stages
            ]
        return values

    @api.model
    def _funnel_own_stages(self):
        stages = self.env["crm.stage"]
        for key, _label in FUNNEL_LAYERS:
            stages |= (
                self.env.ref(
                    f"sales_funnel_method.crm_stage_{key}", raise_if_not_found=False
                )
                or stages
            )
        return stages

    def action_apply(self):
        self.ensure_one()
        changed = self.line_ids.filtered(
            lambda line: line.funnel_layer != line.stage_id.funnel_layer
        )
        Move = self.env["crm.funnel.move"].sudo()
        moves_before = Move.search_count([])
        if self.default_grade:
            # stages are shared by every company: so is their mapping
            graded = changed.filtered(lambda line: line.funnel_layer in GRADED_LAYERS)
            self.env["crm.lead"].sudo().search(
                [("stage_id", "in", graded.stage_id.ids), ("funnel_grade", "=", False)]
            ).write({"funnel_grade": self.default_grade})
        # every line is checked before any stage changes
        Lead = self.env["crm.lead"].sudo().with_context(active_test=False)
        for line in changed:
            leads = Lead.search([("stage_id", "=", line.stage_id.id)])
            if leads:
                line.stage_id._funnel_check_remap(leads, line.funnel_layer)
        # each stage that changes layer moves its customers, with their history
        for line in changed:
            line.stage_id.funnel_layer = line.funnel_layer
        mapped = self.line_ids.filtered("funnel_layer").stage_id
        leads = (
            self.env["crm.lead"]
            .with_context(active_test=False)
            .search([("stage_id", "in", mapped.ids)])
        )
        Move._funnel_backfill(leads)
        moved = 0
        if self.adopt:
            before = (
                self.env["crm.lead"]
                .with_context(active_test=False)
                .search_count([("stage_id", "in", mapped.ids)])
            )
            self.env["crm.stage"]._funnel_adopt_stages(
                {
                    line.stage_id.id: line.funnel_layer
                    for line in self.line_ids
                    if line.funnel_layer
                },
                default_grade=self.default_grade or False,
                team=self.team_id or None,
            )
            moved = before - self.env["crm.lead"].with_context(
                active_test=False
            ).search_count([("stage_id", "in", mapped.ids)])
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._(
                    "%(stages)s stages mapped, %(moves)s moves recorded or back-filled from the history, "
                    "%(moved)s customers moved onto the eight layers.",
                    stages=len(changed),
                    moves=Move.search_count([]) - moves_before,
                    moved=moved,
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }


class CrmFunnelMappingLine(models.TransientModel):
    _name = "crm.funnel.mapping.line"
    _description = "Stage to Funnel Layer"

    mapping_id = fields.Many2one(
        "crm.funnel.mapping", required=True, ondelete="cascade"
    )
    stage_id = fields.Many2one("crm.stage", required=True, readonly=True)
    team_id = fields.Many2one(related="stage_id.team_id")
    is_won = fields.Boolean(related="stage_id.is_won")
    lead_count = fields.Integer(string="Customers", compute="_compute_lead_count")
    funnel_layer = fields.Selection(FUNNEL_LAYERS)

    @api.depends("stage_id")
    def _compute_lead_count(self):
        counts = dict(
            self.env["crm.lead"]
            .with_context(active_test=False)
            ._read_group(
                [("stage_id", "in", self.stage_id.ids)], ["stage_id"], ["__count"]
            )
        )
        for line in self:
            line.lead_count = counts.get(line.stage_id, 0)
