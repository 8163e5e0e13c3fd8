/** @odoo-module **/

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// A rep grades a new resource, then moves it down the funnel to Contacted (SPEC 3).
registry.category("web_tour.tours").add("sales_funnel_method_rep_grades_resource", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            trigger: ".o_app[data-menu-xmlid='crm.crm_menu_root']",
            content: "Open CRM: My Funnel comes first",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_funnel_holdings",
        },
        {
            trigger: ".o_menu_sections button:contains('Sales'), .o_menu_sections a:contains('Sales')",
            content: "Open the Sales menu",
            run: "click",
        },
        {
            trigger: ".dropdown-item:contains('My Pipeline')",
            content: "Open the pipeline",
            run: "click",
        },
        {
            trigger:
                ".o_kanban_group:has(.o_column_title:contains('Resource')) " +
                ".o_kanban_record:contains('Tour Resource Customer'):contains('Not graded')",
            content: "The new resource waits in the Resource layer, not graded yet",
            run: "click",
        },
        {
            trigger: ".o_notebook_headers a:contains('Funnel')",
            content: "Open the funnel page: the layer's standard and sales methods",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=funnel_method_hints]:contains('Phone direct sales')",
        },
        {
            trigger: ".o_field_widget[name=funnel_grade] input[data-value='a']",
            content: "Grade the customer A",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=funnel_product] input",
            content: "Plan a recommended product",
            run: "edit Website package",
        },
        {
            trigger: ".o_statusbar_status button:contains('Contacted')",
            content: "Move the customer down to Contacted",
            run: "click",
        },
        {
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains('Contacted')",
        },
        {
            trigger: ".o_form_saved",
            content: "The move is saved",
        },
        {
            trigger: ".o_back_button, .breadcrumb-item:first-child a",
            content: "Back to the pipeline",
            run: "click",
        },
        {
            trigger:
                ".o_kanban_group:has(.o_column_title:contains('Contacted')) " +
                ".o_kanban_record:contains('Tour Resource Customer')",
        },
    ],
});

// A rep starts the day on My Funnel: the fast mover of the deepest layer comes first (SPEC 6).
registry.category("web_tour.tours").add("sales_funnel_method_my_funnel", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            trigger: ".o_app[data-menu-xmlid='crm.crm_menu_root']",
            content: "Open CRM: My Funnel comes first",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_data_row:first-child:contains('Tour Fast Mover'):contains('Fast mover')",
            content: "The fast mover is on top",
        },
        {
            trigger: ".o_list_view .o_data_row:nth-child(2):contains('Tour Slow Lead')",
        },
        {
            trigger: ".o_funnel_holdings .o_funnel_holding_short[data-layer='lead']",
            content: "Holdings against the ideal: short of leads",
        },
        {
            trigger: ".o_list_view .o_data_row:first-child .o_data_cell[name=name]",
            content: "Open the fast mover",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Lead')",
        },
    ],
});

// The same morning for a rep who works in Chinese: the deck's own words (SPEC).
registry.category("web_tour.tours").add("sales_funnel_method_my_funnel_zh_cn", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            trigger: ".o_app[data-menu-xmlid='crm.crm_menu_root']",
            content: "打开客户关系管理",
            run: "click",
        },
        {
            trigger: ".o_breadcrumb:contains('我的销售漏斗')",
        },
        {
            trigger: ".o_funnel_holdings:contains('拥有数/理想数')",
        },
        {
            trigger: ".o_funnel_holdings .o_funnel_holding[data-layer='lead']:contains('有线索客户')",
        },
        {
            trigger: ".o_list_view .o_data_row:first-child:contains('Tour Fast Mover'):contains('快速移动')",
            content: "快速移动客户在最上面",
        },
    ],
});
