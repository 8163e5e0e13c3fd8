/** @odoo-module **/

import { stepUtils } from "@web_tour/tour_service/tour_utils";
import { TourAutomatic } from "@web_tour/tour_service/tour_automatic";
import { patch } from "@web/core/utils/patch";

/**
 * The funnel's tours give each step 30 s to find its trigger instead of Odoo's
 * 10 s (a step's own timeout still wins): the dashboard and the reports answer
 * slower on a loaded CI machine, and a slow answer is not a defect.
 */
patch(TourAutomatic.prototype, {
    get timeout() {
        return this.name?.startsWith("sales_funnel_method") ? 30000 : undefined;
    },
});

/** Open CRM from the apps menu. */
export function openCrm() {
    return [
        stepUtils.showAppsMenuItem(),
        {
            trigger: ".o_app[data-menu-xmlid='crm.crm_menu_root']",
            content: "Open CRM",
            run: "click",
        },
    ];
}

/** Open an entry of a CRM top menu ("Funnel", "Reporting", ...) by its xml id. */
export function openCrmMenu(section, xmlid) {
    return [
        ...openCrm(),
        {
            trigger: `.o_menu_sections [data-menu-xmlid='${section}']`,
            content: "Open the menu",
            run: "click",
        },
        {
            trigger: `.dropdown-item[data-menu-xmlid='${xmlid}']`,
            content: "Open the entry",
            run: "click",
        },
    ];
}

/** Open an entry of CRM > Funnel by its xml id. */
export function openFunnelMenu(xmlid) {
    return openCrmMenu(
        "sales_funnel_method.sales_funnel_method_menu_root",
        `sales_funnel_method.${xmlid}`
    );
}
