"""The SLO vocabulary: every SLI a contract may hold an objective for.

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
from typing import Literal

__all__ = [
    "SLICED_METRICS",
    "SLO_CATALOG",
    "Comparator",
    "ModelType",
    "Needs",
    "SloCatalogEntry",
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


def _measured(
    comparator: Comparator,
    unit: str,
    description: str,
    bounds: tuple[float | None, float | None] = _FRACTION,
) -> SloCatalogEntry:
    """A model-track SLI measured on every partition from its snapshots (data health,
    drift), for every model type."""
    return SloCatalogEntry(Track.MODEL, comparator, unit, description, bounds)


def _clocked(unit: str, description: str) -> SloCatalogEntry:
    """A model-track age or delay (at most the objective) measured against the evaluation
    time: only a version that serves has one."""
    return SloCatalogEntry(Track.MODEL, "<=", unit, description, _NON_NEGATIVE, needs_serving=True)


def _served(
    comparator: Comparator,
    unit: str,
    description: str,
    *needs: Needs,
    bounds: tuple[float | None, float | None] = _NON_NEGATIVE,
) -> SloCatalogEntry:
    """An infra-track SLI of the prediction log (and of the columns ``needs`` names)."""
    return SloCatalogEntry(
        Track.INFRA, comparator, unit, description, bounds, needs=(Needs.PREDICTIONS, *needs)
    )


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


def _class_metric(description: str, needs: Needs = Needs.LABEL_OR_SCORE) -> SloCatalogEntry:
    """A classifier's quality metric in [0, 1], higher is better."""
    return _labelled(">=", "fraction", description, _FRACTION, _CLASSIFIER, needs)


def _regression_error(unit: str, description: str) -> SloCatalogEntry:
    """A regressor's error (non-negative, lower is better) of its score against the target."""
    return _labelled("<=", unit, description, _NON_NEGATIVE, _REGRESSOR, Needs.SCORE)


def _fairness_gap(description: str) -> SloCatalogEntry:
    """A classifier's largest gap between the groups of its sensitive attributes."""
    return _labelled(
        "<=",
        "fraction",
        description,
        _FRACTION,
        _CLASSIFIER,
        Needs.LABEL_OR_SCORE,
        Needs.SENSITIVE_ATTRIBUTES,
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
    "ingest_ok": _measured(">=", "1/0", "the day's snapshots could be read"),
    "schema_valid": _measured(">=", "1/0", "every declared column present with its dtype"),
    "schema_validity": _measured(">=", "fraction", "share of rows passing every column check"),
    "duplicate_id_rate": _measured(
        "<=", "fraction", "share of rows whose id repeats another row's"
    ),
    "unseen_category_rate": _measured(
        "<=",
        "fraction",
        "share of a categorical feature's non-null rows with a category training never had",
    ),
    "completeness": _measured(">=", "fraction", "non-null share of all feature cells"),
    "null_rate": _measured("<=", "fraction", "null (or NaN) share of one feature"),
    "data_staleness_seconds": _clocked("s", "evaluation time minus newest event timestamp"),
    "clock_skew_seconds": _clocked(
        "s", "newest event timestamp minus evaluation time (0 when none is later)"
    ),
    "model_age_days": _clocked("days", "evaluation time minus newest training timestamp"),
    "drifted_feature_share": _measured(
        "<=", "fraction", "share of features whose drift rule fired"
    ),
    "importance_weighted_drift": _measured(
        "<=",
        "effect in [0, 1]",
        "features' drift effects (KS D, JS distance) weighted by their importance to the "
        "model's score, as datasre explain ranks them (no default objective)",
    ),
    # multivariate drift (checks/multivariate): objectives calibrated on the baseline; a
    # declared objective is a floor on top of the calibrated one
    "domain_classifier_auc": _measured(
        "<=",
        "ROC AUC",
        "cross-validated AUC of a classifier telling the day's rows from the baseline's",
        (0.5, 1.0),
    ),
    "pca_reconstruction_error": _measured(
        "<=",
        "standardised units",
        "mean PCA reconstruction error of the day's rows (PCA fitted on the baseline)",
        _NON_NEGATIVE,
    ),
    # model track: quality (evaluated when labels arrive)
    "accuracy": _class_metric("classification accuracy"),
    "precision": _class_metric("positive precision"),
    "recall": _class_metric("positive recall"),
    "f1": _class_metric("positive-class F1"),
    "roc_auc": _class_metric("ROC AUC of the score", Needs.SCORE),
    "log_loss": _labelled("<=", "nats", "mean log loss", _NON_NEGATIVE, _CLASSIFIER, Needs.SCORE),
    "calibration_error": _labelled(
        "<=", "fraction", "expected calibration error", _FRACTION, _CLASSIFIER, Needs.SCORE
    ),
    "rmse": _regression_error("target unit", "root mean squared error"),
    "mae": _regression_error("target unit", "mean absolute error"),
    "mape": _regression_error("fraction", "mean absolute percentage error"),
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
    "demographic_parity_difference": _fairness_gap("max gap in positive rate across groups"),
    "equal_opportunity_difference": _fairness_gap("max gap in true positive rate across groups"),
    # infra track: serving health, from the prediction log
    "latency_p50_ms": _served("<=", "ms", "median latency", Needs.LATENCY),
    "latency_p99_ms": _served("<=", "ms", "99th percentile latency", Needs.LATENCY),
    "availability": _served(
        ">=", "fraction", "share of successful predictions", Needs.STATUS, bounds=_FRACTION
    ),
    "throughput_rows": _served(">=", "rows/day", "predictions served in the day"),
    "cost_per_prediction_p50": _served("<=", "currency", "median cost per prediction", Needs.COST),
    "cost_per_prediction_p99": _served(
        "<=", "currency", "99th percentile cost per prediction", Needs.COST
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
