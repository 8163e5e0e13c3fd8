from odoo import models, tools
from odoo.tools import SQL

from .crm_stage import LAYER_RANK


class CrmFunnelReportMixin(models.AbstractModel):
    """Shared plumbing of the funnel's SQL-view reports.

    A ratio measure (step rate, abandon ratio, contacts per customer) must be
    the ratio of the group's sums, not the average of the rows' ratios: models
    list them in ``_funnel_ratios`` as {field: (numerator, denominator)}, two
    aggregate SQL expressions where ``%(table)s`` stands for the report's table,
    and the pivot/graph aggregate them with that SQL. ``_funnel_medians`` lists
    fields aggregated as their median.
    """

    _name = "crm.funnel.report.mixin"
    _description = "Funnel Report Mixin"

    _funnel_ratios = {}
    _funnel_medians = {}

    def _query(self):
        raise NotImplementedError

    def init(self):
        super().init()
        if self._abstract or self._auto:
            return
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                "CREATE OR REPLACE VIEW %s AS (%s)",
                SQL.identifier(self._table),
                self._query(),
            )
        )

    def _read_group(
        self,
        domain,
        groupby=(),
        aggregates=(),
        having=(),
        offset=0,
        limit=None,
        order=None,
    ):
        if any(spec.partition(":")[0] in self._funnel_medians for spec in aggregates):
            # a median sorts every value of its groups: give the sort room in memory
            # for this transaction rather than spilling to disk (PostgreSQL's 4 MB)
            self.env.cr.execute("SET LOCAL work_mem = '64MB'")
        return super()._read_group(
            domain,
            groupby,
            aggregates,
            having=having,
            offset=offset,
            limit=limit,
            order=order,
        )

    def _read_group_select(self, aggregate_spec, query):
        fname, _sep, func = aggregate_spec.partition(":")
        if fname in self._funnel_ratios and func:
            numerator, denominator = self._funnel_ratios[fname]
            table = SQL.identifier(self._table)
            return SQL(
                "(%s::float / NULLIF(%s, 0))",
                SQL(numerator, table=table),
                SQL(denominator, table=table),
            )
        if fname in self._funnel_medians and func:
            column = SQL.identifier(self._table, self._funnel_medians[fname])
            return SQL("PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY %s)", column)
        return super()._read_group_select(aggregate_spec, query)

    def _read_group_orderby(self, order, groupby_terms, query):
        order = order or ",".join(groupby_terms)
        terms = []
        for part in order.split(","):
            term, _sep, direction = part.strip().partition(" ")
            field = self._fields.get(term.split(":")[0])
            if (
                term in groupby_terms
                and field is not None
                and field.type == "selection"
                and set(field.get_values(self.env)) <= set(LAYER_RANK)
            ):
                rank = SQL(" ").join(
                    [SQL("CASE %s", groupby_terms[term])]
                    + [
                        SQL("WHEN %s THEN %s", key, value)
                        for key, value in LAYER_RANK.items()
                    ]
                    + [SQL("END")]
                )
                terms.append(
                    SQL("%s DESC", rank)
                    if direction.strip().upper().startswith("DESC")
                    else rank
                )
            elif part.strip():
                terms.append(
                    super()._read_group_orderby(part.strip(), groupby_terms, query)
                )
        return SQL(", ").join(terms)
