"""Two-sample Kolmogorov-Smirnov test, equal to ``scipy.stats.ks_2samp`` (two-sided, 'auto').

Why not call ``ks_2samp`` directly: it sorts both samples and evaluates both empirical
CDFs on the merged 2n-point grid, and importing ``scipy.stats`` costs about a second of
process start-up. The drift engine gets the statistic from :mod:`checks.stats.ecdf`
(bucketed, exact) or from :func:`ks_statistic_sorted`, and the p-value from
:func:`ks_pvalue`, which follows scipy's own dispatch:

* ``max(n1, n2) <= 10_000``: scipy's exact distribution (``method='exact'``); the statistic
  is first rounded to a multiple of ``1/lcm(n1, n2)`` as scipy does;
* otherwise the asymptotic path: ``scipy.stats.kstwo.sf(d, round(n1*n2/(n1+n2)))``.
  ``kstwo.sf`` is reproduced here for the regimes that matter at large ``n`` (closed forms,
  ``scipy.special.smirnov`` and the Pelz-Good series, each the same arithmetic as
  ``scipy/stats/_ksstats.py``); the remaining small-``n`` regimes call ``kstwo.sf`` itself.

All functions return plain floats; probabilities are in [0, 1]. The survival function of
the Kolmogorov distribution is in :mod:`checks.stats.kolmogorov`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from checks.arrays import FloatArray
from checks.stats.kolmogorov import kolmogorov_smirnov_sf

__all__ = [
    "MAX_EXACT_N",
    "KsResult",
    "kolmogorov_smirnov_sf",
    "ks_2samp_sorted",
    "ks_pvalue",
    "ks_statistic_sorted",
]

#: scipy's ``MAX_AUTO_N``: 'auto' is exact when both samples have at most this many values.
MAX_EXACT_N = 10_000


class KsResult(NamedTuple):
    """Result of the two-sided two-sample KS test.

    Attributes
    ----------
    statistic : float
        sup |F_baseline - F_current|, in [0, 1] (a difference of two CDFs, unitless).
    pvalue : float
        Two-sided p-value, as ``scipy.stats.ks_2samp(..., method='auto')``.
    method : str
        ``"exact"`` or ``"asymp"``: which of scipy's paths produced the p-value.
    """

    statistic: float
    pvalue: float
    method: str


def ks_statistic_sorted(a: FloatArray, b: FloatArray) -> float:
    """Exact two-sided KS statistic of two *sorted* samples.

    Preconditions: ``a`` and ``b`` sorted ascending, non-empty, no NaN (±inf allowed).

    F_a - F_b can only rise at a point of ``a`` and fall at a point of ``b``, so its
    maximum is attained at a point of ``a`` and its minimum at a point of ``b``. For the
    i-th value of ``a`` the count ``i + 1`` is the exact CDF count at the last of a run of
    ties and an under-count elsewhere, so the maximum over all i is the exact sup. Each
    difference is formed as ``count_a / n_a - count_b / n_b``, the same floating-point
    operations as scipy, so the result is bit-identical.
    """
    n1, n2 = a.shape[0], b.shape[0]
    up = np.arange(1, n1 + 1) / n1 - np.searchsorted(b, a, side="right") / n2
    down = np.arange(1, n2 + 1) / n2 - np.searchsorted(a, b, side="right") / n1
    return float(max(up.max(), down.max(), 0.0))


def ks_pvalue(statistic: float, n1: int, n2: int) -> tuple[float, float, str]:
    """p-value of a two-sided two-sample KS statistic, scipy's 'auto' rule.

    Parameters
    ----------
    statistic : float
        The exact KS statistic, in [0, 1].
    n1, n2 : int
        Sample sizes (non-null values), both >= 1.

    Returns
    -------
    (statistic, pvalue, method)
        ``statistic`` is returned because scipy's exact path rounds it to a multiple of
        ``1/lcm(n1, n2)``; ``method`` is ``"exact"`` or ``"asymp"``.
    """
    if n1 < 1 or n2 < 1:
        raise ValueError("ks_pvalue needs two non-empty samples")
    d = float(statistic)
    if max(n1, n2) <= MAX_EXACT_N:
        # scipy's exact two-sided distribution (private helper of ks_2samp; its
        # signature is pinned by the tests against ks_2samp itself).
        from scipy.stats._stats_py import _attempt_exact_2kssamp

        g = math.gcd(n1, n2)
        success, d_exact, prob = _attempt_exact_2kssamp(n1, n2, g, d, "two-sided")
        d = float(d_exact)
        if success:
            return d, float(np.clip(prob, 0.0, 1.0)), "exact"
        # scipy warns and falls back to the asymptotic formula with the rounded d.
    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = m * n / (m + n)
    prob = kolmogorov_smirnov_sf(d, float(np.round(en)))
    return d, float(np.clip(prob, 0.0, 1.0)), "asymp"


def ks_2samp_sorted(a: FloatArray, b: FloatArray) -> KsResult:
    """Two-sided KS test of two sorted samples, equal to ``scipy.stats.ks_2samp(a, b)``.

    Preconditions: sorted ascending, non-empty, no NaN.
    """
    d, p, method = ks_pvalue(ks_statistic_sorted(a, b), a.shape[0], b.shape[0])
    return KsResult(d, p, method)
