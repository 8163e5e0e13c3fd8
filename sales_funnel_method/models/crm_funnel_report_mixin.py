from contextlib import nullcontext

from odoo import models, tools
from odoo.osv import expression
from odoo.tools import SQL

from .crm_stage import LAYER_RANK
from .sql_settings import local_work_mem

# the aggregates a measure set beside its ideal may be read with
AGGREGATES = {"avg": "AVG", "sum": "SUM", "min": "MIN", "max": "MAX"}


def over_values(aggregate, values, where=None):
    """SQL text: ``aggregate``, an aggregate of ``funnel_value``, over a group's
    ``values`` (of its rows matching ``where``) gathered by ARRAY_AGG, an ordinary
    aggregate. A median (PERCENTILE_CONT, an ordered-set aggregate) or a count of
    distinct values taken on the rows themselves would have every row sorted by
    its group first; over the gathered values, the groups can be hashed. Valid
    wherever an aggregate is (SELECT, HAVING, ORDER BY)."""
    gathered = f"ARRAY_AGG({values})"
    if where is not None:
        gathered = f"{gathered} FILTER (WHERE {where})"
    return f"(SELECT {aggregate} FROM unnest({gathered}) AS funnel_value)"


MEDIAN = "PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY funnel_value)"


def top_level_terms(domain):
    """The terms of ``domain`` that every record it keeps satisfies: those joined
    to the rest by AND at its top level (in the prefix notation, the leaves
    reached from the root through "&" alone), each as a tuple. A term under an
    OR or a NOT is not one of them."""
    terms = []
    # for each node still to read, whether only "&" lead to it from the root
    # (read in order: each operator is followed by its operands)
    pending = [True]
    for token in expression.normalize_domain(domain or []):
        at_top = pending.pop()
        if token == "&":
            pending += [at_top, at_top]
        elif token == "|":
            pending += [False, False]
        elif token == "!":
            pending.append(False)
        elif at_top:
            terms.append(tuple(token) if isinstance(token, (list, tuple)) else token)
    return terms


