"""Which features drive a breach (``datasre explain``): drift effects weighted by importance.

Every feature's drift effect (KS D for numeric features, JS distance base 2 for
categorical ones: both in [0, 1], from :func:`checks.drift.compute_drift`) weighted by the
feature's importance to the model. Importance is the correlation ratio η² of the model's
score on the feature (deciles of a numeric feature, categories of a categorical one,
nulls a group of their own): the share of the score's variance the feature alone
explains, normalised to sum to 1. It is univariate (correlated features share credit),
needs no surrogate model and no dependency beyond polars. Its weight is half uniform,
half importance (:data:`UNIFORM_WEIGHT_SHARE`): an estimated importance near 0 must not
hide a large input change, which may still break features the estimate credits.
``importance_weighted_drift`` is the weighted mean effect, in [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import polars as pl

__all__ = [
    "IMPORTANCE_BINS",
    "IMPORTANCE_METHOD",
    "UNIFORM_WEIGHT_SHARE",
    "FeatureDrift",
    "drift_effects",
    "estimate_importance",
    "rank_drift",
    "score_importance",
]

#: Quantile bins of a numeric feature for its correlation ratio.
IMPORTANCE_BINS: Final = 10
#: Share of a feature's weight that is uniform (1 / features); the rest is its importance.
UNIFORM_WEIGHT_SHARE: Final = 0.5
IMPORTANCE_METHOD: Final = (
    "correlation ratio (eta squared) of the model's score on each feature's deciles or "
    "categories, normalised to sum 1; weight = 0.5 / features + 0.5 x importance"
)
_NULL_GROUP: Final = "<null>"
#: The training label as a number, when it stands in for the score.
_LABEL: Final = "__label"


def _groups(frame: pl.DataFrame, feature: str) -> pl.Expr:
    """Deciles of a numeric feature (ties share a bin) or its categories; nulls (and NaN)
    are a group of their own."""
    column = pl.col(feature)
    dtype = frame.schema[feature]
    if dtype.is_numeric():
        values = column.fill_nan(None) if dtype.is_float() else column
        position = values.rank("average") / (values.count() + 1)
        return (position * IMPORTANCE_BINS).floor().cast(pl.String).fill_null(_NULL_GROUP)
    return column.cast(pl.String).fill_null(_NULL_GROUP)


def score_importance(frame: pl.DataFrame, score: str, features: Sequence[str]) -> dict[str, float]:
    """Each feature's share of the score's variance it alone explains (η²), normalised
    to sum to 1 over ``features`` (all 0 when the score is constant)."""
    scored = frame.filter(pl.col(score).is_not_null() & pl.col(score).is_not_nan())
    total = scored.select(((pl.col(score) - pl.col(score).mean()) ** 2).sum()).item()
    raw: dict[str, float] = {}
    for feature in features:
        if feature not in scored.columns or not total:
            raw[feature] = 0.0
            continue
        between = (
            scored.select(_groups(scored, feature).alias("group"), pl.col(score))
            .group_by("group")
            .agg(pl.len().alias("n"), pl.col(score).mean().alias("mean"))
            # group_by's order varies from run to run; a fixed order makes the float sum
            # (and the recorded importance_weighted_drift) the same in every run.
            .sort("group", nulls_last=True)
            .select((pl.col("n") * (pl.col("mean") - scored.get_column(score).mean()) ** 2).sum())
            .item()
        )
        raw[feature] = float(between) / float(total)
    norm = sum(raw.values())
    return {f: (v / norm if norm > 0 else 0.0) for f, v in raw.items()}


@dataclass(frozen=True)
class FeatureDrift:
    """One feature's drift effect, importance and their weighted product."""

    feature: str
    method: str
    effect: float
    drifted: bool
    importance: float
    weight: float
    weighted_effect: float


def estimate_importance(
    scored: pl.DataFrame | None,
    training: pl.DataFrame,
    target: str | None,
    features: Sequence[str],
    *,
    positive_label: str = "1",
) -> tuple[dict[str, float], str]:
    """Feature importances (:func:`score_importance`) and where they came from: the model's
    score on the day (``scored``, a ``score`` column) when there is one, else the label in
    training (a label that is not a number: whether it is ``positive_label``; a text
    label crashed the run whenever the day had no score), else none (uniform weights)."""
    if scored is not None:
        return score_importance(scored, "score", features), "the model's score on the day"
    if target is not None and target in training.columns:
        dtype = training.schema[target]
        if dtype.is_numeric() or dtype == pl.Boolean:
            label = pl.col(target).cast(pl.Float64)
            source = "the label in training (no score available)"
        else:
            label = (pl.col(target).cast(pl.String) == positive_label).cast(pl.Float64)
            source = f"the label in training, {target} = {positive_label} (no score available)"
        labelled = training.with_columns(label.alias(_LABEL))
        return score_importance(labelled, _LABEL, features), source
    return {}, "none (no score, no label): uniform weights"


def drift_effects(
    training: pl.DataFrame,
    day: pl.DataFrame,
    numeric: Sequence[str],
    categorical: Sequence[str],
) -> pl.DataFrame:
    """One row per feature: ``feature``, ``method``, ``effect`` (KS D of a numeric
    feature, JS distance of a categorical one, both in [0, 1]) and ``drifted`` (the drift
    rule's verdict with its default thresholds; null when it could not decide) of the day
    against training (or any reference frame). A feature the day lacks, or carries in a
    dtype of the other kind, is left out: that is ``schema_valid``'s breach, not drift."""
    from checks.drift import compute_drift
    from checks.profile import is_categorical_dtype, is_numeric_dtype

    def of_kind(features: Sequence[str], kind: Callable[[pl.DataType], bool]) -> list[str]:
        return [
            f
            for f in features
            if f in day.columns
            and f in training.columns
            and kind(day.schema[f])
            and kind(training.schema[f])
        ]

    rows = compute_drift(
        training,
        day,
        numeric=of_kind(numeric, is_numeric_dtype),
        categorical=of_kind(categorical, is_categorical_dtype),
        methods=("ks", "chi2"),
    )
    return rows.filter(pl.col("method").is_in(["ks", "chi2"])).select(
        "feature", "method", pl.col("effect").fill_null(0.0), "drifted"
    )


def rank_drift(
    effects: pl.DataFrame, importance: Mapping[str, float], drifted: Mapping[str, bool]
) -> tuple[list[FeatureDrift], float]:
    """Features by importance-weighted effect (largest first) and the
    ``importance_weighted_drift`` value (the weighted mean effect).

    ``effects`` has one row per feature: ``feature``, ``method``, ``effect`` (in [0, 1]).
    ``drifted`` is the recorded verdict per feature (the store's ``ok = false`` rows).
    """
    n = max(effects.height, 1)
    rows: list[FeatureDrift] = []
    for feature, method, effect in effects.select("feature", "method", "effect").iter_rows():
        share = importance.get(feature, 0.0)
        weight = UNIFORM_WEIGHT_SHARE / n + (1 - UNIFORM_WEIGHT_SHARE) * share
        value = float(effect) if effect is not None and math.isfinite(effect) else 0.0
        rows.append(
            FeatureDrift(
                feature, method, value, drifted.get(feature, False), share, weight, weight * value
            )
        )
    rows.sort(key=lambda r: (-r.weighted_effect, r.feature))
    return rows, sum(r.weighted_effect for r in rows)
