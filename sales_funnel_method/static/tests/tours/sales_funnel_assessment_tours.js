/** @odoo-module **/

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// A team manager sets a rep's target in the yearly grid (业绩目标), then reads the
// ranking boards (排行榜), per rep and per team.
registry.category("web_tour.tours").add("sales_funnel_method_manager_sets_targets", {
    url: "/odoo",
    steps: () => [
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
            trigger: ".dropdown-item:contains('Targets')",
            content: "The targets of the year",
            run: "click",
        },
        {
            trigger: ".o_list_view button:contains('Set the Year')",
            content: "Fill the team's grid for the year",
            run: "click",
        },
        {
            trigger: ".modal .o_field_widget[name=team_id] input:value('Team East')",
            content: "The team the manager leads",
        },
        {
            trigger: ".modal .o_field_widget[name=kind] input[data-value='revenue']:checked",
            content: "Won revenue first",
        },
        {
            trigger: ".modal .o_data_row:contains('Rep Li') td[name=month_01]",
            content: "Rep Li's January",
            run: "click",
        },
        {
            trigger: ".modal .o_data_row:contains('Rep Li') td[name=month_01] input",
            content: "A target of 25,000",
            run: "edit 25000",
        },
        {
            trigger: ".modal .o_data_row:contains('Rep Li') td[name=month_02]",
            content: "On to February",
            run: "click",
        },
        {
            trigger: ".modal button[name=action_save]",
            content: "Save the grid",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
        {
            trigger: ".o_menu_sections button:contains('Funnel'), .o_menu_sections a:contains('Funnel')",
            run: "click",
        },
        {
            trigger: ".dropdown-item:contains('Ranking Boards')",
            content: "The ranking boards of the month",
            run: "click",
        },
        {
            trigger:
                ".o_funnel_ranking_board[data-board='revenue'] tbody tr:first-child:contains('Rep Li')",
            content: "Rep Li won the most this month",
        },
        {
            trigger: ".o_field_widget[name=level] input[data-value='team']",
            content: "Rank the teams",
            run: "click",
        },
        {
            trigger:
                ".o_funnel_ranking_board[data-board='signings'] tbody tr:first-child:contains('Team East')",
            content: "Team East signed the most",
        },
        {
            trigger: ".o_menu_sections button:contains('Funnel'), .o_menu_sections a:contains('Funnel')",
            run: "click",
        },
        {
            trigger: ".dropdown-item:contains('Targets')",
            content: "Back to the targets",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_data_row:contains('Rep Li') td[name=month_01]:contains('25,000')",
            content: "Rep Li's January target is set",
        },
    ],
});

// A rep reads the month's targets against actual above My Funnel.
registry.category("web_tour.tours").add("sales_funnel_method_rep_reads_targets", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            trigger: ".o_app[data-menu-xmlid='crm.crm_menu_root']",
            content: "Open CRM: My Funnel comes first",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_funnel_targets .o_funnel_target[data-kind='revenue']:contains('50%')",
            content: "Half the month's revenue target won",
        },
    ],
});
