"""Exact KS statistic and Wasserstein-1 distance of two unsorted samples
(:func:`compare_ecdfs`; the method is described in :mod:`checks.stats.ecdf`)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from checks.arrays import FloatArray, IndexArray
from checks.stats.ecdf.buckets import (
    counts_at,
    finite_part,
    ks_bucketed,
)
from checks.stats.ecdf.grids import SMALL_N, Grid
from checks.stats.ks import ks_statistic_sorted
from checks.stats.wasserstein import wasserstein_sorted

__all__ = ["EcdfComparison", "compare_ecdfs"]


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
    fa, neg1, inf1 = finite_part(a)
    fb, neg2, inf2 = finite_part(b)
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
    fitted = Grid.fit_index(fa, fb, lo, span)
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
    ks = ks_bucketed(
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


def _wasserstein_bucketed(
    *,
    fa: FloatArray,
    fb: FloatArray,
    ia: IndexArray,
    ib: IndexArray,
    ca: npt.NDArray[np.int64],
    cb: npt.NDArray[np.int64],
    bmin: FloatArray,
    bmax: FloatArray,
    grid: Grid,
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
        c1 = counts_at(values, buckets, prev=prev1, sub_sorted=sa, counts=ca, selected=mixed)
        c2 = counts_at(values, buckets, prev=prev2, sub_sorted=sb, counts=cb, selected=mixed)
        same = buckets[1:] == buckets[:-1]
        seg = np.where(same, values[1:] - values[:-1], 0.0)
        total += float(np.sum(np.abs(c1[:-1] / m1 - c2[:-1] / m2) * seg))
    return total
