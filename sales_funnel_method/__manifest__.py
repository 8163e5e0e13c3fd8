{
    "name": "Sales Funnel Method",
    "summary": "Run Odoo CRM as the eight-layer sales funnel: layers, A/B/C grading, "
    "ideal state and the history of every move between layers",
    "version": "18.0.1.0.0",
    "category": "Sales/CRM",
    "website": "https://github.com/sales-funnel-method/sales_funnel_method",
    "author": "Sales Funnel Method contributors",
    "license": "LGPL-3",
    "application": False,
    "installable": True,
    "depends": ["crm"],
    "data": [
        "security/sales_funnel_method_security.xml",
        "security/ir.model.access.csv",
        "data/crm_stage_data.xml",
        "data/ir_cron_data.xml",
        "views/crm_stage_views.xml",
        "views/crm_funnel_move_views.xml",
        "views/crm_funnel_assignment_views.xml",
        "views/crm_funnel_exception_views.xml",
        "views/crm_lead_views.xml",
        "views/crm_lead_worklist_views.xml",
        "report/crm_funnel_report_holding_views.xml",
        "views/crm_team_member_views.xml",
        "views/res_config_settings_views.xml",
        "wizard/crm_funnel_allocate_views.xml",
        "wizard/crm_funnel_handover_wizard_views.xml",
        "views/sales_funnel_method_menus.xml",
    ],
    "demo": [
        "demo/sales_funnel_demo.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "sales_funnel_method/static/src/scss/sales_funnel.scss",
            "sales_funnel_method/static/src/views/*",
        ],
        "web.assets_tests": [
            "sales_funnel_method/static/tests/tours/*.js",
        ],
    },
    "post_init_hook": "post_init_hook",
}
