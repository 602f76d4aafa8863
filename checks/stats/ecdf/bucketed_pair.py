"""Two unsorted samples in one bucket grid: the exact KS statistic and exact order
statistics of the first, without sorting either (:class:`BucketedPair`)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from checks.arrays import FloatArray, IndexArray
from checks.stats.ecdf.buckets import (
    counts_at,
    counts_before,
    finite_part,
    ks_bucket_bounds,
    select_in,
)
from checks.stats.ecdf.grids import (
    ANCHOR_BUCKETS,
    ANCHOR_TAIL,
    SMALL_N,
    EqualGrid,
    Grid,
    fine_enough,
    heavy_buckets,
)
from checks.stats.ks import ks_statistic_sorted

__all__ = ["BucketedPair"]


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
        self.fa, self.neg1, self.inf1 = finite_part(a)
        self.fb, self.neg2, self.inf2 = finite_part(b)
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
        fitted = Grid.fit_index(self.fa, self.fb, lo, hi - lo) if hi > lo else None
        if fitted is None:
            return
        grid, self.ia, self.ib = fitted
        self.grid: Grid | EqualGrid = grid
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
        if not fine_enough(lo, hi, k):
            return False
        grid = EqualGrid(lo, k / (hi - lo), k)
        ia, ib = grid.index(fa), grid.index(fb)
        ca, cb = np.bincount(ia, minlength=k), np.bincount(ib, minlength=k)
        heavy = heavy_buckets(ca, cb)
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

    def _index(self, x: FloatArray) -> IndexArray:
        return self.grid.index(x)

    def ks_statistic(self) -> float:
        """sup |F_a - F_b| over all values (±inf included), bit-identical to scipy."""
        if not self._bucketed:
            return ks_statistic_sorted(np.sort(self.a), np.sort(self.b))
        n1, n2 = self.n1, self.n2
        best, prev1, prev2, refine = ks_bucket_bounds(
            self.ca, self.cb, (self.neg1, n1), (self.neg2, n2), self.atoms
        )
        if not refine.any():
            return float(best)
        # A bucket holding a single distinct value (an atom of tied values) has its exact
        # difference at its end already; drop those before sorting what remains.
        sub_a, sub_ia = select_in(self.fa, self.ia, refine)
        sub_b, sub_ib = select_in(self.fb, self.ib, refine)
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
        c1 = counts_at(values, buckets, prev=prev1, sub_sorted=sa, counts=self.ca, selected=refine)
        c2 = counts_at(values, buckets, prev=prev2, sub_sorted=sb, counts=self.cb, selected=refine)
        return float(max(best, float(np.abs(c1 / n1 - c2 / n2).max())))

    def finite_order_statistics(self, ranks: IndexArray) -> FloatArray:
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
            before = counts_before(self.ca, need)
            within = ranks[rest] - (cum[buckets[rest]] - self.ca[buckets[rest]])
            out[rest] = sub[before[buckets[rest]] + within]
        return out
