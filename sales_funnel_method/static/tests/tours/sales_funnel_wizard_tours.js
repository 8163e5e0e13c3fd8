/** @odoo-module **/

import { registry } from "@web/core/registry";
import { openCrm, openCrmMenu } from "./funnel_tour_utils";

// A team manager brings an abandoned customer back before its cool-down ends
// (冷处理), saying why: it returns to the pool as a resource.
registry.category("web_tour.tours").add("sales_funnel_method_manager_restores_early", {
    url: "/odoo",
    steps: () => [
        ...openCrmMenu("crm.crm_menu_sales", "crm.menu_crm_opportunities"),
        {
            trigger: ".o_switch_view.o_list",
            content: "The pipeline as a list",
            run: "click",
        },
        {
            trigger: ".o_list_view",
        },
        {
            trigger: ".o_searchview_facet .o_facet_remove",
            content: "Not only my own customers",
            run: "click",
        },
        {
            trigger: ".o_searchview:not(:has(.o_searchview_facet))",
        },
        {
            trigger: ".o_searchview_dropdown_toggler",
            content: "Open the filters",
            run: "click",
        },
        {
            trigger: ".o_filter_menu .dropdown-item:contains('Lost')",
            content: "The lost customers: the abandoned ones",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_data_row:contains('Tour Cooling Customer') .o_data_cell[name=name]",
            content: "Open the customer cooling down",
            run: "click",
        },
        {
            trigger: ".o_form_view button[name=action_funnel_restore_early]",
            content: "Restore it before the end of its cool-down",
            run: "click",
        },
        {
            trigger: ".modal .o_field_widget[name=lead_ids]:contains('Tour Cooling Customer')",
        },
        {
            trigger: ".modal .o_field_widget[name=reason] textarea",
            content: "Why now",
            run: "edit Called back: wants a new offer",
        },
        {
            trigger: ".modal button[name=action_restore]",
            content: "Restore",
            run: "click",
        },
        {
            trigger: ".o_notification:contains('back in the pool as resources')",
            content: "Back in the pool",
        },
        {
            trigger:
                "body:not(:has(.modal)) .o_form_view:not(:has(button[name=action_funnel_restore_early]))",
            content: "The customer is no longer abandoned",
        },
    ],
});

// A rep hands a customer back to the pool (放入公海) with a reason, then locks
// another one (锁定) and unlocks it again.
registry.category("web_tour.tours").add("sales_funnel_method_rep_hands_back_and_locks", {
    url: "/odoo",
    steps: () => [
        ...openCrm(),
        {
            trigger: ".o_list_view .o_data_row:contains('Tour Hand Back Customer') .o_data_cell[name=name]",
            content: "My Funnel: open the customer to give back",
            run: "click",
        },
        {
            trigger: ".o_form_view button[name=action_funnel_hand_back]",
            content: "Hand it back to the pool",
            run: "click",
        },
        {
            trigger: ".modal .o_field_widget[name=lead_ids]:contains('Tour Hand Back Customer')",
        },
        {
            trigger: ".modal .o_field_widget[name=reason] textarea",
            content: "Why",
            run: "edit Outside my region",
        },
        {
            trigger: ".modal button[name=action_hand_back]",
            content: "Hand back",
            run: "click",
        },
        {
            trigger: ".o_notification:contains('back in the pool')",
            content: "Back in the pool",
        },
        {
            trigger:
                "body:not(:has(.modal)) .o_form_view:not(:has(button[name=action_funnel_hand_back]))",
            content: "No longer mine",
        },
        {
            trigger: ".breadcrumb-item:first-child a",
            content: "Back to My Funnel",
            run: "click",
        },
        {
            trigger: ".o_list_view:not(:has(.o_data_row:contains('Tour Hand Back Customer')))",
            content: "It left My Funnel",
        },
        {
            trigger: ".o_list_view .o_data_row:contains('Tour Lock Customer') .o_data_cell[name=name]",
            content: "Open the customer to keep",
            run: "click",
        },
        {
            trigger: ".o_form_view button[name=action_funnel_lock]",
            content: "Lock it: it never returns to the pool automatically",
            run: "click",
        },
        {
            trigger:
                ".o_form_view:not(:has(button[name=action_funnel_lock])) button[name=action_funnel_unlock]",
            content: "Locked: it can be unlocked now",
        },
        {
            trigger: ".o_form_view button[name=action_funnel_unlock]",
            content: "Unlock it: the pool's rules apply again",
            run: "click",
        },
        {
            trigger:
                ".o_form_view:not(:has(button[name=action_funnel_unlock])) button[name=action_funnel_lock]",
            content: "Unlocked, it can be locked again",
        },
    ],
});
