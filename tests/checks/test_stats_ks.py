"""KS statistic and p-value against scipy.stats.ks_2samp (both of its paths)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

from checks.stats.ecdf import BucketedPair, SortedBaselinePair, compare_ecdfs, ks_anchor
from checks.stats.kolmogorov import _smirnov_sf as smirnov_sf
from checks.stats.ks import (
    MAX_EXACT_N,
    kolmogorov_smirnov_sf,
    ks_2samp_sorted,
    ks_pvalue,
)


def _close(ours: float, ref: float, rel: float = 1e-9) -> bool:
    # Below the smallest normal double both sides lose precision (subnormals).
    return abs(ours - ref) <= rel * abs(ref) or abs(ours - ref) < 1e-300


def _sample(rng: np.random.Generator, n: int, shape: str, shift: float) -> np.ndarray:
    if shape == "ties":
        return rng.integers(0, 6, n).astype(np.float64) + round(shift * 10)
    if shape == "heavy":
        return rng.standard_t(2, n) + shift
    if shape == "inf":
        x = rng.normal(shift, 1.0, n)
        x[rng.integers(0, n, max(1, n // 50))] = rng.choice([np.inf, -np.inf])
        return x
    return rng.normal(shift, 1.0, n)


SHAPES = st.sampled_from(["normal", "ties", "heavy", "inf"])


@settings(max_examples=60, deadline=None)
@given(
    n1=st.integers(1, 400),
    n2=st.integers(1, 400),
    shape=SHAPES,
    shift=st.sampled_from([0.0, 0.05, 0.5]),
    seed=st.integers(0, 2**32 - 1),
)
def test_exact_path_equals_scipy(n1: int, n2: int, shape: str, shift: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    a, b = _sample(rng, n1, shape, 0.0), _sample(rng, n2, shape, shift)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ref = stats.ks_2samp(a, b)
    # scipy's exact calculation can fail (e.g. n1 = n2 = 13, d = 1/13); it then warns
    # and uses the asymptotic formula, and so must we.
    fell_back = any("Exact calculation unsuccessful" in str(w.message) for w in caught)
    d, p, method = ks_pvalue(BucketedPair(a, b).ks_statistic(), n1, n2)
    assert method == ("asymp" if fell_back else "exact")
    assert d == ref.statistic
    assert _close(p, float(ref.pvalue))


@settings(max_examples=25, deadline=None)
@given(
    n1=st.integers(MAX_EXACT_N + 1, 30_000),
    n2=st.integers(40, 30_000),
    shape=SHAPES,
    shift=st.sampled_from([0.0, 0.01, 0.03, 0.3]),
    seed=st.integers(0, 2**32 - 1),
)
def test_asymptotic_path_equals_scipy(
    n1: int, n2: int, shape: str, shift: float, seed: int
) -> None:
    """Above 10,000 values scipy uses kstwo.sf; the bucketed statistic is bit-identical."""
    rng = np.random.default_rng(seed)
    a, b = _sample(rng, n1, shape, 0.0), _sample(rng, n2, shape, shift)
    ref = stats.ks_2samp(a, b)
    d, p, method = ks_pvalue(BucketedPair(a, b).ks_statistic(), n1, n2)
    assert method == "asymp"
    assert d == ref.statistic
    assert _close(p, float(ref.pvalue))


def test_sorted_kernel_equals_scipy() -> None:
    rng = np.random.default_rng(5)
    a, b = np.sort(rng.normal(size=300)), np.sort(rng.normal(0.2, size=500))
    ours, ref = ks_2samp_sorted(a, b), stats.ks_2samp(a, b)
    assert ours.statistic == ref.statistic
    assert _close(ours.pvalue, float(ref.pvalue))


@pytest.mark.parametrize("n", [141, 500, 5_000, 90_000, 100_001, 499_999, 1_000_000, 3_000_000])
def test_kstwo_sf_equals_scipy_across_regimes(n: int) -> None:
    """Every branch of kstwo.sf: closed forms, Pelz-Good, smirnov, Durbin, zero.

    scipy's own smirnov takes ~0.5 s per call at large n, so large n gets one such point.
    """
    slow = n > 200_000
    for z2 in [0.2, 0.5, 1.0, 1.9, 10.0, 360.0, 400.0] + ([] if slow else [2.3, 50.0, 200.0]):
        x = math.sqrt(z2 / n)
        assert _close(kolmogorov_smirnov_sf(x, float(n)), float(stats.kstwo.sf(x, n)))
    for x in [0.3 / n, 0.7 / n, 1.0 - 0.5 / n, 0.6, 0.0, 1.0]:
        assert _close(kolmogorov_smirnov_sf(x, float(n)), float(stats.kstwo.sf(x, n)))


@settings(max_examples=30, deadline=None)
@given(n=st.integers(141, 150_000), z2=st.floats(2.2, 354.0))
def test_vectorised_smirnov_equals_scipy(n: int, z2: float) -> None:
    x = math.sqrt(z2 / n)
    if x >= 0.5:
        return
    assert _close(smirnov_sf(n, x), float(special.smirnov(n, x)))


def test_identical_samples_have_zero_statistic() -> None:
    x = np.random.default_rng(1).normal(size=50_000)
    assert BucketedPair(x, x.copy()).ks_statistic() == 0.0


@settings(max_examples=40, deadline=None)
@given(
    n1=st.integers(1, 30_000),
    n2=st.integers(1, 30_000),
    shape=SHAPES,
    shift=st.sampled_from([0.0, 0.01, 0.05, 0.5]),
    seed=st.integers(0, 2**32 - 1),
)
def test_sorted_baseline_pair_equals_scipy(
    n1: int, n2: int, shape: str, shift: float, seed: int
) -> None:
    """The stored-profile path (sorted baseline, counts by binary search) is bit-identical
    too, on both of scipy's paths and whatever the bucket grid does with ties and tails."""
    rng = np.random.default_rng(seed)
    a, b = np.sort(_sample(rng, n1, shape, 0.0)), _sample(rng, n2, shape, shift)
    ref = stats.ks_2samp(a, b)
    statistic = SortedBaselinePair(a, b).ks_statistic()
    assert statistic == BucketedPair(a, b).ks_statistic()
    # With the baseline's stored grid (a profile's KS anchor): the same statistic.
    anchor = ks_anchor(a[np.isfinite(a)])
    assert SortedBaselinePair(a, b, anchor).ks_statistic() == statistic
    d, p, _ = ks_pvalue(statistic, n1, n2)
    assert d == ref.statistic
    assert _close(p, float(ref.pvalue))


