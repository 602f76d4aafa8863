"""Completeness SLIs: how much of the declared data is actually there.

- ``null_rate`` per feature (fraction of rows): null, or NaN for float columns. A feature
  whose column is missing from the snapshot has null rate 1.0: absent data is missing data.
- ``completeness`` (fraction of cells): non-null share of all (rows × declared features)
  cells of the snapshot, the feature completeness ratio.

Objectives: a feature's ``max_null_rate`` wins over the contract's ``null_rate`` SLO.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import polars as pl

from checks.contract import Contract
from checks.scalars import ROWS, collect_scalars
from checks.sli import SliRow, slo_row

__all__ = ["completeness_sli_rows", "null_count_exprs", "null_counts", "rows_from_null_counts"]

_PREFIX: Final = "__nulls_"


def null_count_exprs(contract: Contract, schema: Mapping[str, pl.DataType]) -> list[pl.Expr]:
    """Null (+ NaN for float columns) count of each declared feature present in a snapshot
    of this schema: scalar aggregates (uniquely aliased) for the snapshot's one pass."""
    exprs = []
    for name in contract.features:
        if name not in schema:
            continue
        column = pl.col(name)
        nulls = (
            (column.is_null() | column.is_nan()).sum()
            if schema[name].is_float()
            else column.null_count()
        )
        exprs.append(nulls.alias(_PREFIX + name))
    return exprs


def _counts(contract: Contract, n_rows: int, measured: Mapping[str, Any]) -> dict[str, int]:
    """Per declared feature, its null count from ``measured``; a missing column counts
    every row."""
    return {name: int(measured.get(_PREFIX + name, n_rows)) for name in contract.features}


def null_counts(contract: Contract, frame: pl.DataFrame | pl.LazyFrame) -> dict[str, int]:
    """Null (+ NaN) count per declared feature, in one pass over the frame.

    Missing columns count every row; so does a column of a float dtype that is all NaN.
    """
    lazy = frame.lazy()
    measured = collect_scalars(lazy, null_count_exprs(contract, lazy.collect_schema()))
    return _counts(contract, int(measured[ROWS]), measured)


def rows_from_null_counts(
    contract: Contract, n_rows: int, present: set[str], measured: Mapping[str, Any]
) -> list[SliRow]:
    """``null_rate`` per feature and the model-wide ``completeness`` of a snapshot of
    ``n_rows`` rows whose columns are ``present``, from the values of
    :func:`null_count_exprs` (``measured``)."""
    n = n_rows
    counts = _counts(contract, n, measured)
    rows: list[SliRow] = []
    for name, spec in contract.features.items():
        missing = name not in present
        rows.append(
            slo_row(
                contract,
                "null_rate",
                "completeness",
                counts[name] / n if n else None,
                n,
                feature=name,
                objective=spec.max_null_rate,
                detail="column missing from the snapshot" if missing else None,
            )
        )
    cells = n * len(contract.features)
    rows.append(
        slo_row(
            contract,
            "completeness",
            "completeness",
            1.0 - sum(counts.values()) / cells if cells else None,
            n,
        )
    )
    return rows


def completeness_sli_rows(contract: Contract, frame: pl.DataFrame | pl.LazyFrame) -> list[SliRow]:
    """``null_rate`` per feature and the model-wide ``completeness`` of one snapshot."""
    lazy = frame.lazy()
    schema = lazy.collect_schema()
    measured = collect_scalars(lazy, null_count_exprs(contract, schema))
    return rows_from_null_counts(contract, int(measured[ROWS]), set(schema), measured)
