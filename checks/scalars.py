"""Scalar aggregates of a frame or a lazy scan, collected in one streaming pass.

The checks that read a whole snapshot (schema, completeness, freshness) express what they
need as uniquely aliased scalar aggregates; this collects any set of them with polars'
streaming engine, so a scan is read batch by batch and never held whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import polars as pl

__all__ = ["ROWS", "collect_scalars"]

#: Alias of the row count :func:`collect_scalars` always adds.
ROWS: Final = "__rows"


def collect_scalars(
    frame: pl.DataFrame | pl.LazyFrame, exprs: Sequence[pl.Expr], *, apart: Sequence[pl.Expr] = ()
) -> dict[str, Any]:
    """``{alias: value}`` of each scalar aggregate in ``exprs`` and ``apart``, plus the row
    count under :data:`ROWS`, from one streaming collect over ``frame``.

    ``apart`` aggregates (distinct counts) get a ``select`` of their own in the same
    ``collect_all``: in one ``select`` with the sums, polars held far more of the scan
    (measured on 5M rows in 128K-row groups: 854 MiB together, 372 MiB apart).
    """
    lazy = frame.lazy()
    queries = [lazy.select(pl.len().alias(ROWS), *exprs), *(lazy.select(e) for e in apart)]
    measured: dict[str, Any] = {}
    for result in pl.collect_all(queries, engine="streaming"):
        measured.update(result.row(0, named=True))
    return measured
