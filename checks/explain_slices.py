"""Which slices drive a breach (``datasre explain``): each slice's extra errors.

A slice's errors on the day minus the errors its own baseline rate (the good days before
the breach streak) predicts for its row count: the slice's extra errors, and its share of
all slices' extra errors of that column. Errors are wrong answers for a share metric
(accuracy, recall...), squared-error mass for RMSE, absolute-error mass for MAE-like ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import polars as pl

__all__ = ["SliceContribution", "slice_contributions"]

#: Quality metrics whose errors are a share of rows (``(1 - value) x rows`` are errors).
_HIGHER_IS_BETTER: Final = frozenset({"accuracy", "precision", "recall", "f1", "roc_auc", "ndcg"})


@dataclass(frozen=True)
class SliceContribution:
    """A slice's errors on the day against what its baseline error rate predicts."""

    slice: str
    n_rows: int
    value: float
    baseline_value: float | None
    errors: float
    expected_errors: float
    extra_errors: float
    share: float


def _error_mass(metric: str) -> pl.Expr:
    """Errors a metric value stands for over ``n_rows`` rows: wrong answers for a share
    metric, squared-error mass for RMSE, absolute-error mass for MAE-like metrics."""
    value, rows = pl.col("value"), pl.col("n_rows").cast(pl.Float64)
    if metric in _HIGHER_IS_BETTER:
        return (1 - value) * rows
    if metric == "rmse":
        return value**2 * rows
    return value * rows


def _metric_of_mass(metric: str, mass: float, rows: float) -> float:
    rate = mass / rows if rows else float("nan")
    if metric in _HIGHER_IS_BETTER:
        return 1 - rate
    return math.sqrt(rate) if metric == "rmse" else rate


def slice_contributions(
    today: pl.DataFrame, baseline: pl.DataFrame, metric: str
) -> list[SliceContribution]:
    """Slices by extra errors (largest first). ``today`` and ``baseline`` are ``slice_<metric>``
    rows (``slice``, ``value``, ``n_rows``); a slice absent from the baseline uses the
    baseline of all its column's slices together."""
    today = today.filter(pl.col("value").is_not_null() & (pl.col("n_rows") > 0))
    base = (
        baseline.filter(pl.col("value").is_not_null() & (pl.col("n_rows") > 0))
        .with_columns(_error_mass(metric).alias("mass"))
        .group_by("slice")
        .agg(pl.col("mass").sum(), pl.col("n_rows").sum().alias("base_rows"))
    )
    column_rates = (
        base.with_columns(pl.col("slice").str.split("=").list.first().alias("column"))
        .group_by("column")
        .agg((pl.col("mass").sum() / pl.col("base_rows").sum()).alias("column_rate"))
    )
    joined = (
        today.with_columns(
            _error_mass(metric).alias("errors"),
            pl.col("slice").str.split("=").list.first().alias("column"),
        )
        .join(base, on="slice", how="left")
        .join(column_rates, on="column", how="left")
        .with_columns(
            pl.coalesce(pl.col("mass") / pl.col("base_rows"), pl.col("column_rate"))
            .fill_null(0.0)
            .alias("rate")
        )
        .with_columns((pl.col("rate") * pl.col("n_rows")).alias("expected"))
        .with_columns((pl.col("errors") - pl.col("expected")).alias("extra"))
        .with_columns(
            (pl.col("extra") / pl.col("extra").clip(lower_bound=0).sum().over("column"))
            .fill_nan(0.0)
            .fill_null(0.0)
            .alias("share")
        )
        .sort(["extra", "slice"], descending=[True, False])
    )
    return [
        SliceContribution(
            slice=row["slice"],
            n_rows=int(row["n_rows"]),
            value=float(row["value"]),
            baseline_value=(
                _metric_of_mass(metric, row["mass"], row["base_rows"])
                if row["mass"] is not None
                else None
            ),
            errors=float(row["errors"]),
            expected_errors=float(row["expected"]),
            extra_errors=float(row["extra"]),
            share=float(row["share"]),
        )
        for row in joined.iter_rows(named=True)
    ]
