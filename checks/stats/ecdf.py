"""Exact comparison of two empirical CDFs without sorting either sample.

Why: sorting a million doubles costs about 65 ms here, and a drift run compares dozens of
such columns. The KS statistic (sup |F_a - F_b|) and the Wasserstein-1 distance
(integral of |F_a - F_b| dx) only need the two ECDFs *exactly* where they are close to
their extremes; everywhere else counts per interval suffice. So:

1. Both samples are assigned to buckets over their common range with one monotone
   expression (4,096 equal-width coarse buckets, each split into a power-of-two number of
   sub-buckets in proportion to its share of the data, see ``_Grid``): ``x < y`` never
   puts ``x`` in a later bucket than ``y``. Counts (and, where needed, minimum and
   maximum) per bucket follow with ``bincount`` and ``ufunc.at``.
2. Cumulative counts give F_a - F_b exactly at every bucket's largest value (an actual
   data point), hence a lower bound for the KS statistic, and an upper bound for the
   values inside each bucket. Only buckets whose bound beats the best value found and
   that hold values of both samples can hide the supremum; their values (typically a
   few hundred) are sorted and evaluated exactly.
3. For Wasserstein, a bucket where F_a - F_b keeps one sign contributes
   ``integral(F_a) - integral(F_b)`` over the bucket, which needs only per-bucket sums;
   the gaps between buckets have constant CDFs; the few buckets where the sign can
   change are integrated exactly after sorting their values.

Every CDF value is formed as ``count / n`` from integer counts, as scipy does, so the KS
statistic is bit-identical to ``scipy.stats.ks_2samp``; the Wasserstein distance equals
``scipy.stats.wasserstein_distance`` up to summation order (relative ~1e-13).

Infinite values: ``-inf``/``+inf`` are kept for KS (they are ordered values, exactly as
``ks_2samp`` treats them) and excluded from Wasserstein (an infinite value makes the
distance infinite or undefined); :class:`EcdfComparison` reports how many were excluded.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from checks.stats.ks import ks_statistic_sorted
from checks.stats.wasserstein import wasserstein_sorted

__all__ = [
    "SMALL_N",
    "BucketedPair",
    "EcdfComparison",
    "KsAnchor",
    "SortedBaselinePair",
    "compare_ecdfs",
    "ks_anchor",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

#: Below this many values in total, sorting outright is cheaper than bucketing.
SMALL_N = 4096


class EcdfComparison(NamedTuple):
    """KS statistic and raw Wasserstein-1 distance of two samples.

    Attributes
    ----------
    ks_statistic : float
        sup |F_a - F_b| over all values including ±inf (unitless, in [0, 1]).
    wasserstein : float
        Integral of |F_a - F_b| over the finite values, in the unit of the feature.
        NaN when either sample has no finite value.
    n_inf_a, n_inf_b : int
        Infinite values of each sample, excluded from ``wasserstein``.
    """

    ks_statistic: float
    wasserstein: float
    n_inf_a: int
    n_inf_b: int


def compare_ecdfs(a: FloatArray, b: FloatArray, *, a_sorted: bool = False) -> EcdfComparison:
    """Exact KS statistic and Wasserstein-1 distance of two samples (any order).

    Parameters
    ----------
    a, b : ndarray of float64
        Non-empty, no NaN (drop them first); ±inf allowed. Not modified.
    a_sorted : bool
        ``a`` is known to be sorted ascending (a stored baseline); saves the sort on the
        small-input path only.
    """
    n1, n2 = a.shape[0], b.shape[0]
    if n1 == 0 or n2 == 0:
        raise ValueError("compare_ecdfs needs two non-empty samples")
    fa, neg1, inf1 = _finite_part(a)
    fb, neg2, inf2 = _finite_part(b)
    if n1 + n2 <= SMALL_N or fa.shape[0] == 0 or fb.shape[0] == 0:
        return _sorted_path(a, b, fa=fa, fb=fb, inf1=inf1, inf2=inf2, a_sorted=a_sorted)
    lo = min(float(fa.min()), float(fb.min()))
    hi = max(float(fa.max()), float(fb.max()))
    span = hi - lo
    if span == 0.0:
        # One finite value on both sides: the CDFs differ only through the infinities.
        d = max(
            abs(neg1 / n1 - neg2 / n2),
            abs((neg1 + fa.shape[0]) / n1 - (neg2 + fb.shape[0]) / n2),
        )
        return EcdfComparison(float(d), 0.0, inf1, inf2)
    fitted = _Grid.fit_index(fa, fb, lo, span)
    if fitted is None:
        return _sorted_path(a, b, fa=fa, fb=fb, inf1=inf1, inf2=inf2, a_sorted=a_sorted)
    grid, ia, ib = fitted
    n_buckets = grid.n
    ca = np.bincount(ia, minlength=n_buckets)
    cb = np.bincount(ib, minlength=n_buckets)
    bmin = np.full(n_buckets, np.inf)
    bmax = np.full(n_buckets, -np.inf)
    np.minimum.at(bmin, ia, fa)
    np.minimum.at(bmin, ib, fb)
    np.maximum.at(bmax, ia, fa)
    np.maximum.at(bmax, ib, fb)
    ks = _ks_bucketed(
        fa=fa,
        fb=fb,
        ia=ia,
        ib=ib,
        ca=ca,
        cb=cb,
        bmin=bmin,
        bmax=bmax,
        grid=grid,
        side_a=(neg1, n1),
        side_b=(neg2, n2),
    )
    w = _wasserstein_bucketed(
        fa=fa, fb=fb, ia=ia, ib=ib, ca=ca, cb=cb, bmin=bmin, bmax=bmax, grid=grid
    )
    return EcdfComparison(ks, w, inf1, inf2)


class BucketedPair:
    """Two samples in one bucket grid: exact KS statistic and exact order statistics of
    the first sample, without sorting either.

    This is the path the drift engine uses by default (KS and PSI cut points): a dozen
    vectorised passes per sample to bucket and count, then a sort of the few hundred
    values in the buckets that can hold the answer (see the module docstring).

    Parameters
    ----------
    a, b : ndarray of float64
        Non-empty, no NaN, ±inf allowed; not modified.
    """

    def __init__(self, a: FloatArray, b: FloatArray) -> None:
        if a.shape[0] == 0 or b.shape[0] == 0:
            raise ValueError("BucketedPair needs two non-empty samples")
        self.a, self.b = a, b
        self.n1, self.n2 = a.shape[0], b.shape[0]
        self.fa, self.neg1, self.inf1 = _finite_part(a)
        self.fb, self.neg2, self.inf2 = _finite_part(b)
        self._bucketed = False
        #: Buckets known to hold one distinct value in both samples, and that value.
        self.atoms: npt.NDArray[np.bool_] | None = None
        self.atom_value: FloatArray | None = None
        #: True when the single-level grid was used (not the two-level one).
        self.flat = False
        m1, m2 = self.fa.shape[0], self.fb.shape[0]
        if self.n1 + self.n2 <= SMALL_N or m1 == 0 or m2 == 0:
            return
        if self._fit_flat():
            return
        lo = min(float(self.fa.min()), float(self.fb.min()))
        hi = max(float(self.fa.max()), float(self.fb.max()))
        fitted = _Grid.fit_index(self.fa, self.fb, lo, hi - lo) if hi > lo else None
        if fitted is None:
            return
        grid, self.ia, self.ib = fitted
        self.grid: _Grid | _EqualGrid = grid
        self.k = grid.n
        self.ca = np.bincount(self.ia, minlength=self.k)
        self.cb = np.bincount(self.ib, minlength=self.k)
        self._bucketed = True

    def _fit_flat(self) -> bool:
        """One level of equal-width buckets over the baseline's estimated 0.1-99.9%
        quantile range (a strided sample's quantiles; the tails go to the end buckets,
        as :func:`ks_anchor`): one index and one count per sample. False (the caller
        builds the two-level grid) when a bucket both samples share is crowded and is
        not one tied value on both sides."""
        fa, fb = self.fa, self.fb
        sample = fa[:: max(1, fa.shape[0] // 8192)]
        lo_q, hi_q = np.quantile(sample, [ANCHOR_TAIL, 1.0 - ANCHOR_TAIL])
        lo, hi = float(lo_q), float(hi_q)
        k = ANCHOR_BUCKETS
        if not _fine_enough(lo, hi, k):
            return False
        grid = _EqualGrid(lo, k / (hi - lo), k)
        ia, ib = grid.index(fa), grid.index(fb)
        ca, cb = np.bincount(ia, minlength=k), np.bincount(ib, minlength=k)
        heavy = _heavy_buckets(ca, cb)
        atom_value: FloatArray | None = None
        if heavy.any():
            # Each must hold one value on both sides: take any baseline value of the
            # bucket (the last one written) and count the values equal to it.
            atom_value = np.full(k, np.nan)
            atom_value[ia] = fa
            atom_value[~heavy] = np.nan
            if np.count_nonzero(fa == atom_value[ia]) != int(ca[heavy].sum()):
                return False
            if np.count_nonzero(fb == atom_value[ib]) != int(cb[heavy].sum()):
                return False
            self.atoms = heavy
        self.grid, self.k, self.ia, self.ib, self.ca, self.cb = grid, k, ia, ib, ca, cb
        self.atom_value = atom_value
        self._bucketed = True
        self.flat = True
        return True

    def _index(self, x: FloatArray) -> IntArray:
        return self.grid.index(x)

    def ks_statistic(self) -> float:
        """sup |F_a - F_b| over all values (±inf included), bit-identical to scipy."""
        if not self._bucketed:
            return ks_statistic_sorted(np.sort(self.a), np.sort(self.b))
        n1, n2 = self.n1, self.n2
        best, prev1, prev2, refine = _ks_bucket_bounds(
            self.ca, self.cb, (self.neg1, n1), (self.neg2, n2), self.atoms
        )
        if not refine.any():
            return float(best)
        # A bucket holding a single distinct value (an atom of tied values) has its exact
        # difference at its end already; drop those before sorting what remains.
        sub_a, sub_ia = _select(self.fa, self.ia, refine)
        sub_b, sub_ib = _select(self.fb, self.ib, refine)
        lo_v = np.full(self.k, np.inf)
        hi_v = np.full(self.k, -np.inf)
        for vals, idx in ((sub_a, sub_ia), (sub_b, sub_ib)):
            np.minimum.at(lo_v, idx, vals)
            np.maximum.at(hi_v, idx, vals)
        refine &= lo_v < hi_v
        if not refine.any():
            return float(best)
        sa = np.sort(sub_a[refine[sub_ia]])
        sb = np.sort(sub_b[refine[sub_ib]])
        values = np.concatenate([sa, sb])
        buckets = self._index(values)
        c1 = prev1[buckets] + _within_bucket_counts(values, buckets, sa, _before(self.ca, refine))
        c2 = prev2[buckets] + _within_bucket_counts(values, buckets, sb, _before(self.cb, refine))
        return float(max(best, float(np.abs(c1 / n1 - c2 / n2).max())))

    def finite_order_statistics(self, ranks: IntArray) -> FloatArray:
        """The ``ranks``-th smallest finite values of ``a`` (0-based), exactly.

        Only the buckets holding those ranks are gathered and sorted.
        """
        if not self._bucketed:
            ordered = np.sort(self.fa)
            return np.asarray(ordered[ranks], dtype=np.float64)
        cum = np.cumsum(self.ca)
        buckets = np.searchsorted(cum, ranks, side="right")
        need = np.zeros(self.k, dtype=bool)
        need[buckets] = True
        out = np.empty(ranks.shape[0], dtype=np.float64)
        if self.atoms is not None and self.atom_value is not None:
            # A bucket of one tied value: every rank in it is that value, no sort.
            in_atom = self.atoms[buckets]
            out[in_atom] = self.atom_value[buckets[in_atom]]
            need &= ~self.atoms
        else:
            in_atom = np.zeros(ranks.shape[0], dtype=bool)
        rest = ~in_atom
        if rest.any():
            sub = np.sort(self.fa[need[self.ia]])
            before = _before(self.ca, need)
            within = ranks[rest] - (cum[buckets[rest]] - self.ca[buckets[rest]])
            out[rest] = sub[before[buckets[rest]] + within]
        return out


class SortedBaselinePair:
    """The exact KS statistic of a *sorted* baseline (a stored profile's values) and an
    unsorted sample, touching each baseline value at most a few times in all.

    Same idea as :class:`BucketedPair`, but the baseline's bucket counts come from
    binary searches of the bucket boundaries in the sorted values (a few thousand
    boundaries, ~20 steps each) instead of a pass over a million values; the buckets are
    coarser (``TARGET_PER_BUCKET``) because those searches cost per bucket. In the few
    buckets that can hold the supremum, the baseline's values are a contiguous, already
    sorted slice and its exact ECDF is one ``searchsorted``; only the current sample's
    values there are gathered and sorted. Counts are integers and every CDF value is
    ``count / n``, so the statistic is bit-identical to ``scipy.stats.ks_2samp``.

    With a stored profile's :class:`KsAnchor` (the baseline's own grid, built once) even
    the baseline's bucket counts are stored: a run indexes and counts the current sample
    only, and buckets holding one tied value on both sides are skipped outright
    (measured: ~2x less work per 1M-row feature than fitting a grid per run).

    Parameters
    ----------
    a : ndarray of float64
        Sorted ascending, non-empty, no NaN, ±inf allowed (at the ends); not modified.
    b : ndarray of float64
        Any order, non-empty, no NaN, ±inf allowed; not modified.
    anchor : KsAnchor, optional
        The grid of ``a``'s finite values (:func:`ks_anchor`). Ignored when it does not
        match ``a`` (another count of finite values) or does not fit ``b`` (the current
        sample crowds a bucket that is not a tie, or beyond the baseline's range): the
        pair then fits its own grid. Results are identical either way.
    """

    #: Values of both samples per bucket the grid aims at (BucketedPair uses 24).
    TARGET_PER_BUCKET = 256
    #: Equal-width buckets tried first, and how many times the mean a bucket may hold
    #: before the two-level grid is used instead.
    FLAT_BUCKETS = 1 << 16
    CROWDED = 64

    #: With an anchor: a bucket holding more than this share of all values at either
    #: end (the baseline's outer 0.1% and whatever of the current lies beyond) sends the
    #: pair to the grids above instead (its values would all be sorted).
    END_SHARE = 0.01

    def __init__(self, a: FloatArray, b: FloatArray, anchor: KsAnchor | None = None) -> None:
        if a.shape[0] == 0 or b.shape[0] == 0:
            raise ValueError("SortedBaselinePair needs two non-empty samples")
        self.a, self.b = a, b
        self.n1, self.n2 = a.shape[0], b.shape[0]
        # a is sorted: its infinities are at the ends.
        self.neg1 = int(np.searchsorted(a, -np.inf, side="right"))
        self.inf1 = self.neg1 + self.n1 - int(np.searchsorted(a, np.inf, side="left"))
        self.fa = a[self.neg1 : self.neg1 + self.n1 - self.inf1]
        self.fb, self.neg2, self.inf2 = _finite_part(b)
        self._bucketed = False
        #: Buckets known to hold one distinct value in both samples (no refinement).
        self.atoms: npt.NDArray[np.bool_] | None = None
        #: True when the stored anchor grid was used (no pass over the baseline).
        self.anchored = False
        m1, m2 = self.fa.shape[0], self.fb.shape[0]
        if self.n1 + self.n2 <= SMALL_N or m1 == 0 or m2 == 0:
            return
        if anchor is not None and int(anchor.starts[-1]) == m1 and self._fit_anchor(anchor):
            return
        lo = min(float(self.fa[0]), float(self.fb.min()))
        hi = max(float(self.fa[-1]), float(self.fb.max()))
        if not hi > lo:
            return
        coarse = _Grid.COARSE
        if not _fine_enough(lo, hi, coarse * _Grid.MAX_SPLIT):
            return
        scale = coarse / (hi - lo)
        if self._fit_flat(lo, hi):
            return
        first = _Grid(lo, scale, np.ones(coarse, dtype=np.intp))
        yb = first._scaled(self.fb)
        jb = yb.astype(np.intp)
        coarse_a = np.diff(_first_at_least(self.fa, first._coarse, coarse))
        counts = np.bincount(jb, minlength=coarse) + coarse_a
        want = np.maximum(counts // self.TARGET_PER_BUCKET, 1)
        split = np.minimum(2 ** np.ceil(np.log2(want)).astype(np.intp), _Grid.MAX_SPLIT)
        grid = _Grid(lo, scale, split.astype(np.intp))
        self.grid: _Grid | _EqualGrid = grid
        self.k = grid.n
        self.ib = grid._finish(yb, jb)
        self.cb = np.bincount(self.ib, minlength=self.k)
        # starts[i]: index in fa of the first value of bucket i (starts[k] = m1).
        self.starts = _first_at_least(self.fa, grid.index, self.k)
        self.ca = np.diff(self.starts)
        self._bucketed = True

    def _fit_flat(self, lo: float, hi: float) -> bool:
        """One level of ``FLAT_BUCKETS`` equal-width buckets, both samples indexed
        directly (two cheap passes): enough when no bucket is crowded (no heavy tail or
        spike); else False and the caller builds the two-level grid."""
        grid = _EqualGrid(lo, self.FLAT_BUCKETS / (hi - lo), self.FLAT_BUCKETS)
        crowded = self.CROWDED * (self.fa.shape[0] + self.fb.shape[0]) / grid.n
        # a is sorted: a bucket holding >= crowded / 2 of its values holds two
        # consecutive values of every (crowded / 4)-th one. Ties and spikes stop here.
        stride = max(1, int(crowded // 4))
        if np.any(np.diff(grid.index(self.fa[::stride])) == 0):
            return False
        ib = grid.index(self.fb)
        cb = np.bincount(ib, minlength=grid.n)
        if int(cb.max()) > crowded / 2:
            return False
        ca = np.bincount(grid.index(self.fa), minlength=grid.n)
        self.grid, self.k, self.ib, self.cb, self.ca = grid, grid.n, ib, cb, ca
        self.starts = np.concatenate([[0], np.cumsum(ca)]).astype(np.intp)
        self._bucketed = True
        return True

    def _fit_anchor(self, anchor: KsAnchor) -> bool:
        """The baseline's stored grid (:func:`ks_anchor`): only the current sample is
        indexed and counted. False (the caller fits a grid of its own) when a bucket
        both samples share is crowded (an end bucket: holds more than ``END_SHARE`` of
        the values) and is not one tied value on both sides: sorting its values would
        cost more than the pass over the baseline saved."""
        grid = _EqualGrid(anchor.lo, anchor.scale, anchor.buckets)
        k = grid.n
        starts = np.asarray(anchor.starts, dtype=np.intp)
        ca = np.diff(starts)
        ib = grid.index(self.fb)
        cb = np.bincount(ib, minlength=k)
        heavy = _heavy_buckets(ca, cb)
        if heavy.any():
            # Each must be an atom: one baseline value (sorted: first == last) that
            # every current value of the bucket equals.
            chosen = np.flatnonzero(heavy)
            first = self.fa[starts[chosen]]
            if not np.array_equal(first, self.fa[starts[chosen + 1] - 1]):
                return False
            # Counted, not gathered: NaN (other buckets) equals nothing, so the current
            # values equal to their bucket's atom are exactly those of heavy buckets.
            atom_value = np.full(k, np.nan)
            atom_value[chosen] = first
            if np.count_nonzero(self.fb == atom_value[ib]) != int(cb[chosen].sum()):
                return False
            self.atoms = heavy
        self.grid, self.k, self.ib, self.cb, self.ca = grid, k, ib, cb, ca
        self.starts = starts
        self._bucketed = True
        self.anchored = True
        return True

    def ks_statistic(self) -> float:
        """sup |F_a - F_b| over all values (±inf included), bit-identical to scipy."""
        if not self._bucketed:
            return ks_statistic_sorted(self.a, np.sort(self.b))
        n1, n2 = self.n1, self.n2
        best, _, prev2, refine = _ks_bucket_bounds(
            self.ca, self.cb, (self.neg1, n1), (self.neg2, n2), self.atoms
        )
        if not refine.any():
            return float(best)
        sub_b, sub_ib = _select(self.fb, self.ib, refine)
        # A bucket holding a single distinct value of both samples (an atom of ties) has
        # its exact difference at its end already.
        chosen = np.flatnonzero(refine)
        a_lo = self.fa[self.starts[chosen]]
        a_hi = self.fa[self.starts[chosen + 1] - 1]
        lo_v = np.full(self.k, np.inf)
        hi_v = np.full(self.k, -np.inf)
        lo_v[chosen] = a_lo
        hi_v[chosen] = a_hi
        np.minimum.at(lo_v, sub_ib, sub_b)
        np.maximum.at(hi_v, sub_ib, sub_b)
        refine &= lo_v < hi_v
        if not refine.any():
            return float(best)
        chosen = np.flatnonzero(refine)
        sb = np.sort(sub_b[refine[sub_ib]])
        sa = self.fa[_ranges(self.starts[chosen], self.starts[chosen + 1])]
        values = np.concatenate([sa, sb])
        buckets = self.grid.index(values)
        c1 = np.searchsorted(self.a, values, side="right")
        c2 = prev2[buckets] + _within_bucket_counts(values, buckets, sb, _before(self.cb, refine))
        return float(max(best, float(np.abs(c1 / n1 - c2 / n2).max())))


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
    starts: IntArray


#: Buckets of a :class:`KsAnchor` (as the single-level grid above).
ANCHOR_BUCKETS = SortedBaselinePair.FLAT_BUCKETS
#: Share of the baseline beyond each end of the anchor's equal-width range.
ANCHOR_TAIL = 0.001
#: A bucket of one sample counts as crowded only above this many values, whatever the
#: sample size (sorting a few hundred values when refining a bucket is cheap).
ANCHOR_MIN_CROWDED = 256


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
    if not _fine_enough(lo, hi, k):
        return None
    scale = k / (hi - lo)
    index = _EqualGrid(lo, scale, k).index(finite_sorted)
    starts = np.searchsorted(index, np.arange(k + 1), side="left").astype(np.intp)
    counts = np.diff(starts)
    crowded = counts > max(SortedBaselinePair.CROWDED / 2 * m / k, ANCHOR_MIN_CROWDED)
    crowded[0] = crowded[-1] = False
    chosen = np.flatnonzero(crowded)
    if not np.array_equal(finite_sorted[starts[chosen]], finite_sorted[starts[chosen + 1] - 1]):
        return None
    return KsAnchor(lo, scale, k, starts)


def _fine_enough(lo: float, hi: float, n_buckets: int) -> bool:
    """Whether ``n_buckets`` equal-width buckets over [lo, hi] are well defined: a
    positive, finite span (``hi - lo`` overflows for values near ±1.8e308, and the
    scaled values would be NaN) whose buckets are far wider than the doubles' spacing
    there (else rounding would merge them)."""
    span = hi - lo
    if not (span > 0 and math.isfinite(span)):
        return False
    return span / n_buckets >= 1e4 * float(np.spacing(max(abs(lo), abs(hi))))


def _heavy_buckets(ca: IntArray, cb: IntArray) -> npt.NDArray[np.bool_]:
    """Buckets of a single-level grid whose refinement would sort too many values: both
    samples present and more than ``CROWDED / 2`` times the mean (at least
    ``2 * ANCHOR_MIN_CROWDED``) values, or, for the two end buckets (the tails), more
    than ``END_SHARE`` of all values. Such a bucket must hold one tied value on both
    sides, else the caller uses the two-level grid."""
    k = ca.shape[0]
    m = int(ca.sum()) + int(cb.sum())
    total = ca + cb
    crowded = max(SortedBaselinePair.CROWDED / 2 * m / k, 2 * ANCHOR_MIN_CROWDED)
    heavy: npt.NDArray[np.bool_] = (ca > 0) & (cb > 0) & (total > crowded)
    for end in (0, k - 1):
        heavy[end] &= bool(total[end] > SortedBaselinePair.END_SHARE * m)
    return heavy


class _EqualGrid:
    """Equal-width buckets over [lo, lo + n / scale], values beyond in the end buckets:
    ``clip((x - lo) * scale, 0, n - ε)`` truncated, a monotone expression (rounding
    cannot reorder two values)."""

    def __init__(self, lo: float, scale: float, n: int) -> None:
        self.lo, self.scale, self.n = lo, scale, n
        self.top = float(np.nextafter(float(n), 0.0))

    def index(self, x: FloatArray) -> IntArray:
        # Far beyond the range (x near ±1.8e308) the product overflows to ±inf, which
        # the clip puts in the end bucket where it belongs.
        with np.errstate(over="ignore"):
            y = np.subtract(x, self.lo)
            np.multiply(y, self.scale, out=y)
        np.clip(y, 0.0, self.top, out=y)  # one pass (measured: ~3x cheaper than two)
        return y.astype(np.intp)


def _first_at_least(
    sorted_values: FloatArray, key: Callable[[FloatArray], IntArray], k: int
) -> IntArray:
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


def _ranges(starts: IntArray, stops: IntArray) -> IntArray:
    """Concatenation of ``arange(start, stop)`` for each pair, vectorised."""
    lengths = stops - starts
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.intp)
    offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return np.asarray(np.arange(total, dtype=np.intp) + offsets, dtype=np.intp)


class _Grid:
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

    def __init__(self, lo: float, scale: float, split: IntArray) -> None:
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
    ) -> tuple[_Grid, IntArray, IntArray] | None:
        """:meth:`fit` and :meth:`index` of both samples, sharing the scaled values."""
        coarse = cls.COARSE
        if not _fine_enough(lo, lo + span, coarse * cls.MAX_SPLIT):
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

    def _finish(self, y: FloatArray, j: IntArray) -> IntArray:
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
        np.minimum(y, _BELOW_COARSE, out=y)
        return y

    def _coarse(self, x: FloatArray) -> IntArray:
        return self._scaled(x).astype(np.intp)

    def index(self, x: FloatArray) -> IntArray:
        y = self._scaled(x)
        return self._finish(y, y.astype(np.intp))


_BELOW_COARSE = float(np.nextafter(float(_Grid.COARSE), 0.0))


def _finite_part(x: FloatArray) -> tuple[FloatArray, int, int]:
    """(finite values, count of -inf, count of ±inf); no copy when all are finite."""
    lo, hi = float(x.min()), float(x.max())
    if np.isfinite(lo) and np.isfinite(hi):
        return x, 0, 0
    neg = int(np.count_nonzero(x == -np.inf))
    finite = x[np.isfinite(x)]
    return finite, neg, int(x.shape[0] - finite.shape[0])


def _sorted_path(
    a: FloatArray,
    b: FloatArray,
    *,
    fa: FloatArray,
    fb: FloatArray,
    inf1: int,
    inf2: int,
    a_sorted: bool,
) -> EcdfComparison:
    sa = a if a_sorted else np.sort(a)
    sb = np.sort(b)
    ks = ks_statistic_sorted(sa, sb)
    if fa.shape[0] == 0 or fb.shape[0] == 0:
        return EcdfComparison(ks, float("nan"), inf1, inf2)
    sfa = sa[np.isfinite(sa)] if inf1 else sa
    sfb = sb[np.isfinite(sb)] if inf2 else sb
    return EcdfComparison(ks, wasserstein_sorted(sfa, sfb), inf1, inf2)


def _select(
    values: FloatArray, buckets: IntArray, chosen: npt.NDArray[np.bool_]
) -> tuple[FloatArray, IntArray]:
    """Values (and their bucket) that fall in the chosen buckets."""
    # Indices first: boolean indexing of two million-value arrays with a scattered mask
    # costs several times more than one flatnonzero and two small gathers.
    where = np.flatnonzero(chosen[buckets])
    return values[where], buckets[where]


def _within_bucket_counts(
    values: FloatArray, buckets: IntArray, sub_sorted: FloatArray, before: IntArray
) -> npt.NDArray[np.int64]:
    """For each value, how many of ``sub_sorted`` in the same bucket are <= it.

    ``sub_sorted`` holds the values of one sample in the selected buckets, sorted; since
    bucket order follows value order, values in earlier buckets come first and
    ``before[bucket]`` of them precede the bucket.
    """
    return np.searchsorted(sub_sorted, values, side="right") - before[buckets]


def _before(counts: npt.NDArray[np.int64], selected: npt.NDArray[np.bool_]) -> IntArray:
    """Per bucket: values of the selected buckets that lie in earlier selected buckets."""
    sel_counts = np.where(selected, counts, 0)
    return (np.cumsum(sel_counts) - sel_counts).astype(np.intp)


def _ks_bucket_bounds(
    ca: npt.NDArray[np.int64],
    cb: npt.NDArray[np.int64],
    side_a: tuple[int, int],
    side_b: tuple[int, int],
    atoms: npt.NDArray[np.bool_] | None,
) -> tuple[float, IntArray, IntArray, npt.NDArray[np.bool_]]:
    """What every bucketed KS path starts from: (best, prev1, prev2, refine).

    ``side_a``/``side_b`` are (count of -inf, n) of each sample; ``best`` the exact
    sup of |F_a - F_b| over every bucket's largest value (and -inf); ``prev*`` each
    bucket's cumulative count before it (-inf included); ``refine`` the buckets that
    can still hide a larger difference: both samples present, not a known atom (one
    value on both sides, exact at its end already), and a bound above ``best``.
    """
    neg1, n1 = side_a
    neg2, n2 = side_b
    cum1 = neg1 + np.cumsum(ca)
    cum2 = neg2 + np.cumsum(cb)
    prev1 = cum1 - ca
    prev2 = cum2 - cb
    best = max(float(np.abs(cum1 / n1 - cum2 / n2).max()), abs(neg1 / n1 - neg2 / n2))
    # Inside a bucket F_a - F_b stays within [prev1/n1 - cum2/n2, cum1/n1 - prev2/n2].
    bound = np.maximum(cum1 / n1 - prev2 / n2, cum2 / n2 - prev1 / n1)
    refine = (ca > 0) & (cb > 0) & (bound > best)
    if atoms is not None:
        refine &= ~atoms
    return best, prev1, prev2, refine


def _ks_bucketed(
    *,
    fa: FloatArray,
    fb: FloatArray,
    ia: IntArray,
    ib: IntArray,
    ca: npt.NDArray[np.int64],
    cb: npt.NDArray[np.int64],
    bmin: FloatArray,
    bmax: FloatArray,
    grid: _Grid,
    side_a: tuple[int, int],
    side_b: tuple[int, int],
) -> float:
    n1, n2 = side_a[1], side_b[1]
    best, prev1, prev2, refine = _ks_bucket_bounds(ca, cb, side_a, side_b, None)
    refine &= bmin < bmax
    if not refine.any():
        return best
    sa = np.sort(fa[refine[ia]])
    sb = np.sort(fb[refine[ib]])
    values = np.concatenate([sa, sb])
    buckets = grid.index(values)
    c1 = prev1[buckets] + _within_bucket_counts(values, buckets, sa, _before(ca, refine))
    c2 = prev2[buckets] + _within_bucket_counts(values, buckets, sb, _before(cb, refine))
    return max(best, float(np.abs(c1 / n1 - c2 / n2).max()))


def _wasserstein_bucketed(
    *,
    fa: FloatArray,
    fb: FloatArray,
    ia: IntArray,
    ib: IntArray,
    ca: npt.NDArray[np.int64],
    cb: npt.NDArray[np.int64],
    bmin: FloatArray,
    bmax: FloatArray,
    grid: _Grid,
) -> float:
    m1, m2 = fa.shape[0], fb.shape[0]
    cum1 = np.cumsum(ca)
    cum2 = np.cumsum(cb)
    prev1 = cum1 - ca
    prev2 = cum2 - cb
    occupied = np.flatnonzero((ca + cb) > 0)
    # Gaps between consecutive occupied buckets: both CDFs are constant there.
    first, rest = occupied[:-1], occupied[1:]
    gap_len = bmin[rest] - bmax[first]
    total = float(np.sum(np.abs(prev1[rest] / m1 - prev2[rest] / m2) * gap_len))
    occ = (ca + cb) > 0
    width = np.where(occ, bmax - bmin, 0.0)
    lower = prev1 / m1 - cum2 / m2
    upper = cum1 / m1 - prev2 / m2
    spread = occ & (width > 0)
    positive = spread & (lower >= 0)
    negative = spread & (upper <= 0) & ~positive
    mixed = spread & ~positive & ~negative
    signed = positive | negative
    if signed.any():
        # integral over [bmin, bmax] of count_a(x) dx = prev * width + sum(bmax - a_i).
        sum_a = np.bincount(ia, weights=bmax[ia] - fa, minlength=grid.n)
        sum_b = np.bincount(ib, weights=bmax[ib] - fb, minlength=grid.n)
        int_a = (prev1 * width + sum_a) / m1
        int_b = (prev2 * width + sum_b) / m2
        diff = np.where(positive, int_a - int_b, int_b - int_a)
        total += float(np.sum(diff[signed]))
    if mixed.any():
        sa = np.sort(fa[mixed[ia]])
        sb = np.sort(fb[mixed[ib]])
        values = np.sort(np.concatenate([sa, sb]))
        buckets = grid.index(values)
        c1 = prev1[buckets] + _within_bucket_counts(values, buckets, sa, _before(ca, mixed))
        c2 = prev2[buckets] + _within_bucket_counts(values, buckets, sb, _before(cb, mixed))
        same = buckets[1:] == buckets[:-1]
        seg = np.where(same, values[1:] - values[:-1], 0.0)
        total += float(np.sum(np.abs(c1[:-1] / m1 - c2[:-1] / m2) * seg))
    return total
