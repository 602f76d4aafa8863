"""PSI binning rule and value (docs/design.md), against numpy and a hand computation."""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from checks.stats.ecdf import BucketedPair
from checks.stats.psi import binned_counts, psi_cut_points, psi_from_counts


def test_psi_hand_computed_example() -> None:
    # Baseline 1..10, B = 4: quantile levels 0.25, 0.5, 0.75 of 1..10 (linear rule,
    # virtual index (n - 1) q = 2.25, 4.5, 6.75) give cut points 3.25, 5.5, 7.75.
    # Right-closed bins (-inf, 3.25], (3.25, 5.5], (5.5, 7.75], (7.75, inf):
    #   baseline 1..10            -> counts 3, 2, 2, 3 -> proportions .3 .2 .2 .3
    #   current [1,1,1,1,2,3,4,5,9,10] -> counts 6, 2, 0, 2 -> .6 .2 0 .2
    # The empty current bin becomes 1e-4. PSI = sum (c - b) ln(c / b):
    #   (.6 - .3) ln(2)           = 0.3 * 0.693147 = 0.207944
    #   (.2 - .2) ln(1)           = 0
    #   (1e-4 - .2) ln(1e-4/.2)   = -0.1999 * -7.600902 = 1.519420
    #   (.2 - .3) ln(.2/.3)       = -0.1 * -0.405465 = 0.040547
    #   total                                          = 1.767911
    base = np.arange(1.0, 11.0)
    cur = np.array([1, 1, 1, 1, 2, 3, 4, 5, 9, 10], dtype=np.float64)
    cuts = psi_cut_points(base, 4)
    np.testing.assert_array_equal(cuts, [3.25, 5.5, 7.75])
    np.testing.assert_array_equal(binned_counts(base, cuts), [3, 2, 2, 3])
    np.testing.assert_array_equal(binned_counts(cur, cuts), [6, 2, 0, 2])
    psi = psi_from_counts(binned_counts(base, cuts), binned_counts(cur, cuts)).statistic
    expected = (
        0.3 * math.log(2) + (1e-4 - 0.2) * math.log(1e-4 / 0.2) + (-0.1) * math.log(0.2 / 0.3)
    )
    assert abs(psi - expected) < 1e-12
    assert abs(psi - 1.767911) < 1e-6


def test_identical_inputs_give_psi_zero() -> None:
    x = np.random.default_rng(0).lognormal(size=5000)
    cuts = psi_cut_points(x, 10)
    counts = binned_counts(x, cuts)
    assert psi_from_counts(counts, counts).statistic == 0.0


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 20_000),
    bins=st.integers(2, 60),
    ties=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_cut_points_equal_numpy_rule(n: int, bins: int, ties: bool, seed: int) -> None:
    """All three ways to get order statistics give numpy.unique(numpy.quantile(...))."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 7, n).astype(np.float64) if ties else rng.lognormal(size=n)
    expected = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)[1:-1]))
    np.testing.assert_array_equal(psi_cut_points(x, bins), expected)
    np.testing.assert_array_equal(psi_cut_points(np.sort(x), bins, is_sorted=True), expected)
    pair = BucketedPair(x, rng.normal(size=max(1, n // 2)))
    got = psi_cut_points(x, bins, order_statistic=pair.finite_order_statistics)
    np.testing.assert_array_equal(got, expected)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 5000), k=st.integers(0, 80), seed=st.integers(0, 2**32 - 1))
def test_counts_are_right_closed(n: int, k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(size=n), 1)
    x[: n // 10] = np.inf
    cuts = np.unique(np.round(rng.normal(size=k), 1))
    counts = binned_counts(x, cuts)
    # Reference: bin i holds cuts[i-1] < x <= cuts[i].
    edges = np.concatenate([[-np.inf], cuts, [np.inf]])
    ref = [np.count_nonzero((x > lo) & (x <= hi)) for lo, hi in itertools.pairwise(edges)]
    ref[0] += np.count_nonzero(x == -np.inf)
    np.testing.assert_array_equal(counts, ref)
