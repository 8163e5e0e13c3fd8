from odoo import api, models
from odoo.tools import SQL

from .crm_stage import FUNNEL_LAYERS


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

        Two statements whatever the number of customers (install on a CRM in use,
        the mapping wizard, a reinstall): the moves are inserted from the tracking
        and the customers' layer dates set from them, then the new moves' path
        facts are stored (``_funnel_refresh_paths``; above 5,000 customers after
        an ``ANALYZE`` of the history, so that the planner knows its new size). Nothing but the move's own
        fields and the layer date depends on what it writes (checked by the tests).

        :return: the moves created
        """
        Lead = self.env["crm.lead"]
        if not leads:
            return self.browse()
        Lead.flush_model(
            [
                "create_date",
                "date_last_stage_update",
                "stage_id",
                "funnel_layer",
                "user_id",
                "team_id",
                "company_id",
                "lost_reason_id",
            ]
        )
        self.env["crm.stage"].flush_model(["funnel_layer", "funnel_ideal_days"])
        self.flush_model(["lead_id"])
        self.env["mail.message"].flush_model(["model", "res_id", "date", "author_id"])
        self.env["mail.tracking.value"].flush_model(
            ["mail_message_id", "field_id", "old_value_integer", "new_value_integer"]
        )
        stage_field = self.env["ir.model.fields"]._get("crm.lead", "stage_id")
        now = self.env.cr.now()
        # the statement sorts every customer's path three times: in memory, not
        # on disk (PostgreSQL's 4 MB), for the rest of this one-off transaction
        self.env.cr.execute("SET LOCAL work_mem = '64MB'")
        self.env.cr.execute(
            SQL(
                """
            WITH target AS (
                SELECT lead.id, lead.create_date, lead.date_last_stage_update, lead.stage_id,
                       lead.user_id, lead.team_id, lead.company_id, lead.lost_reason_id
                  FROM crm_lead lead
                 WHERE lead.id = ANY(%(leads)s) AND lead.funnel_layer IS NOT NULL
                   AND NOT EXISTS (SELECT 1 FROM crm_funnel_move move WHERE move.lead_id = lead.id)
            ), change AS (
                -- Odoo's tracking of the stage, with the user who wrote it
                SELECT message.res_id AS lead_id, message.date, message.id AS message_id,
                       value.old_value_integer AS old_stage, value.new_value_integer AS new_stage,
                       author.id AS author, target.user_id, target.team_id, target.company_id,
                       target.lost_reason_id, target.date_last_stage_update
                  FROM mail_tracking_value value
                  JOIN mail_message message ON message.id = value.mail_message_id
                  JOIN target ON target.id = message.res_id
             LEFT JOIN (SELECT DISTINCT ON (partner_id) partner_id, id
                          FROM res_users ORDER BY partner_id, id) author
                    ON author.partner_id = message.author_id
                 WHERE message.model = 'crm.lead' AND value.field_id = %(stage_field)s
            ), first_change AS (
                SELECT DISTINCT ON (lead_id) lead_id, date, old_stage
                  FROM change ORDER BY lead_id, date, message_id
            ), point AS (
                -- where each customer stood: its entry (in its first tracked stage at
                -- its creation, or in its stage at its last stage update), then each
                -- tracked change
                SELECT target.id AS lead_id, 0 AS kind, first_change.lead_id IS NOT NULL AS tracked,
                       CASE WHEN first_change.lead_id IS NULL
                            THEN COALESCE(target.date_last_stage_update, target.create_date)
                            ELSE LEAST(target.create_date, first_change.date) END AS date,
                       0 AS message_id,
                       CASE WHEN first_change.lead_id IS NULL THEN target.stage_id
                            ELSE first_change.old_stage END AS stage,
                       NULL::integer AS author, target.user_id, target.team_id, target.company_id,
                       target.lost_reason_id, target.date_last_stage_update
                  FROM target
             LEFT JOIN first_change ON first_change.lead_id = target.id
                UNION ALL
                SELECT lead_id, 1, TRUE, date, message_id, new_stage, author, user_id, team_id,
                       company_id, lost_reason_id, date_last_stage_update
                  FROM change
            ), sequenced AS (
                SELECT point.lead_id, point.kind, point.tracked, point.date, point.message_id,
                       point.author, point.user_id, point.team_id, point.company_id,
                       point.lost_reason_id, point.date_last_stage_update,
                       stage.id AS stage_id, stage.funnel_layer AS layer,
                       LAG(stage.id) OVER path AS from_stage_id,
                       LAG(stage.funnel_layer) OVER path AS from_layer,
                       LAG(stage.funnel_ideal_days) OVER path AS from_ideal_days
                  FROM point
             LEFT JOIN crm_stage stage ON stage.id = point.stage
                WINDOW path AS (PARTITION BY point.lead_id ORDER BY point.kind, point.date, point.message_id)
            ), layer_change AS (
                -- the entry and every change of layer; ``since``: when the customer
                -- entered the layer it leaves
                SELECT sequenced.*,
                       LAG(sequenced.date) OVER (PARTITION BY sequenced.lead_id
                                                 ORDER BY sequenced.kind, sequenced.date,
                                                          sequenced.message_id) AS since
                  FROM sequenced
                 WHERE sequenced.kind = 0 OR sequenced.layer IS DISTINCT FROM sequenced.from_layer
            ), inserted AS (
                INSERT INTO crm_funnel_move (
                    lead_id, date, from_layer, to_layer, from_stage_id, to_stage_id, move_type,
                    skipped_layers, from_ideal_days, days_in_layer, changed_by_id, user_id, team_id,
                    company_id, lost_reason_id, create_uid, create_date, write_uid, write_date)
                SELECT move.lead_id, move.date, move.from_layer, move.layer, move.from_stage_id,
                       move.stage_id,
                       CASE WHEN move.from_layer IS NULL THEN 'entry'
                            WHEN move.layer IS NULL THEN 'exit'
                            WHEN move.layer = 'abandoned' THEN 'abandon'
                            WHEN move.from_layer = 'abandoned' THEN 'reopen'
                            WHEN %(rank_to)s > %(rank_from)s THEN 'forward'
                            ELSE 'backward' END,
                       CASE WHEN move.layer IS NULL OR move.layer = 'abandoned' THEN 0
                            WHEN move.from_layer IS NULL THEN %(rank_to)s - 1
                            WHEN move.from_layer = 'abandoned' THEN 0
                            ELSE GREATEST(%(rank_to)s - %(rank_from)s - 1, 0) END,
                       CASE WHEN move.from_layer IS NOT NULL
                            THEN COALESCE(move.from_ideal_days, 0) ELSE 0 END,
                       CASE WHEN move.from_layer IS NOT NULL AND move.since IS NOT NULL
                            THEN ROUND((EXTRACT(EPOCH FROM move.date - move.since) / 86400)::numeric, 2)
                            ELSE 0 END,
                       move.author, move.user_id, move.team_id, move.company_id,
                       CASE WHEN move.layer = 'abandoned' THEN move.lost_reason_id END,
                       %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM layer_change move
                 WHERE move.layer IS NOT NULL OR move.from_layer IS NOT NULL
             RETURNING id
            ), layer_date AS (
                -- the customers entered their current layer when the history says so
                SELECT DISTINCT ON (last.lead_id) last.lead_id,
                       CASE WHEN last.layer IS NOT NULL OR NOT last.tracked THEN last.date
                            ELSE last.date_last_stage_update END AS date
                  FROM layer_change last
              ORDER BY last.lead_id, last.kind DESC, last.date DESC, last.message_id DESC
            ), updated AS (
                UPDATE crm_lead lead
                   SET funnel_layer_date = layer_date.date, write_uid = %(uid)s, write_date = %(now)s
                  FROM layer_date
                 WHERE lead.id = layer_date.lead_id AND layer_date.date IS NOT NULL
                   AND lead.funnel_layer_date IS DISTINCT FROM layer_date.date
             RETURNING lead.id
            )
            SELECT ARRAY(SELECT id FROM inserted ORDER BY id), ARRAY(SELECT id FROM updated)
                """,
                leads=leads.ids,
                stage_field=stage_field.id,
                rank_to=self._funnel_layer_rank_sql(SQL("move.layer")),
                rank_from=self._funnel_layer_rank_sql(SQL("move.from_layer")),
                uid=self.env.uid,
                now=now,
            )
        )
        move_ids, lead_ids = self.env.cr.fetchone()
        # the path facts of the new history (a statement can't read the rows its
        # own INSERT wrote)
        self._funnel_refresh_paths(leads.ids)
        leads.invalidate_recordset(["funnel_move_ids"])
        leads.modified(["funnel_move_ids"])
        if lead_ids:
            updated = Lead.browse(lead_ids)
            updated.invalidate_recordset(
                ["funnel_layer_date", "write_uid", "write_date"]
            )
            updated.modified(["funnel_layer_date"])
        return self.browse(move_ids)

    @api.model
    def _funnel_layer_rank_sql(self, layer):
        """SQL: the rank of the layer key ``layer`` among every layer (1 resource ...
        8 abandoned), as ``LAYER_RANK``."""
        return SQL(
            "ARRAY_POSITION(%s::varchar[], %s::varchar)",
            [key for key, _label in FUNNEL_LAYERS],
            layer,
        )
