"""What drives a breach (``datasre explain``): pure ranking over SLI rows and frames.

Three questions an on-call engineer asks after a page, each answered from data already at
hand (the store's SLI rows, the training file, the day's snapshots):

- **Which features?** Every feature's drift effect (KS D for numeric features, JS
  distance base 2 for categorical ones: both in [0, 1], from :func:`checks.drift.
  compute_drift`) weighted by the feature's importance to the model. Importance is the
  correlation ratio η² of the model's score on the feature (deciles of a numeric feature,
  categories of a categorical one, nulls a group of their own): the share of the score's
  variance the feature alone explains, normalised to sum to 1. It is univariate (correlated
  features share credit), needs no surrogate model and no dependency beyond polars. Its
  weight is half uniform, half importance (:data:`UNIFORM_WEIGHT_SHARE`): an estimated
  importance near 0 must not hide a large input change, which may still break features
  the estimate credits. ``importance_weighted_drift`` is the weighted mean effect, in
  [0, 1].
- **Which slices?** Each slice's errors on the day minus the errors its own baseline rate
  (the good days before the breach streak) predicts for its row count: the slice's extra
  errors, and its share of all slices' extra errors of that column.
- **Since when?** The first day of the current breach streak of the SLO (consecutive
  evaluated days that breached), and what changed that day against training: the features
  with the largest effect, with their quantile or category-share shifts in the data's units.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Final

import polars as pl

__all__ = [
    "BASELINE_DAYS",
    "IMPORTANCE_BINS",
    "IMPORTANCE_METHOD",
    "UNIFORM_WEIGHT_SHARE",
    "BreachStreak",
    "DistributionChange",
    "FeatureDrift",
    "SliceContribution",
    "baseline_days",
    "breach_streak",
    "choose_slo",
    "distribution_changes",
    "drift_effects",
    "estimate_importance",
    "quality_metric",
    "rank_drift",
    "score_importance",
    "slice_contributions",
    "slo_evaluations",
]

#: Quantile bins of a numeric feature for its correlation ratio.
IMPORTANCE_BINS: Final = 10
#: Share of a feature's weight that is uniform (1 / features); the rest is its importance.
UNIFORM_WEIGHT_SHARE: Final = 0.5
#: Good days before a breach streak that make a slice's baseline error rate.
BASELINE_DAYS: Final = 7
IMPORTANCE_METHOD: Final = (
    "correlation ratio (eta squared) of the model's score on each feature's deciles or "
    "categories, normalised to sum 1; weight = 0.5 / features + 0.5 x importance"
)
_NULL_GROUP: Final = "<null>"
#: Quality metrics whose errors are a share of rows (``(1 - value) x rows`` are errors).
_HIGHER_IS_BETTER: Final = frozenset({"accuracy", "precision", "recall", "f1", "roc_auc", "ndcg"})


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
) -> tuple[dict[str, float], str]:
    """Feature importances (:func:`score_importance`) and where they came from: the model's
    score on the day (``scored``, a ``score`` column) when there is one, else the label in
    training, else none (every weight uniform)."""
    if scored is not None:
        return score_importance(scored, "score", features), "the model's score on the day"
    if target is not None and target in training.columns:
        return (
            score_importance(training, target, features),
            "the label in training (no score available)",
        )
    return {}, "none (no score, no label): uniform weights"


def drift_effects(
    training: pl.DataFrame,
    day: pl.DataFrame,
    numeric: Sequence[str],
    categorical: Sequence[str],
) -> pl.DataFrame:
    """One row per feature: ``feature``, ``method``, ``effect`` (KS D of a numeric
    feature, JS distance of a categorical one, both in [0, 1]) of the day against
    training. A feature the day lacks, or carries in a dtype of the other kind, is left
    out: that is ``schema_valid``'s breach, not drift."""
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
        "feature", "method", pl.col("effect").fill_null(0.0)
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


def slo_evaluations(slis: pl.DataFrame, slo: str) -> pl.DataFrame:
    """Per partition of one SLO's rows: ``bad`` (any ``ok = false``), days with no judged
    row left out. Columns ``partition``, ``bad``, sorted by partition."""
    return (
        slis.filter((pl.col("sli") == slo) & pl.col("ok").is_not_null())
        .group_by("partition")
        .agg((~pl.col("ok")).any().alias("bad"))
        .sort("partition")
    )


@dataclass(frozen=True)
class BreachStreak:
    """The current run of consecutive evaluated days on which the SLO breached."""

    slo: str
    first_day: str
    last_day: str
    days: int


def breach_streak(evaluations: pl.DataFrame, partition: str, slo: str) -> BreachStreak | None:
    """The breach streak that ends on the newest evaluated day at or before ``partition``
    (None when that day is good or nothing was evaluated). Unevaluated days (labels not in
    yet) neither break nor extend a streak."""
    judged = evaluations.filter(pl.col("partition") <= partition).sort("partition", descending=True)
    if judged.height == 0 or not judged.item(0, "bad"):
        return None
    good = judged.get_column("bad").not_().arg_true()
    streak = judged.head(int(good[0]) if good.len() else judged.height)
    days = streak.get_column("partition")
    return BreachStreak(slo, str(days.min()), str(days.max()), streak.height)


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


def as_plain(value: Any) -> Any:
    """Dataclasses (and lists of them) as JSON-ready dicts."""
    if isinstance(value, list):
        return [as_plain(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    return value


#: Quality metrics a slice SLO can be about (``slice_<metric>``).
_QUALITY_PREFERENCE: Final = ("accuracy", "rmse", "ndcg", "f1", "roc_auc", "mae")


def quality_metric(slo: str) -> str | None:
    """The model-wide quality metric an SLO is about (``slice_accuracy`` -> ``accuracy``),
    None for a non-quality SLO."""
    from checks.contract import SLO_CATALOG

    metric = slo.removeprefix("slice_")
    entry = SLO_CATALOG.get(metric)
    return metric if entry is not None and entry.needs_labels else None


def choose_slo(slis: pl.DataFrame, partition: str) -> str:
    """The SLO to explain when none is named: a breached quality SLO of the day (slice
    SLOs first: they say the most), else any breached SLO, else the day's main quality
    metric, else ``drifted_feature_share``."""
    from checks.contract import SLO_CATALOG

    day = slis.filter(pl.col("partition") == partition)
    failed: list[str] = day.filter(pl.col("ok").not_()).get_column("sli").to_list()
    breached = sorted(set(failed) & set(SLO_CATALOG))
    quality = [s for s in breached if quality_metric(s) is not None]
    slices = [s for s in quality if s.startswith("slice_")]
    if slices or quality or breached:
        return (slices or quality or breached)[0]
    measured = set(day.get_column("sli").to_list())
    return next((m for m in _QUALITY_PREFERENCE if m in measured), "drifted_feature_share")


def baseline_days(evaluations: pl.DataFrame, before: str, days: int = BASELINE_DAYS) -> list[str]:
    """The newest ``days`` good evaluated days strictly before ``before``."""
    good = evaluations.filter((pl.col("partition") < before) & pl.col("bad").not_())
    return sorted(good.get_column("partition").to_list())[-days:]
