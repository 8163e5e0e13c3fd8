from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.tools import format_amount


class CrmFunnelAllocate(models.TransientModel):
    """Preview, then run, a fat-first allocation of pool customers (METHOD 5)."""

    _name = "crm.funnel.allocate"
    _description = "Allocate Pool Customers"
    _check_company_auto = True

    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda self: self.env.company,
        readonly=True,
    )
    lead_ids = fields.Many2many(
        "crm.lead",
        string="Customers",
        check_company=True,
        help="The pool customers to allocate; all of the pool when left empty.",
    )
    state = fields.Selection(
        [("preview", "Preview"), ("done", "Done")], default="preview", readonly=True
    )
    candidate_count = fields.Integer(
        string="Pool Customers", compute="_compute_preview"
    )
    planned_count = fields.Integer(string="To Allocate", compute="_compute_preview")
    preview_html = fields.Html(
        string="Preview", compute="_compute_preview", sanitize=False
    )
    result_html = fields.Html(string="Result", readonly=True, sanitize=False)

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if self.env.context.get("active_model") == "crm.lead" and self.env.context.get(
            "active_ids"
        ):
            values["lead_ids"] = [(6, 0, self.env.context["active_ids"])]
        return values

    def _candidates(self):
        self.ensure_one()
        service = self.env["crm.funnel.allocation"]
        # whatever company a client sends, the wizard acts in one the user works in
        service._funnel_check_company(self.company_id)
        domain = service._funnel_pool_domain(self.company_id)
        if self.lead_ids:
            domain += [("id", "in", self.lead_ids.ids)]
        return self.env["crm.lead"].sudo().search(domain)

    @api.depends("lead_ids", "company_id", "state")
    def _compute_preview(self):
        service = self.env["crm.funnel.allocation"]
        for wizard in self:
            candidates = wizard._candidates()
            force = service._funnel_sales_force(wizard.company_id)
            capacity = {
                uid: rep["quota"] - rep["holdings"] for uid, rep in force.items()
            }
            # the service's own ranking (teams, then reps), before the plan fills them
            ranking = service._funnel_ranking(force)
            plan = service._funnel_plan(candidates, wizard.company_id, force=force)
            wizard.candidate_count = len(candidates)
            wizard.planned_count = len(plan)
            wizard.preview_html = wizard._render_table(
                service._funnel_plan_summary(plan), capacity, ranking=ranking
            )

    def _preview_lines(self, summary, ranking):
        """The preview's lines, the sales force in its fat-first order: each rep's
        rank and sales totals (the team's and their own) beside what they would
        receive, nothing included. ``ranking`` is the allocation service's own
        (``crm.funnel.allocation._funnel_ranking``)."""
        lines = []
        for entry in ranking:
            uid = entry["user_id"]
            received = [
                (team_id, line)
                for (line_uid, team_id), line in summary.items()
                if line_uid == uid
            ] or [(entry["team_id"], {"a": 0, "b": 0, "c": 0, "none": 0, "total": 0})]
            lines += [(uid, team_id, line, entry) for team_id, line in received]
        return lines

    def _render_table(self, summary, capacity=None, ranking=None):
        users = self.env["res.users"].sudo()
        teams = self.env["crm.team"].sudo()
        company = self.company_id or self.env.company
        head = [self.env._("Rep"), self.env._("Team")]
        if ranking is not None:
            head += [
                self.env._("Rank"),
                self.env._("Team Sales Total"),
                self.env._("Sales Total"),
            ]
        head += ["A", "B", "C", self.env._("Ungraded"), self.env._("Total")]
        if capacity is not None:
            head.append(self.env._("Free Capacity"))
        if ranking is not None:
            lines = self._preview_lines(summary, ranking)
        else:
            lines = [
                (uid, team_id, line, None)
                for (uid, team_id), line in sorted(
                    summary.items(), key=lambda item: -item[1]["total"]
                )
            ]
        rows = []
        currency = company.currency_id
        for uid, team_id, line, entry in lines:
            cells = [
                escape(users.browse(uid).name),
                escape(teams.browse(team_id).name or ""),
            ]
            if entry is not None:
                cells += [
                    entry["rank"],
                    escape(format_amount(self.env, entry["team_won"], currency)),
                    escape(format_amount(self.env, entry["won"], currency)),
                ]
            cells += [line["a"], line["b"], line["c"], line["none"], line["total"]]
            if capacity is not None:
                cells.append(capacity.get(uid, 0))
            row_class = (
                "o_funnel_allocation_line"
                if line["total"]
                else "o_funnel_allocation_idle text-muted"
            )
            rows.append(
                Markup("<tr class='%s'>%s</tr>")
                % (
                    row_class,
                    Markup("").join(Markup("<td>%s</td>") % cell for cell in cells),
                )
            )
        if ranking is not None and not summary:
            rows = []
        if not rows:
            return Markup("<p class='text-muted'>%s</p>") % self.env._(
                "Nobody can receive these customers: no rep has free capacity, or the pool is empty."
            )
        return Markup(
            "<table class='table table-sm o_funnel_allocation_table'><thead><tr>%s</tr></thead>"
            "<tbody>%s</tbody></table>"
        ) % (
            Markup("").join(Markup("<th>%s</th>") % title for title in head),
            Markup("").join(rows),
        )

    def action_allocate(self):
        self.ensure_one()
        service = self.env["crm.funnel.allocation"]
        candidates = self._candidates()
        assignments = service._funnel_allocate(candidates, company=self.company_id)
        summary = {}
        for assignment in assignments:
            line = summary.setdefault(
                (assignment.user_id.id, assignment.team_id.id),
                {"a": 0, "b": 0, "c": 0, "none": 0, "total": 0},
            )
            line[assignment.grade or "none"] += 1
            line["total"] += 1
        left = len(candidates) - len(assignments)
        self.write(
            {
                "state": "done",
                "result_html": Markup("<p>%s</p>")
                % self.env._(
                    "%(count)s customers allocated to %(reps)s reps; %(left)s stay in the pool.",
                    count=len(assignments),
                    reps=len(assignments.user_id),
                    left=left,
                )
                + self._render_table(summary),
            }
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Allocation Done"),
        }
