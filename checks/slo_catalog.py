"""The SLO vocabulary: every SLI a contract may hold an objective for, and the SLO shape.

One home for what datasre knows about an SLO name: its track (``infra``/``model``), its
comparator, its unit, the bounds of a sane objective, which model types produce it and
what a contract must declare for it to be measurable. The contract loader
(:mod:`checks.contract`), the default templates (:mod:`checks.slo_templates`), the SLI
builders and the gate all read this table; nothing here imports them back.

Objectives are in the unit the SLI's name says (fractions, never percentages; seconds
for ``*_seconds``, milliseconds for ``*_ms``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "SLICED_METRICS",
    "SLO_CATALOG",
    "Comparator",
    "ModelType",
    "Needs",
    "SloCatalogEntry",
    "SloSpec",
    "Slos",
    "Track",
    "slice_slo_name",
]


class ModelType(StrEnum):
    CLASSIFICATION = "classification"
    REGRESSION = "regression"
    RANKING = "ranking"


class Track(StrEnum):
    """The two error-budget tracks: infrastructure health and model health."""

    INFRA = "infra"
    MODEL = "model"


Comparator = Literal["<=", ">=", "<", ">"]


class Needs(StrEnum):
    """What a contract must declare for an SLI to be measurable at all."""

    PREDICTIONS = "predictions"  # sources.predictions
    LABELS = "labels"  # sources.predictions, sources.labels and predictions.target
    SCORE = "score"  # predictions.score
    LABEL_OR_SCORE = "label_or_score"  # predictions.predicted_label or predictions.score
    LATENCY = "latency"  # predictions.latency_ms
    COST = "cost"  # predictions.cost
    STATUS = "status"  # predictions.status
    RANKING_GROUP = "ranking_group"  # predictions.ranking_group
    SENSITIVE_ATTRIBUTES = "sensitive_attributes"  # sensitive_attributes
    SLICES = "slices"  # slices
    CATEGORICAL_FEATURES = "categorical_features"  # a String/Categorical feature


@dataclass(frozen=True)
class SloCatalogEntry:
    """What datasre knows about an SLI it can hold an objective for.

    ``bounds`` is the closed interval the objective must lie in (``None`` = unbounded);
    ``unit`` is documentation for humans and the README. ``model_types`` are the model
    types that produce the SLI (``None``: every type) and ``needs`` what the contract must
    declare for it: an SLO the model can never produce is refused by the loader, never
    left to sit ``not_evaluated`` while the gate says ready.
    """

    track: Track
    comparator: Comparator
    unit: str
    description: str
    bounds: tuple[float | None, float | None] = (None, None)
    model_types: frozenset[ModelType] | None = None
    needs: tuple[Needs, ...] = ()
    #: Measured only on a version that serves (daily snapshots, the prediction log);
    #: see :attr:`serving_only`.
    needs_serving: bool = False

    @property
    def serving_only(self) -> bool:
        """A one-shot candidate validation of an offline evaluation set cannot measure it:
        the infra track and the SLIs of daily snapshots or of the prediction log."""
        return self.needs_serving or self.track == Track.INFRA

    @property
    def needs_labels(self) -> bool:
        """Measured only once labels arrive (days after the partition's evaluation)."""
        return Needs.LABELS in self.needs


_FRACTION = (0.0, 1.0)
_NON_NEGATIVE = (0.0, None)
_CLASSIFIER = frozenset({ModelType.CLASSIFICATION})
_REGRESSOR = frozenset({ModelType.REGRESSION})
_RANKER = frozenset({ModelType.RANKING})


def _labelled(
    comparator: Comparator,
    unit: str,
    description: str,
    bounds: tuple[float | None, float | None],
    model_types: frozenset[ModelType],
    *needs: Needs,
) -> SloCatalogEntry:
    """A model-track SLI measured once labels arrive (quality, calibration, fairness)."""
    return SloCatalogEntry(
        Track.MODEL,
        comparator,
        unit,
        description,
        bounds,
        model_types=model_types,
        needs=(Needs.LABELS, *needs),
    )


def _estimated(metric: str) -> SloCatalogEntry:
    """A classification metric estimated from calibrated scores on a day whose labels are
    not in yet (CBPE): needs the serving model's scores, not labels."""
    return SloCatalogEntry(
        Track.MODEL,
        ">=",
        "fraction",
        f"{metric} estimated from calibrated scores before labels arrive (CBPE)",
        _FRACTION,
        model_types=_CLASSIFIER,
        needs=(Needs.PREDICTIONS, Needs.SCORE),
        needs_serving=True,
    )


_BASE_CATALOG: Mapping[str, SloCatalogEntry] = {
    # model track: data health
    "ingest_ok": SloCatalogEntry(
        Track.MODEL, ">=", "1/0", "the day's snapshots could be read", _FRACTION
    ),
    "schema_valid": SloCatalogEntry(
        Track.MODEL, ">=", "1/0", "every declared column present with its dtype", _FRACTION
    ),
    "schema_validity": SloCatalogEntry(
        Track.MODEL, ">=", "fraction", "share of rows passing every column check", _FRACTION
    ),
    "duplicate_id_rate": SloCatalogEntry(
        Track.MODEL, "<=", "fraction", "share of rows whose id repeats another row's", _FRACTION
    ),
    "unseen_category_rate": SloCatalogEntry(
        Track.MODEL,
        "<=",
        "fraction",
        "share of a categorical feature's non-null rows with a category training never had",
        _FRACTION,
    ),
    "completeness": SloCatalogEntry(
        Track.MODEL, ">=", "fraction", "non-null share of all feature cells", _FRACTION
    ),
    "null_rate": SloCatalogEntry(
        Track.MODEL, "<=", "fraction", "null (or NaN) share of one feature", _FRACTION
    ),
    "data_staleness_seconds": SloCatalogEntry(
        Track.MODEL,
        "<=",
        "s",
        "evaluation time minus newest event timestamp",
        _NON_NEGATIVE,
        needs_serving=True,
    ),
    "clock_skew_seconds": SloCatalogEntry(
        Track.MODEL,
        "<=",
        "s",
        "newest event timestamp minus evaluation time (0 when none is later)",
        _NON_NEGATIVE,
        needs_serving=True,
    ),
    "model_age_days": SloCatalogEntry(
        Track.MODEL,
        "<=",
        "days",
        "evaluation time minus newest training timestamp",
        _NON_NEGATIVE,
        needs_serving=True,
    ),
    "drifted_feature_share": SloCatalogEntry(
        Track.MODEL, "<=", "fraction", "share of features whose drift rule fired", _FRACTION
    ),
    "importance_weighted_drift": SloCatalogEntry(
        Track.MODEL,
        "<=",
        "effect in [0, 1]",
        "features' drift effects (KS D, JS distance) weighted by their importance to the "
        "model's score, as datasre explain ranks them (no default objective)",
        _FRACTION,
    ),
    # multivariate drift (checks/multivariate): objectives calibrated on the baseline; a
    # declared objective is a floor on top of the calibrated one
    "domain_classifier_auc": SloCatalogEntry(
        Track.MODEL,
        "<=",
        "ROC AUC",
        "cross-validated AUC of a classifier telling the day's rows from the baseline's",
        (0.5, 1.0),
    ),
    "pca_reconstruction_error": SloCatalogEntry(
        Track.MODEL,
        "<=",
        "standardised units",
        "mean PCA reconstruction error of the day's rows (PCA fitted on the baseline)",
        _NON_NEGATIVE,
    ),
    # model track: quality (evaluated when labels arrive)
    "accuracy": _labelled(
        ">=", "fraction", "classification accuracy", _FRACTION, _CLASSIFIER, Needs.LABEL_OR_SCORE
    ),
    "precision": _labelled(
        ">=", "fraction", "positive precision", _FRACTION, _CLASSIFIER, Needs.LABEL_OR_SCORE
    ),
    "recall": _labelled(
        ">=", "fraction", "positive recall", _FRACTION, _CLASSIFIER, Needs.LABEL_OR_SCORE
    ),
    "f1": _labelled(
        ">=", "fraction", "positive-class F1", _FRACTION, _CLASSIFIER, Needs.LABEL_OR_SCORE
    ),
    "roc_auc": _labelled(
        ">=", "fraction", "ROC AUC of the score", _FRACTION, _CLASSIFIER, Needs.SCORE
    ),
    "log_loss": _labelled("<=", "nats", "mean log loss", _NON_NEGATIVE, _CLASSIFIER, Needs.SCORE),
    "calibration_error": _labelled(
        "<=", "fraction", "expected calibration error", _FRACTION, _CLASSIFIER, Needs.SCORE
    ),
    "rmse": _labelled(
        "<=", "target unit", "root mean squared error", _NON_NEGATIVE, _REGRESSOR, Needs.SCORE
    ),
    "mae": _labelled(
        "<=", "target unit", "mean absolute error", _NON_NEGATIVE, _REGRESSOR, Needs.SCORE
    ),
    "mape": _labelled(
        "<=", "fraction", "mean absolute percentage error", _NON_NEGATIVE, _REGRESSOR, Needs.SCORE
    ),
    "ndcg": _labelled(
        ">=", "fraction", "NDCG@k", _FRACTION, _RANKER, Needs.SCORE, Needs.RANKING_GROUP
    ),
    # estimated before labels arrive (CBPE, checks/estimated_performance)
    "estimated_accuracy": _estimated("accuracy"),
    "estimated_precision": _estimated("positive precision"),
    "estimated_recall": _estimated("positive recall"),
    "estimated_f1": _estimated("positive-class F1"),
    "estimated_roc_auc": _estimated("ROC AUC"),
    "confidence_p50": SloCatalogEntry(
        Track.MODEL,
        ">=",
        "score",
        "median prediction confidence",
        _FRACTION,
        model_types=_CLASSIFIER,
        needs=(Needs.PREDICTIONS, Needs.SCORE),
        needs_serving=True,
    ),
    "demographic_parity_difference": _labelled(
        "<=",
        "fraction",
        "max gap in positive rate across groups",
        _FRACTION,
        _CLASSIFIER,
        Needs.LABEL_OR_SCORE,
        Needs.SENSITIVE_ATTRIBUTES,
    ),
    "equal_opportunity_difference": _labelled(
        "<=",
        "fraction",
        "max gap in true positive rate across groups",
        _FRACTION,
        _CLASSIFIER,
        Needs.LABEL_OR_SCORE,
        Needs.SENSITIVE_ATTRIBUTES,
    ),
    # infra track: serving health, from the prediction log
    "latency_p50_ms": SloCatalogEntry(
        Track.INFRA,
        "<=",
        "ms",
        "median latency",
        _NON_NEGATIVE,
        needs=(Needs.PREDICTIONS, Needs.LATENCY),
    ),
    "latency_p99_ms": SloCatalogEntry(
        Track.INFRA,
        "<=",
        "ms",
        "99th percentile latency",
        _NON_NEGATIVE,
        needs=(Needs.PREDICTIONS, Needs.LATENCY),
    ),
    "availability": SloCatalogEntry(
        Track.INFRA,
        ">=",
        "fraction",
        "share of successful predictions",
        _FRACTION,
        needs=(Needs.PREDICTIONS, Needs.STATUS),
    ),
    "throughput_rows": SloCatalogEntry(
        Track.INFRA,
        ">=",
        "rows/day",
        "predictions served in the day",
        _NON_NEGATIVE,
        needs=(Needs.PREDICTIONS,),
    ),
    "cost_per_prediction_p50": SloCatalogEntry(
        Track.INFRA,
        "<=",
        "currency",
        "median cost per prediction",
        _NON_NEGATIVE,
        needs=(Needs.PREDICTIONS, Needs.COST),
    ),
    "cost_per_prediction_p99": SloCatalogEntry(
        Track.INFRA,
        "<=",
        "currency",
        "99th percentile cost per prediction",
        _NON_NEGATIVE,
        needs=(Needs.PREDICTIONS, Needs.COST),
    ),
}

#: Quality metrics that are also measured per slice value (``contract.slices``): every
#: label-fed metric but the fairness gaps, which compare groups already.
SLICED_METRICS: tuple[str, ...] = tuple(
    name
    for name, entry in _BASE_CATALOG.items()
    if entry.needs_labels and Needs.SENSITIVE_ATTRIBUTES not in entry.needs
)


def slice_slo_name(metric: str) -> str:
    """The SLO of a quality metric judged per slice: ``slice_accuracy`` for ``accuracy``.

    A slice SLO is its own SLO (its own objective, budget and blocking flag), so one small
    slice never makes the model-wide SLO's day bad.
    """
    return f"slice_{metric}"


#: Every SLO name a contract may declare, with its track and comparator. The SLI rows that
#: an SLO judges carry the same ``sli`` name. ``slice_<metric>`` rows carry one slice each
#: (``slice`` = ``column=value``); the day is bad when any slice with at least
#: ``min_slice_rows`` labelled rows misses the objective: the worst slice decides.
SLO_CATALOG: Mapping[str, SloCatalogEntry] = {
    **_BASE_CATALOG,
    **{
        slice_slo_name(name): replace(
            _BASE_CATALOG[name],
            description=f"{_BASE_CATALOG[name].description} of each slice (worst decides)",
            needs=(*_BASE_CATALOG[name].needs, Needs.SLICES),
        )
        for name in SLICED_METRICS
    },
}


class SloSpec(BaseModel):
    """One SLO: the SLI's objective (threshold), how often it must hold, and whether it blocks.

    ``objective`` is the threshold one SLI row is compared with (comparator from the
    catalog unless overridden). ``target`` is the share of evaluations in the error-budget
    window that must meet it, so the budget is ``(1 - target) * evaluations``.
    """

    objective: float
    """The SLI's threshold, in the unit its name says (fractions, ``_seconds``, ``_ms``)."""
    comparator: Comparator | None = None
    """How a value is compared with ``objective``; unset: the SLO catalog's comparator."""
    target: Annotated[float, Field(gt=0, le=1)] = 0.9
    """Share of evaluations in the window that must meet the objective (the error budget
    is ``1 - target``)."""
    blocking: bool = False
    """Whether a breach of this SLO blocks the deployment gate."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class Slos(BaseModel):
    """The SLOs a contract declares: the error-budget window (days) and one
    :class:`SloSpec` per SLO name on each track."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    window_days: Annotated[int, Field(ge=1, le=366)] = 28
    """Length of the error-budget window, days (1 to 366)."""
    infra: dict[str, SloSpec] = Field(default_factory=dict)
    """SLOs of the infra track by SLI name (latency, availability, cost, throughput)."""
    model: dict[str, SloSpec] = Field(default_factory=dict)
    """SLOs of the model track by SLI name (data, drift, quality, fairness)."""
