"""What changed in the data on the first day of a breach (``datasre explain``).

The features with the largest drift effect, each with its quantile shifts (p10, median,
p90 in the data's units and in training standard deviations) or its largest
category-share shifts, and any jump of its null share.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

__all__ = ["DistributionChange", "distribution_changes"]


@dataclass(frozen=True)
class DistributionChange:
    """What moved in one feature between training and a day, in the data's own units."""

    feature: str
    effect: float
    change: str


def _numeric_change(feature: str, base: pl.Series, day: pl.Series) -> str:
    quantiles = (0.1, 0.5, 0.9)
    names = ("p10", "median", "p90")
    std = float(base.std() or 0.0)  # type: ignore[arg-type]
    parts = []
    for name, q in zip(names, quantiles, strict=True):
        before, after = base.quantile(q), day.quantile(q)
        if before is None or after is None:
            continue
        shift = float(after) - float(before)
        in_std = f", {shift / std:+.2f} sd" if std > 0 else ""
        parts.append(f"{name} {float(before):.4g} -> {float(after):.4g} ({shift:+.4g}{in_std})")
    return "; ".join(parts) or f"{feature}: no values"


def _category_change(base: pl.Series, day: pl.Series) -> str:
    def shares(series: pl.Series) -> pl.DataFrame:
        counts = series.cast(pl.String).drop_nulls().value_counts(name="n")
        return counts.with_columns((pl.col("n") / pl.col("n").sum()).alias("share")).drop("n")

    name = base.name
    joined = (
        shares(base)
        .join(shares(day), on=name, how="full", coalesce=True, suffix="_day")
        .fill_null(0.0)
        .with_columns((pl.col("share_day") - pl.col("share")).alias("delta"))
        .sort([pl.col("delta").abs(), pl.col("delta")], descending=True)
        .head(3)
    )
    return "; ".join(
        f"{category} {before:.1%} -> {after:.1%}"
        for category, before, after, _ in joined.iter_rows()
    )


def distribution_changes(
    training: pl.DataFrame, day: pl.DataFrame, effects: pl.DataFrame, top: int = 3
) -> list[DistributionChange]:
    """The ``top`` features with the largest effect on the day (and any null-share jump),
    each with its quantile shifts (numeric) or largest category-share shifts."""
    rows: list[tuple[float, str, str]] = []
    for feature, effect in effects.select("feature", "effect").iter_rows():
        if feature not in day.columns or feature not in training.columns:
            rows.append((1.0, feature, "column missing from the day's file"))
            continue
        base, current = training.get_column(feature), day.get_column(feature)
        null_jump = current.null_count() / max(current.len(), 1) - base.null_count() / max(
            base.len(), 1
        )
        size = max(float(effect or 0.0), abs(null_jump))
        if base.dtype.is_numeric():
            change = _numeric_change(feature, base.drop_nulls(), current.drop_nulls())
        else:
            change = _category_change(base, current)
        if abs(null_jump) >= 0.01:
            before = base.null_count() / max(base.len(), 1)
            change = f"null {before:.1%} -> {before + null_jump:.1%}; {change}"
        rows.append((size, feature, change))
    rows.sort(key=lambda r: (-r[0], r[1]))
    return [DistributionChange(feature, size, change) for size, feature, change in rows[:top]]
