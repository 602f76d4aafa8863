"""Population Stability Index on quantile bins of the baseline.

docs/design.md: cut points ``numpy.unique(numpy.quantile(baseline, numpy.linspace(0, 1, B + 1)
[1:-1]))`` (linear rule, B = 10 by default); right-closed bins ``(e_{i-1}, e_i]`` with open
ends; a proportion that is exactly 0 becomes 1e-4 (no renormalisation);
``PSI = sum((c_i - b_i) * ln(c_i / b_i))``, natural log, unitless. Categorical PSI is the
same sum over the union of categories.

Why quantile bins: each bin holds ~1/B of the baseline, so PSI weighs the whole range; with
heavy ties ``unique`` merges cut points and there are fewer, larger bins.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from checks.arrays import FloatArray, IndexArray

__all__ = [
    "PSI_FLOOR",
    "PsiResult",
    "binned_counts",
    "linear_quantiles",
    "psi_cut_points",
    "psi_from_counts",
    "quantile_levels",
]


#: A bin proportion that is exactly zero is replaced by this (docs/design.md).
PSI_FLOOR = 1e-4


class PsiResult(NamedTuple):
    """PSI (natural log, unitless) and the two proportion vectors it was computed from
    (raw, before the 1e-4 floor)."""

    statistic: float
    baseline_proportions: FloatArray
    current_proportions: FloatArray


def quantile_levels(bins: int) -> FloatArray:
    """The B - 1 interior quantile levels ``linspace(0, 1, B + 1)[1:-1]``."""
    if bins < 2:
        raise ValueError("PSI needs at least 2 bins")
    return np.linspace(0, 1, bins + 1)[1:-1]


def linear_quantiles(
    order_statistic: Callable[[IndexArray], FloatArray], n: int, q: FloatArray
) -> FloatArray:
    """``numpy.quantile(x, q)`` (method 'linear') from a function returning order statistics.

    ``order_statistic(k)`` returns the k-th smallest values (0-based ranks) of a sample of
    size ``n`` >= 1. This lets a sorted array (a stored profile) or a bucketed one give
    numpy's exact result without sorting; the index and interpolation arithmetic is
    numpy's own (``(n - 1) * q``, ``_get_indexes``, ``_lerp`` in numpy 2.x),
    so the cut points are bit-identical.
    """
    if n < 1:
        raise ValueError("quantiles of an empty sample")
    virtual = (n - 1) * q  # numpy's get_virtual_index for 'linear'
    previous = np.floor(virtual)
    nxt = previous + 1
    above = virtual >= n - 1
    previous[above] = n - 1
    nxt[above] = n - 1
    below = virtual < 0
    previous[below] = 0
    nxt[below] = 0
    prev_idx = previous.astype(np.intp)
    next_idx = nxt.astype(np.intp)
    # numpy computes gamma against the *adjusted* previous index (-1 for the top end,
    # which makes no difference because both neighbours are then the same value).
    gamma_base = np.where(above, -1.0, previous)
    gamma = virtual - gamma_base
    stats = order_statistic(np.concatenate([prev_idx, next_idx]))
    a, b = stats[: q.shape[0]], stats[q.shape[0] :]
    diff = b - a
    out = a + diff * gamma
    high = gamma >= 0.5
    out[high] = (b - diff * (1 - gamma))[high]
    return np.asarray(out, dtype=np.float64)


def psi_cut_points(
    baseline: FloatArray,
    bins: int,
    *,
    is_sorted: bool = False,
    order_statistic: Callable[[IndexArray], FloatArray] | None = None,
) -> FloatArray:
    """Cut points of the PSI bins: ``unique(quantile(baseline, linspace(0,1,B+1)[1:-1]))``.

    Parameters
    ----------
    baseline : ndarray of float64
        Finite baseline values, non-empty (±inf would make numpy's interpolation NaN; the
        drift engine passes the finite values and keeps infinities in the end bins).
    bins : int
        B, the number of bins before ties merge some (>= 2).
    is_sorted : bool
        ``baseline`` is sorted ascending: order statistics are then direct lookups.
    order_statistic : callable, optional
        Exact order statistics of ``baseline`` from elsewhere (e.g.
        :meth:`checks.stats.ecdf.BucketedPair.finite_order_statistics`), to avoid a
        partition of the whole array.
    """
    q = quantile_levels(bins)
    if order_statistic is not None:
        return np.unique(linear_quantiles(order_statistic, baseline.shape[0], q))
    if is_sorted:
        return np.unique(linear_quantiles(lambda k: baseline[k], baseline.shape[0], q))
    return np.unique(
        linear_quantiles(lambda k: _partition_stats(baseline, k), baseline.shape[0], q)
    )


def _partition_stats(x: FloatArray, ranks: IndexArray) -> FloatArray:
    wanted = np.unique(ranks)
    part = np.partition(x, wanted)
    return np.asarray(part[ranks], dtype=np.float64)


def binned_counts(values: FloatArray, cuts: FloatArray) -> npt.NDArray[np.int64]:
    """Counts per right-closed bin ``(-inf, e_1], (e_1, e_2], ..., (e_k, +inf)``.

    Preconditions: ``cuts`` sorted, unique, finite; ``values`` without NaN (±inf land in
    the end bins). Returns ``len(cuts) + 1`` counts. Few cuts: one vectorised comparison
    per cut (cheaper than a binary search per value); many cuts: ``searchsorted``.
    """
    n = values.shape[0]
    if cuts.shape[0] <= 32:
        at_most = np.array([np.count_nonzero(values <= c) for c in cuts], dtype=np.int64)
        return np.diff(np.concatenate([[0], at_most, [n]])).astype(np.int64)
    idx = np.searchsorted(cuts, values, side="left")
    return np.bincount(idx, minlength=cuts.shape[0] + 1).astype(np.int64)


def psi_from_counts(
    baseline_counts: npt.ArrayLike, current_counts: npt.ArrayLike, floor: float = PSI_FLOOR
) -> PsiResult:
    """PSI of two aligned count vectors (bins or categories), natural log.

    Preconditions: same length, non-negative, both with a positive total.
    """
    b = np.asarray(baseline_counts, dtype=np.float64)
    c = np.asarray(current_counts, dtype=np.float64)
    bp = b / b.sum()
    cp = c / c.sum()
    bf = np.where(bp == 0, floor, bp)
    cf = np.where(cp == 0, floor, cp)
    return PsiResult(float(np.sum((cf - bf) * np.log(cf / bf))), bp, cp)
