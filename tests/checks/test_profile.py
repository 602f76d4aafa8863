"""Baseline profiles: exact mode equals raw data, storage round trip, hash, sketch mode."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import stats

from assets.baseline_store import load_profile, save_profile
from checks.drift import compute_drift
from checks.errors import InputError
from checks.profile import build_profile, merge_sketches, sketch_current

ALL = ("psi", "ks", "chi2", "js", "wasserstein")


def _data(n: int, seed: int, shift: float = 0.0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(shift, 1.0, n)
    x[:3] = [np.inf, -np.inf, np.nan]
    return pl.DataFrame(
        {
            "x / normal": x,
            "ties": rng.poisson(4 + shift, n),
            "heavy tail": rng.lognormal(shift, 1.0, n),
            "cat": rng.choice(["a", "b", "c"], n),
        }
    ).with_columns(
        pl.when(pl.int_range(pl.len()) % 50 == 0).then(None).otherwise(pl.col("ties")).alias("ties")
    )


def _comparable(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select("feature", "method", "p_value", "q_value", "drifted", "n_baseline")


def test_profile_gives_the_same_drift_as_raw_data(tmp_path: Path) -> None:
    base, cur = _data(20_000, 1), _data(15_000, 2, shift=0.1)
    raw = compute_drift(base, cur, methods=ALL)
    stored = load_profile(save_profile(build_profile(base), tmp_path / "prof"))
    via_profile = compute_drift(stored, cur, methods=ALL)
    assert _comparable(via_profile).equals(_comparable(raw))
    np.testing.assert_allclose(
        via_profile["statistic"].to_numpy(), raw["statistic"].to_numpy(), rtol=1e-12
    )


def test_profile_with_other_bins_recomputes_cut_points(tmp_path: Path) -> None:
    base, cur = _data(5000, 3), _data(5000, 4)
    prof = load_profile(save_profile(build_profile(base), tmp_path / "p"))
    a = compute_drift(prof, cur, bins=7, methods=("psi",))
    b = compute_drift(base, cur, bins=7, methods=("psi",))
    assert a["statistic"].to_list() == b["statistic"].to_list()


def test_content_hash_tracks_data_and_spec() -> None:
    base = _data(2000, 5)
    h = build_profile(base).content_hash
    assert build_profile(base.sample(fraction=1.0, shuffle=True, seed=1)).content_hash == h
    assert build_profile(base.head(1999)).content_hash != h
    assert build_profile(base, features={"x / normal": {"dtype": "Float64"}}).content_hash != h


def test_load_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"profile\.json"):
        load_profile(tmp_path)
    (tmp_path / "profile.json").write_text("{not json")
    with pytest.raises(InputError, match=r"profile\.json"):
        load_profile(tmp_path)


def test_sketch_parts_merge_to_the_whole() -> None:
    base, cur = _data(20_000, 6), _data(12_000, 7, shift=0.05)
    prof = build_profile(base, keep_values=False)
    whole = sketch_current(prof, cur)
    parts = merge_sketches(sketch_current(prof, cur.slice(i, 3000)) for i in range(0, 12_000, 3000))
    a, b = compute_drift(prof, whole, methods=ALL), compute_drift(prof, parts, methods=ALL)
    assert a.drop("statistic", "error_bound", "effect").equals(
        b.drop("statistic", "error_bound", "effect")
    )
    np.testing.assert_allclose(a["statistic"].to_numpy(), b["statistic"].to_numpy(), rtol=1e-12)


def test_sketch_mode_is_exact_for_binned_methods_and_bounded_for_ks_wasserstein() -> None:
    base, cur = _data(30_000, 8), _data(25_000, 9, shift=0.03)
    prof = build_profile(base, keep_values=False)
    sketch = compute_drift(prof, sketch_current(prof, cur), methods=ALL)
    exact = compute_drift(base, cur, methods=ALL)
    for method in ("psi", "js", "chi2"):
        s = sketch.filter(pl.col("method") == method)["statistic"].to_numpy()
        e = exact.filter(pl.col("method") == method)["statistic"].to_numpy()
        np.testing.assert_allclose(s, e, rtol=1e-12)
    for row in sketch.filter(pl.col("method").is_in(["ks", "wasserstein"])).iter_rows(named=True):
        feature = row["feature"]
        a = base[feature].drop_nulls().drop_nans().to_numpy().astype(float)
        b = cur[feature].drop_nulls().drop_nans().to_numpy().astype(float)
        if row["method"] == "ks":
            ref = stats.ks_2samp(a, b).statistic
            assert row["statistic"] <= ref + 1e-12 <= row["statistic"] + row["error_bound"] + 2e-12
            assert row["error_bound"] < 2e-3
        else:
            fa, fb = a[np.isfinite(a)], b[np.isfinite(b)]
            ref = stats.wasserstein_distance(fa, fb) / np.std(fa)
            assert abs(row["statistic"] - ref) <= row["error_bound"] + 1e-12


def test_sketch_only_profile_refuses_exact_mode() -> None:
    base = _data(500, 10)
    with pytest.raises(InputError, match="sketch-only"):
        compute_drift(build_profile(base, keep_values=False), base, methods=("ks",))


def test_stored_values_are_npy_files_and_the_parquet_layout_still_reads(tmp_path: Path) -> None:
    """Values are one memory-mapped .npy per feature; a directory written with the earlier
    layout (one values.parquet, no values_files key) loads to the same drift."""
    import json

    from checks.profile import profile_to_tables

    base, cur = _data(6000, 12), _data(5000, 13, shift=0.05)
    profile = build_profile(base)
    stored = save_profile(profile, tmp_path / "npy")
    meta = json.loads((stored / "profile.json").read_text())
    assert set(meta["values_files"]) == set(profile.numeric)
    assert not (stored / "values.parquet").exists()
    old = tmp_path / "parquet"
    old.mkdir()
    old_meta, frame = profile_to_tables(profile)
    frame.write_parquet(old / "values.parquet")
    (old / "profile.json").write_text(json.dumps(old_meta))
    a = compute_drift(load_profile(stored), cur, methods=ALL)
    b = compute_drift(load_profile(old), cur, methods=ALL)
    assert a.equals(b)
    # Saving again replaces the values directory; the old one is removed.
    save_profile(load_profile(stored), stored)
    dirs = [p.name for p in stored.iterdir() if p.name.startswith("values-")]
    assert len(dirs) == 1
    assert compute_drift(load_profile(stored), cur, methods=ALL).equals(a)


def test_ks_anchor_is_stored_and_loaded(tmp_path: Path) -> None:
    """The KS grid built with the profile is stored next to the values, loads lazily to
    the same grid, and a damaged one is an error naming its file."""
    import json

    base, cur = _data(30_000, 14), _data(20_000, 15, shift=0.05)
    profile = build_profile(base)
    stored = save_profile(profile, tmp_path / "prof")
    loaded = load_profile(stored)
    for name, built in profile.numeric.items():
        want, got = built.ks_anchor(), loaded.numeric[name].ks_anchor()
        assert want is not None and got is not None, name
        assert (got.lo, got.scale, got.buckets) == (want.lo, want.scale, want.buckets)
        np.testing.assert_array_equal(got.starts, want.starts)
    raw = compute_drift(base, cur, methods=ALL)
    assert _comparable(compute_drift(loaded, cur, methods=ALL)).equals(_comparable(raw))
    # A profile stored without KS grids (an earlier datasre) gives the same result.
    meta = json.loads((stored / "profile.json").read_text())
    for entry in meta["numeric"].values():
        entry.pop("ks_anchor")
    (stored / "profile.json").write_text(json.dumps(meta))
    assert compute_drift(load_profile(stored), cur, methods=ALL).equals(
        compute_drift(loaded, cur, methods=ALL)
    )
    starts_file = next(stored.glob("values-*/*.ks.npy"))
    save_profile(profile, stored)
    starts_file = next(stored.glob("values-*/00000.ks.npy"))
    np.save(starts_file, np.arange(7))
    with pytest.raises(InputError, match=r"00000\.ks\.npy"):
        compute_drift(load_profile(stored), cur, methods=("ks",))


@pytest.mark.parametrize("shape", ["normal", "lognormal", "t", "spike", "ties"])
def test_grid_lookup_equals_searchsorted(shape: str) -> None:
    """Sketch mode's grid index (lookup table + short walks) is searchsorted, exactly."""
    from checks.profile.build import grid_of as _grid_of
    from checks.profile.sketch import grid_bins as _grid_bins
    from checks.profile.sketch import grid_index as _grid_index

    rng = np.random.default_rng(21)
    n = 200_000
    base = {
        "normal": rng.normal(size=n),
        "lognormal": rng.lognormal(0, 2, n),
        "t": rng.standard_t(1.5, n),
        "spike": np.concatenate([np.zeros(n - n // 10), rng.normal(size=n // 10)]),
        "ties": rng.poisson(40, n).astype(float),
    }[shape]
    grid = _grid_of(np.sort(base))
    cur = np.concatenate([rng.choice(base, n) * 1.01, grid, grid[::7] + 1e-12, [np.inf, -np.inf]])
    assert np.array_equal(_grid_index(cur, grid), np.searchsorted(grid, cur, side="left"))
    counts, atoms = _grid_bins(cur, grid)
    assert counts.sum() == cur.shape[0]
    assert np.array_equal(atoms, np.array([(cur == g).sum() for g in grid]))


@pytest.mark.parametrize(
    "values",
    [
        [0.5, 1.0, 2.0],  # inside the grid: no infinities, nothing beyond
        [-3.0, 0.5, 7.5, 9.0],  # beyond both ends
        [-np.inf, 0.2, np.inf, np.inf, -5.0],  # infinities and a finite value below
        [np.inf, 1.5],  # +inf only: nothing finite above
        [],
    ],
)
def test_a_sketch_counts_infinities_and_the_distance_beyond_the_grid(values: list[float]) -> None:
    """Wasserstein's tails in sketch mode: against the formula on the finite values."""
    from checks.profile.sketch import _beyond

    grid = np.array([0.0, 1.0, 2.0, 4.0])
    x = np.array(values, dtype=np.float64)
    finite = x[np.isfinite(x)]
    expected = (
        int((x == -np.inf).sum()),
        int((x == np.inf).sum()),
        float(np.sum(0.0 - finite[finite < 0.0])),
        float(np.sum(finite[finite > 4.0] - 4.0)),
    )
    assert _beyond(x, grid) == expected
    assert _beyond(x, np.array([])) == (*expected[:2], 0.0, 0.0)
