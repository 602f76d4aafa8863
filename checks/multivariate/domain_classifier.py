"""Domain classifier: can a model tell the baseline's rows from the day's rows?

Rows of the baseline (label 0) and of the current day (label 1), encoded by
:func:`checks.multivariate.encoding.ordinal_matrix`, train scikit-learn's
``HistGradientBoostingClassifier`` (native NaN and categorical handling, so mixed data
with nulls needs no imputation) in stratified k-fold cross-validation; the SLI is the mean
of the folds' ROC AUC on their held-out rows. 0.5 means the two are indistinguishable; 1
means every row gives its origin away, whatever combination of features does it.

The drift threshold is calibrated on the baseline alone: repeated random disjoint
baseline-vs-baseline splits give the AUC the classifier reaches on data that has not
drifted (finite-sample noise and overfitting included). The threshold is that null
mean plus :data:`NULL_STD_MULTIPLIER` null standard deviations, rescaled to the sample
sizes actually compared (the Mann-Whitney variance factor (n0 + n1 + 1) / (n0 n1)).

The features that separate best are measured by permutation on the held-out folds: the
fall in AUC when one column's values are shuffled among the held-out rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from checks.quality_metrics import average_ranks

__all__ = [
    "CALIBRATION_REPEATS",
    "FOLDS",
    "NULL_STD_MULTIPLIER",
    "DomainClassifierResult",
    "NullCalibration",
    "calibrate_null",
    "cross_validated_auc",
    "roc_auc",
]

FloatMatrix = npt.NDArray[np.float64]

#: Cross-validation folds.
FOLDS = 3
#: Baseline-vs-baseline splits the threshold is calibrated on.
CALIBRATION_REPEATS = 6
#: Threshold = null mean AUC + this many null standard deviations.
NULL_STD_MULTIPLIER = 4.0
#: The null spread is never taken below this (a few repeats can agree by chance).
MIN_NULL_STD = 0.005
#: Boosting rounds and leaves: enough to find interactions, small enough for ~1 s a day.
MAX_ITER = 30
MAX_LEAF_NODES = 15


def roc_auc(labels: npt.NDArray[np.int8], scores: FloatMatrix) -> float:
    """ROC AUC by the Mann-Whitney rank sum (ties count one half); NaN with one class."""
    positives = int(labels.sum())
    negatives = labels.shape[0] - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = average_ranks(np.asarray(scores, dtype=np.float64).reshape(-1))
    rank_sum = float(ranks[labels == 1].sum())
    return float((rank_sum - positives * (positives + 1) / 2) / (positives * negatives))


@dataclass(frozen=True)
class DomainClassifierResult:
    """Mean held-out AUC, per-fold AUCs, and the mean AUC drop per feature when shuffled."""

    auc: float
    fold_aucs: tuple[float, ...]
    importance: dict[str, float]
    baseline_rows: int
    current_rows: int

    def top_features(self, count: int = 3, min_drop: float = 0.005) -> list[tuple[str, float]]:
        """The best-separating features (AUC drop >= ``min_drop``), largest drop first."""
        ranked = sorted(self.importance.items(), key=lambda item: (-item[1], item[0]))
        return [(name, drop) for name, drop in ranked[:count] if drop >= min_drop]


def _classifier(categorical_mask: npt.NDArray[np.bool_], seed: int) -> object:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=MAX_ITER,
        max_leaf_nodes=MAX_LEAF_NODES,
        learning_rate=0.1,
        early_stopping=False,
        categorical_features=categorical_mask if categorical_mask.any() else None,
        random_state=seed,
    )


def fold_indices(
    labels: npt.NDArray[np.int8], folds: int, seed: int
) -> list[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]]:
    """(train, test) row indices of stratified, shuffled k-fold (scikit-learn's
    ``StratifiedKFold(folds, shuffle=True, random_state=seed)``)."""
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    placeholder = np.zeros((labels.shape[0], 1))
    return list(splitter.split(placeholder, labels))


def _folds(
    matrix: FloatMatrix,
    labels: npt.NDArray[np.int8],
    n_columns: int,
    categorical_mask: npt.NDArray[np.bool_],
    *,
    seed: int,
    folds: int,
    importance_above: float | None,
) -> tuple[list[float], FloatMatrix | None]:
    """Held-out AUC of each fold, and the permutation AUC drops per column summed over
    folds when the mean AUC exceeds ``importance_above`` (None: never)."""
    fitted = []
    fold_aucs: list[float] = []
    for train, test in fold_indices(labels, folds, seed):
        model = _classifier(categorical_mask, seed)
        model.fit(matrix[train], labels[train])  # type: ignore[attr-defined]
        auc = roc_auc(labels[test], model.predict_proba(matrix[test])[:, 1])  # type: ignore[attr-defined]
        fold_aucs.append(auc)
        fitted.append((model, test, auc))
    if importance_above is None or float(np.mean(fold_aucs)) <= importance_above:
        return fold_aucs, None
    rng = np.random.default_rng(seed)
    drops = np.zeros(n_columns)
    for model, test, auc in fitted:
        held_out = matrix[test]
        # One copy of the held-out rows per column, that column shuffled, scored in one
        # call: a prediction is row by row, so the scores are those of one call per
        # column, without its fixed cost (~10 ms each: input checks and the categorical
        # encoder; 57 calls were 0.74 s of a 1.3 s multivariate step).
        shuffled = np.tile(held_out, (n_columns, 1))
        rows = held_out.shape[0]
        for index in range(n_columns):
            block = slice(index * rows, (index + 1) * rows)
            shuffled[block, index] = rng.permutation(held_out[:, index])
        scores = model.predict_proba(shuffled)[:, 1].reshape(n_columns, rows)  # type: ignore[attr-defined]
        for index in range(n_columns):
            drops[index] += auc - roc_auc(labels[test], scores[index])
    return fold_aucs, drops


def cross_validated_auc(
    baseline: FloatMatrix,
    current: FloatMatrix,
    columns: Sequence[str],
    categorical_mask: npt.NDArray[np.bool_],
    *,
    seed: int,
    folds: int = FOLDS,
    importance: bool = True,
    importance_above: float = 0.0,
) -> DomainClassifierResult:
    """Mean held-out ROC AUC of telling ``current`` rows (1) from ``baseline`` rows (0).

    ``importance`` adds the permutation AUC drop of each column, averaged over folds,
    when the AUC exceeds ``importance_above`` (a drifted day: on the others the ranking
    would name noise, and it costs as much as the fits).
    """
    matrix = np.vstack([baseline, current])
    labels = np.concatenate(
        [np.zeros(baseline.shape[0], np.int8), np.ones(current.shape[0], np.int8)]
    )
    # The boosting's OpenMP runtime must be loaded before the limit is set: threadpoolctl
    # limits the libraries loaded when it is entered, and one imported inside the block
    # kept its default pool (measured under load ~10: 40 s instead of 1.3 s).
    import sklearn.ensemble  # noqa: F401
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    # One OpenMP thread: partitions already run in parallel processes, and on a busy
    # 2-core host the boosting's default thread pool made the fits many times slower.
    with threadpool_limits(limits=1, user_api="openmp"):
        fold_aucs, drops = _folds(
            matrix,
            labels,
            len(columns),
            categorical_mask,
            seed=seed,
            folds=folds,
            importance_above=importance_above if importance else None,
        )
    return DomainClassifierResult(
        auc=float(np.mean(fold_aucs)),
        fold_aucs=tuple(fold_aucs),
        importance={name: float(drops[i] / folds) for i, name in enumerate(columns)}
        if drops is not None
        else {},
        baseline_rows=baseline.shape[0],
        current_rows=current.shape[0],
    )


def _variance_factor(rows_0: int, rows_1: int) -> float:
    """Mann-Whitney null variance of the AUC up to a constant: (n0 + n1 + 1) / (n0 n1)."""
    return (rows_0 + rows_1 + 1) / (rows_0 * rows_1)


@dataclass(frozen=True)
class NullCalibration:
    """Baseline-vs-baseline AUCs at ``rows`` rows per side."""

    rows: int
    aucs: tuple[float, ...]

    @property
    def mean(self) -> float:
        return float(np.mean(self.aucs))

    @property
    def std(self) -> float:
        return max(float(np.std(self.aucs, ddof=1)), MIN_NULL_STD)

    def threshold(self, baseline_rows: int, current_rows: int) -> float:
        """The AUC above which the day has drifted, for these sample sizes."""
        ratio = _variance_factor(baseline_rows, current_rows) / _variance_factor(
            self.rows, self.rows
        )
        return min(1.0, self.mean + NULL_STD_MULTIPLIER * self.std * math.sqrt(ratio))


def calibrate_null(
    baseline: FloatMatrix,
    columns: Sequence[str],
    categorical_mask: npt.NDArray[np.bool_],
    *,
    rows: int,
    seed: int,
    repeats: int = CALIBRATION_REPEATS,
) -> NullCalibration:
    """AUCs of ``repeats`` random disjoint baseline halves of ``rows`` rows each
    (``rows`` at most half the baseline)."""
    rows = min(rows, baseline.shape[0] // 2)
    if rows < FOLDS * 2:
        raise ValueError(f"the baseline has too few rows ({baseline.shape[0]}) to calibrate")
    rng = np.random.default_rng(seed)
    aucs = []
    for repeat in range(repeats):
        order = rng.permutation(baseline.shape[0])
        result = cross_validated_auc(
            baseline[order[:rows]],
            baseline[order[rows : 2 * rows]],
            columns,
            categorical_mask,
            seed=seed + repeat,
            importance=False,
        )
        aucs.append(result.auc)
    return NullCalibration(rows=rows, aucs=tuple(aucs))
