"""Guaranteed bounds on KS and Wasserstein from grid counts (sketch mode's kernel).

Grid points g_0 < ... < g_k are baseline quantiles. Both ECDFs are known exactly at each
g_i (cumulative counts) and, inside an open cell (g_{i-1}, g_i), lie between F(g_{i-1})
and F(g_i) minus the mass exactly at g_i. The KS statistic is therefore at least the
largest difference at the grid points and at most the largest difference the cells allow;
Wasserstein is bracketed cell by cell, and the parts below g_0 (the baseline minimum) and
above g_k (its maximum) are exact from the sums of distances. Every bound is a guaranteed
interval, not a statistical one.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from checks.arrays import CountArray, FloatArray

__all__ = ["GridSide", "SketchEcdfBounds", "sketch_ecdf_bounds"]


class GridSide(NamedTuple):
    """One sample summarised on the grid.

    ``n`` counts every non-null value (±inf included); ``grid_counts`` has k + 2 cells
    (right-closed, the last past g_k, -inf in the first and +inf in the last);
    ``grid_atoms`` the count exactly at each g_i; ``tail_sum`` the summed distance of the
    finite values beyond the grid's two ends (used for the current side only).
    """

    n: int
    grid_counts: CountArray
    grid_atoms: CountArray
    n_neg_inf: int
    n_pos_inf: int
    tail_sum: float = 0.0


class SketchEcdfBounds(NamedTuple):
    """KS in ``[ks_lower, ks_lower + ks_width]``; the Wasserstein distance (not
    normalised, in the feature's unit) in ``wasserstein ± wasserstein_half_width``; NaN
    when a side has no finite value or the grid is empty."""

    ks_lower: float
    ks_width: float
    wasserstein: float
    wasserstein_half_width: float


def sketch_ecdf_bounds(grid: FloatArray, base: GridSide, cur: GridSide) -> SketchEcdfBounds:
    """Bounds of the KS statistic and the Wasserstein distance between ``base`` and
    ``cur`` from their counts on ``grid`` (see the module docstring).

    Preconditions: both sides have n > 0; the counts were taken on the same ``grid``.
    """
    n1, n2 = base.n, cur.n
    bc, cc = base.grid_counts, cur.grid_counts
    ba, ca = base.grid_atoms, cur.grid_atoms
    neg_b, neg_c = base.n_neg_inf, cur.n_neg_inf
    pos_b, pos_c = base.n_pos_inf, cur.n_pos_inf
    # KS over all values (-inf in the first cell, +inf in the last).
    cum_b, cum_c = np.cumsum(bc), np.cumsum(cc)
    lo = max(
        float(np.abs(cum_b[:-1] / n1 - cum_c[:-1] / n2).max(initial=0.0)),
        abs(neg_b / n1 - neg_c / n2),
    )
    prev_b = np.concatenate([[neg_b], cum_b[:-1]])
    prev_c = np.concatenate([[neg_c], cum_c[:-1]])
    inner_b = cum_b - np.concatenate([ba, [pos_b]])
    inner_c = cum_c - np.concatenate([ca, [pos_c]])
    hi = float(np.maximum(inner_b / n1 - prev_c / n2, inner_c / n2 - prev_b / n1).max())
    hi = max(hi, lo)
    # Wasserstein over finite values.
    m1, m2 = n1 - neg_b - pos_b, n2 - neg_c - pos_c
    if m1 == 0 or m2 == 0 or grid.shape[0] == 0:
        return SketchEcdfBounds(lo, hi - lo, float("nan"), float("nan"))
    fb = bc.astype(np.float64)
    fc = cc.astype(np.float64)
    fb[0] -= neg_b
    fb[-1] -= pos_b
    fc[0] -= neg_c
    fc[-1] -= pos_c
    # F at each grid point g_i, i = 0..k (the last entry, 1, is past g_k).
    gb = np.cumsum(fb)[:-1] / m1
    gc = np.cumsum(fc)[:-1] / m2
    # Inner cells (g_{i-1}, g_i), i = 1..k: F from F(g_{i-1}) up to F(g_i) - atom_i.
    width = np.diff(grid)
    pb, pc = gb[:-1], gc[:-1]
    qb = gb[1:] - ba[1:] / m1
    qc = gc[1:] - ca[1:] / m2
    upper = np.maximum(qb - pc, qc - pb)
    lower = np.maximum(np.maximum(pb - qc, pc - qb), 0.0)
    w_lo = float(np.sum(lower * width))
    w_hi = float(np.sum(upper * width))
    tails = cur.tail_sum / m2
    return SketchEcdfBounds(lo, hi - lo, (w_lo + w_hi) / 2 + tails, (w_hi - w_lo) / 2)
