"""Validation, completeness and freshness of one feature snapshot from one streaming pass.

Each check contributes scalar aggregates (:class:`checks.schema_validation.SchemaPass`,
:func:`checks.completeness.null_count_exprs`, :func:`checks.freshness.freshness_exprs`);
they are collected together in one ``select`` by polars' streaming engine, so the snapshot
is read once, batch by batch, and memory stays bounded whatever the day's size (plus one
hash set of the ids for the uniqueness count). A bad day reads a little more: examples of
the failing checks and, when ids repeat, a group-by of the ids (see ``SchemaPass``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from checks.completeness import null_count_exprs, rows_from_null_counts
from checks.contract import Contract
from checks.freshness import freshness_exprs, rows_from_freshness
from checks.scalars import collect_scalars
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
) -> FeaturePass:
    """Schema, completeness and freshness SLI rows of the snapshot ``scan`` reads, from one
    streaming pass over it (``as_of``: the evaluation time, ``trained_until``: the newest
    training timestamp, both UTC)."""
    schema = scan.collect_schema()
    plan = SchemaPass.plan(contract, schema)
    exprs = [
        *plan.exprs(),
        *null_count_exprs(contract, schema),
        *freshness_exprs(contract, schema, as_of=as_of),
    ]
    measured = collect_scalars(scan, exprs, apart=plan.apart_exprs())
    report = plan.report(scan, measured)
    n = report.n_rows
    if n == 0:
        return FeaturePass(0, [])
    rows = [
        *schema_sli_rows(contract, report),
        *rows_from_null_counts(contract, n, set(schema), measured),
        *rows_from_freshness(contract, n, measured, as_of=as_of, trained_until=trained_until),
    ]
    return FeaturePass(n, rows)
