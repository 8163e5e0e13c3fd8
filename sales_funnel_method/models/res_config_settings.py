from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    funnel_quota = fields.Integer(related="company_id.funnel_quota", readonly=False)
    funnel_ranking_days = fields.Integer(related="company_id.funnel_ranking_days", readonly=False)
    funnel_cooldown_days = fields.Integer(related="company_id.funnel_cooldown_days", readonly=False)
    funnel_discoverer_allowance = fields.Integer(
        related="company_id.funnel_discoverer_allowance", readonly=False
    )
    funnel_auto_allocate = fields.Boolean(related="company_id.funnel_auto_allocate", readonly=False)
