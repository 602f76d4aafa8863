"""Validation, completeness and freshness of one feature snapshot from one pass over it.

Each check contributes scalar aggregates (:class:`checks.schema_validation.SchemaPass`,
:func:`checks.completeness.null_count_exprs`, :func:`checks.freshness.freshness_exprs`);
they are measured together on each batch of the snapshot (:data:`checks.scalars.ReadBatches`:
at most :data:`checks.scalars.BATCH_ROWS` rows of the columns they need) and merged, so the
snapshot is read once and memory is bounded by the batch whatever the day's size and however
its row groups were written. The same pass keeps the first examples of failing checks and
feeds the ids' hashes to :class:`checks.hash_repeats.HashRepeats` (whose bitmap, on days too
large to keep every hash, needs a second pass over the ids alone). A day with repeated ids
reads more: a group-by of the ids (see ``SchemaPass``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from checks.completeness import null_count_exprs, rows_from_null_counts
from checks.contract import Contract
from checks.freshness import FRESHNESS_MAXIMA, freshness_exprs, rows_from_freshness
from checks.hash_repeats import HashRepeats
from checks.scalars import ReadBatches, batch_scalars, merge_scalars, scan_slices
from checks.schema_validation import SchemaPass, schema_sli_rows
from checks.sli import SliRow

__all__ = ["FeaturePass", "feature_pass"]


@dataclass(frozen=True)
class FeaturePass:
    """Rows of the snapshot, and its schema, completeness and freshness SLI rows (none
    when the snapshot has no rows: that is an ingest failure, not a measurement)."""

    n_rows: int
    rows: list[SliRow]


def feature_pass(
    contract: Contract,
    scan: pl.LazyFrame,
    *,
    as_of: dt.datetime,
    trained_until: dt.datetime | None,
    batches: ReadBatches | None = None,
) -> FeaturePass:
    """Schema, completeness and freshness SLI rows of the snapshot ``scan`` reads, from one
    pass over it (``as_of``: the evaluation time, ``trained_until``: the newest training
    timestamp, both UTC). ``batches`` reads the snapshot batch by batch (default: slices of
    ``scan``, :func:`checks.scalars.scan_slices`)."""
    schema = scan.collect_schema()
    n_rows = int(scan.select(pl.len()).collect().item())
    read = batches if batches is not None else scan_slices(scan, n_rows)
    plan = SchemaPass.plan(contract, schema)
    exprs = [
        *plan.exprs(),
        *null_count_exprs(contract, schema),
        *freshness_exprs(contract, schema, as_of=as_of),
    ]
    masks = plan.masks()
    columns = {name for expr in (*exprs, *masks) for name in expr.meta.root_names()}
    if plan.id_checked:
        columns.add(contract.sources.id_column)
    repeats = HashRepeats(n_rows) if plan.id_checked else None
    examples: list[list[str]] = [[] for _ in plan.checks]
    measured_batches: list[pl.DataFrame] = []
    # At least one column, so that batches have the snapshot's rows even when no declared
    # column is present (every row then fails schema_valid, which needs the row count).
    wanted = [name for name in schema if name in columns] or list(schema)[:1]
    for batch in read(wanted):
        row = batch_scalars(batch, exprs, derived=masks)
        measured_batches.append(row)
        plan.add_examples(batch, row.row(0, named=True), examples)
        hashes = plan.id_hashes(batch)
        if repeats is not None and hashes is not None:
            repeats.add(hashes)
    if repeats is not None and repeats.needs_second_pass:
        for batch in read([contract.sources.id_column]):
            hashes = plan.id_hashes(batch)
            if hashes is not None:
                repeats.recount(hashes)
    if not measured_batches:  # no rows: the aggregates of an empty frame
        measured_batches.append(batch_scalars(pl.DataFrame(schema=schema), exprs, derived=masks))
    measured = merge_scalars(measured_batches, FRESHNESS_MAXIMA)
    if repeats is not None:
        measured.update(plan.distinct_ids(repeats.n_distinct()))
    report = plan.report(scan, measured, examples)
    n = report.n_rows
    if n == 0:
        return FeaturePass(0, [])
    rows = [
        *schema_sli_rows(contract, report),
        *rows_from_null_counts(contract, n, set(schema), measured),
        *rows_from_freshness(contract, n, measured, as_of=as_of, trained_until=trained_until),
    ]
    return FeaturePass(n, rows)
