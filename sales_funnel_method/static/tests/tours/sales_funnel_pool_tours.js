/** @odoo-module **/

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

function openFunnelMenu(item) {
    return [
        stepUtils.showAppsMenuItem(),
        {
            trigger: ".o_app[data-menu-xmlid='crm.crm_menu_root']",
            content: "Open CRM",
            run: "click",
        },
        {
            trigger: ".o_menu_sections button:contains('Funnel'), .o_menu_sections a:contains('Funnel')",
            content: "Open the Funnel menu",
            run: "click",
        },
        {
            trigger: `.dropdown-item:contains('${item}')`,
            content: `Open ${item}`,
            run: "click",
        },
    ];
}

// The support group previews a fat-first allocation of the pool, then runs it (SPEC 5).
registry.category("web_tour.tours").add("sales_funnel_method_support_allocates", {
    url: "/odoo",
    steps: () => [
        ...openFunnelMenu("Allocate the Pool"),
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

// A rep claims a customer from the pool (SPEC 4).
registry.category("web_tour.tours").add("sales_funnel_method_rep_claims", {
    url: "/odoo",
    steps: () => [
        ...openFunnelMenu("Customer Pool"),
        {
            trigger: ".o_data_row:contains('Tour Pool Customer') button[name=action_funnel_claim]",
            content: "Claim the customer",
            run: "click",
        },
        {
            trigger: ".o_notification:contains('is now yours')",
            content: "The customer is the rep's",
        },
        {
            trigger: ".o_list_view:not(:has(.o_data_row:contains('Tour Pool Customer')))",
            content: "It left the pool",
        },
    ],
});
