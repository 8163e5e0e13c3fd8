from odoo import fields, models
from odoo.tools import SQL

SUPPORT_GROUP = ("sales_funnel_method", "sales_funnel_method_group_support")


class CrmFunnelReportSupport(models.Model):
    """The support group's figures (支持组的考核), per member and period.

    - Resources registered: customers the member entered into the funnel.
    - Graded or cleaned: customers the member moved from Resource to Graded,
      graded or re-graded (the grade's tracking), or abandoned from Resource or
      Graded (cleaned out of the pool); a grade's change the same day as such a
      move of the same customer is not counted again.
    - Customers allocated: assignments to a rep the member made, by the fat-first
      allocation or directly.
    - Hand-overs done: the leaving reps' hand-overs the member ran.
    - Duplicates caught: the new customers the member entered (created or
      imported) that the duplicate check warned of (``crm.funnel.duplicate``).
      A customer the check refuses is not created, and its catch is not counted.

    Members are the users of the Support Group; the figures come from the move
    history, the grade's tracking, the assignments and the hand-overs.
    """

    _name = "crm.funnel.report.support"
    _inherit = ["crm.funnel.report.mixin"]
    _description = "Funnel Support Group Figures"
    _auto = False
    _order = "date desc"
    _rec_name = "user_id"
    _depends = {
        "crm.funnel.move": [
            "lead_id",
            "date",
            "from_layer",
            "to_layer",
            "move_type",
            "changed_by_id",
            "company_id",
        ],
        "crm.funnel.assignment": [
            "date",
            "kind",
            "user_id",
            "assigned_by_id",
            "company_id",
        ],
        "crm.funnel.handover": ["date", "done_by_id", "company_id"],
        "crm.funnel.duplicate": ["date", "user_id", "company_id"],
        "crm.lead": ["company_id"],
    }

    date = fields.Datetime(readonly=True)
    user_id = fields.Many2one("res.users", string="Support Member", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    registered_count = fields.Integer(
        string="Resources Registered", readonly=True, aggregator="sum"
    )
    graded_count = fields.Integer(
        string="Graded or Cleaned", readonly=True, aggregator="sum"
    )
    allocated_count = fields.Integer(
        string="Customers Allocated", readonly=True, aggregator="sum"
    )
    handover_count = fields.Integer(
        string="Hand-overs Done", readonly=True, aggregator="sum"
    )
    duplicate_count = fields.Integer(
        string="Duplicates Caught", readonly=True, aggregator="sum"
    )

    def _funnel_duplicates_sql(self):
        """The duplicates the support group caught (查重): rows (id, date, user_id,
        company_id) of one catch each, ``user_id`` the member who entered the
        customer the duplicate check warned of."""
        return SQL("SELECT id, date, user_id, company_id FROM crm_funnel_duplicate")

    def _query(self):
        module, name = SUPPORT_GROUP
        # ids: the source's id times 8, plus the source's number. Every branch keeps
        # to the members' rows and is a plain scan, so that a period reaches the
        # tables' date indexes.
        grading = SQL(
            """((move.from_layer = 'resource' AND move.to_layer = 'graded')
                OR (move.move_type = 'abandon' AND move.from_layer IN ('resource', 'graded')))"""
        )
        return SQL(
            """
            WITH member AS (
                SELECT DISTINCT rel.uid AS user_id
                  FROM res_groups_users_rel rel
                  JOIN ir_model_data data ON data.res_id = rel.gid
                   AND data.model = 'res.groups' AND data.module = %(module)s
                   AND data.name = %(name)s
            )
            SELECT move.id * 8 AS id, move.date, move.changed_by_id AS user_id,
                   move.company_id, 1 AS registered_count, 0 AS graded_count,
                   0 AS allocated_count, 0 AS handover_count, 0 AS duplicate_count
              FROM crm_funnel_move move
             WHERE move.move_type = 'entry'
               AND move.changed_by_id IN (SELECT user_id FROM member)
            UNION ALL
            SELECT move.id * 8 + 1, move.date, move.changed_by_id, move.company_id,
                   0, 1, 0, 0, 0
              FROM crm_funnel_move move
             WHERE %(grading)s AND move.changed_by_id IN (SELECT user_id FROM member)
            UNION ALL
            -- a grade set or changed without such a move that day (the grade's tracking)
            SELECT tracking.id * 8 + 2, message.date, users.id, lead.company_id,
                   0, 1, 0, 0, 0
              FROM mail_tracking_value tracking
              JOIN ir_model_fields field ON field.id = tracking.field_id
               AND field.model = 'crm.lead' AND field.name = 'funnel_grade'
              JOIN mail_message message ON message.id = tracking.mail_message_id
               AND message.model = 'crm.lead'
              JOIN crm_lead lead ON lead.id = message.res_id
              JOIN res_users users ON users.partner_id = message.author_id
             WHERE users.id IN (SELECT user_id FROM member)
               AND NOT EXISTS (
                   SELECT 1 FROM crm_funnel_move move
                    WHERE move.lead_id = lead.id AND move.changed_by_id = users.id
                      AND %(grading)s
                      AND date_trunc('day', move.date) = date_trunc('day', message.date))
            UNION ALL
            SELECT assignment.id * 8 + 3, assignment.date, assignment.assigned_by_id,
                   assignment.company_id, 0, 0, 1, 0, 0
              FROM crm_funnel_assignment assignment
             WHERE assignment.user_id IS NOT NULL
               AND assignment.kind IN ('allocation', 'manual')
               AND assignment.assigned_by_id IN (SELECT user_id FROM member)
            UNION ALL
            SELECT handover.id * 8 + 4, handover.date, handover.done_by_id,
                   handover.company_id, 0, 0, 0, 1, 0
              FROM crm_funnel_handover handover
             WHERE handover.done_by_id IN (SELECT user_id FROM member)
            UNION ALL
            SELECT duplicate.id * 8 + 5, duplicate.date, duplicate.user_id,
                   duplicate.company_id, 0, 0, 0, 0, 1
              FROM (%(duplicates)s) duplicate
             WHERE duplicate.user_id IN (SELECT user_id FROM member)
            """,
            module=module,
            name=name,
            grading=grading,
            duplicates=self._funnel_duplicates_sql(),
        )