class CrmFunnelReportMixin(models.AbstractModel):
    """Shared plumbing of the funnel's SQL-view reports.

    A ratio measure (reach rate, abandon ratio, contacts per customer) must be
    the ratio of the group's sums, not the average of the rows' ratios: models
    list them in ``_funnel_ratios`` as {field: (numerator, denominator)} or
    {field: (numerator, denominator, scale)} (100 for a percentage), two
    aggregate SQL expressions where ``%(table)s`` stands for the report's table,
    and the pivot/graph aggregate them with that SQL. ``_funnel_medians`` lists
    fields aggregated as their median, {field: column}. ``_funnel_totals`` gives a
    ratio other SQL for a read without groups (a pivot's total), in the same form:
    there a plain ``COUNT(DISTINCT ...)`` sorts the values once, cheaper than
    gathering them first (see over_values), which pays only when there are groups.

    A report may set the ideal beside the actual in the same rows: each row has a
    ``kind`` ("actual" or "ideal"), the ideal rows mirroring the actual ones. The
    measures listed in ``_funnel_by_kind`` are then aggregated over the group's
    actual rows whenever it holds any, and over its ideal rows otherwise: a graph
    split by kind shows the ideal beside the actual, and a pivot or a total that
    is not split by kind never mixes the two; the count too (a group's actual
    rows, or its ideal ones). A read grouped and filtered only by fields on which
    an actual row and its ideal twin agree (``_funnel_twin_fields``: not the kind,
    not the measures) reads the actual rows alone: the twins would add nothing
    it shows, so half the rows are never built, and its aggregates are plain
    ones (no test of the kind per group).
    """

    _name = "crm.funnel.report.mixin"
    _description = "Funnel Report Mixin"

    _funnel_ratios = {}
    _funnel_totals = {}
    _funnel_medians = {}
    _funnel_by_kind = ()
    _funnel_twin_fields = ()

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
        groupby = tuple(groupby)
        report = self
        if self._funnel_by_kind and (
            self.env.context.get("funnel_actual_only")
            or self._funnel_reads_twins_alike(domain, groupby)
            or self._funnel_keeps_actual_only(domain)
        ):
            # the actual rows alone, read with plain aggregates (see
            # _read_group_select); a caller may ask for it too, as a filter
            domain = expression.AND([domain or [], [("kind", "=", "actual")]])
            report = self.with_context(funnel_actual_only=True)
        # a count of distinct values sorts every value of its groups: give the
        # sort room in memory for this read rather than spilling to disk
        # (PostgreSQL's 4 MB), and that read alone. Not for a median: with more
        # room, the planner sorts every row by group rather than hashing the
        # groups, and that costs more than the spill it avoids (see
        # _funnel_aggregate); nor for another report read in the same request
        room = (
            local_work_mem(self.env.cr)
            if any(self._funnel_sorts(spec.partition(":")[0]) for spec in aggregates)
            else nullcontext()
        )
        with room:
            rows = super(CrmFunnelReportMixin, report)._read_group(
                domain,
                groupby,
                aggregates,
                having=having,
                offset=offset,
                limit=limit,
                order=order,
            )
        if report is self:
            return rows
        # the groups' records in the caller's environment: the mark of this read
        # must not follow them into the next
        return [
            tuple(
                value.with_env(self.env)
                if isinstance(value, models.BaseModel)
                else value
                for value in row
            )
            for row in rows
        ]

    def _funnel_sorts(self, fname):
        """Whether the measure ``fname`` sorts its groups' values: a ratio over a
        count of distinct values."""
        return any(
            "DISTINCT" in str(part) for part in self._funnel_ratios.get(fname, ())
        )

    def _funnel_keeps_actual_only(self, domain):
        """Whether ``domain`` keeps the actual rows alone: ``("kind", "=",
        "actual")`` is one of its top-level conjuncts, whatever the other ones
        (the dashboard's reads say so themselves, beside an OR of the layers)."""
        return ("kind", "=", "actual") in top_level_terms(domain)

    def _funnel_reads_twins_alike(self, domain, groupby):
        """Whether a read groups and filters only by fields on which an actual row
        and its ideal twin agree: then the twins add nothing to it."""
        shared = set(self._funnel_twin_fields)
        return all(spec.split(":")[0] in shared for spec in groupby) and all(
            leaf[0].split(".")[0] in shared
            for leaf in domain or ()
            if isinstance(leaf, (list, tuple)) and isinstance(leaf[0], str)
        )

    def _read_group_select(self, aggregate_spec, query):
        fname, _sep, func = aggregate_spec.partition(":")
        if fname in self._funnel_ratios and func:
            numerator, denominator, *scale = (
                not query.groupby and self._funnel_totals.get(fname)
            ) or self._funnel_ratios[fname]
            table = SQL.identifier(self._table)
            return SQL(
                "(%s * %s::float / NULLIF(%s, 0))",
                scale[0] if scale else 1,
                SQL(numerator, table=table),
                SQL(denominator, table=table),
            )
        if self._funnel_by_kind and self.env.context.get("funnel_actual_only"):
            # the read has the actual rows alone (see _read_group): plain aggregates,
            # the same ones as a read split by kind accepts
            if (
                fname in self._funnel_by_kind or fname in self._funnel_medians
            ) and func:
                return self._funnel_aggregate(fname, func)
            return super()._read_group_select(aggregate_spec, query)
        if aggregate_spec == "__count" and self._funnel_by_kind:
            # the group's actual rows, or its ideal ones: a customer counted once
            kind = SQL.identifier(self._table, "kind")
            return SQL(
                "CASE WHEN BOOL_OR(%(kind)s = 'actual') "
                "THEN COUNT(*) FILTER (WHERE %(kind)s = 'actual') ELSE COUNT(*) END",
                kind=kind,
            )
        if fname in self._funnel_by_kind and func:
            # a group without actual rows holds ideal ones only: each row feeds one
            # of the two aggregates (a median gathers each row's value once)
            kind = SQL.identifier(self._table, "kind")
            return SQL(
                "CASE WHEN BOOL_OR(%(kind)s = 'actual') THEN %(actual)s ELSE %(ideal)s END",
                kind=kind,
                actual=self._funnel_aggregate(fname, func, SQL("%s = 'actual'", kind)),
                ideal=self._funnel_aggregate(
                    fname, func, SQL("%s IS DISTINCT FROM 'actual'", kind)
                ),
            )
        if fname in self._funnel_medians and func:
            return self._funnel_aggregate(fname, func)
        return super()._read_group_select(aggregate_spec, query)

    def _funnel_aggregate(self, fname, func, where=None):
        """SQL: the aggregate ``func`` of the column of ``fname`` (its median for
        the fields of ``_funnel_medians``), over the rows matching ``where``."""
        column = SQL.identifier(self._table, self._funnel_medians.get(fname, fname))
        if fname in self._funnel_medians:
            # the median of the group's values gathered first (see over_values)
            kept = SQL("%s IS NOT NULL", column)
            if where is not None:
                kept = SQL("%s AND %s", kept, where)
            return SQL(over_values(MEDIAN, "%s", "%s"), column, kept)
        if func in AGGREGATES:
            aggregate = SQL("%s(%s)", SQL(AGGREGATES[func]), column)
        else:
            raise ValueError(f"Invalid aggregate {func!r} for {fname!r}")
        if where is None:
            return aggregate
        return SQL("%s FILTER (WHERE %s)", aggregate, where)

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
