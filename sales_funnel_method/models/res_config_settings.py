from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    funnel_quota = fields.Integer(related="company_id.funnel_quota", readonly=False)
    funnel_ranking_days = fields.Integer(
        related="company_id.funnel_ranking_days", readonly=False
    )
    funnel_cooldown_days = fields.Integer(
        related="company_id.funnel_cooldown_days", readonly=False
    )
    funnel_discoverer_allowance = fields.Integer(
        related="company_id.funnel_discoverer_allowance", readonly=False
    )
    funnel_auto_allocate = fields.Boolean(
        related="company_id.funnel_auto_allocate", readonly=False
    )
    funnel_allocate_in_team = fields.Boolean(
        related="company_id.funnel_allocate_in_team", readonly=False
    )
    funnel_fast_mover_share = fields.Float(
        related="company_id.funnel_fast_mover_share", readonly=False
    )
    funnel_exception_days = fields.Integer(
        related="company_id.funnel_exception_days", readonly=False
    )
    funnel_exception_min_sample = fields.Integer(
        related="company_id.funnel_exception_min_sample", readonly=False
    )
    funnel_exception_out_of_funnel_share = fields.Float(
        related="company_id.funnel_exception_out_of_funnel_share", readonly=False
    )
    funnel_exception_intent_min = fields.Integer(
        related="company_id.funnel_exception_intent_min", readonly=False
    )
    funnel_exception_intent_signing_ratio = fields.Float(
        related="company_id.funnel_exception_intent_signing_ratio", readonly=False
    )
    funnel_exception_rate_tolerance = fields.Float(
        related="company_id.funnel_exception_rate_tolerance", readonly=False
    )
    funnel_exception_abandon_ratio = fields.Float(
        related="company_id.funnel_exception_abandon_ratio", readonly=False
    )
    funnel_exception_overdue_factor = fields.Float(
        related="company_id.funnel_exception_overdue_factor", readonly=False
    )
    funnel_exception_holding_share = fields.Float(
        related="company_id.funnel_exception_holding_share", readonly=False
    )
    funnel_probability = fields.Selection(
        related="company_id.funnel_probability", readonly=False
    )
    funnel_probability_days = fields.Integer(
        related="company_id.funnel_probability_days", readonly=False
    )
    funnel_return_contact_days = fields.Integer(
        related="company_id.funnel_return_contact_days", readonly=False
    )
    funnel_return_contact_days_a = fields.Integer(
        related="company_id.funnel_return_contact_days_a", readonly=False
    )
    funnel_return_contact_days_b = fields.Integer(
        related="company_id.funnel_return_contact_days_b", readonly=False
    )
    funnel_return_contact_days_c = fields.Integer(
        related="company_id.funnel_return_contact_days_c", readonly=False
    )
    funnel_return_sign_days = fields.Integer(
        related="company_id.funnel_return_sign_days", readonly=False
    )
    funnel_return_notice_days = fields.Integer(
        related="company_id.funnel_return_notice_days", readonly=False
    )
    funnel_return_bar_days = fields.Integer(
        related="company_id.funnel_return_bar_days", readonly=False
    )
    funnel_lock_limit = fields.Integer(
        related="company_id.funnel_lock_limit", readonly=False
    )
    funnel_claim_daily_limit = fields.Integer(
        related="company_id.funnel_claim_daily_limit", readonly=False
    )
    funnel_mask_pool_contacts = fields.Boolean(
        related="company_id.funnel_mask_pool_contacts", readonly=False
    )
    funnel_duplicate_check = fields.Selection(
        related="company_id.funnel_duplicate_check", readonly=False
    )
