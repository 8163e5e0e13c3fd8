from odoo import models


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    def session_info(self):
        """A rep starts the day on My Funnel, a team manager or a director on the
        funnel dashboard (METHOD 6), unless they chose their own home action in their
        preferences: the default of every user of the funnel's roles, present and
        future, without writing to their accounts."""
        info = super().session_info()
        user = self.env.user
        if (
            info.get("uid")
            and not info.get("home_action_id")
            and user._is_internal()
            and user.has_group("sales_funnel_method.sales_funnel_method_group_rep")
        ):
            # directors are team managers too (implied group)
            xmlid = (
                "sales_funnel_method.crm_funnel_dashboard_action"
                if user.has_group(
                    "sales_funnel_method.sales_funnel_method_group_manager"
                )
                else "sales_funnel_method.crm_lead_action_my_funnel"
            )
            action = self.env.ref(xmlid, raise_if_not_found=False)
            info["home_action_id"] = action.id if action else False
        return info
