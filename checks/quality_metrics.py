"""Quality metric kernels: whole-column numpy metrics equal to scikit-learn 1.9.

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
  (scikit-learn refuses them); negative relevance, or one so large that a DCG overflows
  float64, is status ``error``.

:func:`checks.quality.quality_sli_rows` turns them into SLI rows.
"""

from __future__ import annotations

import math
from dataclasses import astuple, dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import polars as pl

__all__ = [
    "CALIBRATION_BINS",
    "EPS",
    "STATUS_ERROR",
    "STATUS_INSUFFICIENT",
    "STATUS_OK",
    "STATUS_SKIPPED",
    "MetricResult",
    "NdcgParts",
    "RankedRows",
    "accuracy",
    "average_ranks",
    "calibration_error",
    "f1",
    "finite_scores",
    "log_loss",
    "mae",
    "mape",
    "ndcg",
    "ndcg_parts",
    "ndcg_result",
    "no_rows",
    "precision",
    "recall",
    "regression_problem",
    "rmse",
    "roc_auc",
    "share",
    "undefined",
]

#: float64 machine epsilon: log loss clipping and the MAPE denominator floor.
EPS: Final[float] = float(np.finfo(np.float64).eps)

#: Number of equal-width score bins of the expected calibration error.
CALIBRATION_BINS: Final[int] = 10

STATUS_OK = "ok"
STATUS_INSUFFICIENT = "insufficient_data"
STATUS_ERROR = "error"
#: A measurement that does not apply (a binary-only metric of a multiclass target).
STATUS_SKIPPED = "skipped"

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class MetricResult:
    """One metric value (NaN when undefined), the rows it is based on, a status and why.

    ``status`` is ``ok``, ``insufficient_data`` (empty input, one class only) or ``error``
    (input outside the metric's domain, e.g. a probability above 1).
    """

    value: float
    n_rows: int
    status: str = STATUS_OK
    detail: str | None = None


def undefined(n_rows: int, status: str, detail: str) -> MetricResult:
    return MetricResult(math.nan, n_rows, status, detail)


def no_rows(n_rows: int) -> MetricResult | None:
    """Every kernel's result when no row has both a label and a usable prediction (None
    when some do): the labels may not have come yet, or the predictions are null or NaN."""
    if n_rows:
        return None
    return undefined(0, STATUS_INSUFFICIENT, "no row with both a label and a prediction")


def _floats(values: npt.ArrayLike) -> FloatArray:
    return np.asarray(values, dtype=np.float64).reshape(-1)


def _is_positive(y: npt.ArrayLike, positive_label: object) -> npt.NDArray[np.bool_]:
    return np.asarray(np.asarray(y).reshape(-1) == positive_label, dtype=np.bool_)


def _scored(
    y_true: npt.ArrayLike, score: npt.ArrayLike, positive_label: object, *, probability: bool
) -> tuple[npt.NDArray[np.bool_], FloatArray, MetricResult | None]:
    """(is positive, score as float64, the result to return instead when the input is
    empty or a score is not finite, or outside [0, 1] for a ``probability``)."""
    truth = _is_positive(y_true, positive_label)
    values = _floats(score)
    problem = no_rows(truth.size) or finite_scores(values, truth.size, probability=probability)
    return truth, values, problem


def finite_scores(score: FloatArray, n: int, *, probability: bool) -> MetricResult | None:
    if not np.all(np.isfinite(score)):
        return undefined(n, STATUS_ERROR, "score contains NaN or infinity")
    if probability and (score.min() < 0.0 or score.max() > 1.0):
        return undefined(
            n, STATUS_ERROR, f"score outside [0, 1] (min {score.min():g}, max {score.max():g})"
        )
    return None


# --- classification ---------------------------------------------------------------------


