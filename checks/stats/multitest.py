"""Benjamini-Hochberg q-values (false discovery rate adjusted p-values).

Why: a drift run tests dozens of features at once; at a 5% level, one in twenty unshifted
features would be flagged by chance. docs/design.md puts all KS and chi2 p-values of one run in
one family and compares q-values, not p-values, with 0.05.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["bh_qvalues"]


def bh_qvalues(pvalues: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Benjamini-Hochberg adjusted p-values, in the input order.

    ``q_(i) = min_{j >= i} min(1, p_(j) * m / j)`` over the ascending p-values; equal to
    ``scipy.stats.false_discovery_control(p, method='bh')``. NaN entries are left NaN and
    do not count towards the family size ``m``.

    Parameters
    ----------
    pvalues : array_like of float
        p-values in [0, 1] (or NaN).
    """
    p = np.asarray(pvalues, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    m = valid.shape[0]
    if m == 0:
        return out
    order = np.argsort(p[valid], kind="stable")
    ranked = p[valid][order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out[valid[order]] = np.clip(q, 0.0, 1.0)
    return out
