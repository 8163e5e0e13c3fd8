/** @odoo-module **/

import { Component, onWillStart, useState } from "@odoo/owl";
import { formatFloat } from "@web/core/utils/numbers";
import { useService } from "@web/core/utils/hooks";

/**
 * The rep's targets of this month against actual (业绩目标, 完成率), above the
 * My Funnel list, beside the holdings.
 */
export class FunnelTargets extends Component {
    static template = "sales_funnel_method.FunnelTargets";
    static props = {};

    setup() {
        this.orm = useService("orm");
        this.state = useState({ lines: [] });
        onWillStart(async () => {
            this.state.lines = await this.orm.call("crm.funnel.target", "get_funnel_my_targets", []);
        });
    }

    format(line, value) {
        // whole amounts and whole customers
        const text = formatFloat(value, { digits: [false, 0] });
        return line.is_amount ? `${line.currency_symbol}${text}` : text;
    }
}
