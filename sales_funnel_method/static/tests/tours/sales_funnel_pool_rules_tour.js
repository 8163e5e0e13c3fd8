/** @odoo-module **/

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// A rep sees a customer about to return to the pool (自动回收) on My Funnel, logs a
// contact with a next contact date (下次联系时间), and the customer stays theirs.
registry.category("web_tour.tours").add("sales_funnel_method_rep_keeps_returning_customer", {
    url: "/odoo",
    steps: () => {
        const nextDate = luxon.DateTime.now().plus({ days: 5 }).toFormat("MM/dd/yyyy");
        return [
            stepUtils.showAppsMenuItem(),
            {
                trigger: ".o_app[data-menu-xmlid='crm.crm_menu_root']",
                content: "Open CRM: My Funnel comes first",
                run: "click",
            },
            {
                trigger:
                    ".o_list_view .o_data_row:contains('Tour Returning Customer'):contains('Returning soon')",
                content: "The customer is about to return to the pool",
            },
            {
                trigger: ".o_searchview_dropdown_toggler",
                content: "Open the filters",
                run: "click",
            },
            {
                trigger: ".o_filter_menu .dropdown-item:contains('Returning Soon')",
                content: "Only the customers returning soon",
                run: "click",
            },
            {
                trigger: ".o_searchview_facet:contains('Returning Soon')",
            },
            {
                trigger: ".o_list_view .o_data_row:contains('Tour Returning Customer') .o_data_cell[name=name]",
                content: "Open the customer",
                run: "click",
            },
            {
                trigger: ".o_form_view button[name=action_funnel_log_contact]",
                content: "Log a contact",
                run: "click",
            },
            {
                trigger: ".modal .o_field_widget[name=note] textarea",
                content: "What was said",
                run: "edit Interested in the new offer",
            },
            {
                trigger: ".modal .o_field_widget[name=next_date] input",
                content: "Plan the next contact",
                run: `edit ${nextDate}`,
            },
            {
                trigger: ".modal .o_field_widget[name=next_note] input",
                content: "What to do then",
                run: "edit Send the offer",
            },
            {
                trigger: ".modal button[name=action_log]",
                content: "Log it",
                run: "click",
            },
            {
                trigger: "body:not(:has(.modal))",
            },
            {
                trigger: ".o_notebook_headers a:contains('Funnel')",
                content: "The customer's funnel page",
                run: "click",
            },
            {
                trigger: ".o_form_view .o_field_widget[name=funnel_next_contact_note]:contains('Send the offer')",
                content: "The next contact is planned",
            },
            {
                trigger: ".o_back_button, .breadcrumb-item:first-child a",
                content: "Back to My Funnel",
                run: "click",
            },
            {
                trigger: ".o_list_view:not(:has(.o_data_row:contains('Tour Returning Customer')))",
                content: "It no longer returns soon",
            },
        ];
    },
});
