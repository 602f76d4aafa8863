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

from checks.stats.ecdf.anchor import KsAnchor, ks_anchor
from checks.stats.ecdf.bucketed_pair import BucketedPair
from checks.stats.ecdf.compare import EcdfComparison, compare_ecdfs
from checks.stats.ecdf.grids import ANCHOR_BUCKETS, ANCHOR_MIN_CROWDED, ANCHOR_TAIL, SMALL_N
from checks.stats.ecdf.sorted_pair import SortedBaselinePair

__all__ = [
    "ANCHOR_BUCKETS",
    "ANCHOR_MIN_CROWDED",
    "ANCHOR_TAIL",
    "SMALL_N",
    "BucketedPair",
    "EcdfComparison",
    "KsAnchor",
    "SortedBaselinePair",
    "compare_ecdfs",
    "ks_anchor",
]
