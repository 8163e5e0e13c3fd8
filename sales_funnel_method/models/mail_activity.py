from odoo import models

# Odoo's activity categories that stand for a contact with the customer
CATEGORY_KINDS = {"phonecall": "phone", "meeting": "visit"}


class MailActivity(models.Model):
    _inherit = "mail.activity"

    def _action_done(self, feedback=False, attachment_ids=None):
        """A done activity on a funnel customer is a contact of the tracking record."""
        done = {
            activity.id: (
                activity.res_id,
                CATEGORY_KINDS.get(activity.activity_category, "other"),
            )
            for activity in self
            if activity.res_model == "crm.lead"
        }
        messages, next_activities = super()._action_done(
            feedback=feedback, attachment_ids=attachment_ids
        )
        if done:
            leads = (
                self.env["crm.lead"]
                .browse({res_id for res_id, _kind in done.values()})
                .exists()
            )
            by_kind = {}
            for res_id, kind in done.values():
                if res_id in leads.ids:
                    by_kind.setdefault(kind, set()).add(res_id)
            Contact = self.env["crm.funnel.contact"]
            for kind, lead_ids in by_kind.items():
                funnel_leads = (
                    self.env["crm.lead"].browse(list(lead_ids)).filtered("funnel_layer")
                )
                Contact._funnel_record(
                    funnel_leads, kind, note=feedback, source="activity"
                )
        return messages, next_activities
