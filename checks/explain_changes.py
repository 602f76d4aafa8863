"""What changed in the data on the first day of a breach (``datasre explain``).

The features with the largest drift effect, each with its quantile shifts (p10, median,
p90 in the data's units and in the reference's standard deviations) or its largest
category-share shifts, and any jump of its null share; against training, and against the
last good day before the breach (:func:`changes_since`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import polars as pl

__all__ = [
    "NULL_JUMP",
    "DistributionChange",
    "SinceLastGood",
    "changed_features",
    "changes_since",
    "distribution_changes",
]

#: A change of a feature's null share (as a fraction of rows) shown and counted as a
#: change: 3.5 standard errors of the difference of two 2,500-row days at 1% nulls.
NULL_JUMP: Final = 0.01


def _null_share(frame: pl.DataFrame, feature: str) -> float:
    column = frame.get_column(feature)
    return column.null_count() / max(column.len(), 1)


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
        null_jump = _null_share(day, feature) - _null_share(training, feature)
        size = max(float(effect or 0.0), abs(null_jump))
        if base.dtype.is_numeric():
            change = _numeric_change(feature, base.drop_nulls(), current.drop_nulls())
        else:
            change = _category_change(base, current)
        if abs(null_jump) >= NULL_JUMP:
            before = _null_share(training, feature)
            change = f"null {before:.1%} -> {before + null_jump:.1%}; {change}"
        rows.append((size, feature, change))
    rows.sort(key=lambda r: (-r[0], r[1]))
    return [DistributionChange(feature, size, change) for size, feature, change in rows[:top]]


@dataclass(frozen=True)
class SinceLastGood:
    """The breach's first day against ``day``, the newest good day of the SLO before it.

    Why: a feature that drifted from training days before the breach, while the SLO
    still held, is an unlikely cause of it, yet against training it ranks first (the
    sample's concept drift of 11-09 listed two features shifted since 11-06).
    ``changed``: the features that changed between the two days (:func:`changed_features`)
    and differ from training, largest first; ``already``: those that differ from training
    on the first day but already did on the good day; ``changes``: the largest changes
    against the good day, in the data's units."""

    day: str
    changed: list[str]
    already: list[str]
    changes: list[DistributionChange]


def changed_features(
    reference: pl.DataFrame, day: pl.DataFrame, effects: pl.DataFrame
) -> list[str]:
    """The features of ``day`` that changed against ``reference``, largest first: flagged
    by the drift rule (``effects``' ``drifted``, a missing column counting as drifted), or
    whose null share moved by :data:`NULL_JUMP` or more (drift drops nulls)."""
    sized: dict[str, float] = {}
    for feature, effect, drifted in effects.select("feature", "effect", "drifted").iter_rows():
        if drifted:
            sized[feature] = max(sized.get(feature, 0.0), float(effect or 0.0))
        elif feature in reference.columns and feature in day.columns:
            jump = abs(_null_share(day, feature) - _null_share(reference, feature))
            if jump >= NULL_JUMP:
                sized[feature] = max(sized.get(feature, 0.0), jump)
    return [f for f, _ in sorted(sized.items(), key=lambda item: (-item[1], item[0]))]


def changes_since(
    good_day: str,
    frames: tuple[pl.DataFrame, pl.DataFrame],
    effects: pl.DataFrame,
    changed_from_training: list[str],
    *,
    top: int = 3,
) -> SinceLastGood:
    """The onset day's features against those of ``good_day``: ``frames`` is (the good
    day's, the onset day's); ``effects``: one row per feature of the onset day against the
    good day (``feature``, ``effect``, ``drifted``); ``changed_from_training``:
    :func:`changed_features` of the onset day against training. A feature counts as
    changed since the good day only if it also differs from training on the onset day: one
    back to what training had (a column missing on the good day, returned) is no cause."""
    good, onset = frames
    changed = [f for f in changed_features(good, onset, effects) if f in changed_from_training]
    return SinceLastGood(
        good_day,
        changed,
        [f for f in changed_from_training if f not in changed],
        distribution_changes(good, onset, effects, top),
    )