def accuracy(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> MetricResult:
    """Share of rows whose predicted label equals the true label (fraction)."""
    truth, pred = np.asarray(y_true).reshape(-1), np.asarray(y_pred).reshape(-1)
    n = truth.size
    if (empty := no_rows(n)) is not None:
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


def share(numerator: int, denominator: int, n: int, when_zero: str) -> MetricResult:
    """``numerator / denominator`` over ``n`` rows; 0.0 (status ok, said in ``detail``)
    when the denominator is 0, as scikit-learn's ``zero_division`` default does."""
    if (empty := no_rows(n)) is not None:
        return empty
    if denominator == 0:
        return MetricResult(0.0, n, STATUS_OK, f"{when_zero}: 0.0 (sklearn zero_division)")
    return MetricResult(numerator / denominator, n)


def precision(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike, *, positive_label: object = 1
) -> MetricResult:
    """TP / (TP + FP) for ``positive_label`` (fraction); 0.0 with no predicted positives."""
    tp, fp, _, n = _confusion(y_true, y_pred, positive_label)
    return share(tp, tp + fp, n, "no predicted positives")


def recall(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike, *, positive_label: object = 1
) -> MetricResult:
    """TP / (TP + FN) for ``positive_label`` (fraction); 0.0 with no actual positives."""
    tp, _, fn, n = _confusion(y_true, y_pred, positive_label)
    return share(tp, tp + fn, n, "no actual positives")


def f1(y_true: npt.ArrayLike, y_pred: npt.ArrayLike, *, positive_label: object = 1) -> MetricResult:
    """2 TP / (2 TP + FP + FN) (fraction), the harmonic mean of precision and recall;
    0.0 when there are neither predicted nor actual positives."""
    tp, fp, fn, n = _confusion(y_true, y_pred, positive_label)
    return share(2 * tp, 2 * tp + fp + fn, n, "no positives at all")


def average_ranks(values: FloatArray) -> FloatArray:
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
    truth, values, problem = _scored(y_true, score, positive_label, probability=False)
    if problem is not None:
        return problem
    n = truth.size
    n_pos = int(np.count_nonzero(truth))
    n_neg = n - n_pos
    if n_pos == 0 or n_neg == 0:
        return undefined(n, STATUS_INSUFFICIENT, "only one class present: ROC AUC is undefined")
    ranks = average_ranks(values)
    u = float(ranks[truth].sum()) - n_pos * (n_pos + 1) / 2.0
    return MetricResult(u / (n_pos * n_neg), n)


def log_loss(
    y_true: npt.ArrayLike, score: npt.ArrayLike, *, positive_label: object = 1
) -> MetricResult:
    """Mean binary cross-entropy in nats, probabilities clipped to [eps, 1 - eps]."""
    truth, p, problem = _scored(y_true, score, positive_label, probability=True)
    if problem is not None:
        return problem
    n = truth.size
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
    positive, p, problem = _scored(y_true, score, positive_label, probability=True)
    if problem is not None:
        return problem
    truth, n = positive.astype(np.float64), positive.size
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
    finite = n == 0 or bool(np.all(np.isfinite(truth)) and np.all(np.isfinite(pred)))
    return truth, pred, regression_problem(n, all_finite=finite)


def regression_problem(n: int, *, all_finite: bool) -> MetricResult | None:
    """What a regression kernel returns instead of a value for ``n`` rows: no rows, or a
    NaN or infinity among them (``all_finite`` False); None when they can be scored."""
    if not all_finite and n > 0:
        return undefined(n, STATUS_ERROR, "target or prediction contains NaN or infinity")
    return no_rows(n)


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
    return MetricResult(float(np.mean(terms)), truth.size, STATUS_OK, detail)


# --- ranking ----------------------------------------------------------------------------


def _by_query_then_descending(
    query: npt.NDArray[np.integer], values: FloatArray
) -> npt.NDArray[np.intp]:
    """Row order by query, then value descending: ``numpy.lexsort((-values, query))`` up to
    the order of equal pairs (which NDCG does not see), ~3x faster (polars sorts on every
    core: 1M rows 0.06 s instead of 0.2 s)."""
    keys = pl.DataFrame({"query": query, "value": values})
    order = keys.select(pl.arg_sort_by(["query", "value"], descending=[False, True]))
    return order.to_series().to_numpy().astype(np.intp, copy=False)


@dataclass(frozen=True)
class NdcgParts:
    """NDCG@k of a set of whole queries as sums, so disjoint sets of queries add up (a
    ranking day scored bucket by bucket of its queries, :mod:`checks.quality_ranking`).

    ``rows``: the rows given; ``non_finite``: rows with a NaN or infinite relevance or
    score; ``negative``: rows with a negative relevance; ``queries``: queries with at least
    two documents, ``query_rows`` their rows and ``ndcg_sum`` the sum of their NDCG@k
    (fractions); ``single``: single-document queries left out; ``overflowed``: queries
    whose DCG overflows float64 (relevance near 1e308). The sums are only filled when
    every row is usable (``non_finite`` and ``negative`` 0) and nothing overflowed:
    otherwise the metric is an error whatever they are."""

    rows: int
    non_finite: int = 0
    negative: int = 0
    queries: int = 0
    query_rows: int = 0
    single: int = 0
    ndcg_sum: float = 0.0
    overflowed: int = 0

    def __add__(self, other: NdcgParts) -> NdcgParts:
        """Field by field: the parts of the two sets of queries together."""
        return NdcgParts(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))


