from odoo import Command, api, fields, models
from odoo.exceptions import AccessError

from ..models.crm_funnel_target import MONTH_FIELDS, TARGET_KINDS

DIRECTOR_GROUP = "sales_team.group_sale_manager"


class CrmFunnelTargetGrid(models.TransientModel):
    """The yearly grid of a team's targets for one figure (业绩目标设置): the team's
    own line and one line per member, the twelve months in columns, filled with
    the targets already set. Saving writes them as the user (record rules apply:
    team managers set the targets of the teams they lead, directors any)."""

    _name = "crm.funnel.target.grid"
    _description = "Set a Year's Funnel Targets"

    year = fields.Integer(
        required=True, default=lambda self: fields.Date.context_today(self).year
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        required=True,
        domain="[('id', 'in', allowed_team_ids)]",
        default=lambda self: self._default_team(),
    )
    allowed_team_ids = fields.Many2many("crm.team", compute="_compute_allowed_team_ids")
    kind = fields.Selection(
        TARGET_KINDS, string="Figure", required=True, default="revenue"
    )
    line_ids = fields.One2many("crm.funnel.target.grid.line", "grid_id")

    @api.model
    def _allowed_teams(self):
        Team = self.env["crm.team"]
        domain = [("company_id", "in", [*self.env.companies.ids, False])]
        if not self.env.user.has_group(DIRECTOR_GROUP):
            domain.append(("user_id", "=", self.env.uid))
        return Team.search(domain)

    @api.model
    def _default_team(self):
        return self._allowed_teams()[:1]

    @api.depends_context("uid")
    def _compute_allowed_team_ids(self):
        teams = self._allowed_teams()
        for grid in self:
            grid.allowed_team_ids = teams

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if "line_ids" in fields_list and values.get("team_id"):
            grid = self.new(values)
            values["line_ids"] = [
                Command.create(line) for line in grid._funnel_grid_lines()
            ]
        return values

    @api.onchange("year", "team_id", "kind")
    def _onchange_fill_lines(self):
        self.line_ids = [Command.clear()] + [
            Command.create(line) for line in self._funnel_grid_lines()
        ]

    def _funnel_existing(self):
        """{user id or False: target} of the grid's year, team and figure: the
        team's own target and its members' targets set in this team."""
        self.ensure_one()
        targets = self.env["crm.funnel.target"].search(
            [
                ("year", "=", self.year),
                ("kind", "=", self.kind),
                ("team_id", "=", self.team_id.id),
                "|",
                ("user_id", "=", False),
                ("user_id", "in", self._funnel_members().ids),
            ]
        )
        return {target.user_id.id or False: target for target in targets}

    def _funnel_members(self):
        self.ensure_one()
        members = self.team_id.crm_team_member_ids.filtered(
            lambda member: member.user_id.active
        )
        return members.user_id.sorted("name")

    def _funnel_grid_lines(self):
        """The values of the grid's lines: the team's target, then each member's."""
        self.ensure_one()
        if not self.team_id or not self.year or not self.kind:
            return []
        existing = self._funnel_existing()
        lines = []
        for user in [self.env["res.users"], *self._funnel_members()]:
            target = existing.get(user.id or False)
            lines.append(
                {
                    "user_id": user.id or False,
                    **{name: target[name] if target else 0.0 for name in MONTH_FIELDS},
                }
            )
        return lines

    def action_save(self):
        """Write the grid's targets: change the lines that exist, create the others
        that have a target for at least one month."""
        self.ensure_one()
        if self.team_id not in self._allowed_teams():
            raise AccessError(
                self.env._(
                    "You set the targets of the teams you lead only: %(team)s is led by "
                    "%(manager)s.",
                    team=self.team_id.name,
                    manager=self.team_id.user_id.name or self.env._("nobody"),
                )
            )
        existing = self._funnel_existing()
        to_create = []
        for line in self.line_ids:
            months = {name: line[name] for name in MONTH_FIELDS}
            target = existing.get(line.user_id.id or False)
            if target:
                if any(target[name] != value for name, value in months.items()):
                    target.write(months)
            elif any(months.values()):
                to_create.append(
                    {
                        "year": self.year,
                        "kind": self.kind,
                        "team_id": self.team_id.id,
                        "user_id": line.user_id.id or False,
                        **months,
                    }
                )
        self.env["crm.funnel.target"].create(to_create)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._(
                    "The %(year)s targets of %(team)s are saved.",
                    year=self.year,
                    team=self.team_id.name,
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }


class CrmFunnelTargetGridLine(models.TransientModel):
    _name = "crm.funnel.target.grid.line"
    _inherit = ["crm.funnel.target.months"]
    _description = "A Line of the Yearly Targets Grid"

    grid_id = fields.Many2one(
        "crm.funnel.target.grid", required=True, ondelete="cascade"
    )
    user_id = fields.Many2one("res.users", string="Rep", readonly=True)
    owner = fields.Char(string="Target of", compute="_compute_owner")

    @api.depends("user_id", "grid_id.team_id")
    def _compute_owner(self):
        for line in self:
            line.owner = line.user_id.name or self.env._(
                "%(team)s (the team)", team=line.grid_id.team_id.name or ""
            )
