"""Confidence-based performance estimation (CBPE) of a binary classifier, before labels.

Labels arrive days after predictions. If the model's scores, once calibrated, are the
probabilities that each row is positive, the expected confusion matrix of a day follows
from its scores alone, as in NannyML's CBPE:

- calibration: isotonic regression of the reference labels on the reference scores
  (scikit-learn's ``IsotonicRegression(out_of_bounds="clip", increasing=True)``, what
  NannyML's ``IsotonicCalibrator`` fits); the reference is predictions whose labels are in;
- with ``p`` the calibrated probability and ``ŷ`` the predicted label of each row,
  expected TP = Σ p·[ŷ=1], FP = Σ (1-p)·[ŷ=1], FN = Σ p·[ŷ=0], TN = Σ (1-p)·[ŷ=0];
  accuracy = (TP + TN) / n, precision = TP / (TP + FP), recall = TP / (TP + FN),
  F1 = TP / (TP + (FP + FN) / 2) (0 when a denominator is 0, as NannyML);
- ROC AUC: rows sorted by the raw score (highest first), the ROC curve of expected
  counts (cumulative Σ p over Σ p, cumulative Σ (1-p) over Σ (1-p)), by the trapezoid rule.

The confidence band is what the realized value would spread over if the calibrated
probabilities are right: :data:`BAND_DRAWS` label vectors are drawn from Bernoulli(p)
(seeded), each metric is computed on every draw, and the band is the estimate ±
:data:`BAND_STD_MULTIPLIER` (3) standard deviations of the drawn metrics. Above
:data:`BAND_MAX_ROWS` rows the draws use a seeded sample of that many rows and the
standard deviation is scaled by sqrt(sample / rows). The band says nothing about a change
in P(label | features) since the reference (concept drift): CBPE cannot see one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "BAND_DRAWS",
    "BAND_MAX_ROWS",
    "BAND_STD_MULTIPLIER",
    "ESTIMATED_METRICS",
    "EstimatedMetric",
    "IsotonicCalibration",
    "estimate_performance",
    "expected_metrics",
    "fit_calibration",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: The metrics estimated, in row order.
ESTIMATED_METRICS: Final = ("accuracy", "precision", "recall", "f1", "roc_auc")
#: Label vectors drawn for the band.
BAND_DRAWS: Final = 400
#: Band = estimate ± this many standard deviations of the drawn metric.
BAND_STD_MULTIPLIER: Final = 3.0
#: Rows the draws use at most (memory: rows × draws booleans).
BAND_MAX_ROWS: Final = 20_000


@dataclass(frozen=True)
class IsotonicCalibration:
    """Score -> probability, a non-decreasing step function fitted on the reference."""

    thresholds: FloatArray  # scores, increasing
    probabilities: FloatArray  # calibrated probability at each threshold
    reference_rows: int
    reference_positive_rate: float

    def calibrate(self, scores: FloatArray) -> FloatArray:
        """Calibrated probabilities; linear between thresholds, clipped outside (as
        scikit-learn's ``IsotonicRegression.predict`` with ``out_of_bounds="clip"``)."""
        calibrated: FloatArray = np.interp(scores, self.thresholds, self.probabilities)
        return calibrated


def fit_calibration(scores: FloatArray, positives: BoolArray) -> IsotonicCalibration:
    """Isotonic regression of the reference labels on its scores (rows with a NaN score
    are left out). Raises ValueError when the reference has no rows or one class only."""
    from sklearn.isotonic import IsotonicRegression

    keep = ~np.isnan(scores)
    scores, positives = scores[keep], positives[keep]
    if scores.shape[0] == 0 or positives.all() or not positives.any():
        raise ValueError("the reference needs labelled rows of both classes to calibrate")
    regression = IsotonicRegression(out_of_bounds="clip", increasing=True)
    regression.fit(scores, positives.astype(np.float64))
    return IsotonicCalibration(
        thresholds=np.asarray(regression.X_thresholds_, dtype=np.float64),
        probabilities=np.asarray(regression.y_thresholds_, dtype=np.float64),
        reference_rows=int(scores.shape[0]),
        reference_positive_rate=float(positives.mean()),
    )


def _ratio(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    safe = np.where(denominator != 0, denominator, 1.0)
    result: FloatArray = np.where(denominator != 0, numerator / safe, 0.0)
    return result


def expected_metrics(
    labels: FloatArray, predicted: BoolArray, score_order: npt.NDArray[np.intp]
) -> dict[str, FloatArray]:
    """The five metrics of label columns ``labels`` (rows × draws; probabilities for the
    estimate, 0/1 for a draw), given the predicted labels and the rows' order by
    descending raw score. Each value has one entry per column."""
    as_float = predicted.astype(np.float64)[:, None]
    tp = (labels * as_float).sum(axis=0)
    fp = ((1.0 - labels) * as_float).sum(axis=0)
    fn = (labels * (1.0 - as_float)).sum(axis=0)
    tn = ((1.0 - labels) * (1.0 - as_float)).sum(axis=0)
    rows = labels.shape[0]
    ordered = labels[score_order]
    true_positive = np.vstack([np.zeros(labels.shape[1]), np.cumsum(ordered, axis=0)])
    false_positive = np.vstack([np.zeros(labels.shape[1]), np.cumsum(1.0 - ordered, axis=0)])
    tpr = _ratio(true_positive, true_positive[-1])
    fpr = _ratio(false_positive, false_positive[-1])
    auc = ((fpr[1:] - fpr[:-1]) * (tpr[1:] + tpr[:-1]) / 2.0).sum(axis=0)
    both = (true_positive[-1] > 0) & (false_positive[-1] > 0)
    return {
        "accuracy": (tp + tn) / rows,
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "f1": _ratio(tp, tp + (fp + fn) / 2.0),
        "roc_auc": np.where(both, auc, np.nan),
    }


@dataclass(frozen=True)
class EstimatedMetric:
    """One estimated metric with its band (``lower``/``upper`` clipped to [0, 1])."""

    metric: str
    value: float
    lower: float
    upper: float
    rows: int


def _score_order(scores: FloatArray) -> npt.NDArray[np.intp]:
    # Highest score first; ties keep row order (a stable sort of the negated score).
    order: npt.NDArray[np.intp] = np.argsort(-scores, kind="stable")
    return order


def estimate_performance(
    calibration: IsotonicCalibration, scores: FloatArray, predicted: BoolArray, *, seed: int = 0
) -> list[EstimatedMetric]:
    """Estimated metrics of a day's predictions (rows with a NaN score left out), each
    with its band; an empty list when no row has a score."""
    keep = ~np.isnan(scores)
    scores, predicted = scores[keep], predicted[keep]
    rows = int(scores.shape[0])
    if rows == 0:
        return []
    probabilities = calibration.calibrate(scores)
    point = expected_metrics(probabilities[:, None], predicted, _score_order(scores))
    rng = np.random.default_rng(seed)
    if rows > BAND_MAX_ROWS:
        subset = np.sort(rng.choice(rows, size=BAND_MAX_ROWS, replace=False))
        drawn_scores, drawn_p, drawn_pred = scores[subset], probabilities[subset], predicted[subset]
    else:
        drawn_scores, drawn_p, drawn_pred = scores, probabilities, predicted
    draws = (rng.random((drawn_p.shape[0], BAND_DRAWS)) < drawn_p[:, None]).astype(np.float64)
    spread = expected_metrics(draws, drawn_pred, _score_order(drawn_scores))
    shrink = math.sqrt(drawn_p.shape[0] / rows)
    results = []
    for metric in ESTIMATED_METRICS:
        value = float(point[metric][0])
        finite = spread[metric][np.isfinite(spread[metric])]
        std = float(finite.std()) * shrink if finite.size > 1 else float("nan")
        results.append(
            EstimatedMetric(
                metric=metric,
                value=value,
                lower=max(0.0, value - BAND_STD_MULTIPLIER * std),
                upper=min(1.0, value + BAND_STD_MULTIPLIER * std),
                rows=rows,
            )
        )
    return results