class RankedRows:
    """Ranking rows sorted once by (query, score descending) and by (query, relevance
    descending), scored as a whole (:meth:`parts`) or per label (:meth:`parts_by`: a
    slice's rows, each query scored on its rows in the slice).

    Why one sort: a label's rows, taken in the order of the sort of all rows, are already
    in their own sorted order (a subsequence of a sorted sequence is sorted), so every
    slice value is scored from the same two sorts instead of sorting its rows again.

    Rows are sorted by (query, score descending); a row at 0-based position ``i`` in its
    query has discount ``1 / log2(i + 2)`` if ``i < k`` else 0. A run of tied scores gets
    the mean relevance of the run times the sum of the run's discounts (McSherry & Najork
    2008, what ``ndcg_score`` does). The ideal DCG sorts by relevance instead. A set of
    rows holding a NaN or infinite relevance or score, or a negative relevance, is not
    scored (:class:`NdcgParts`).
    """

    def __init__(
        self, relevance: npt.ArrayLike, score: npt.ArrayLike, groups: npt.ArrayLike, *, k: int
    ) -> None:
        self.k = k
        self.relevance, self.score = _floats(relevance), _floats(score)
        self.query = _query_keys(groups)
        self.bad = ~(np.isfinite(self.relevance) & np.isfinite(self.score))
        self.negative = self.relevance < 0.0
        self.by_score = _by_query_then_descending(self.query, self.score)
        self.by_relevance = _by_query_then_descending(self.query, self.relevance)

    def parts(self) -> NdcgParts:
        """The sums of every row."""
        return self._parts(self.by_score, self.by_relevance)

    def parts_by(self, labels: npt.NDArray[np.integer], count: int) -> list[NdcgParts]:
        """The sums of each label's rows, labels ``0 .. count-1`` (one per row)."""
        codes = np.asarray(labels).reshape(-1)
        # A stable sort by label keeps each label's rows in the order of the row sort.
        by_score = self.by_score[np.argsort(codes[self.by_score], kind="stable")]
        by_relevance = self.by_relevance[np.argsort(codes[self.by_relevance], kind="stable")]
        bounds = np.concatenate(([0], np.cumsum(np.bincount(codes, minlength=count))))
        return [
            self._parts(by_score[a:b], by_relevance[a:b])
            for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)
        ]

    def _parts(
        self, by_score: npt.NDArray[np.intp], by_relevance: npt.NDArray[np.intp]
    ) -> NdcgParts:
        """The sums of the rows ``by_score`` lists sorted by (query, score descending), and
        ``by_relevance`` the same rows by (query, relevance descending)."""
        n = int(by_score.size)
        if n == 0:
            return NdcgParts(0)
        non_finite = int(np.count_nonzero(self.bad[by_score]))
        negative = int(np.count_nonzero(self.negative[by_score]))
        if non_finite or negative:
            return NdcgParts(n, non_finite, negative)
        # Both orders hold each query's rows in the same positions (same queries, sorted).
        query = _runs(self.query[by_score])
        sizes = np.bincount(query)
        single = int(np.count_nonzero(sizes == 1))
        kept = sizes[query] >= 2
        if not np.any(kept):
            return NdcgParts(n, single=single)
        query = _runs(query[kept])
        n_queries = int(query[-1]) + 1
        values, rel = self.score[by_score[kept]], self.relevance[by_score[kept]]
        ideal_rel = self.relevance[by_relevance[kept]]

        starts = np.concatenate(([0], np.cumsum(np.bincount(query, minlength=n_queries))[:-1]))
        position = np.arange(query.size) - starts[query]
        discount = np.where(position < self.k, 1.0 / np.log2(position + 2.0), 0.0)
        new_run = np.ones(query.size, dtype=np.bool_)
        new_run[1:] = (query[1:] != query[:-1]) | (values[1:] != values[:-1])
        run = np.cumsum(new_run) - 1
        run_size = np.bincount(run)
        # A relevance near 1e308 overflows the sums: counted below, not warned about.
        with np.errstate(over="ignore", invalid="ignore"):
            run_gain = np.bincount(run, weights=rel) / run_size
            run_discount = np.bincount(run, weights=discount)
            dcg = np.bincount(query[new_run], weights=run_gain * run_discount, minlength=n_queries)
            ideal = np.bincount(query, weights=ideal_rel * discount, minlength=n_queries)
        overflowed = int(np.count_nonzero(~(np.isfinite(dcg) & np.isfinite(ideal))))
        if overflowed:
            return NdcgParts(n, overflowed=overflowed)
        per_query = np.divide(dcg, ideal, out=np.zeros(n_queries), where=ideal > 0)
        return NdcgParts(n, 0, 0, n_queries, int(query.size), single, float(per_query.sum()))


