/** @odoo-module **/

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";
import { openFunnelMenu } from "./funnel_tour_utils";

// A manager reads the funnel overview, drills into a rep, and exports the workbook (METHOD 9).
registry.category("web_tour.tours").add("sales_funnel_method_manager_reports", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            trigger: ".o_app[data-menu-xmlid='crm.crm_menu_root']",
            content: "Open CRM",
            run: "click",
        },
        {
            trigger: ".o_menu_sections button:contains('Reporting'), .o_menu_sections a:contains('Reporting')",
            content: "Open Reporting",
            run: "click",
        },
        {
            trigger: ".dropdown-item:contains('Funnel Overview')",
            content: "The funnel beside the ideal one",
            run: "click",
        },
        {
            trigger: ".o_graph_view .o_graph_renderer canvas",
            content: "The bar chart of the actual and ideal funnel",
        },
        {
            trigger: ".o_switch_view.o_pivot",
            content: "Switch to the pivot table",
            run: "click",
        },
        {
            trigger: ".o_pivot thead .o_pivot_header_cell_opened, .o_pivot tbody .o_pivot_header_cell_opened",
        },
        {
            trigger: ".o_pivot tbody tr:first-child .o_pivot_header_cell_opened",
            content: "Collapse the rows",
            run: "click",
        },
        {
            trigger: ".o_pivot tbody tr:first-child .o_pivot_header_cell_closed",
            content: "Expand the rows again, by rep",
            run: "click",
        },
        {
            trigger: ".o-dropdown--menu .dropdown-item:contains('Rep')",
            content: "Drill into the reps",
            run: "click",
        },
        {
            trigger: ".o_pivot tbody th:contains('Rep Li')",
            content: "The rep's funnel",
        },
        {
            trigger: ".o_menu_sections button:contains('Reporting'), .o_menu_sections a:contains('Reporting')",
            run: "click",
        },
        {
            trigger: ".dropdown-item:contains('Export the Workbook')",
            content: "Export the funnel workbook",
            run: "click",
        },
        {
            trigger: ".modal .o_field_widget[name=scope] input[data-value='all']",
            content: "Everything the manager may see",
            run: "click",
        },
        {
            trigger: ".modal button[name=action_export]",
            content: "Export",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
            content: "The workbook downloads and the dialog closes",
        },
    ],
});

// A team manager works an exception: acknowledges it, opens its customers, resolves it (METHOD 7).
registry.category("web_tour.tours").add("sales_funnel_method_manager_works_an_exception", {
    url: "/odoo",
    steps: () => [
        ...openFunnelMenu("crm_funnel_exception_menu"),
        {
            trigger: ".o_data_row:contains('Rep Li') .o_data_cell[name=exception_type]",
            content: "Open the finding",
            run: "click",
        },
        {
            trigger: ".o_form_statusbar button[name=action_acknowledge]",
            content: "Acknowledge it",
            run: "click",
        },
        {
            trigger: ".o_form_statusbar .o_arrow_button_current:contains('Acknowledged')",
        },
        {
            trigger: ".oe_stat_button[name=action_view_leads]",
            content: "The customers concerned",
            run: "click",
        },
        {
            trigger: ".o_action_manager > .o_list_view .o_data_row:contains('Tour Stuck')",
        },
        {
            trigger: ".o_back_button",
            run: "click",
        },
        {
            trigger: ".o_form_statusbar button[name=action_resolve]",
            content: "Mark it resolved",
            run: "click",
        },
        {
            trigger: ".o_form_statusbar .o_arrow_button_current:contains('Resolved')",
        },
        {
            trigger: ".o_form_statusbar button[name=action_reopen]",
            content: "It came back: reopen it",
            run: "click",
        },
        {
            trigger: ".o_form_statusbar .o_arrow_button_current:contains('Open')",
        },
    ],
});
