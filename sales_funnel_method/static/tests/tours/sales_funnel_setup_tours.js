/** @odoo-module **/

import { registry } from "@web/core/registry";
import { openCrmMenu, openFunnelMenu } from "./funnel_tour_utils";

// A sales administrator maps the CRM's own stages onto the funnel's layers (adoption).
registry.category("web_tour.tours").add("sales_funnel_method_director_maps_stages", {
    url: "/odoo",
    steps: () => [
        ...openFunnelMenu("crm_funnel_mapping_menu"),
        {
            trigger: ".modal .o_data_row:contains('Plain A') td[name=funnel_layer]",
            content: "Choose the layer the stage stands for",
            run: "click",
        },
        {
            trigger: ".modal .o_data_row:contains('Plain A') .o_field_widget[name=funnel_layer] select",
            run: "selectByLabel Lead",
        },
        {
            trigger: ".modal button[name=action_apply]",
            content: "Apply the mapping",
            run: "click",
        },
        {
            trigger: ".o_notification:contains('1 stages mapped')",
            content: "What the mapping did",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
    ],
});

// The administrator reads and sets the funnel's numbers, each with its unit.
registry.category("web_tour.tours").add("sales_funnel_method_admin_settings", {
    url: "/odoo",
    steps: () => [
        ...openCrmMenu("crm.crm_menu_config", "crm.crm_config_settings_menu"),
        {
            trigger: "#funnel_quota .o_funnel_setting_value:contains('customers per rep')",
            content: "The quota and its unit",
        },
        {
            trigger: "#funnel_discoverer_allowance .o_funnel_setting_value:contains('customers above the quota')",
        },
        {
            trigger: "#funnel_ranking_days .o_funnel_setting_value:contains('days')",
        },
        {
            trigger: "#funnel_cooldown_days .o_funnel_setting_value:contains('days')",
        },
        {
            trigger: "#funnel_fast_mover_share .o_funnel_setting_value:contains('of the ideal days')",
        },
        {
            trigger: "#funnel_exception_overdue_factor .o_funnel_setting_value:contains('times the ideal move days')",
        },
        {
            trigger: "#funnel_return_contact_days .col-8:has(.o_field_widget[name=funnel_return_contact_days_c]):contains('days')",
            content: "The pool rules: each number with its unit too",
        },
        {
            trigger: "#funnel_return_sign_days .o_funnel_setting_value:contains('days after receiving it')",
        },
        {
            trigger: "#funnel_return_notice_days .o_funnel_setting_value:contains('days before')",
        },
        {
            trigger: "#funnel_return_bar_days .o_funnel_setting_value:contains('days')",
        },
        {
            trigger: "#funnel_lock_limit .o_funnel_setting_value:contains('customers')",
        },
        {
            trigger: "#funnel_claim_daily_limit .o_funnel_setting_value:contains('customers a day')",
        },
        {
            trigger: "#funnel_quota .o_field_widget[name=funnel_quota] input",
            content: "Twenty-five customers per rep",
            run: "edit 25",
        },
        {
            trigger: "#funnel_discoverer_allowance .o_field_widget[name=funnel_discoverer_allowance] input",
            run: "edit 3",
        },
        {
            trigger: ".o_dirty_warning",
        },
        {
            trigger: ".o_form_button_save",
            content: "Save",
            run: "click",
        },
        {
            trigger: "body:not(:has(.o_dirty_warning)) #funnel_quota .o_field_widget[name=funnel_quota] input:value(25)",
            content: "Saved, the page reloaded",
        },
    ],
});

// The support group sets a rep's own quota in Reps & Quotas; a negative one is refused.
registry.category("web_tour.tours").add("sales_funnel_method_support_sets_quota", {
    url: "/odoo",
    steps: () => [
        ...openFunnelMenu("crm_team_member_menu_funnel"),
        {
            trigger: ".o_data_row:contains('Rep Li'):contains('Team East') td[name=funnel_quota_override]",
            content: "Edit Rep Li's quota",
            run: "click",
        },
        {
            trigger: ".o_data_row.o_selected_row .o_field_widget[name=funnel_quota_override] input",
            run: "edit -3",
        },
        {
            trigger: ".o_list_button_save",
            content: "Save",
            run: "click",
        },
        {
            trigger: ".modal .modal-body:contains('-3')",
            content: "A negative quota is refused with a message",
        },
        {
            trigger: ".modal .modal-footer button.btn-primary",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
        {
            trigger: ".o_data_row.o_selected_row .o_field_widget[name=funnel_quota_override] input",
            content: "Twelve customers instead",
            run: "edit 12",
        },
        {
            trigger: ".o_list_button_save",
            run: "click",
        },
        {
            trigger: ".o_data_row:contains('Rep Li'):contains('Team East') td[name=funnel_quota]:contains('12')",
            content: "Rep Li's quota is 12",
        },
    ],
});

// A team manager adjusts a layer's ideal state from Funnel > Funnel Layers (no developer mode).
registry.category("web_tour.tours").add("sales_funnel_method_manager_edits_a_layer", {
    url: "/odoo",
    steps: () => [
        ...openFunnelMenu("crm_stage_funnel_menu"),
        {
            trigger: ".o_data_row:contains('Lead') td[name=funnel_ideal_days]",
            content: "The Lead layer's ideal move days",
            run: "click",
        },
        {
            trigger: ".o_data_row.o_selected_row .o_field_widget[name=funnel_ideal_days] input",
            run: "edit 6",
        },
        {
            trigger: ".o_list_button_save",
            run: "click",
        },
        {
            trigger: ".o_data_row:contains('Lead') td[name=funnel_ideal_days]:contains('6')",
        },
        {
            trigger: ".o_list_view:not(:has(.o_selected_row))",
        },
    ],
});
