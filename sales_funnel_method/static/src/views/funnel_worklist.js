/** @odoo-module **/

import { Component, onWillStart, useState } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { listView } from "@web/views/list/list_view";
import { ListRenderer } from "@web/views/list/list_renderer";
import { FunnelTargets } from "./funnel_targets";

/**
 * Holdings against the ideal per layer (METHOD 2), above the rep's My Funnel list.
 */
export class FunnelHoldings extends Component {
    static template = "sales_funnel_method.FunnelHoldings";
    static props = {};

    setup() {
        this.orm = useService("orm");
        this.state = useState({ layers: [] });
        onWillStart(async () => {
            this.state.layers = await this.orm.call("crm.lead", "get_funnel_holdings", []);
        });
    }
}

export class FunnelWorklistRenderer extends ListRenderer {
    static template = "sales_funnel_method.FunnelWorklistRenderer";
    static components = { ...ListRenderer.components, FunnelHoldings, FunnelTargets };
}

registry.category("views").add("funnel_worklist", {
    ...listView,
    Renderer: FunnelWorklistRenderer,
});
