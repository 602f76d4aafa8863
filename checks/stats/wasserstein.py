"""Wasserstein-1 distance between two samples, normalised by the baseline's spread.

docs/design.md: ``scipy.stats.wasserstein_distance(baseline, current) / max(numpy.std(baseline),
0.001)`` (population std, ddof 0). Dividing by the baseline's standard deviation makes the
number unitless ("how many baseline standard deviations of mass moved"), so one threshold
can serve features in different units; the 0.001 floor keeps a constant baseline from
dividing by zero.

Only finite values enter (see :mod:`checks.stats.ecdf` for why ±inf are excluded).
"""

from __future__ import annotations

import numpy as np

from checks.arrays import FloatArray

__all__ = ["STD_FLOOR", "normalised_wasserstein", "wasserstein_sorted"]


#: Floor of the normalising standard deviation (in the feature's unit).
STD_FLOOR = 0.001


def wasserstein_sorted(a: FloatArray, b: FloatArray) -> float:
    """Wasserstein-1 distance of two sorted finite samples, in the unit of the values.

    Preconditions: ``a`` and ``b`` sorted ascending, non-empty, finite. Same arithmetic as
    ``scipy.stats._stats_py._cdf_distance(1, a, b)``: both CDFs evaluated on the merged
    grid and integrated as sum(|F_a - F_b| * gap).
    """
    merged = np.sort(np.concatenate([a, b]), kind="mergesort")
    deltas = np.diff(merged)
    fa = np.searchsorted(a, merged[:-1], side="right") / a.shape[0]
    fb = np.searchsorted(b, merged[:-1], side="right") / b.shape[0]
    return float(np.dot(np.abs(fa - fb), deltas))


def normalised_wasserstein(distance: float, baseline_std: float) -> float:
    """``distance / max(baseline_std, STD_FLOOR)``: unitless (baseline standard deviations).

    ``baseline_std`` is ``numpy.std(baseline)`` (ddof 0) of the finite baseline values.
    """
    return float(distance / max(baseline_std, STD_FLOOR))
