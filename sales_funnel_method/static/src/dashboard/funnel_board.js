/** @odoo-module **/

import { Component, onWillStart, useState, useSubEnv } from "@odoo/owl";
import { formatFloat } from "@web/core/utils/numbers";
import { useService } from "@web/core/utils/hooks";
import { useSetupAction } from "@web/search/action_hook";
import { Layout } from "@web/search/layout";
import { getDefaultConfig } from "@web/views/view";

/** A count as a manager reads it: no decimals. */
export function formatCount(value) {
    return formatFloat(value || 0, { digits: [false, 0] });
}

/** A share in percent: no decimals, a percent sign. */
export function formatRate(value) {
    return typeof value === "number" ? `${formatFloat(value, { digits: [false, 0] })}%` : "-";
}

/** Customers held, and the ideal holding when there is one: "9 / 20". */
export function formatHeld(held, ideal) {
    return ideal ? `${formatCount(held)} / ${formatCount(ideal)}` : formatCount(held);
}

/** Days with one decimal. */
export function formatDays(value) {
    return typeof value === "number" ? formatFloat(value, { digits: [false, 1] }) : "-";
}

/**
 * A manager's board (the funnel dashboard, the holdings board): a client action in
 * Odoo's layout whose figures come from one call of a ``crm.funnel.dashboard``
 * method (``static dataMethod``) with the filters chosen above them (company,
 * team, ...), which the server answers with the filters it applied.
 */
export class FunnelBoard extends Component {
    static components = { Layout };
    static props = ["*"];
    static dataMethod = "";

    setup() {
        useSubEnv({ config: { ...getDefaultConfig(), ...this.env.config } });
        useSetupAction();
        this.orm = useService("orm");
        this.action = useService("action");
        this.state = useState({ data: null, filters: {} });
        onWillStart(() => this.load({}));
    }

    async load(filters) {
        const data = await this.orm.call("crm.funnel.dashboard", this.constructor.dataMethod, [], {
            filters,
        });
        this.state.data = data;
        this.state.filters = { ...data.filters };
    }

    /** The filters after the select ``name`` changed to ``value`` (an id or false). */
    nextFilters(name, value) {
        return { ...this.state.filters, [name]: value };
    }

    onFilter(name, ev) {
        const raw = ev.target.value;
        return this.load(this.nextFilters(name, raw ? parseInt(raw, 10) : false));
    }

    formatCount(value) {
        return formatCount(value);
    }

    heldText(held, ideal) {
        return formatHeld(held, ideal);
    }
}
