/** @odoo-module **/

import { registry } from "@web/core/registry";
import { openFunnelMenu } from "./funnel_tour_utils";

// The support group previews a fat-first allocation of the pool, then runs it (METHOD 5).
registry.category("web_tour.tours").add("sales_funnel_method_support_allocates", {
    url: "/odoo",
    steps: () => [
        ...openFunnelMenu("crm_funnel_allocate_menu"),
        {
            trigger: ".modal .o_funnel_allocation_table tr.o_funnel_allocation_line:contains('Rep Li')",
            content: "The preview shows who would receive what",
        },
        {
            trigger: ".modal .o_field_widget[name=planned_count]:contains('3')",
        },
        {
            trigger: ".modal button[name=action_allocate]",
            content: "Allocate",
            run: "click",
        },
        {
            trigger: ".modal .o_funnel_allocation_result:contains('3 customers allocated')",
            content: "A summary of what was done",
        },
        {
            trigger: ".modal .modal-footer button:contains('Close')",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
    ],
});

// The support group allocates the customers it selected in the pool (Action menu).
registry.category("web_tour.tours").add("sales_funnel_method_support_allocates_selection", {
    url: "/odoo",
    steps: () => [
        ...openFunnelMenu("crm_lead_menu_pool"),
        {
            trigger: ".o_funnel_pool_capacity:contains('Allocate the Pool')",
            content: "The support group allocates; it does not claim",
        },
        {
            trigger: ".o_list_view:not(:has(button[name=action_funnel_claim]))",
        },
        {
            trigger: ".o_data_row:contains('Tour Picked') .o_list_record_selector input",
            content: "Select a customer",
            run: "click",
        },
        {
            trigger: ".o_control_panel .o_cp_action_menus button",
            content: "Open the Action menu",
            run: "click",
        },
        {
            trigger: ".o-dropdown--menu .dropdown-item:contains('Allocate (fat-first)')",
            run: "click",
        },
        {
            trigger: ".modal .o_field_widget[name=candidate_count]:contains('1')",
            content: "Only the selected customer is allocated",
        },
        {
            trigger: ".modal button[name=action_allocate]",
            run: "click",
        },
        {
            trigger: ".modal .o_funnel_allocation_result:contains('1 customers allocated')",
        },
        {
            trigger: ".modal .modal-footer button:contains('Close')",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
    ],
});

// A rep claims from the pool, as allocation would take it: A first, then the oldest (METHOD 4).
registry.category("web_tour.tours").add("sales_funnel_method_rep_claims", {
    url: "/odoo",
    steps: () => [
        ...openFunnelMenu("crm_lead_menu_pool"),
        {
            trigger: ".o_funnel_pool_capacity[data-capacity='29']:contains('you can claim 29 more')",
            content: "The rep's own capacity above the pool",
        },
        {
            trigger: ".o_data_row:nth-child(1):contains('Tour Pool A')",
            content: "Grade A first",
        },
        {
            trigger: ".o_data_row:nth-child(2):contains('Tour Pool B Old')",
            content: "Then the oldest",
        },
        {
            trigger: ".o_data_row:nth-child(3):contains('Tour Pool B New')",
        },
        {
            trigger: ".o_data_row:contains('Tour Pool B Old') button[name=action_funnel_claim]",
            content: "Claim the customer",
            run: "click",
        },
        {
            trigger: ".o_notification:contains('is now yours')",
            content: "The customer is the rep's",
        },
        {
            trigger: ".o_list_view:not(:has(.o_data_row:contains('Tour Pool B Old')))",
            content: "It left the pool",
        },
        {
            trigger: ".o_funnel_pool_capacity[data-capacity='28']",
            content: "One slot less",
        },
    ],
});

// A rep opens a pool customer and claims it there: the form shows the rep's customer.
registry.category("web_tour.tours").add("sales_funnel_method_rep_claims_from_form", {
    url: "/odoo",
    steps: () => [
        ...openFunnelMenu("crm_lead_menu_pool"),
        {
            trigger: ".o_data_row:contains('Tour Pool A') .o_data_cell[name=name]",
            content: "Open the customer",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_form_statusbar button[name=action_funnel_claim]",
            content: "Claim it",
            run: "click",
        },
        {
            trigger: ".o_notification:contains('is now yours')",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=user_id] input:value(Rep Li)",
            content: "The form shows the rep's customer",
        },
        {
            trigger: ".o_form_view .o_form_statusbar:not(:has(button[name=action_funnel_claim])):has(button[name=action_funnel_log_contact])",
            content: "No Claim any more; the rep works it",
        },
    ],
});

// A rep at capacity reads why they cannot claim, and has no Claim button.
registry.category("web_tour.tours").add("sales_funnel_method_rep_at_capacity", {
    url: "/odoo",
    steps: () => [
        ...openFunnelMenu("crm_lead_menu_pool"),
        {
            trigger: ".o_funnel_pool_capacity.o_funnel_pool_full:contains('sign or abandon customers')",
            content: "At capacity: the reason above the pool",
        },
        {
            trigger: ".o_list_view:not(:has(button[name=action_funnel_claim]))",
        },
        {
            trigger: ".o_data_row:contains('Tour Pool A') td[name=funnel_claim_refusal][data-tooltip*='quota of 1']",
            content: "The reason, in full, as the tooltip of each customer",
        },
    ],
});

// The support group hands over the customers of a rep who leaves (METHOD 5, 人员变动).
registry.category("web_tour.tours").add("sales_funnel_method_support_hands_over", {
    url: "/odoo",
    steps: () => [
        ...openFunnelMenu("crm_funnel_handover_wizard_menu"),
        {
            trigger: ".modal .o_field_widget[name=user_id] input",
            content: "The leaving rep",
            run: "edit Rep Zhang",
        },
        {
            trigger: ".o-autocomplete--dropdown-item:contains('Rep Zhang')",
            run: "click",
        },
        {
            trigger: ".modal .o_field_widget[name=fat_first_count]:contains('1')",
            content: "The intent customer goes fat-first",
        },
        {
            trigger: ".modal .o_field_widget[name=other_count]:contains('1')",
        },
        {
            trigger: ".modal .o_field_widget[name=others_to] input[data-value='colleague']",
            content: "The other customers go to a colleague",
            run: "click",
        },
        {
            trigger: ".modal .o_field_widget[name=colleague_id] input",
            run: "edit Rep Huang",
        },
        {
            trigger: ".o-autocomplete--dropdown-item:contains('Rep Huang')",
            run: "click",
        },
        {
            trigger: ".modal button[name=action_handover]",
            content: "Hand over",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=moved_count]:contains('2')",
            content: "The hand-over report lists every customer moved",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=assignment_ids] .o_data_row:contains('Tour Leaver Contacted'):contains('Rep Huang')",
        },
    ],
});
