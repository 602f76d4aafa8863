"""Bucket grids the exact ECDF comparisons share (see :mod:`checks.stats.ecdf`): equal-width
and two-level grids, their monotone index expressions, and the size limits that decide
which grid a pair uses."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from checks.arrays import FloatArray, IndexArray

__all__ = [
    "ANCHOR_BUCKETS",
    "ANCHOR_MIN_CROWDED",
    "ANCHOR_TAIL",
    "BELOW_COARSE",
    "CROWDED",
    "END_SHARE",
    "FLAT_BUCKETS",
    "SMALL_N",
    "EqualGrid",
    "Grid",
    "fine_enough",
    "first_at_least",
    "heavy_buckets",
    "index_ranges",
]


#: Below this many values in total, sorting outright is cheaper than bucketing.
SMALL_N = 4096
#: Equal-width buckets tried first, and how many times the mean a bucket may hold
#: before the two-level grid is used instead.
FLAT_BUCKETS = 1 << 16
CROWDED = 64
#: With an anchor: a bucket holding more than this share of all values at either
#: end (the baseline's outer 0.1% and whatever of the current lies beyond) sends the
#: pair to the grids above instead (its values would all be sorted).
END_SHARE = 0.01
#: Buckets of a :class:`~checks.stats.ecdf.KsAnchor` (as the single-level grid).
ANCHOR_BUCKETS = FLAT_BUCKETS
#: Share of the baseline beyond each end of the anchor's equal-width range.
ANCHOR_TAIL = 0.001
#: A bucket of one sample counts as crowded only above this many values, whatever the
#: sample size (sorting a few hundred values when refining a bucket is cheap).
ANCHOR_MIN_CROWDED = 256


def fine_enough(lo: float, hi: float, n_buckets: int) -> bool:
    """Whether ``n_buckets`` equal-width buckets over [lo, hi] are well defined: a
    positive, finite span (``hi - lo`` overflows for values near ±1.8e308, and the
    scaled values would be NaN) whose buckets are far wider than the doubles' spacing
    there (else rounding would merge them)."""
    span = hi - lo
    if not (span > 0 and math.isfinite(span)):
        return False
    return span / n_buckets >= 1e4 * float(np.spacing(max(abs(lo), abs(hi))))


def heavy_buckets(ca: IndexArray, cb: IndexArray) -> npt.NDArray[np.bool_]:
    """Buckets of a single-level grid whose refinement would sort too many values: both
    samples present and more than ``CROWDED / 2`` times the mean (at least
    ``2 * ANCHOR_MIN_CROWDED``) values, or, for the two end buckets (the tails), more
    than ``END_SHARE`` of all values. Such a bucket must hold one tied value on both
    sides, else the caller uses the two-level grid."""
    k = ca.shape[0]
    m = int(ca.sum()) + int(cb.sum())
    total = ca + cb
    crowded = max(CROWDED / 2 * m / k, 2 * ANCHOR_MIN_CROWDED)
    heavy: npt.NDArray[np.bool_] = (ca > 0) & (cb > 0) & (total > crowded)
    for end in (0, k - 1):
        heavy[end] &= bool(total[end] > END_SHARE * m)
    return heavy


class EqualGrid:
    """Equal-width buckets over [lo, lo + n / scale], values beyond in the end buckets:
    ``clip((x - lo) * scale, 0, n - ε)`` truncated, a monotone expression (rounding
    cannot reorder two values)."""

    def __init__(self, lo: float, scale: float, n: int) -> None:
        self.lo, self.scale, self.n = lo, scale, n
        self.top = float(np.nextafter(float(n), 0.0))

    def index(self, x: FloatArray) -> IndexArray:
        # Far beyond the range (x near ±1.8e308) the product overflows to ±inf, which
        # the clip puts in the end bucket where it belongs.
        with np.errstate(over="ignore"):
            y = np.subtract(x, self.lo)
            np.multiply(y, self.scale, out=y)
        np.clip(y, 0.0, self.top, out=y)  # one pass (measured: ~3x cheaper than two)
        return y.astype(np.intp)


def first_at_least(
    sorted_values: FloatArray, key: Callable[[FloatArray], IndexArray], k: int
) -> IndexArray:
    """For t = 0..k, the first index i with ``key(sorted_values[i]) >= t`` (len if none).

    ``key`` must be non-decreasing along ``sorted_values``. A branch-free binary search
    of all thresholds at once: ``ceil(log2(len + 1))`` steps, each evaluating ``key`` at
    k + 1 values.
    """
    m = sorted_values.shape[0]
    targets = np.arange(k + 1, dtype=np.intp)
    # pos = how many values have key < t, found one bit at a time from the highest.
    pos = np.zeros(k + 1, dtype=np.intp)
    step = 1 << max(m.bit_length() - 1, 0)
    while step:
        cand = pos + step
        probe = np.minimum(cand, m) - 1
        ok = (cand <= m) & (key(sorted_values[probe]) < targets)
        pos = np.where(ok, cand, pos)
        step >>= 1
    return pos


def index_ranges(starts: IndexArray, stops: IndexArray) -> IndexArray:
    """Concatenation of ``arange(start, stop)`` for each pair, vectorised."""
    lengths = stops - starts
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.intp)
    offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return np.asarray(np.arange(total, dtype=np.intp) + offsets, dtype=np.intp)


class Grid:
    """Two-level buckets: ``COARSE`` equal-width buckets over [lo, hi], each split into a
    power-of-two number of equal sub-buckets in proportion to how many values it holds
    (about ``TARGET_PER_BUCKET`` per sub-bucket), so dense regions and heavy tails both
    end up with small buckets.

    With ``y = (x - lo) * scale``, the coarse index is ``j = floor(y)`` and the bucket
    ``offset_j + floor((y - j) * s_j)``, evaluated as ``floor(y * s_j + (offset_j - j s_j))``;
    every step is a monotone function of ``x`` under rounding, which is all the exact
    algorithms need (values of one bucket are never smaller than those of an earlier one).
    """

    COARSE = 4096
    TARGET_PER_BUCKET = 24
    MAX_SPLIT = 1024

    def __init__(self, lo: float, scale: float, split: IndexArray) -> None:
        self.lo = lo
        self.scale = scale
        self.split = split.astype(np.float64)
        offset = np.cumsum(split) - split
        # index = floor(y * split[j] + shift[j]) = offset[j] + floor((y - j) * split[j]);
        # any rounding in the sum is monotone, which is all the bucketing needs.
        self.shift = (offset - np.arange(split.shape[0]) * split).astype(np.float64)
        self.n = int(split.sum())

    @classmethod
    def fit_index(
        cls, fa: FloatArray, fb: FloatArray, lo: float, span: float
    ) -> tuple[Grid, IndexArray, IndexArray] | None:
        """:meth:`fit` and :meth:`index` of both samples, sharing the scaled values."""
        coarse = cls.COARSE
        if not fine_enough(lo, lo + span, coarse * cls.MAX_SPLIT):
            return None
        scale = coarse / span
        first = cls(lo, scale, np.ones(coarse, dtype=np.intp))
        ya, yb = first._scaled(fa), first._scaled(fb)
        ja, jb = ya.astype(np.intp), yb.astype(np.intp)
        counts = np.bincount(ja, minlength=coarse) + np.bincount(jb, minlength=coarse)
        want = np.maximum(counts // cls.TARGET_PER_BUCKET, 1)
        split = np.minimum(2 ** np.ceil(np.log2(want)).astype(np.intp), cls.MAX_SPLIT)
        grid = cls(lo, scale, split.astype(np.intp))
        return grid, grid._finish(ya, ja), grid._finish(yb, jb)

    def _finish(self, y: FloatArray, j: IndexArray) -> IndexArray:
        """Bucket index from scaled values ``y`` and their coarse index ``j`` (consumes y)."""
        y *= self.split[j]
        y += self.shift[j]
        idx = y.astype(np.intp)
        np.minimum(idx, self.n - 1, out=idx)
        return idx

    def _scaled(self, x: FloatArray) -> FloatArray:
        """``(x - lo) * scale`` clamped just below COARSE (monotone, in [0, COARSE))."""
        y = np.subtract(x, self.lo)
        np.multiply(y, self.scale, out=y)
        np.minimum(y, BELOW_COARSE, out=y)
        return y

    def _coarse(self, x: FloatArray) -> IndexArray:
        return self._scaled(x).astype(np.intp)

    def index(self, x: FloatArray) -> IndexArray:
        y = self._scaled(x)
        return self._finish(y, y.astype(np.intp))


BELOW_COARSE = float(np.nextafter(float(Grid.COARSE), 0.0))
