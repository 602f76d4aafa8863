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


def collect_scalars(frame: pl.DataFrame | pl.LazyFrame, exprs: Sequence[pl.Expr]) -> dict[str, Any]:
    """``{alias: value}`` of each scalar aggregate in ``exprs``, plus the row count under
    :data:`ROWS`, from one streaming ``select`` over ``frame``."""
    query = frame.lazy().select(pl.len().alias(ROWS), *exprs)
    return query.collect(engine="streaming").row(0, named=True)
