"""Exact quantiles of a column too long to sort in memory.

``quantile(q, "linear")`` collects the column and sorts it: 16 bytes a row (1.6 GB for a
100M-row prediction log). Here the two order statistics a linear quantile needs are
found by narrowing instead: one streaming pass counts the values (and their minimum and
maximum) in :data:`BUCKETS` equal-width buckets of the range still in question; the
bucket holding the wanted rank becomes the next range; once a range holds at most
``max_rows`` values they are collected and sorted, and when all of a range's values are
equal no more pass is needed. Each pass holds only its bucket counts. Membership in a
range is the conjunction of the earlier passes' own bucket expressions, so no float
boundary is recomputed and no value is counted twice or lost.

The result is the sorted column's value at that rank, so the quantile is exact:
``x[lo] + (h - lo) * (x[lo + 1] - x[lo])`` with ``h = (n - 1) q`` (numpy's default,
polars' ``"linear"``), up to the last bit of that arithmetic. ``-inf`` and ``inf`` are
ranked before and after every finite value.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import polars as pl

__all__ = ["BUCKETS", "bounded_quantiles"]

#: Buckets per narrowing pass: each pass divides the range by this many.
BUCKETS: Final = 4096
_VALUE = "__value"
_BUCKET = "__bucket"


@dataclass(frozen=True)
class _Range:
    """Finite values satisfying ``where``, ``count`` of them, between ``low`` and ``high``
    (inclusive), the first of them at finite rank ``first``."""

    where: pl.Expr
    count: int
    low: float
    high: float
    first: int


def bounded_quantiles(
    frame: pl.LazyFrame, values: pl.Expr, qs: Sequence[float], max_rows: int
) -> tuple[int, list[float | None]]:
    """The number of non-null, non-NaN ``values`` in ``frame`` and their linear
    quantiles at ``qs`` (None when there are none), collecting at most ``max_rows``
    values at a time."""
    column = frame.select(values.cast(pl.Float64).alias(_VALUE)).filter(
        pl.col(_VALUE).is_not_null() & pl.col(_VALUE).is_not_nan()
    )
    value = pl.col(_VALUE)
    finite = value.is_finite()
    totals = column.select(
        pl.len().alias("n"),
        (value == -math.inf).sum().alias("below"),
        finite.sum().alias("finite"),
        value.filter(finite).min().alias("low"),
        value.filter(finite).max().alias("high"),
    ).collect(engine="streaming")
    n, below, n_finite = (int(totals.item(0, name)) for name in ("n", "below", "finite"))
    if n == 0:
        return 0, [None for _ in qs]
    whole = _Range(finite, n_finite, totals.item(0, "low"), totals.item(0, "high"), 0)

    def at(rank: int) -> float:
        if rank < below:
            return -math.inf
        if rank >= below + n_finite:
            return math.inf
        return _order_statistic(column, whole, rank - below, max_rows)

    results: list[float | None] = []
    for q in qs:
        h = (n - 1) * q
        lo = math.floor(h)
        x_lo = at(lo)
        if h == lo or lo + 1 >= n:
            results.append(x_lo)
            continue
        x_hi = at(lo + 1)
        results.append(x_lo if x_hi == x_lo else x_lo + (h - lo) * (x_hi - x_lo))
    return n, results


def _order_statistic(column: pl.LazyFrame, span: _Range, rank: int, max_rows: int) -> float:
    """The finite value at finite rank ``rank`` (0-based, ascending) inside ``span``."""
    value = pl.col(_VALUE)
    while True:
        if span.low == span.high:
            return float(span.low)
        offset = rank - span.first
        if span.count <= max_rows:
            inside = column.filter(span.where).select(value.sort())
            return float(inside.collect(engine="streaming").item(offset, 0))
        # Halves first, so that a range wider than the largest float does not overflow.
        width = (span.high / 2 - span.low / 2) / BUCKETS
        # A subnormal width may be flushed to zero by the vectorised division (0 / 0 =
        # NaN buckets): a range that narrow holds few distinct floats, split at the lowest.
        if not sys.float_info.min <= width < math.inf:
            span = _split_at_low(column, span, rank)
            continue
        shifted = value / 2 - span.low / 2
        bucket = (shifted / width).floor().clip(0, BUCKETS - 1).cast(pl.Int32)
        counts = (
            column.filter(span.where)
            .group_by(bucket.alias(_BUCKET))
            .agg(pl.len().alias("n"), value.min().alias("low"), value.max().alias("high"))
            .sort(_BUCKET)
            .with_columns(pl.col("n").cum_sum().alias("through"))
            .collect(engine="streaming")
        )
        chosen = counts.filter(pl.col("through") > offset).row(0, named=True)
        if int(chosen["n"]) == span.count:  # every value in one bucket: no progress
            span = _split_at_low(column, span, rank)
            continue
        before = int(chosen["through"]) - int(chosen["n"])
        span = _Range(
            span.where & (bucket == chosen[_BUCKET]),
            int(chosen["n"]),
            float(chosen["low"]),
            float(chosen["high"]),
            span.first + before,
        )


def _split_at_low(column: pl.LazyFrame, span: _Range, rank: int) -> _Range:
    """``span`` without its lowest value when finite rank ``rank`` lies above the copies
    of it; else that value alone (a range whose values are all equal)."""
    value = pl.col(_VALUE)
    split = (
        column.filter(span.where)
        .select(
            (value == span.low).sum().alias("at_low"),
            value.filter(value > span.low).min().alias("next"),
        )
        .collect(engine="streaming")
    )
    at_low = int(split.item(0, "at_low"))
    if rank < span.first + at_low:
        return _Range(span.where, span.count, span.low, span.low, span.first)
    return _Range(
        span.where & (value > span.low),
        span.count - at_low,
        float(split.item(0, "next")),
        span.high,
        span.first + at_low,
    )
