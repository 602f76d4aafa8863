"""Regression metrics from per-group sums: the mergeable form of ``rmse``, ``mae``, ``mape``.

A regression day too large for memory is scored bucket by bucket, like a classification
day (:mod:`checks.quality_tables`), but its reduction is not a count per distinct value
(a continuous target has as many as rows): each bucket's joined rows become one row per
slice value with the usable rows' count (target and prediction non-null, not NaN, as
:func:`checks.slices.usable_rows` keeps them), how many of them hold an infinity, and the
sums of squared, absolute and relative errors over the finite ones. Sums of two buckets
add, and the kernels here return what :mod:`checks.quality_metrics` returns on the rows:
the same statuses and details, values equal up to float summation order (~1e-15
relative).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
import polars as pl

from checks.quality_join import P_NUM, Y_NUM
from checks.quality_metrics import EPS, MetricResult, regression_problem
from checks.quality_tables import COUNT, SUM_PREFIX

__all__ = [
    "ABSOLUTE_ERROR",
    "NON_FINITE",
    "RELATIVE_ERROR",
    "SQUARED_ERROR",
    "SUMMED",
    "ZERO_TARGETS",
    "finest_sums",
    "mae_sums",
    "mape_sums",
    "rmse_sums",
]

#: Sum columns (:data:`checks.quality_tables.SUM_PREFIX`: merged by adding).
SQUARED_ERROR: Final = f"{SUM_PREFIX}squared_error"
ABSOLUTE_ERROR: Final = f"{SUM_PREFIX}absolute_error"
#: ``|prediction - target| / max(|target|, eps)``, the terms of ``mape``.
RELATIVE_ERROR: Final = f"{SUM_PREFIX}relative_error"
#: Usable rows whose target or prediction is infinite (the metric is then an error).
NON_FINITE: Final = f"{SUM_PREFIX}non_finite"
#: Usable rows whose target is 0 (``mape``'s detail names them).
ZERO_TARGETS: Final = f"{SUM_PREFIX}zero_targets"


def finest_sums(frame: pl.LazyFrame, by: Sequence[pl.Expr]) -> pl.LazyFrame:
    """One row per value of ``by`` (every grouping column at once; none: one row) with
    :data:`COUNT` and the sum columns of ``frame``'s usable rows (working columns
    :data:`~checks.quality_join.Y_NUM` and ``P_NUM``)."""
    y, p = pl.col(Y_NUM), pl.col(P_NUM)
    usable = y.is_not_null() & y.is_not_nan() & p.is_not_null() & p.is_not_nan()
    finite = y.is_finite() & p.is_finite()

    def over_finite(term: pl.Expr) -> pl.Expr:
        return pl.when(finite).then(term).otherwise(0.0).sum()

    sums = [
        pl.len().cast(pl.Int64).alias(COUNT),
        (~finite).sum().cast(pl.Int64).alias(NON_FINITE),
        over_finite((y - p) ** 2).alias(SQUARED_ERROR),
        over_finite((y - p).abs()).alias(ABSOLUTE_ERROR),
        over_finite((p - y).abs() / pl.max_horizontal(y.abs(), pl.lit(EPS))).alias(RELATIVE_ERROR),
        (y == 0.0).sum().cast(pl.Int64).alias(ZERO_TARGETS),
    ]
    rows = frame.filter(usable)
    return rows.group_by(list(by)).agg(sums) if by else rows.select(sums)


def _total(values: npt.ArrayLike) -> float:
    return float(np.asarray(values, dtype=np.float64).sum())


def _problem(non_finite: npt.ArrayLike, count: npt.ArrayLike) -> tuple[int, MetricResult | None]:
    """Rows, and the row-level kernels' result when they cannot score them."""
    n = int(np.asarray(count, dtype=np.int64).sum())
    all_finite = not int(np.asarray(non_finite, dtype=np.int64).sum())
    return n, regression_problem(n, all_finite=all_finite)


def rmse_sums(
    squared_error: npt.ArrayLike, non_finite: npt.ArrayLike, count: npt.ArrayLike
) -> MetricResult:
    """Root mean squared error, in the target's unit."""
    n, problem = _problem(non_finite, count)
    return problem or MetricResult(float(np.sqrt(_total(squared_error) / n)), n)


def mae_sums(
    absolute_error: npt.ArrayLike, non_finite: npt.ArrayLike, count: npt.ArrayLike
) -> MetricResult:
    """Mean absolute error, in the target's unit."""
    n, problem = _problem(non_finite, count)
    return problem or MetricResult(_total(absolute_error) / n, n)


def mape_sums(
    relative_error: npt.ArrayLike,
    zero_targets: npt.ArrayLike,
    non_finite: npt.ArrayLike,
    count: npt.ArrayLike,
) -> MetricResult:
    """Mean absolute percentage error as a fraction, denominators floored at eps."""
    n, problem = _problem(non_finite, count)
    if problem is not None:
        return problem
    zeros = int(np.asarray(zero_targets, dtype=np.int64).sum())
    detail = "zero targets: their terms divide by eps" if zeros else None
    return MetricResult(_total(relative_error) / n, n, detail=detail)


#: The regression metrics' kernels on a sums table: metric -> (columns, kernel); the
#: kernel also receives :data:`~checks.quality_tables.COUNT`, last.
SUMMED: Final[Mapping[str, tuple[tuple[str, ...], Callable[..., MetricResult]]]] = {
    "rmse": ((SQUARED_ERROR, NON_FINITE), rmse_sums),
    "mae": ((ABSOLUTE_ERROR, NON_FINITE), mae_sums),
    "mape": ((RELATIVE_ERROR, ZERO_TARGETS, NON_FINITE), mape_sums),
}
