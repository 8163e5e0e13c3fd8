/** @odoo-module **/

import { Component, onWillStart, useState } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { listView } from "@web/views/list/list_view";
import { ListRenderer } from "@web/views/list/list_renderer";

/**
 * The user's own capacity above the pool (METHOD 4): how many customers they hold,
 * their quota, and how many more they may claim.
 */
export class FunnelPoolCapacity extends Component {
    static template = "sales_funnel_method.FunnelPoolCapacity";
    static props = {};

    setup() {
        this.orm = useService("orm");
        this.state = useState({ figures: null });
        onWillStart(async () => {
            this.state.figures = await this.orm.call(
                "crm.funnel.allocation",
                "get_funnel_pool_capacity",
                []
            );
        });
    }
}

export class FunnelPoolRenderer extends ListRenderer {
    static template = "sales_funnel_method.FunnelPoolRenderer";
    static components = { ...ListRenderer.components, FunnelPoolCapacity };
}

registry.category("views").add("funnel_pool", {
    ...listView,
    Renderer: FunnelPoolRenderer,
});