def _query_keys(groups: npt.ArrayLike) -> npt.NDArray[np.integer]:
    """Query keys polars sorts as numbers: integer queries as they are, any other kind
    (text, floats: ``-0.0`` and ``0.0`` one query) as dense codes."""
    keys = np.asarray(groups).reshape(-1)
    if np.issubdtype(keys.dtype, np.integer):
        return keys
    return np.unique(keys, return_inverse=True)[1].reshape(-1)


def _runs(sorted_keys: npt.NDArray[np.integer]) -> npt.NDArray[np.intp]:
    """``0, 0, 1, 2, 2, ...``: the number of each row's run of equal keys (keys sorted)."""
    starts = np.ones(sorted_keys.size, dtype=np.intp)
    starts[1:] = sorted_keys[1:] != sorted_keys[:-1]
    return np.cumsum(starts) - 1


def ndcg_parts(
    relevance: npt.ArrayLike, score: npt.ArrayLike, groups: npt.ArrayLike, *, k: int = 10
) -> NdcgParts:
    """The sums :func:`ndcg` averages (see :class:`NdcgParts`) of all the rows, computed
    over all queries at once (:class:`RankedRows`)."""
    return RankedRows(relevance, score, groups, k=k).parts()


def ndcg_result(parts: NdcgParts) -> MetricResult:
    """Mean NDCG@k over the queries of ``parts`` (fraction), or why it is undefined;
    ``n_rows`` counts the rows of the queries used."""
    if (empty := no_rows(parts.rows)) is not None:
        return empty
    if parts.non_finite:
        return undefined(parts.rows, STATUS_ERROR, "relevance or score contains NaN or infinity")
    if parts.negative:
        return undefined(parts.rows, STATUS_ERROR, "negative relevance: NDCG needs relevance >= 0")
    if parts.overflowed:
        why = f"{parts.overflowed} queries' DCG overflows float64: relevance too large"
        return undefined(parts.rows, STATUS_ERROR, why)
    if not parts.queries:
        return undefined(
            parts.rows, STATUS_INSUFFICIENT, "no query group with at least two documents"
        )
    detail = f"{parts.queries} queries"
    if parts.single:
        detail += f"; {parts.single} single-document queries left out"
    return MetricResult(parts.ndcg_sum / parts.queries, parts.query_rows, STATUS_OK, detail)


def ndcg(
    relevance: npt.ArrayLike,
    score: npt.ArrayLike,
    groups: npt.ArrayLike,
    *,
    k: int = 10,
) -> MetricResult:
    """Mean NDCG@k over query groups (fraction), ties handled like scikit-learn
    (:func:`ndcg_parts`, :func:`ndcg_result`)."""
    return ndcg_result(ndcg_parts(relevance, score, groups, k=k))
