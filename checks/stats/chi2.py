"""Chi-square test of homogeneity on a 2 x K table of category counts.

docs/design.md: ``scipy.stats.chi2_contingency(table, correction=False)`` on the table whose
rows are the baseline and current counts over the *union* of categories (a category seen
on one side only is a column with a zero). A two-sample test, not a goodness-of-fit test
against baseline proportions: the latter treats the baseline as exact and flags unshifted
features at large n (docs/design.md, "The stack as it behaves").
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from checks.stats.special import chi2_sf

__all__ = ["Chi2Result", "chi2_homogeneity"]


class Chi2Result(NamedTuple):
    """Pearson chi-square statistic (unitless), its p-value and degrees of freedom."""

    statistic: float
    pvalue: float
    dof: int


def chi2_homogeneity(baseline_counts: npt.ArrayLike, current_counts: npt.ArrayLike) -> Chi2Result:
    """Chi-square homogeneity test, equal to ``chi2_contingency([b, c], correction=False)``.

    Parameters
    ----------
    baseline_counts, current_counts : array_like of int
        Counts per category, aligned on the same union of categories; every column has a
        positive total and both rows have positive totals (else scipy's expected table
        has a zero and it raises; the drift engine never calls it that way).

    Returns
    -------
    Chi2Result
        With one category (K = 1) there are no degrees of freedom: statistic 0, p-value 1,
        as scipy.
    """
    observed = np.asarray([baseline_counts, current_counts], dtype=np.float64)
    if observed.ndim != 2 or observed.shape[1] == 0:
        raise ValueError("chi2_homogeneity needs at least one category")
    if np.any(observed < 0):
        raise ValueError("counts must be non-negative")
    rows = observed.sum(axis=1, keepdims=True)
    cols = observed.sum(axis=0, keepdims=True)
    expected = rows * cols / observed.sum()
    if np.any(expected == 0):
        raise ValueError("a row or a category has no observations (expected count 0)")
    dof = observed.shape[1] - 1
    if dof == 0:
        return Chi2Result(0.0, 1.0, 0)
    stat = float(np.sum((observed - expected) ** 2 / expected))
    return Chi2Result(stat, chi2_sf(stat, dof), dof)
