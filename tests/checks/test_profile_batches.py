"""A profile built batch by batch (out of core) against the one built whole."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from checks.drift import compute_drift, sketch_snapshot
from checks.profile import build_profile, build_profile_in_batches


def training(n: int, seed: int = 0) -> pl.DataFrame:
    """Continuous, tied, null, NaN and infinite values, and a categorical column."""
    rng = np.random.default_rng(seed)
    x = rng.lognormal(size=n)
    x[rng.random(n) < 0.01] = np.nan
    x[:3] = [np.inf, -np.inf, np.inf]
    return (
        pl.DataFrame(
            {
                "x": x,
                "ties": rng.integers(0, 7, n),
                "c": rng.choice(["a", "b", "c", "-"], n, p=[0.5, 0.3, 0.15, 0.05]),
            }
        )
        .with_columns(pl.col("c").replace("-", None))
        .with_columns(
            pl.when(pl.int_range(pl.len()) % 97 == 0).then(None).otherwise(pl.col("x")).alias("x")
        )
    )


def batches(frame: pl.DataFrame, size: int) -> list[pl.LazyFrame]:
    return [frame.slice(i, size).lazy() for i in range(0, frame.height, size)]


def test_batches_equal_the_whole_build_when_the_sample_holds_every_value() -> None:
    frame = training(30_000)
    whole = build_profile(frame, bins={"x": 10, "ties": 5})
    parts = build_profile_in_batches(batches(frame, 4_096), bins={"x": 10, "ties": 5})
    assert parts.mode == "sketch" and whole.mode == "exact"
    assert parts.n_rows == whole.n_rows == 30_000
    assert parts.categorical.keys() == whole.categorical.keys() == {"c"}
    assert parts.categorical["c"].frame().equals(whole.categorical["c"].frame())
    assert parts.categorical["c"].n_missing == whole.categorical["c"].n_missing
    for name, w in whole.numeric.items():
        p = parts.numeric[name]
        assert p.values is None
        assert (p.n, p.n_missing, p.n_neg_inf, p.n_pos_inf, p.bins) == (
            w.n,
            w.n_missing,
            w.n_neg_inf,
            w.n_pos_inf,
            w.bins,
        )
        for field in ("cuts", "counts", "grid", "grid_counts", "grid_atoms"):
            assert np.array_equal(getattr(p, field), getattr(w, field)), (name, field)
        assert p.mean == pytest.approx(w.mean, rel=1e-12)
        assert p.std == pytest.approx(w.std, rel=1e-12)


def test_a_sampled_grid_keeps_exact_counts_and_the_sketch_bounds_hold() -> None:
    frame = training(60_000, seed=1)
    whole = build_profile(frame)
    parts = build_profile_in_batches(batches(frame, 5_000), sample_values=6_000, seed=3)
    w, p = whole.numeric["x"], parts.numeric["x"]
    assert (p.n, p.n_missing, p.n_neg_inf, p.n_pos_inf) == (
        w.n,
        w.n_missing,
        w.n_neg_inf,
        w.n_pos_inf,
    )
    assert int(p.counts.sum()) == int(p.grid_counts.sum()) == w.n  # every value counted
    assert not np.array_equal(p.grid, w.grid)  # quantiles of a sample of 6,000
    # Each PSI bin still holds about a tenth of the training data.
    assert np.abs(p.counts[1:-1] / w.n - 0.1).max() < 0.02
    assert p.mean == pytest.approx(w.mean, rel=1e-12)
    assert p.std == pytest.approx(w.std, rel=1e-12)
    # Same answer with the same seed; the current day, shifted, against both profiles.
    again = build_profile_in_batches(batches(frame, 5_000), sample_values=6_000, seed=3)
    assert again.content_hash == parts.content_hash
    current = training(40_000, seed=2).with_columns(pl.col("x") * 1.1)
    methods = ("ks", "wasserstein")
    exact = compute_drift(whole, current.lazy(), numeric=["x"], categorical=[], methods=methods)
    sketch = sketch_snapshot(parts, batches(current, 7_000), ["x"])
    bounded = compute_drift(parts, sketch, numeric=["x"], categorical=[], methods=methods)
    truth = dict(zip(exact["method"], exact["statistic"], strict=True))
    for row in bounded.iter_rows(named=True):
        low, width = row["statistic"], row["error_bound"]
        assert 0 < width < 0.01
        if row["method"] == "ks":
            assert low - 1e-12 <= truth["ks"] <= low + width + 1e-12
        else:
            assert abs(truth["wasserstein"] - low) <= width + 1e-12
