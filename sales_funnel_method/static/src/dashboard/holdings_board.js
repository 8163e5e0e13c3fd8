/** @odoo-module **/

import { Component, onWillStart, useState, useSubEnv } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { useSetupAction } from "@web/search/action_hook";
import { Layout } from "@web/search/layout";
import { getDefaultConfig } from "@web/views/view";
import { formatHeld } from "./funnel_dashboard";

/**
 * Holdings against the ideal (METHOD 2, 6): reps in rows, the layers in columns,
 * each cell what the rep holds against the ideal, coloured by the shortfall,
 * with team subtotals. A click on a cell opens those customers.
 */
export class HoldingsBoard extends Component {
    static template = "sales_funnel_method.HoldingsBoard";
    static components = { Layout };
    static props = ["*"];

    setup() {
        useSubEnv({ config: { ...getDefaultConfig(), ...this.env.config } });
        useSetupAction();
        this.orm = useService("orm");
        this.action = useService("action");
        this.state = useState({ data: null, filters: {} });
        onWillStart(() => this.load({}));
    }

    async load(filters) {
        const data = await this.orm.call("crm.funnel.dashboard", "get_holdings_board", [], {
            filters,
        });
        this.state.data = data;
        this.state.filters = { ...data.filters };
    }

    onFilter(name, ev) {
        const raw = ev.target.value;
        return this.load({ ...this.state.filters, [name]: raw ? parseInt(raw, 10) : false });
    }

    heldText(held, ideal) {
        return formatHeld(held, ideal);
    }

    totalLabel(team) {
        return _t("%(team)s: total", { team: team.name });
    }

    /** How short a cell is: full, short (under the ideal) or empty (under half of it). */
    cellClass(cell) {
        if (!cell || !cell.ideal) {
            return "o_funnel_cell_neutral";
        }
        if (cell.held >= cell.ideal) {
            return "o_funnel_cell_full";
        }
        return cell.held * 2 >= cell.ideal ? "o_funnel_cell_short" : "o_funnel_cell_empty";
    }

    openCell(userIds, layer, title) {
        const domain =
            layer.layer === "abandoned"
                ? [
                      ["funnel_abandoned_by_id", "in", userIds],
                      ["funnel_layer", "=", "abandoned"],
                      ["active", "=", false],
                  ]
                : [
                      ["user_id", "in", userIds],
                      ["funnel_layer", "=", layer.layer],
                  ];
        return this.action.doAction({
            type: "ir.actions.act_window",
            name: _t("%(who)s: %(layer)s", { who: title, layer: layer.label }),
            res_model: "crm.lead",
            views: [
                [false, "list"],
                [false, "form"],
            ],
            domain,
            context: { active_test: layer.layer !== "abandoned", create: false },
        });
    }
}

registry.category("actions").add("sales_funnel_method.holdings_board", HoldingsBoard);
