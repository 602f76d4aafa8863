"""Model quality once labels arrive: whole-column metrics equal to scikit-learn 1.9.

Drift says the inputs moved; quality says the model got worse. Every kernel takes numpy
arrays (already free of nulls) and returns a :class:`MetricResult`; undefined cases (empty
input, one class only for ROC AUC, a NaN score...) return NaN with a status, never raise.

Definitions (each equal to the named scikit-learn function to 1e-9, see the tests):

- ``accuracy``: share of rows whose predicted label equals the true label
  (``accuracy_score``).
- ``precision``, ``recall``, ``f1``: binary, one positive label against every other value
  (``precision_score(y == pos, y_hat == pos)``...). With no predicted positives precision
  is 0.0, with no actual positives recall is 0.0, and F1 with neither is 0.0: scikit-learn's
  default ``zero_division="warn"`` returns 0.0 (and warns); we return 0.0 with status
  ``ok`` and say so in ``detail``.
- ``roc_auc``: Mann-Whitney U over average ranks, ``(R+ - n+(n+ + 1)/2) / (n+ n-)``, which
  equals ``roc_auc_score``'s trapezoid over distinct thresholds, ties included. NaN with
  status ``insufficient_data`` when only one class is present.
- ``log_loss`` (nats): mean of ``-(y ln p + (1 - y) ln(1 - p))`` with ``p`` and ``1 - p``
  each clipped to ``[eps, 1 - eps]``, ``eps = numpy.finfo(float64).eps`` (about 2.2e-16).
  That is what ``log_loss`` does in 1.9: its ``eps`` parameter is gone and it clips with
  the machine epsilon of the probabilities' dtype; we always compute in float64. A score
  outside [0, 1] is status ``error`` (scikit-learn raises). Defined with one class too
  (scikit-learn needs ``labels=[0, 1]`` for that).
- ``calibration_error`` (expected calibration error, fraction): 10 equal-width bins on
  the score over [0, 1], bin ``b = min(floor(10 s), 9)`` (so ``[0, 0.1), ..., [0.9, 1]``),
  ``ECE = sum_b (n_b / n) |mean(y)_b - mean(s)_b| = sum_b |sum(y)_b - sum(s)_b| / n``;
  empty bins contribute nothing. Scores outside [0, 1] are status ``error``.
- ``rmse``, ``mae`` (target unit): ``root_mean_squared_error``, ``mean_absolute_error``.
- ``mape`` (fraction, not percent): ``mean(|y_hat - y| / max(|y|, eps))`` with the same
  float64 ``eps`` as ``mean_absolute_percentage_error``: a zero target gives a huge term,
  exactly like scikit-learn.
- ``ndcg`` (NDCG@k, fraction): per query group, ``ndcg_score([rel], [score], k=k)``
  (linear gain = the relevance, log2 discount, tied scores share the average gain as in
  scikit-learn's default ``ignore_ties=False``; a query with no relevant document scores
  0), then the plain mean over query groups. Queries with a single document are left out
  (scikit-learn refuses them); negative relevance is status ``error``.

:func:`quality_sli_rows` turns a day's predictions, labels and features into SLI rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import polars as pl

from checks import fairness
from checks.contract import Contract, ModelType
from checks.ids import ID_TYPES, comparable_ids, is_id_dtype
from checks.sli import SliRow, sli_frame, slo_row
from checks.slices import SliceMetric, measure, measurement_row, slice_metric, slice_sli_rows
from checks.slo_templates import DEFAULT_OBJECTIVES, default_objective

__all__ = [
    "CALIBRATION_BINS",
    "DECISION_THRESHOLD",
    "DEFAULT_OBJECTIVES",
    "METRICS_BY_MODEL_TYPE",
    "MetricResult",
    "accuracy",
    "calibration_error",
    "f1",
    "log_loss",
    "mae",
    "mape",
    "ndcg",
    "precision",
    "quality_sli_rows",
    "recall",
    "rmse",
    "roc_auc",
]

#: float64 machine epsilon: log loss clipping and the MAPE denominator floor.
EPS: Final[float] = float(np.finfo(np.float64).eps)

#: Number of equal-width score bins of the expected calibration error.
CALIBRATION_BINS: Final[int] = 10

#: Score at or above which a row counts as a predicted positive when the contract names no
#: ``predicted_label`` column (classification only).
DECISION_THRESHOLD: Final[float] = 0.5

#: SLIs emitted per model type (the names are those of ``SLO_CATALOG``).
METRICS_BY_MODEL_TYPE: Final[Mapping[ModelType, tuple[str, ...]]] = {
    ModelType.CLASSIFICATION: (
        "accuracy",
        "precision",
        "recall",
        "f1",
        "roc_auc",
        "log_loss",
        "calibration_error",
    ),
    ModelType.REGRESSION: ("rmse", "mae", "mape"),
    ModelType.RANKING: ("ndcg",),
}

_OK = "ok"
_INSUFFICIENT = "insufficient_data"
_ERROR = "error"

FloatArray = npt.NDArray[np.float64]
AnyArray = npt.NDArray[np.generic]
#: A metric over column arrays (``positive_label`` keyword for the binary ones).
SliceMetricFn = Callable[..., "MetricResult"]
BinaryFn = Callable[..., "MetricResult"]


@dataclass(frozen=True)
class MetricResult:
    """One metric value (NaN when undefined), the rows it is based on, a status and why.

    ``status`` is ``ok``, ``insufficient_data`` (empty input, one class only) or ``error``
    (input outside the metric's domain, e.g. a probability above 1).
    """

    value: float
    n_rows: int
    status: str = _OK
    detail: str | None = None


def _undefined(n_rows: int, status: str, detail: str) -> MetricResult:
    return MetricResult(math.nan, n_rows, status, detail)


def _empty(n_rows: int) -> MetricResult | None:
    return _undefined(0, _INSUFFICIENT, "no labelled rows") if n_rows == 0 else None


def _floats(values: npt.ArrayLike) -> FloatArray:
    return np.asarray(values, dtype=np.float64).reshape(-1)


def _is_positive(y: npt.ArrayLike, positive_label: object) -> npt.NDArray[np.bool_]:
    return np.asarray(np.asarray(y).reshape(-1) == positive_label, dtype=np.bool_)


def _finite_scores(score: FloatArray, n: int, *, probability: bool) -> MetricResult | None:
    if not np.all(np.isfinite(score)):
        return _undefined(n, _ERROR, "score contains NaN or infinity")
    if probability and (score.min() < 0.0 or score.max() > 1.0):
        return _undefined(
            n, _ERROR, f"score outside [0, 1] (min {score.min():g}, max {score.max():g})"
        )
    return None


# --- classification ---------------------------------------------------------------------


def accuracy(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> MetricResult:
    """Share of rows whose predicted label equals the true label (fraction)."""
    truth, pred = np.asarray(y_true).reshape(-1), np.asarray(y_pred).reshape(-1)
    n = truth.size
    if (empty := _empty(n)) is not None:
        return empty
    return MetricResult(float(np.mean(truth == pred)), n)


def _confusion(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike, positive_label: object
) -> tuple[int, int, int, int]:
    truth = _is_positive(y_true, positive_label)
    pred = _is_positive(y_pred, positive_label)
    tp = int(np.count_nonzero(truth & pred))
    fp = int(np.count_nonzero(~truth & pred))
    fn = int(np.count_nonzero(truth & ~pred))
    return tp, fp, fn, truth.size


def precision(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike, *, positive_label: object = 1
) -> MetricResult:
    """TP / (TP + FP) for ``positive_label`` (fraction); 0.0 with no predicted positives."""
    tp, fp, _, n = _confusion(y_true, y_pred, positive_label)
    if (empty := _empty(n)) is not None:
        return empty
    if tp + fp == 0:
        return MetricResult(0.0, n, _OK, "no predicted positives: 0.0 (sklearn zero_division)")
    return MetricResult(tp / (tp + fp), n)


def recall(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike, *, positive_label: object = 1
) -> MetricResult:
    """TP / (TP + FN) for ``positive_label`` (fraction); 0.0 with no actual positives."""
    tp, _, fn, n = _confusion(y_true, y_pred, positive_label)
    if (empty := _empty(n)) is not None:
        return empty
    if tp + fn == 0:
        return MetricResult(0.0, n, _OK, "no actual positives: 0.0 (sklearn zero_division)")
    return MetricResult(tp / (tp + fn), n)


def f1(y_true: npt.ArrayLike, y_pred: npt.ArrayLike, *, positive_label: object = 1) -> MetricResult:
    """2 TP / (2 TP + FP + FN) (fraction), the harmonic mean of precision and recall;
    0.0 when there are neither predicted nor actual positives."""
    tp, fp, fn, n = _confusion(y_true, y_pred, positive_label)
    if (empty := _empty(n)) is not None:
        return empty
    if 2 * tp + fp + fn == 0:
        return MetricResult(0.0, n, _OK, "no positives at all: 0.0 (sklearn zero_division)")
    return MetricResult(2 * tp / (2 * tp + fp + fn), n)


def _average_ranks(values: FloatArray) -> FloatArray:
    """1-based ranks, ties sharing the mean of their ranks (``scipy.stats.rankdata``'s
    ``"average"``), in numpy so that importing this module does not import scipy.stats."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    new_run = np.ones(ordered.size, dtype=np.bool_)
    new_run[1:] = ordered[1:] != ordered[:-1]
    starts = np.flatnonzero(new_run)
    ends = np.append(starts[1:], ordered.size)  # exclusive: the run holds ranks starts+1..ends
    ranks = np.empty(ordered.size)
    ranks[order] = ((starts + 1 + ends) / 2.0)[np.cumsum(new_run) - 1]
    return ranks


def roc_auc(
    y_true: npt.ArrayLike, score: npt.ArrayLike, *, positive_label: object = 1
) -> MetricResult:
    """Area under the ROC curve of ``score`` (fraction), via average ranks (Mann-Whitney U).

    Why ranks: with average ranks for tied scores, U / (n+ n-) is exactly the trapezoidal
    area over distinct thresholds that ``roc_auc_score`` computes, in O(n log n) and with
    no curve to build.
    """
    truth = _is_positive(y_true, positive_label)
    values = _floats(score)
    n = truth.size
    if (empty := _empty(n)) is not None:
        return empty
    if (bad := _finite_scores(values, n, probability=False)) is not None:
        return bad
    n_pos = int(np.count_nonzero(truth))
    n_neg = n - n_pos
    if n_pos == 0 or n_neg == 0:
        return _undefined(n, _INSUFFICIENT, "only one class present: ROC AUC is undefined")
    ranks = _average_ranks(values)
    u = float(ranks[truth].sum()) - n_pos * (n_pos + 1) / 2.0
    return MetricResult(u / (n_pos * n_neg), n)


def log_loss(
    y_true: npt.ArrayLike, score: npt.ArrayLike, *, positive_label: object = 1
) -> MetricResult:
    """Mean binary cross-entropy in nats, probabilities clipped to [eps, 1 - eps]."""
    truth = _is_positive(y_true, positive_label)
    p = _floats(score)
    n = truth.size
    if (empty := _empty(n)) is not None:
        return empty
    if (bad := _finite_scores(p, n, probability=True)) is not None:
        return bad
    # Clip p and 1 - p separately, as sklearn clips both columns of [1 - p, p].
    p_pos = np.clip(p, EPS, 1.0 - EPS)
    p_neg = np.clip(1.0 - p, EPS, 1.0 - EPS)
    losses = -np.where(truth, np.log(p_pos), np.log(p_neg))
    return MetricResult(float(np.mean(losses)), n)


def calibration_error(
    y_true: npt.ArrayLike,
    score: npt.ArrayLike,
    *,
    positive_label: object = 1,
    bins: int = CALIBRATION_BINS,
) -> MetricResult:
    """Expected calibration error (fraction) over ``bins`` equal-width score bins.

    Weighted mean over non-empty bins of |observed positive rate - mean score|, weights =
    the bins' shares of rows. A perfectly calibrated model scores 0.
    """
    truth = _is_positive(y_true, positive_label).astype(np.float64)
    p = _floats(score)
    n = truth.size
    if (empty := _empty(n)) is not None:
        return empty
    if (bad := _finite_scores(p, n, probability=True)) is not None:
        return bad
    index = np.minimum(np.floor(p * bins).astype(np.int64), bins - 1)
    sum_y = np.bincount(index, weights=truth, minlength=bins)
    sum_p = np.bincount(index, weights=p, minlength=bins)
    return MetricResult(float(np.abs(sum_y - sum_p).sum() / n), n)


# --- regression -------------------------------------------------------------------------


def _regression_inputs(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike
) -> tuple[FloatArray, FloatArray, MetricResult | None]:
    truth, pred = _floats(y_true), _floats(y_pred)
    n = truth.size
    problem = _empty(n)
    if problem is None and not (np.all(np.isfinite(truth)) and np.all(np.isfinite(pred))):
        problem = _undefined(n, _ERROR, "target or prediction contains NaN or infinity")
    return truth, pred, problem


def rmse(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> MetricResult:
    """Root mean squared error, in the target's unit."""
    truth, pred, problem = _regression_inputs(y_true, y_pred)
    if problem is not None:
        return problem
    return MetricResult(float(np.sqrt(np.mean((truth - pred) ** 2))), truth.size)


def mae(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> MetricResult:
    """Mean absolute error, in the target's unit."""
    truth, pred, problem = _regression_inputs(y_true, y_pred)
    if problem is not None:
        return problem
    return MetricResult(float(np.mean(np.abs(truth - pred))), truth.size)


def mape(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> MetricResult:
    """Mean absolute percentage error as a fraction (0.1 = 10 %), denominators floored at eps."""
    truth, pred, problem = _regression_inputs(y_true, y_pred)
    if problem is not None:
        return problem
    terms = np.abs(pred - truth) / np.maximum(np.abs(truth), EPS)
    detail = "zero targets: their terms divide by eps" if np.any(truth == 0.0) else None
    return MetricResult(float(np.mean(terms)), truth.size, _OK, detail)


# --- ranking ----------------------------------------------------------------------------


def ndcg(
    relevance: npt.ArrayLike,
    score: npt.ArrayLike,
    groups: npt.ArrayLike,
    *,
    k: int = 10,
) -> MetricResult:
    """Mean NDCG@k over query groups (fraction), ties handled like scikit-learn.

    Vectorised over all queries at once: rows are sorted by (query, score descending);
    a row at 0-based position ``i`` in its query has discount ``1 / log2(i + 2)`` if
    ``i < k`` else 0. A run of tied scores gets the mean relevance of the run times the sum
    of the run's discounts (McSherry & Najork 2008, what ``ndcg_score`` does). The ideal
    DCG sorts by relevance instead. ``n_rows`` counts the rows of the queries used.
    """
    rel, values = _floats(relevance), _floats(score)
    query_keys = np.asarray(groups).reshape(-1)
    n = rel.size
    if (empty := _empty(n)) is not None:
        return empty
    if not (np.all(np.isfinite(rel)) and np.all(np.isfinite(values))):
        return _undefined(n, _ERROR, "relevance or score contains NaN or infinity")
    if rel.min() < 0.0:
        return _undefined(n, _ERROR, "negative relevance: NDCG needs relevance >= 0")
    _, query = np.unique(query_keys, return_inverse=True)
    query = query.reshape(-1)
    sizes = np.bincount(query)
    kept = sizes[query] >= 2
    dropped = int(np.count_nonzero(sizes == 1))
    if not np.any(kept):
        return _undefined(n, _INSUFFICIENT, "no query group with at least two documents")
    rel, values, query = rel[kept], values[kept], query[kept]
    _, query = np.unique(query, return_inverse=True)
    n_queries = int(query.max()) + 1

    by_score = np.lexsort((-values, query))
    q_sorted = query[by_score]
    starts = np.concatenate(([0], np.cumsum(np.bincount(q_sorted, minlength=n_queries))[:-1]))
    position = np.arange(q_sorted.size) - starts[q_sorted]
    discount = np.where(position < k, 1.0 / np.log2(position + 2.0), 0.0)

    s_sorted, r_sorted = values[by_score], rel[by_score]
    new_run = np.ones(q_sorted.size, dtype=np.bool_)
    new_run[1:] = (q_sorted[1:] != q_sorted[:-1]) | (s_sorted[1:] != s_sorted[:-1])
    run = np.cumsum(new_run) - 1
    run_size = np.bincount(run)
    run_gain = np.bincount(run, weights=r_sorted) / run_size
    run_discount = np.bincount(run, weights=discount)
    run_query = q_sorted[new_run]
    dcg = np.bincount(run_query, weights=run_gain * run_discount, minlength=n_queries)

    # Same query order, same positions: only the order within each query changes.
    by_relevance = np.lexsort((-rel, query))
    ideal = np.bincount(q_sorted, weights=rel[by_relevance] * discount, minlength=n_queries)
    per_query = np.divide(dcg, ideal, out=np.zeros(n_queries), where=ideal > 0)
    detail = f"{n_queries} queries"
    if dropped:
        detail += f"; {dropped} single-document queries left out"
    return MetricResult(float(per_query.mean()), int(rel.size), _OK, detail)


# --- SLI rows ---------------------------------------------------------------------------

# Working columns of the joined frame (prefixed so they cannot clash with user columns).
_Y_LABEL, _P_LABEL = "__y_label", "__p_label"
_Y_POS, _P_POS = "__y_pos", "__p_pos"
_SCORE, _Y_NUM, _P_NUM, _GROUP = "__score", "__y_num", "__p_num", "__group"


def _positive_expr(name: str, dtype: pl.DataType, positive_label: str) -> pl.Expr:
    """Whether a label column equals the contract's ``positive_label`` (a string).

    Booleans are positive when ``positive_label`` is ``1``/``true`` (any case) and the value
    is true; numeric labels compare numerically (``"1"`` matches 1 and 1.0); anything else
    compares as strings.
    """
    column = pl.col(name)
    if dtype == pl.Boolean:
        wanted = positive_label.strip().lower() in {"1", "true"}
        return column == wanted
    if dtype.is_numeric():
        try:
            number = float(positive_label)
        except ValueError:
            return pl.when(column.is_not_null()).then(pl.lit(False))
        return column.cast(pl.Float64) == number
    return column.cast(pl.String) == positive_label


def _label_exprs(
    target: str, predicted: str, schema: Mapping[str, pl.DataType]
) -> tuple[pl.Expr, pl.Expr]:
    """Comparable forms of the true and predicted labels (for accuracy)."""
    t, p = schema[target], schema[predicted]
    if t.is_numeric() and p.is_numeric():
        return pl.col(target).cast(pl.Float64, strict=False), pl.col(predicted).cast(pl.Float64)
    if t == pl.Boolean and p == pl.Boolean:
        return pl.col(target), pl.col(predicted)
    return pl.col(target).cast(pl.String), pl.col(predicted).cast(pl.String)


def _dedupe(frame: pl.DataFrame, id_column: str) -> pl.DataFrame:
    """One row per id, the last one in file order: a repeated label is a restatement."""
    return frame.unique(subset=[id_column], keep="last", maintain_order=True)


def _find_column(name: str, *frames: pl.DataFrame | None) -> int | None:
    for index, frame in enumerate(frames):
        if frame is not None and name in frame.schema:
            return index
    return None


@dataclass(frozen=True)
class _Joined:
    frame: pl.DataFrame
    # slice/sensitive column -> every value it takes in the day's data (for empty slices)
    universes: dict[str, pl.Series]
    missing: dict[str, str]  # column -> why it is unavailable


def _join(
    contract: Contract,
    predictions: pl.DataFrame,
    labels: pl.DataFrame,
    features: pl.DataFrame | None,
) -> _Joined:
    id_column = contract.sources.id_column
    pc = contract.predictions
    missing: dict[str, str] = {}
    for frame, name in ((predictions, "predictions"), (labels, "labels")):
        if id_column not in frame.schema:
            missing[id_column] = f"id column {id_column!r} missing from {name}"
        elif not is_id_dtype(frame.schema[id_column]):
            missing[id_column] = (
                f"id column {id_column!r} of {name} is {frame.schema[id_column]}, not {ID_TYPES}"
            )
    if pc.target is None or pc.target not in labels.schema:
        missing["__target"] = f"target column {pc.target!r} missing from labels"
    if missing:
        return _Joined(pl.DataFrame(), {}, missing)

    pred_columns = [
        c
        for c in (pc.score, pc.predicted_label, pc.ranking_group)
        if c is not None and c in predictions.schema and c != id_column
    ]
    label_columns = [pc.target] if pc.target is not None else []
    if pc.ranking_group is not None and pc.ranking_group not in predictions.schema:
        label_columns.append(pc.ranking_group)
    label_columns = [c for c in dict.fromkeys(label_columns) if c in labels.schema]
    # e.g. Int64 ids in one file and String in the other: compared as strings.
    predictions, labels = comparable_ids(predictions, labels, id_column)
    joined = predictions.select(id_column, *pred_columns).join(
        _dedupe(labels.select(id_column, *label_columns), id_column),
        on=id_column,
        how="inner",
        maintain_order="left",
    )
    universes: dict[str, pl.Series] = {}
    extra = [c for c in dict.fromkeys((*contract.slices, *contract.sensitive_attributes))]
    from_features: list[str] = []
    for column in extra:
        where = _find_column(column, features, predictions)
        if where is None:
            missing[column] = f"column {column!r} missing from features and predictions"
        elif where == 0 and features is not None:
            if column not in joined.schema:
                from_features.append(column)
            universes[column] = features.get_column(column)
        else:
            if column not in joined.schema:
                joined = joined.join(
                    predictions.select(id_column, column).pipe(_dedupe, id_column),
                    on=id_column,
                    how="left",
                    maintain_order="left",
                )
            universes[column] = predictions.get_column(column)
    feature_ids = features.schema.get(id_column) if features is not None else None
    if features is not None and from_features and feature_ids and is_id_dtype(feature_ids):
        joined, features = comparable_ids(joined, features, id_column)
        joined = joined.join(
            _dedupe(features.select(id_column, *from_features), id_column),
            on=id_column,
            how="left",
            maintain_order="left",
        )
    elif from_features:
        why = (
            f"id column {id_column!r} missing from features"
            if feature_ids is None
            else f"id column {id_column!r} of features is {feature_ids}, not {ID_TYPES}"
        )
        for column in from_features:
            missing[column] = why
            universes.pop(column, None)
    return _Joined(joined, universes, missing)


def _working_columns(contract: Contract, frame: pl.DataFrame) -> pl.DataFrame:
    """Add the normalised columns the metrics read (labels, positives, scores, groups)."""
    pc = contract.predictions
    schema = frame.schema
    target = pc.target
    assert target is not None  # checked by _join
    has_score = pc.score is not None and pc.score in schema
    has_pred = pc.predicted_label is not None and pc.predicted_label in schema
    exprs: list[pl.Expr] = []
    if contract.type == ModelType.CLASSIFICATION:
        y_pos = _positive_expr(target, schema[target], pc.positive_label)
        exprs.append(y_pos.alias(_Y_POS))
        if has_score:
            assert pc.score is not None
            exprs.append(pl.col(pc.score).cast(pl.Float64, strict=False).alias(_SCORE))
        if has_pred:
            assert pc.predicted_label is not None
            y_label, p_label = _label_exprs(target, pc.predicted_label, schema)
            p_pos = _positive_expr(
                pc.predicted_label, schema[pc.predicted_label], pc.positive_label
            )
            exprs += [y_label.alias(_Y_LABEL), p_label.alias(_P_LABEL), p_pos.alias(_P_POS)]
        elif has_score:
            assert pc.score is not None
            p_pos = pl.col(pc.score).cast(pl.Float64, strict=False) >= DECISION_THRESHOLD
            exprs += [y_pos.alias(_Y_LABEL), p_pos.alias(_P_LABEL), p_pos.alias(_P_POS)]
    else:
        exprs.append(pl.col(target).cast(pl.Float64, strict=False).alias(_Y_NUM))
        prediction = pc.score if has_score else (pc.predicted_label if has_pred else None)
        if prediction is not None:
            exprs.append(pl.col(prediction).cast(pl.Float64, strict=False).alias(_P_NUM))
            exprs.append(pl.col(prediction).cast(pl.Float64, strict=False).alias(_SCORE))
        if pc.ranking_group is not None and pc.ranking_group in schema:
            exprs.append(pl.col(pc.ranking_group).alias(_GROUP))
    return frame.with_columns(exprs)


def _default_objective(contract: Contract, sli: str) -> float | None:
    """The template objective, only when the contract declares no SLO of that name."""
    if contract.slo(sli) is not None:
        return None
    return default_objective(contract.type, sli)


def _unmeasurable_rows(contract: Contract, frame: pl.DataFrame, measured: set[str]) -> list[SliRow]:
    """``error`` rows (a breach) for applicable metrics that could not be computed because
    a prediction column the contract names is absent: silence would read as "not
    evaluated", and an SLO on it would never burn."""
    pc = contract.predictions
    named = [c for c in (pc.score, pc.predicted_label) if c is not None]
    absent = [c for c in named if c not in frame.schema]
    if not absent:
        return []
    detail = f"prediction column(s) {', '.join(absent)} named by the contract are missing"
    return [
        slo_row(
            contract,
            sli,
            "quality",
            None,
            0,
            objective=_default_objective(contract, sli),
            status=_ERROR,
            detail=detail,
        )
        for sli in METRICS_BY_MODEL_TYPE[contract.type]
        if sli not in measured
    ]


def _metric_specs(contract: Contract, frame: pl.DataFrame) -> list[SliceMetric]:
    """The applicable metrics, with their objective (contract SLO, else default template)."""
    pc = contract.predictions
    k = pc.ndcg_k
    thresholded = pc.predicted_label is None or pc.predicted_label not in frame.schema
    label_rule = f"score>={DECISION_THRESHOLD:g}" if thresholded else None
    positive = f"positive={pc.positive_label}"
    methods: dict[str, str | None] = {
        "accuracy": label_rule,
        "precision": "; ".join(filter(None, (positive, label_rule))),
        "recall": "; ".join(filter(None, (positive, label_rule))),
        "f1": "; ".join(filter(None, (positive, label_rule))),
        "roc_auc": positive,
        "log_loss": positive,
        "calibration_error": f"{positive}; {CALIBRATION_BINS} equal-width bins",
        "ndcg": f"ndcg@{k}",
    }

    def spec(sli: str, columns: tuple[str, ...], compute: SliceMetricFn) -> SliceMetric:
        objective = _default_objective(contract, sli)
        return SliceMetric(
            sli,
            columns,
            compute,
            category="quality",
            objective=objective,
            detail="default objective (no SLO in the contract)" if objective is not None else None,
            method=methods.get(sli),
        )

    def ndcg_at_k(rel: AnyArray, score: AnyArray, groups: AnyArray) -> MetricResult:
        return ndcg(rel, score, groups, k=k)

    def binary(fn: BinaryFn) -> SliceMetricFn:
        def compute(y: AnyArray, p: AnyArray) -> MetricResult:
            return fn(y, p, positive_label=True)

        return compute

    candidates: dict[str, tuple[tuple[str, ...], SliceMetricFn]] = {
        "accuracy": ((_Y_LABEL, _P_LABEL), accuracy),
        "precision": ((_Y_POS, _P_POS), binary(precision)),
        "recall": ((_Y_POS, _P_POS), binary(recall)),
        "f1": ((_Y_POS, _P_POS), binary(f1)),
        "roc_auc": ((_Y_POS, _SCORE), binary(roc_auc)),
        "log_loss": ((_Y_POS, _SCORE), binary(log_loss)),
        "calibration_error": ((_Y_POS, _SCORE), binary(calibration_error)),
        "rmse": ((_Y_NUM, _P_NUM), rmse),
        "mae": ((_Y_NUM, _P_NUM), mae),
        "mape": ((_Y_NUM, _P_NUM), mape),
        "ndcg": ((_Y_NUM, _SCORE, _GROUP), ndcg_at_k),
    }
    specs: list[SliceMetric] = []
    for sli in METRICS_BY_MODEL_TYPE[contract.type]:
        columns, compute = candidates[sli]
        if all(c in frame.schema for c in columns):
            specs.append(spec(sli, columns, compute))
    return specs


def quality_sli_rows(
    contract: Contract,
    predictions: pl.DataFrame,
    labels: pl.DataFrame,
    *,
    features: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Quality (and fairness) SLI rows of one prediction day whose labels have arrived.

    Labels join predictions on ``contract.sources.id_column`` (inner join: only labelled
    predictions are scored; a repeated label id keeps its last row, the newest
    restatement). Slice and sensitive-attribute columns come from ``features`` (joined by
    id), or from ``predictions`` when it carries them. Emits, for the contract's model type:

    - every applicable metric of :data:`METRICS_BY_MODEL_TYPE` model-wide (``slice``
      NULL) and per value of each ``contract.slices`` column (``"<column>=<value>"``),
      category ``quality``; a metric whose input column the contract does not name is not
      emitted (no ``score`` column: no ROC AUC, log loss or calibration error; no
      ``predicted_label``: labels are ``score >= DECISION_THRESHOLD``);
    - for classification, ``demographic_parity_difference`` and
      ``equal_opportunity_difference`` per ``contract.sensitive_attributes`` column
      (category ``fairness``, the attribute in ``feature``), groups smaller than
      ``contract.min_slice_rows`` left out.

    For ranking, a slice keeps the slice's rows and scores each query on those rows (for a
    query-level attribute such as the user's country that is the query's own NDCG).
    ``method`` says how a value was defined (``positive=1``, ``score>=0.5`` when labels come
    from the score, ``ndcg@10``, the calibration bins).

    ``n_rows`` is the number of labelled rows the value is based on. Objectives come from
    the contract's SLO of the same name, else the template's
    (:data:`checks.slo_templates.DEFAULT_OBJECTIVES`). A column the contract names but the
    frames lack gives ``error`` rows (judged: a breach), not an exception.
    """
    joined = _join(contract, predictions, labels, features)
    applicable = METRICS_BY_MODEL_TYPE[contract.type]
    rows: list[SliRow]
    fatal = ("__target", contract.sources.id_column)
    reasons = [why for column, why in joined.missing.items() if column in fatal]
    if reasons:
        rows = [
            slo_row(
                contract,
                sli,
                "quality",
                None,
                0,
                objective=_default_objective(contract, sli),
                status=_ERROR,
                detail="; ".join(dict.fromkeys(reasons)),
            )
            for sli in applicable
        ]
        return sli_frame(rows)

    frame = _working_columns(contract, joined.frame)
    metrics = _metric_specs(contract, frame)
    rows = [measurement_row(contract, metric, measure(frame, metric)) for metric in metrics]
    rows += _unmeasurable_rows(contract, joined.frame, {m.sli for m in metrics})
    for column in contract.slices:
        if column in joined.missing:
            rows += [
                slo_row(
                    contract,
                    sliced.sli,
                    "quality",
                    None,
                    0,
                    slice=f"{column}=?",
                    objective=sliced.objective,
                    method=sliced.method,
                    status=_ERROR,
                    detail=joined.missing[column],
                )
                for sliced in (slice_metric(contract, metric) for metric in metrics)
            ]
            continue
        rows += slice_sli_rows(
            contract, frame, column, metrics, all_values=joined.universes.get(column)
        )
    if contract.type == ModelType.CLASSIFICATION and _P_POS in frame.schema:
        for attribute in contract.sensitive_attributes:
            rows += fairness.fairness_sli_rows(
                contract,
                frame,
                attribute,
                y_true=_Y_POS,
                y_pred=_P_POS,
                missing=joined.missing.get(attribute),
            )
    return sli_frame(rows)
