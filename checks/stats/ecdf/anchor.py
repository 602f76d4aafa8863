"""A sorted baseline's own KS bucket grid, built once with its stored profile
(:class:`KsAnchor`, :func:`ks_anchor`)."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from checks.arrays import FloatArray, IndexArray
from checks.stats.ecdf.grids import (
    ANCHOR_BUCKETS,
    ANCHOR_MIN_CROWDED,
    ANCHOR_TAIL,
    CROWDED,
    SMALL_N,
    EqualGrid,
    fine_enough,
)

__all__ = ["KsAnchor", "ks_anchor"]


class KsAnchor(NamedTuple):
    """A sorted baseline's own KS bucket grid, built once with its stored profile.

    ``buckets`` equal-width buckets over the baseline's finite values from the 0.1% to
    the 99.9% quantile (values beyond either end fall in the end buckets, so a heavy tail
    does not stretch the grid), and for each bucket the index in the finite sorted values
    of its first value. With it, :class:`SortedBaselinePair` touches only the current
    sample: no pass over the baseline and no binary search of it.

    Attributes
    ----------
    lo : float
        Left edge of bucket 1 (the 0.1% quantile), in the feature's unit.
    scale : float
        Buckets per unit of the feature.
    buckets : int
        Number of buckets.
    starts : ndarray of int
        ``buckets + 1`` non-decreasing indices; ``starts[-1]`` is the number of finite
        values, which is how a stale anchor is recognised.
    """

    lo: float
    scale: float
    buckets: int
    starts: IndexArray


def ks_anchor(finite_sorted: FloatArray) -> KsAnchor | None:
    """The :class:`KsAnchor` of a baseline's finite values (sorted ascending), or None
    when it would not pay: too few values, a (nearly) constant column, or a crowded
    bucket that is not a single tied value (the pair then fits its own grid per run)."""
    m = finite_sorted.shape[0]
    if m <= SMALL_N:
        return None
    lo = float(finite_sorted[int(ANCHOR_TAIL * (m - 1))])
    hi = float(finite_sorted[math.ceil((1.0 - ANCHOR_TAIL) * (m - 1))])
    k = ANCHOR_BUCKETS
    if not fine_enough(lo, hi, k):
        return None
    scale = k / (hi - lo)
    index = EqualGrid(lo, scale, k).index(finite_sorted)
    starts = np.searchsorted(index, np.arange(k + 1), side="left").astype(np.intp)
    counts = np.diff(starts)
    crowded = counts > max(CROWDED / 2 * m / k, ANCHOR_MIN_CROWDED)
    crowded[0] = crowded[-1] = False
    chosen = np.flatnonzero(crowded)
    if not np.array_equal(finite_sorted[starts[chosen]], finite_sorted[starts[chosen + 1] - 1]):
        return None
    return KsAnchor(lo, scale, k, starts)
