from collections import defaultdict

from odoo import api, models
from odoo.tools import SQL


class CrmFunnelMove(models.Model):
    _inherit = "crm.funnel.move"

    @api.model
    def _funnel_backfill(self, leads):
        """Write the move history of customers that have none yet, from Odoo's own
        tracking of their stage (adoption on a CRM already in use).

        Each tracked stage change between two layers becomes a move at the date
        of its tracking message, by its author; the customer entered the funnel
        at its creation in the layer of its first tracked stage. A customer with
        no tracked change gets one entry dated from its last stage update.
        Customers that already have moves are left alone.

        :return: the moves created
        """
        leads = leads.with_context(active_test=False).filtered("funnel_layer")
        if not leads:
            return self.browse()
        self.flush_model(["lead_id"])
        self.env.cr.execute(
            SQL(
                "SELECT DISTINCT lead_id FROM crm_funnel_move WHERE lead_id = ANY(%s)",
                leads.ids,
            )
        )
        has_history = {row[0] for row in self.env.cr.fetchall()}
        leads = leads.filtered(lambda lead: lead.id not in has_history)
        if not leads:
            return self.browse()
        stage_field = self.env["ir.model.fields"]._get("crm.lead", "stage_id")
        self.env.cr.execute(
            SQL(
                """SELECT message.res_id, message.date, value.old_value_integer, value.new_value_integer,
                          author.id
                     FROM mail_tracking_value value
                     JOIN mail_message message ON message.id = value.mail_message_id
                LEFT JOIN res_users author ON author.partner_id = message.author_id
                    WHERE message.model = 'crm.lead' AND message.res_id = ANY(%s) AND value.field_id = %s
                 ORDER BY message.res_id, message.date, message.id""",
                leads.ids,
                stage_field.id,
            )
        )
        changes = defaultdict(list)
        for lead_id, date, old_stage, new_stage, author in self.env.cr.fetchall():
            changes[lead_id].append((date, old_stage, new_stage, author))
        stages = self.env["crm.stage"].with_context(active_test=False).search([])
        layer_of = {stage.id: stage.funnel_layer for stage in stages}
        ideal_of = {stage.id: stage.funnel_ideal_days for stage in stages}

        vals_list, layer_dates = [], {}
        for lead in leads:
            tracked = changes.get(lead.id)
            if not tracked:
                date = lead.date_last_stage_update or lead.create_date
                vals_list.append(
                    self._funnel_backfill_values(
                        lead, date, False, lead.stage_id.id, None, layer_of, ideal_of
                    )
                )
                layer_dates[lead.id] = date
                continue
            first_stage = tracked[0][1]
            entered = min(lead.create_date, tracked[0][0])
            vals_list.append(
                self._funnel_backfill_values(
                    lead, entered, False, first_stage, None, layer_of, ideal_of
                )
            )
            current_stage, since = first_stage, entered
            if not layer_of.get(first_stage):
                since = None
            for date, _old, new_stage, author in tracked:
                if layer_of.get(new_stage) != layer_of.get(current_stage):
                    vals_list.append(
                        self._funnel_backfill_values(
                            lead,
                            date,
                            current_stage,
                            new_stage,
                            author,
                            layer_of,
                            ideal_of,
                            since=since,
                        )
                    )
                    since = date if layer_of.get(new_stage) else None
                current_stage = new_stage
            layer_dates[lead.id] = since or lead.date_last_stage_update
        moves = self.sudo().create([vals for vals in vals_list if vals])
        # the customers entered their current layer when the history says so
        for lead in leads:
            if layer_dates.get(lead.id):
                lead.sudo().with_context(
                    tracking_disable=True
                ).funnel_layer_date = layer_dates[lead.id]
        return moves

    @api.model
    def _funnel_backfill_values(
        self, lead, date, from_stage, to_stage, author, layer_of, ideal_of, since=None
    ):
        from_layer, to_layer = (
            layer_of.get(from_stage) or False,
            layer_of.get(to_stage) or False,
        )
        if not from_layer and not to_layer:
            return None
        return {
            "lead_id": lead.id,
            "date": date,
            "from_layer": from_layer,
            "to_layer": to_layer,
            "from_stage_id": from_stage or False,
            "to_stage_id": to_stage or False,
            "move_type": self._funnel_move_type(from_layer, to_layer),
            "skipped_layers": self._funnel_skipped_layers(from_layer, to_layer),
            "from_ideal_days": ideal_of.get(from_stage, 0) if from_layer else 0,
            "days_in_layer": (date - since).total_seconds() / 86400
            if since and from_layer
            else 0.0,
            "changed_by_id": author or False,
            "user_id": lead.user_id.id,
            "team_id": lead.team_id.id,
            "company_id": lead.company_id.id,
            "lost_reason_id": lead.lost_reason_id.id
            if to_layer == "abandoned"
            else False,
        }