@pytest.mark.parametrize("shape", ["normal", "ties", "heavy", "inf", "outlier"])
def test_sorted_baseline_pair_at_scale(shape: str) -> None:
    rng = np.random.default_rng(11)
    if shape == "outlier":  # one huge value: almost everything in one coarse bucket
        a = np.concatenate([rng.normal(size=199_990), np.full(10, 1e9)])
        b = rng.normal(0.01, 1.0, 150_000)
    else:
        a, b = _sample(rng, 200_000, shape, 0.0), _sample(rng, 150_000, shape, 0.01)
    a.sort()
    assert SortedBaselinePair(a, b).ks_statistic() == stats.ks_2samp(a, b).statistic


def _anchor_sample(rng: np.random.Generator, n: int, shape: str, shift: float) -> np.ndarray:
    if shape == "lognormal":
        return rng.lognormal(shift, 1.0, n)
    if shape == "poisson":
        return rng.poisson(4.0 + shift, n).astype(np.float64)
    if shape == "rounded":
        return np.round(rng.normal(shift, 1.0, n), 1)
    if shape == "new atom":  # a tied value the baseline never had
        x = rng.poisson(4.0, n).astype(np.float64)
        x[: n // 10] = 2.5 + shift
        return x
    if shape == "near atom":  # tied values and values a hair above them, same bucket
        x = rng.poisson(4.0, n).astype(np.float64)
        x[: n // 10] += 1e-9 * (1.0 + shift)
        return x
    if shape == "far shift":  # most of the current beyond the anchor's range
        return rng.normal(3.0 + shift, 1.0, n)
    return _sample(rng, n, shape, shift)


@settings(max_examples=40, deadline=None)
@given(
    n1=st.integers(5_000, 120_000),
    n2=st.integers(3_000, 120_000),
    shape=st.sampled_from(
        [
            "normal",
            "heavy",
            "inf",
            "lognormal",
            "poisson",
            "rounded",
            "new atom",
            "near atom",
            "far shift",
        ]
    ),
    shift=st.sampled_from([0.0, 0.01, 0.05, 0.5]),
    seed=st.integers(0, 2**32 - 1),
)
def test_anchored_pair_equals_scipy(n1: int, n2: int, shape: str, shift: float, seed: int) -> None:
    """The stored-grid path: bit-identical to ks_2samp whether the grid is used, its
    tied buckets skipped, or the pair falls back to a grid of its own."""
    rng = np.random.default_rng(seed)
    base_shape = {"new atom": "poisson", "near atom": "poisson", "far shift": "normal"}.get(
        shape, shape
    )
    a = np.sort(_anchor_sample(rng, n1, base_shape, 0.0))
    b = _anchor_sample(rng, n2, shape, shift)
    anchor = ks_anchor(a[np.isfinite(a)])
    statistic = SortedBaselinePair(a, b, anchor).ks_statistic()
    # scipy's exact path (both sizes <= 10,000) reports D rounded to 1/lcm(n1, n2).
    assert ks_pvalue(statistic, n1, n2)[0] == stats.ks_2samp(a, b).statistic


@pytest.mark.parametrize("stored", [True, False], ids=["stored profile", "parquet"])
@pytest.mark.parametrize(
    ("shape", "atoms"),
    [
        ("normal", False),
        ("heavy", False),
        ("lognormal", False),
        ("poisson", True),
        ("rounded", True),
    ],
)
def test_single_level_grid_is_used_without_drift(shape: str, atoms: bool, stored: bool) -> None:
    """The single-level grids pay only if they are used: undrifted data of every
    benchmark shape takes them (heavy tails in the end buckets, ties as skipped atoms),
    with a stored profile's anchor and with a parquet baseline alike."""
    rng = np.random.default_rng(3)
    a = np.sort(_anchor_sample(rng, 200_000, shape, 0.0))
    b = _anchor_sample(rng, 150_000, shape, 0.0)
    pair: SortedBaselinePair | BucketedPair
    if stored:
        pair = SortedBaselinePair(a, b, ks_anchor(a[np.isfinite(a)]))
        assert pair.anchored
    else:
        pair = BucketedPair(rng.permutation(a), b)
        assert pair.flat
    assert (pair.atoms is not None and bool(pair.atoms.any())) == atoms
    assert pair.ks_statistic() == stats.ks_2samp(a, b).statistic


def test_stale_or_missing_anchor_is_not_used() -> None:
    rng = np.random.default_rng(4)
    a = np.sort(rng.normal(size=50_000))
    b = rng.normal(0.02, 1.0, 40_000)
    other = ks_anchor(np.sort(rng.normal(size=60_000)))  # another baseline's grid
    pair = SortedBaselinePair(a, b, other)
    assert not pair.anchored
    assert pair.ks_statistic() == stats.ks_2samp(a, b).statistic
    assert ks_anchor(np.zeros(50_000)) is None  # constant column
    assert ks_anchor(np.sort(rng.normal(size=100))) is None  # small: sorting is cheaper


@settings(max_examples=40, deadline=None)
@given(
    n1=st.integers(5_000, 120_000),
    n2=st.integers(3_000, 120_000),
    shape=st.sampled_from(
        ["normal", "heavy", "inf", "lognormal", "poisson", "rounded", "new atom", "near atom"]
    ),
    shift=st.sampled_from([0.0, 0.01, 0.5]),
    seed=st.integers(0, 2**32 - 1),
)
def test_single_level_bucketed_pair_equals_scipy_and_sorting(
    n1: int, n2: int, shape: str, shift: float, seed: int
) -> None:
    """The parquet-baseline path's single-level grid (tails in the end buckets, tied
    buckets skipped): KS bit-identical to ks_2samp, order statistics (PSI cut points)
    equal to sorting, whichever grid it ends up using."""
    rng = np.random.default_rng(seed)
    base_shape = {"new atom": "poisson", "near atom": "poisson"}.get(shape, shape)
    a = _anchor_sample(rng, n1, base_shape, 0.0)
    b = _anchor_sample(rng, n2, shape, shift)
    pair = BucketedPair(a, b)
    statistic = pair.ks_statistic()
    assert ks_pvalue(statistic, n1, n2)[0] == stats.ks_2samp(a, b).statistic
    finite = np.sort(a[np.isfinite(a)])
    ranks = np.unique(rng.integers(0, finite.shape[0], 25))
    np.testing.assert_array_equal(pair.finite_order_statistics(ranks), finite[ranks])


def test_values_near_the_float_limits_fall_back_to_sorting() -> None:
    """A range wider than the largest double (hi - lo overflows) cannot be bucketed;
    every path must notice and still equal scipy, instead of indexing with NaN."""
    rng = np.random.default_rng(6)
    a = rng.normal(size=20_000)
    a[:3] = [-1.5e308, 1.7e308, 1e308]
    b = rng.normal(size=20_000)
    b[:2] = [1.6e308, -1.7e308]
    ref = stats.ks_2samp(a, b).statistic
    ordered = np.sort(a)
    assert BucketedPair(a, b).ks_statistic() == ref
    assert SortedBaselinePair(ordered, b).ks_statistic() == ref
    assert SortedBaselinePair(ordered, b, ks_anchor(ordered)).ks_statistic() == ref
    assert compare_ecdfs(a, b).ks_statistic == ref
    wide = np.sort(np.concatenate([np.full(5_000, -1.7e308), np.full(5_000, 1.7e308)]))
    assert ks_anchor(wide) is None
