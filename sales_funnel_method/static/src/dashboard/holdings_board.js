/** @odoo-module **/

import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { FunnelBoard } from "./funnel_board";

/**
 * Holdings against the ideal (METHOD 2, 6): reps in rows, the layers in columns,
 * each cell what the rep holds against the ideal, coloured by the shortfall,
 * with team subtotals. A click on a cell opens those customers.
 */
export class HoldingsBoard extends FunnelBoard {
    static template = "sales_funnel_method.HoldingsBoard";
    static dataMethod = "get_holdings_board";

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
