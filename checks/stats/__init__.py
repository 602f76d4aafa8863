"""Statistical kernels of the drift engine: small numpy arrays in, named results out.

Each module holds one kernel and states its preconditions; :mod:`checks.drift` does the
whole-column work (reading, null handling, counting) and calls these on small arrays.
Every kernel is tested against the scipy function it must equal (see docs/design.md,
"Statistic definitions").

scipy itself is only imported on the paths that need it: ``scipy.stats`` (about one
second to import) for the exact KS p-value of small samples and a few rare regimes of the
asymptotic one, ``scipy.special`` (~0.33 s) for the Smirnov sum at D >= 0.5 or n > 1M.
The common large-sample paths (asymptotic KS, chi2, PSI, JS, Wasserstein) need neither:
:mod:`checks.stats.special` has the chi-square tail and relative entropy in numpy.
"""

from __future__ import annotations

from checks.stats.chi2 import Chi2Result, chi2_homogeneity
from checks.stats.ecdf import EcdfComparison, compare_ecdfs
from checks.stats.js import js_distance
from checks.stats.ks import KsResult, ks_2samp_sorted, ks_pvalue
from checks.stats.multitest import bh_qvalues
from checks.stats.psi import (
    PsiResult,
    binned_counts,
    linear_quantiles,
    psi_cut_points,
    psi_from_counts,
)
from checks.stats.wasserstein import normalised_wasserstein, wasserstein_sorted

__all__ = [
    "Chi2Result",
    "EcdfComparison",
    "KsResult",
    "PsiResult",
    "bh_qvalues",
    "binned_counts",
    "chi2_homogeneity",
    "compare_ecdfs",
    "js_distance",
    "ks_2samp_sorted",
    "ks_pvalue",
    "linear_quantiles",
    "normalised_wasserstein",
    "psi_cut_points",
    "psi_from_counts",
    "wasserstein_sorted",
]
