/** @odoo-module **/

import { registry } from "@web/core/registry";
import { graphView } from "@web/views/graph/graph_view";
import { GraphRenderer } from "@web/views/graph/graph_renderer";

/**
 * The funnel's graphs name their x axis after what it counts (the layer, the
 * days since the customer was received): Odoo's graph names only the y axis.
 */
export class FunnelGraphRenderer extends GraphRenderer {
    getScaleOptions() {
        const scales = super.getScaleOptions();
        const { fields, groupBy, mode } = this.model.metaData;
        if (mode !== "pie" && scales.x && groupBy.length) {
            const field = fields[groupBy[0].fieldName];
            scales.x.title = { display: true, text: field ? field.string : "" };
        }
        return scales;
    }
}

registry.category("views").add("funnel_graph", {
    ...graphView,
    Renderer: FunnelGraphRenderer,
});
