/** @odoo-module **/

import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { FunnelBoard, formatCount, formatDays, formatRate } from "./funnel_board";

// the funnel's drawing: each layer a band narrower than the one above it
const TOP_WIDTH = 100;
const BOTTOM_WIDTH = 34;

/**
 * The manager's morning screen (METHOD 6): the seven layers drawn as a funnel, each
 * with its holdings against the ideal, its step rate against the ideal rate and
 * its days against the ideal days, coloured where it falls short; the open
 * exceptions and the fast movers beside it. A click on a layer opens its
 * customers. All figures come from one server call.
 */
export class FunnelDashboard extends FunnelBoard {
    static template = "sales_funnel_method.FunnelDashboard";
    static dataMethod = "get_funnel_dashboard";

    get reps() {
        const { team_id } = this.state.filters;
        return this.state.data.options.reps.filter(
            (rep) => !team_id || rep.team_id === team_id
        );
    }

    nextFilters(name, value) {
        const filters = super.nextFilters(name, value);
        if (name === "team_id") {
            filters.user_id = false; // the reps offered are the team's
        }
        return filters;
    }

    /** The band of a layer: a trapezoid, as an SVG polygon in a 100 x 10 box. */
    bandPoints(index) {
        const count = this.state.data.layers.length;
        const step = (TOP_WIDTH - BOTTOM_WIDTH) / count;
        const top = TOP_WIDTH - step * index;
        const bottom = top - step;
        const left = (width) => (100 - width) / 2;
        return [
            `${left(top)},0`,
            `${left(top) + top},0`,
            `${left(bottom) + bottom},10`,
            `${left(bottom)},10`,
        ].join(" ");
    }

    periodLabel(days) {
        return _t("Last %(days)s days", { days: formatCount(days) });
    }

    get periodText() {
        const { period } = this.state.data;
        return _t(
            "Step rates and days of the customers that reached each layer from %(from)s to %(to)s and had its ideal days (times the overdue factor) to move on",
            { from: period.from, to: period.to }
        );
    }

    movedOnText(layer) {
        return _t("%(moved)s of %(reached)s moved on", {
            moved: formatCount(layer.moved_on),
            reached: formatCount(layer.reached),
        });
    }

    get openText() {
        return _t("%(count)s open", { count: formatCount(this.state.data.exceptions.count) });
    }

    get fastMoversText() {
        return _t("%(count)s to handle first", {
            count: formatCount(this.state.data.fast_movers.count),
        });
    }

    formatRate(value) {
        return formatRate(value);
    }

    formatDays(value) {
        return formatDays(value);
    }

    openLayer(layer) {
        return this.action.doAction({
            type: "ir.actions.act_window",
            name: _t("%(layer)s customers", { layer: layer.label }),
            res_model: "crm.lead",
            views: [
                [false, "list"],
                [false, "kanban"],
                [false, "form"],
            ],
            domain: layer.domain,
            context: { create: false },
        });
    }

    openExceptions() {
        return this.action.doAction({
            type: "ir.actions.act_window",
            name: _t("Open Exceptions"),
            res_model: "crm.funnel.exception",
            views: [
                [false, "list"],
                [false, "form"],
            ],
            domain: this.state.data.exceptions.domain,
        });
    }

    openException(exception) {
        return this.action.doAction({
            type: "ir.actions.act_window",
            res_model: "crm.funnel.exception",
            views: [[false, "form"]],
            res_id: exception.id,
        });
    }

    openFastMovers() {
        return this.action.doAction({
            type: "ir.actions.act_window",
            name: _t("Fast Movers"),
            res_model: "crm.lead",
            views: [
                [false, "list"],
                [false, "form"],
            ],
            domain: this.state.data.fast_movers.domain,
        });
    }

    get contactsText() {
        const { contacts } = this.state.data;
        return _t("%(count)s contacts with %(customers)s customers, %(planned)s planned", {
            count: formatCount(contacts.count),
            customers: formatCount(contacts.customers),
            planned: formatCount(contacts.planned),
        });
    }

    /** A bar's height in the curve, in percent of the busiest week. */
    barHeight(value) {
        const top = Math.max(
            1,
            ...this.state.data.contacts.buckets.map((bucket) => Math.max(bucket.made, bucket.planned))
        );
        return `${Math.round((100 * (value || 0)) / top)}%`;
    }

    openContacts() {
        return this.action.doAction({
            type: "ir.actions.act_window",
            name: _t("Contact Time Curve"),
            res_model: "crm.funnel.report.contact",
            views: [
                [false, "graph"],
                [false, "pivot"],
            ],
            domain: this.state.data.contacts.domain,
        });
    }

    openCustomer(lead) {
        return this.action.doAction({
            type: "ir.actions.act_window",
            res_model: "crm.lead",
            views: [[false, "form"]],
            res_id: lead.id,
        });
    }
}

registry.category("actions").add("sales_funnel_method.funnel_dashboard", FunnelDashboard);
