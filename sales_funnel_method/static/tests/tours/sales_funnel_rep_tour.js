/** @odoo-module **/

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// A rep grades a new resource, then moves it down the funnel to Contacted (METHOD 3).
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
            trigger: ".o_back_button",
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

// A rep starts the day on My Funnel: the fast mover of the deepest layer comes first (METHOD 6).
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

// The same morning for a rep who works in Chinese: the deck's own words (METHOD).
registry.category("web_tour.tours").add("sales_funnel_method_my_funnel_zh_cn", {
    url: "/odoo",
    steps: () => [
        {
            trigger: ".o_breadcrumb:contains('我的销售漏斗')",
            content: "登录后直接进入我的销售漏斗",
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
        {
            trigger: ".o_menu_sections [data-menu-xmlid='crm.crm_menu_sales']",
            content: "销售菜单",
            run: "click",
        },
        {
            trigger: ".dropdown-item[data-menu-xmlid='crm.menu_crm_opportunities']:contains('我的销售漏斗看板')",
            content: "Odoo 的渠道在这里叫销售漏斗",
            run: "click",
        },
        {
            trigger: ".o_kanban_view .o_column_title:contains('意向客户')",
            content: "看板的列就是漏斗层次",
        },
        {
            trigger: ".o_menu_sections [data-menu-xmlid='sales_funnel_method.sales_funnel_method_menu_root']",
            run: "click",
        },
        {
            trigger: ".dropdown-item[data-menu-xmlid='sales_funnel_method.crm_lead_menu_pool']:contains('公海')",
            content: "公海",
            run: "click",
        },
        {
            trigger: ".o_breadcrumb:contains('公海')",
        },
        {
            trigger: ".o_funnel_pool_capacity:contains('还可以领取')",
            content: "自己的剩余容量",
        },
        {
            trigger: ".o_list_view th:contains('进入公海时间')",
        },
        {
            trigger: ".o_menu_sections [data-menu-xmlid='sales_funnel_method.sales_funnel_method_menu_root']",
            run: "click",
        },
        {
            trigger: ".dropdown-item[data-menu-xmlid='sales_funnel_method.crm_lead_menu_my_funnel_funnel']",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_data_row:contains('Tour Slow Lead') .o_data_cell[name=name]",
            content: "打开客户",
            run: "click",
        },
        {
            trigger: ".o_form_statusbar button.o_funnel_sign:contains('签约')",
            content: "签约，不是“赢得”",
        },
        {
            trigger: ".o_form_statusbar button.o_funnel_abandon:contains('放弃')",
            content: "放弃客户",
            run: "click",
        },
        {
            trigger: ".modal .modal-title:contains('放弃')",
        },
        {
            trigger: ".modal .o_field_widget[name=lost_reason_id] input",
            content: "放弃原因",
            run: "click",
        },
        {
            trigger: ".o-autocomplete--dropdown-item:contains('无法联系跟踪')",
            run: "click",
        },
        {
            trigger: ".modal button.o_funnel_abandon:contains('放弃')",
            run: "click",
        },
        {
            trigger: ".o_form_view .ribbon:contains('放弃客户')",
            content: "客户进入放弃客户层，冷处理",
        },
    ],
});

// A rep lands on My Funnel when they log in, not on Discuss (METHOD 6).
registry.category("web_tour.tours").add("sales_funnel_method_rep_lands_on_my_funnel", {
    url: "/odoo",
    steps: () => [
        {
            trigger: ".o_breadcrumb:contains('My Funnel')",
            content: "My Funnel is the rep's home",
        },
        {
            trigger: ".o_list_view .o_data_row:contains('Tour Landing')",
        },
    ],
});

// A rep logs a contact with a customer in the tracking record (METHOD 9), and reads it back.
registry.category("web_tour.tours").add("sales_funnel_method_rep_logs_a_contact", {
    url: "/odoo",
    steps: () => [
        {
            trigger: ".o_list_view .o_data_row:contains('Tour Contact Customer') .o_data_cell[name=name]",
            content: "Open the customer from My Funnel",
            run: "click",
        },
        {
            trigger: ".o_form_statusbar button[name=action_funnel_log_contact]",
            content: "Log a contact",
            run: "click",
        },
        {
            trigger: ".modal .o_field_widget[name=kind] input[data-value='visit']",
            content: "A visit",
            run: "click",
        },
        {
            trigger: ".modal .o_field_widget[name=note] textarea",
            run: "edit Visited the plant, a quote next week",
        },
        {
            trigger: ".modal button[name=action_log]",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
        {
            trigger: ".o-mail-Message:contains('Contact: Visit')",
            content: "The chatter says so",
        },
        {
            trigger: ".oe_stat_button:contains('Contacts') .o_stat_value:contains('1')",
            content: "The customer's tracking record",
            run: "click",
        },
        {
            trigger: ".o_action_manager > .o_list_view .o_data_row:contains('Visited the plant')",
        },
        {
            trigger: ".o_back_button",
            run: "click",
        },
        {
            trigger: ".oe_stat_button:contains('Funnel Moves')",
            content: "The customer's moves between layers",
            run: "click",
        },
        {
            trigger: ".o_action_manager > .o_list_view .o_data_row:contains('Contacted')",
        },
    ],
});

// A rep signs one customer and abandons another, in the deck's words; a customer of
// a team outside the funnel keeps Odoo's Won and Lost (METHOD 1).
registry.category("web_tour.tours").add("sales_funnel_method_rep_signs_and_abandons", {
    url: "/odoo",
    steps: () => [
        {
            trigger: ".o_list_view .o_data_row:contains('Tour To Sign') .o_data_cell[name=name]",
            run: "click",
        },
        {
            trigger: ".o_form_statusbar:not(:has(button[name=action_set_won_rainbowman]:contains('Won')))",
            content: "No Won on a funnel customer",
        },
        {
            trigger: ".o_form_statusbar button.o_funnel_sign:contains('Sign')",
            content: "The customer signed",
            run: "click",
        },
        {
            trigger: ".o_form_view .ribbon:contains('Signed')",
        },
        {
            trigger: ".o_form_statusbar button.o_arrow_button_current:contains('Signed')",
        },
        {
            trigger: ".o_back_button",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_data_row:contains('Tour To Abandon') .o_data_cell[name=name]",
            run: "click",
        },
        {
            trigger: ".o_form_statusbar button.o_funnel_abandon:contains('Abandon')",
            content: "Abandon, not Lost",
            run: "click",
        },
        {
            trigger: ".modal .modal-title:contains('Abandon the Customer')",
        },
        {
            trigger: ".modal .o_field_widget[name=lost_reason_id] input",
            content: "The Abandoned layer's reasons",
            run: "click",
        },
        {
            trigger: ".o-autocomplete--dropdown-menu:contains('Refused explicitly'):contains('Bought a competitor'):not(:contains('Too expensive'))",
        },
        {
            trigger: ".o-autocomplete--dropdown-item:contains('Cannot be reached')",
            run: "click",
        },
        {
            trigger: ".modal button.o_funnel_abandon",
            run: "click",
        },
        {
            trigger: ".o_form_view .ribbon:contains('Abandoned')",
            content: "Abandoned, in cold storage",
        },
        {
            trigger: ".o_menu_sections [data-menu-xmlid='crm.crm_menu_sales']",
            run: "click",
        },
        {
            trigger: ".dropdown-item[data-menu-xmlid='crm.menu_crm_opportunities']",
            run: "click",
        },
        {
            trigger: ".o_switch_view.o_list",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_data_row:contains('Tour Other Team') .o_data_cell[name=name]",
            content: "A customer outside the funnel",
            run: "click",
        },
        {
            trigger: ".o_form_statusbar:not(:has(.o_funnel_sign)) button[name=action_set_won_rainbowman]:contains('Won')",
            content: "Odoo's own Won and Lost",
        },
        {
            trigger: ".o_form_statusbar button:contains('Lost')",
            run: "click",
        },
        {
            trigger: ".modal .o_field_widget[name=lost_reason_id] input",
            run: "click",
        },
        {
            trigger: ".o-autocomplete--dropdown-menu:contains('Too expensive'):not(:contains('Refused explicitly'))",
            content: "Odoo's own reasons for the other teams",
        },
        {
            trigger: ".modal .modal-footer button:contains('Cancel')",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
    ],
});
