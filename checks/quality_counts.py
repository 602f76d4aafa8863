"""Classification metrics from row counts: the mergeable form of :mod:`checks.quality_metrics`.

A day too large for memory is scored bucket by bucket (:mod:`checks.quality_tables`); each
bucket is reduced to *count rows*: one row per distinct (score, actual positive, predicted
positive, label correct) with ``count`` = how many labelled rows have exactly those values.
Counts of two buckets merge by summing, so the merged table is the whole day's, whatever
the number of buckets. Every kernel here takes the columns of a count table (free of nulls
and NaN, as :func:`checks.slices.usable_rows` leaves them) plus the ``count`` column, and
returns what the row-level kernel of :mod:`checks.quality_metrics` returns on the expanded
rows, with the same statuses and details:

- ``accuracy``, ``precision``, ``recall``, ``f1``: exact (integer confusion counts).
- ``roc_auc``: exact. With ``pos(s)``/``neg(s)`` the positives/negatives scored ``s``,
  ``U = sum_s pos(s) * (neg(< s) + neg(s) / 2)`` is the Mann-Whitney U of average ranks (a
  tie between a positive and a negative counts one half), computed in integers as ``2 U``;
  ``AUC = U / (n+ n-)`` equals ``roc_auc_score`` with ties.
- ``log_loss``, ``calibration_error``: sums over distinct scores weighted by their counts;
  equal to the row-level value up to float summation order (~1e-15 relative).

The table has one row per distinct score (times at most 8 label combinations): its size is
bounded by the number of distinct scores, not rows (a model scoring in 3 decimals has at
most 1001 distinct scores).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

import numpy as np
import numpy.typing as npt

from checks.quality_join import P_POS, SCORE, Y_POS
from checks.quality_metrics import (
    CALIBRATION_BINS,
    EPS,
    STATUS_INSUFFICIENT,
    MetricResult,
    finite_scores,
    no_rows,
    share,
    undefined,
)
from checks.quality_tables import CORRECT

__all__ = [
    "COUNTED",
    "accuracy_counts",
    "calibration_error_counts",
    "f1_counts",
    "log_loss_counts",
    "precision_counts",
    "recall_counts",
    "roc_auc_counts",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def _counts(count: npt.ArrayLike) -> IntArray:
    return np.asarray(count, dtype=np.int64).reshape(-1)


def _flags(values: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    return np.asarray(values, dtype=np.bool_).reshape(-1)


def accuracy_counts(correct: npt.ArrayLike, count: npt.ArrayLike) -> MetricResult:
    """Share of rows whose predicted label equals the true label (fraction)."""
    hit, n_of = _flags(correct), _counts(count)
    n = int(n_of.sum())
    return no_rows(n) or MetricResult(int(n_of[hit].sum()) / n, n)


def _confusion(
    y_pos: npt.ArrayLike, p_pos: npt.ArrayLike, count: npt.ArrayLike
) -> tuple[int, int, int, int]:
    truth, pred, n_of = _flags(y_pos), _flags(p_pos), _counts(count)
    tp = int(n_of[truth & pred].sum())
    fp = int(n_of[~truth & pred].sum())
    fn = int(n_of[truth & ~pred].sum())
    return tp, fp, fn, int(n_of.sum())


def precision_counts(
    y_pos: npt.ArrayLike, p_pos: npt.ArrayLike, count: npt.ArrayLike
) -> MetricResult:
    """TP / (TP + FP) (fraction); 0.0 with no predicted positives."""
    tp, fp, _, n = _confusion(y_pos, p_pos, count)
    return share(tp, tp + fp, n, "no predicted positives")


def recall_counts(y_pos: npt.ArrayLike, p_pos: npt.ArrayLike, count: npt.ArrayLike) -> MetricResult:
    """TP / (TP + FN) (fraction); 0.0 with no actual positives."""
    tp, _, fn, n = _confusion(y_pos, p_pos, count)
    return share(tp, tp + fn, n, "no actual positives")


def f1_counts(y_pos: npt.ArrayLike, p_pos: npt.ArrayLike, count: npt.ArrayLike) -> MetricResult:
    """2 TP / (2 TP + FP + FN) (fraction); 0.0 with neither predicted nor actual positives."""
    tp, fp, fn, n = _confusion(y_pos, p_pos, count)
    return share(2 * tp, 2 * tp + fp + fn, n, "no positives at all")


def _by_score(
    y_pos: npt.ArrayLike, score: npt.ArrayLike, count: npt.ArrayLike
) -> tuple[FloatArray, IntArray, IntArray]:
    """Distinct scores (ascending) with their positive and negative row counts."""
    truth, values, n_of = _flags(y_pos), np.asarray(score, dtype=np.float64), _counts(count)
    distinct, index = np.unique(values.reshape(-1), return_inverse=True)
    index = index.reshape(-1)
    positives = np.bincount(index, weights=np.where(truth, n_of, 0), minlength=distinct.size)
    negatives = np.bincount(index, weights=np.where(truth, 0, n_of), minlength=distinct.size)
    # bincount sums in float64: exact for counts below 2**53.
    return distinct, positives.astype(np.int64), negatives.astype(np.int64)


def _scored(
    y_pos: npt.ArrayLike, score: npt.ArrayLike, count: npt.ArrayLike, *, probability: bool
) -> tuple[FloatArray, IntArray, IntArray, int, MetricResult | None]:
    """(distinct scores, positives, negatives, rows, the result to return instead when there
    are no rows or a score is not finite / outside [0, 1] for a ``probability``)."""
    distinct, positives, negatives = _by_score(y_pos, score, count)
    n = int(positives.sum() + negatives.sum())
    problem = no_rows(n) or finite_scores(distinct, n, probability=probability)
    return distinct, positives, negatives, n, problem


def roc_auc_counts(
    y_pos: npt.ArrayLike, score: npt.ArrayLike, count: npt.ArrayLike
) -> MetricResult:
    """Area under the ROC curve (fraction), exact from per-score counts, ties averaged."""
    _, positives, negatives, n, problem = _scored(y_pos, score, count, probability=False)
    if problem is not None:
        return problem
    n_pos, n_neg = int(positives.sum()), int(negatives.sum())
    if n_pos == 0 or n_neg == 0:
        return undefined(n, STATUS_INSUFFICIENT, "only one class present: ROC AUC is undefined")
    below = np.cumsum(negatives) - negatives  # negatives scored strictly lower
    twice_u = int(np.sum(positives * (2 * below + negatives)))  # int64: exact below ~3e9 rows
    return MetricResult(twice_u / (2 * n_pos * n_neg), n)


def log_loss_counts(
    y_pos: npt.ArrayLike, score: npt.ArrayLike, count: npt.ArrayLike
) -> MetricResult:
    """Mean binary cross-entropy in nats, probabilities clipped to [eps, 1 - eps]."""
    p, positives, negatives, n, problem = _scored(y_pos, score, count, probability=True)
    if problem is not None:
        return problem
    loss_pos = -np.log(np.clip(p, EPS, 1.0 - EPS))
    loss_neg = -np.log(np.clip(1.0 - p, EPS, 1.0 - EPS))
    return MetricResult(float(np.sum(positives * loss_pos + negatives * loss_neg) / n), n)


def calibration_error_counts(
    y_pos: npt.ArrayLike,
    score: npt.ArrayLike,
    count: npt.ArrayLike,
    *,
    bins: int = CALIBRATION_BINS,
) -> MetricResult:
    """Expected calibration error (fraction) over ``bins`` equal-width score bins."""
    p, positives, negatives, n, problem = _scored(y_pos, score, count, probability=True)
    if problem is not None:
        return problem
    index = np.minimum(np.floor(p * bins).astype(np.int64), bins - 1)
    sum_y = np.bincount(index, weights=positives.astype(np.float64), minlength=bins)
    sum_p = np.bincount(index, weights=p * (positives + negatives), minlength=bins)
    return MetricResult(float(np.abs(sum_y - sum_p).sum() / n), n)


#: The classification metrics as computed from count tables (:mod:`checks.quality_tables`):
#: the table columns they read (then the count) and the kernel.
COUNTED: Final[Mapping[str, tuple[tuple[str, ...], Callable[..., MetricResult]]]] = {
    "accuracy": ((CORRECT,), accuracy_counts),
    "precision": ((Y_POS, P_POS), precision_counts),
    "recall": ((Y_POS, P_POS), recall_counts),
    "f1": ((Y_POS, P_POS), f1_counts),
    "roc_auc": ((Y_POS, SCORE), roc_auc_counts),
    "log_loss": ((Y_POS, SCORE), log_loss_counts),
    "calibration_error": ((Y_POS, SCORE), calibration_error_counts),
}
