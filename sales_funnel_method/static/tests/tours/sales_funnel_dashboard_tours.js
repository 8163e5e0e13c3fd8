/** @odoo-module **/

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

/**
 * A manager opens CRM on the funnel dashboard, reads that the Graded layer is
 * short of its ideal (9 held for 20), clicks it and lands on those customers.
 * The steps find the layer by its key: the same tour runs in English and Chinese,
 * each checking its own words.
 */
function readAShortLayer(words) {
    return [
        stepUtils.showAppsMenuItem(),
        {
            trigger: ".o_app[data-menu-xmlid='crm.crm_menu_root']",
            content: "Open CRM",
            run: "click",
        },
        {
            trigger: `.o_funnel_dashboard .o_funnel_drawing_head:contains('${words.head}')`,
            content: "A manager's CRM opens on the funnel dashboard",
        },
        {
            trigger: `.o_funnel_layer.o_funnel_layer_short[data-layer='graded'] .o_funnel_band_label:contains('${words.graded}')`,
            content: "Graded falls short of its ideal",
        },
        {
            trigger: ".o_funnel_layer[data-layer='graded'] .o_funnel_held.text-bg-danger:contains('9 / 20')",
            content: "9 customers held for an ideal of 20",
        },
        {
            trigger: ".o_funnel_layer[data-layer='contacted']:not(.o_funnel_layer_short) .o_funnel_held:contains('26 / 26')",
            content: "Contacted holds its ideal",
        },
        {
            trigger: `.o_funnel_contacts .card-header:contains('${words.contacts}')`,
            content: "The contact time curve beside the funnel",
        },
        {
            trigger: ".o_funnel_layer[data-layer='graded']",
            content: "Open the graded customers",
            run: "click",
        },
        {
            trigger: `.o_breadcrumb:contains('${words.graded}')`,
            content: "The layer's customers",
        },
        {
            trigger: ".o_list_view .o_data_row:contains('Tour Graded')",
        },
        {
            trigger: ".o_list_view:not(:has(.o_data_row:contains('Tour Contacted')))",
            content: "Only the layer's customers",
        },
    ];
}

registry.category("web_tour.tours").add("sales_funnel_method_manager_dashboard", {
    url: "/odoo",
    steps: () => readAShortLayer({ head: "holds / ideal", graded: "Graded", contacts: "Contact Time Curve" }),
});

registry.category("web_tour.tours").add("sales_funnel_method_manager_dashboard_zh_cn", {
    url: "/odoo",
    steps: () => readAShortLayer({ head: "持有 / 理想", graded: "已分级客户", contacts: "客户接触时间曲线" }),
});

// The holdings board: a rep's short cell opens the customers behind it.
registry.category("web_tour.tours").add("sales_funnel_method_holdings_board", {
    url: "/odoo/action-sales_funnel_method.crm_funnel_holdings_board_action",
    steps: () => [
        {
            trigger: ".o_funnel_holdings_table tr.o_funnel_rep_line:contains('Rep Li') td[data-layer='graded'].o_funnel_cell_short:contains('9 / 10')",
            content: "Rep Li holds 9 graded customers for an ideal of 10",
        },
        {
            trigger: ".o_funnel_holdings_table tr.o_funnel_team_total:contains('Team East') td[data-layer='graded']:contains('9 / 20')",
            content: "The team's subtotal",
        },
        {
            trigger: ".o_funnel_holdings_table tr.o_funnel_rep_line:contains('Rep Li') td[data-layer='graded']",
            content: "Open those customers",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_data_row:contains('Tour Graded')",
        },
    ],
});
