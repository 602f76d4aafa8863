"""Per-bucket arithmetic of the exact ECDF comparisons (see :mod:`checks.stats.ecdf`):
finite parts, the values of chosen buckets, counts before a bucket and the KS bounds
every bucketed path starts from."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from checks.arrays import FloatArray, IndexArray
from checks.stats.ecdf.grids import EqualGrid, Grid

__all__ = [
    "counts_at",
    "counts_before",
    "finite_part",
    "ks_bucket_bounds",
    "ks_bucketed",
    "select_in",
    "within_bucket_counts",
]


def finite_part(x: FloatArray) -> tuple[FloatArray, int, int]:
    """(finite values, count of -inf, count of ±inf); no copy when all are finite."""
    lo, hi = float(x.min()), float(x.max())
    if np.isfinite(lo) and np.isfinite(hi):
        return x, 0, 0
    neg = int(np.count_nonzero(x == -np.inf))
    finite = x[np.isfinite(x)]
    return finite, neg, int(x.shape[0] - finite.shape[0])


def select_in(
    values: FloatArray, buckets: IndexArray, chosen: npt.NDArray[np.bool_]
) -> tuple[FloatArray, IndexArray]:
    """Values (and their bucket) that fall in the chosen buckets."""
    # Indices first: boolean indexing of two million-value arrays with a scattered mask
    # costs several times more than one flatnonzero and two small gathers.
    where = np.flatnonzero(chosen[buckets])
    return values[where], buckets[where]


def within_bucket_counts(
    values: FloatArray, buckets: IndexArray, sub_sorted: FloatArray, before: IndexArray
) -> npt.NDArray[np.int64]:
    """For each value, how many of ``sub_sorted`` in the same bucket are <= it.

    ``sub_sorted`` holds the values of one sample in the selected buckets, sorted; since
    bucket order follows value order, values in earlier buckets come first and
    ``before[bucket]`` of them precede the bucket.
    """
    return np.searchsorted(sub_sorted, values, side="right") - before[buckets]


def counts_before(counts: npt.NDArray[np.int64], selected: npt.NDArray[np.bool_]) -> IndexArray:
    """Per bucket: values of the selected buckets that lie in earlier selected buckets."""
    sel_counts = np.where(selected, counts, 0)
    return (np.cumsum(sel_counts) - sel_counts).astype(np.intp)


def ks_bucket_bounds(
    ca: npt.NDArray[np.int64],
    cb: npt.NDArray[np.int64],
    side_a: tuple[int, int],
    side_b: tuple[int, int],
    atoms: npt.NDArray[np.bool_] | None,
) -> tuple[float, IndexArray, IndexArray, npt.NDArray[np.bool_]]:
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


def counts_at(
    values: FloatArray,
    buckets: IndexArray,
    *,
    prev: IndexArray,
    sub_sorted: FloatArray,
    counts: npt.NDArray[np.int64],
    selected: npt.NDArray[np.bool_],
) -> IndexArray:
    """How many values of one sample are <= each of ``values`` (in ``buckets``): those
    before the bucket (``prev``) plus those in it among ``sub_sorted``, the sample's
    values in the ``selected`` buckets, sorted (``counts``: the sample's bucket counts)."""
    within = within_bucket_counts(values, buckets, sub_sorted, counts_before(counts, selected))
    return np.asarray(prev[buckets] + within, dtype=np.intp)


def ks_bucketed(
    *,
    fa: FloatArray,
    fb: FloatArray,
    ia: IndexArray,
    ib: IndexArray,
    ca: npt.NDArray[np.int64],
    cb: npt.NDArray[np.int64],
    bmin: FloatArray,
    bmax: FloatArray,
    grid: Grid | EqualGrid,
    side_a: tuple[int, int],
    side_b: tuple[int, int],
) -> float:
    """The exact KS statistic of two bucketed samples with per-bucket minima and maxima
    (:func:`~checks.stats.ecdf.compare_ecdfs`' path)."""
    n1, n2 = side_a[1], side_b[1]
    best, prev1, prev2, refine = ks_bucket_bounds(ca, cb, side_a, side_b, None)
    refine &= bmin < bmax
    if not refine.any():
        return best
    sa = np.sort(fa[refine[ia]])
    sb = np.sort(fb[refine[ib]])
    values = np.concatenate([sa, sb])
    buckets = grid.index(values)
    c1 = counts_at(values, buckets, prev=prev1, sub_sorted=sa, counts=ca, selected=refine)
    c2 = counts_at(values, buckets, prev=prev2, sub_sorted=sb, counts=cb, selected=refine)
    return max(best, float(np.abs(c1 / n1 - c2 / n2).max()))
