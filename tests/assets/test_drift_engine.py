"""The drift asset's engine choice: exact while the day fits the memory budget, the sketch
engine (streamed by row group) above it, with its error bound in each row's detail."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from assets.drift import drift_rows, drift_slis, ensure_profile
from assets.drift_engine import (
    EXACT_BYTES_PER_ROW,
    PROFILE_BYTES_PER_ROW,
    choose_engine,
    columns_in_flight,
    exact_need_bytes,
    memory_budget,
)
from assets.memory_budget import MemoryBudget
from assets.row_groups import row_group_parts
from checks.contract import Contract, load_contract
from checks.contract_sections import DriftSettings
from checks.drift import compute_drift, sketch_snapshot
from checks.profile import build_profile

SAMPLES = Path("data/samples")
#: A day with planted drift (samples README, incidents a and b) and unshifted features.
DAY = dt.date(2026, 11, 12)
#: Rows per row group of the rewritten day, so the sketch engine streams several parts.
GROUP_ROWS = 400
#: The day is the sample day repeated this often (100,000 rows), so that its drift needs
#: more memory than building the profiles from the training files (20,000 and 10,000 rows).
TILES = 40
#: A budget between the two (bytes): the profiles are built whole, the day is sketched.
BETWEEN = 4_000_000
#: "lies in [lo, hi]" in a sketch row's detail.
BOUNDS = re.compile(r"lies in \[([^,]+), ([^\]]+)\]")


def sample_model(tmp_path: Path) -> Contract:
    """The fraud sample, its day's features and predictions rewritten in row groups."""
    shutil.copytree(SAMPLES / "fraud_detection", tmp_path / "fraud_detection")
    shutil.copytree(SAMPLES / "contracts", tmp_path / "contracts")
    for source in ("features", "predictions"):
        path = tmp_path / "fraud_detection" / source / f"{DAY.isoformat()}.parquet"
        day = pl.read_parquet(path)
        if source == "features":  # a browser training never had, on 30 rows of each tile
            first = pl.int_range(pl.len()) < 30
            new = pl.when(first).then(pl.lit("netscape")).otherwise(pl.col("browser"))
            day = day.with_columns(new.alias("browser"))
        pl.concat([day] * TILES).write_parquet(path, row_group_size=GROUP_ROWS)
    return load_contract(tmp_path / "contracts" / "fraud_detection.yaml")


def with_budget(contract: Contract, mib: float) -> Contract:
    return contract.model_copy(update={"drift": DriftSettings(memory_budget_mb=mib)})


def by_key(frame: pl.DataFrame) -> dict[tuple[str, str, str | None], dict[str, object]]:
    return {(r["category"], r["sli"], r["feature"]): r for r in frame.iter_rows(named=True)}


def test_a_day_over_the_budget_switches_to_the_sketch_engine_within_its_bounds(
    tmp_path: Path,
) -> None:
    contract = sample_model(tmp_path)
    profiles = tmp_path / "profiles"
    training_rows, n_numeric, day_rows = 20_000, len(contract.numeric_features), 2_500 * TILES
    # Both profiles are built whole, but no day fits, even one column at a time.
    assert training_rows * (8 * n_numeric + PROFILE_BYTES_PER_ROW) < BETWEEN
    assert day_rows * EXACT_BYTES_PER_ROW > BETWEEN
    exact = by_key(drift_slis(with_budget(contract, 1e6), DAY, profiles))
    sketch = by_key(drift_slis(with_budget(contract, BETWEEN / 2**20), DAY, profiles))
    assert ensure_profile(with_budget(contract, BETWEEN / 2**20), profiles).mode == "exact"
    assert exact.keys() == sketch.keys()
    drift_keys = [k for k in exact if k[0] in {"drift", "prediction_drift"} and k[2]]
    assert {k[1] for k in drift_keys} >= {"ks", "psi", "chi2"}
    assert {k[0] for k in drift_keys} == {"drift", "prediction_drift"}
    widths: list[float] = []
    for key in drift_keys:
        e, s = exact[key], sketch[key]
        assert "engine" not in str(e["detail"]) and "sketch" not in str(e["detail"])
        assert "sketch engine: the exact engine needs" in str(s["detail"]), key
        assert "drift.memory_budget_mb" in str(s["detail"])
        if key[1] == "ks":
            match = BOUNDS.search(str(s["detail"]))
            assert match is not None, s["detail"]
            low, high = float(match.group(1)), float(match.group(2))
            # The detail prints 6 significant digits.
            assert s["value"] == pytest.approx(low, rel=1e-5)
            assert low * (1 - 1e-5) <= float(str(e["value"])) <= high * (1 + 1e-5), key
            assert 0 <= high - low < 0.02  # 0: ties put every value on the grid
            widths.append(high - low)
        else:  # PSI, chi2 and its JS effect come from the same bins in both engines
            assert s["value"] == pytest.approx(e["value"], rel=1e-9, abs=1e-12), key
            assert s["ok"] == e["ok"], key
    assert len(widths) == len([k for k in drift_keys if k[1] == "ks"]) >= 10
    assert max(widths) > 0  # continuous features have a bound
    # Verdicts agree here: the planted drift is far above the threshold, the rest far below.
    assert {k for k in drift_keys if exact[k]["ok"] is False} == {
        k for k in drift_keys if sketch[k]["ok"] is False
    }
    unseen = [k for k in exact if k[1] == "unseen_category_rate"]
    assert unseen and all(exact[k]["value"] == sketch[k]["value"] for k in unseen)
    assert all(exact[k]["detail"] == sketch[k]["detail"] for k in unseen)
    browser = sketch[("schema", "unseen_category_rate", "browser")]
    assert browser["value"] == pytest.approx(30 / 2500)
    assert f"'netscape' {30 * TILES} rows" in str(browser["detail"])


def test_the_exact_engine_is_kept_while_the_day_fits(tmp_path: Path) -> None:
    contract = sample_model(tmp_path)
    rows = drift_slis(with_budget(contract, 64), DAY, tmp_path / "profiles")
    details = rows.get_column("detail").drop_nulls().to_list()
    assert details and not any("sketch" in d for d in details)


def test_the_budget_compares_the_exact_engines_estimate(tmp_path: Path) -> None:
    contract = sample_model(tmp_path)
    training = pl.scan_parquet(contract.resolve(contract.sources.training))
    profile = build_profile(training, numeric=contract.numeric_features, categorical=[])
    files = [contract.resolve(contract.sources.features, DAY)]
    numeric = contract.numeric_features
    in_flight = columns_in_flight(len(numeric))
    need = exact_need_bytes(2500 * TILES, profile, numeric, in_flight)
    largest = max(p.n for p in profile.numeric.values())
    assert need == in_flight * (2500 * TILES * EXACT_BYTES_PER_ROW + largest * 8)
    fits = choose_engine(with_budget(contract, need / 2**20), files, profile, numeric)
    assert (fits.engine, fits.need_bytes) == ("exact", need)
    over = choose_engine(with_budget(contract, (need - 1) / 2**20), files, profile, numeric)
    assert over.engine == "sketch"
    assert "over the budget" in over.reason()


def test_a_profile_without_sorted_values_always_gets_the_sketch_engine(tmp_path: Path) -> None:
    contract = sample_model(tmp_path)
    training = pl.scan_parquet(contract.resolve(contract.sources.training))
    numeric = contract.numeric_features
    profile = build_profile(training, numeric=numeric, categorical=[], keep_values=False)
    files = [contract.resolve(contract.sources.features, DAY)]
    choice = choose_engine(with_budget(contract, 1e6), files, profile, numeric)
    assert choice.engine == "sketch"
    assert "no sorted training values" in choice.reason()


def test_row_group_parts_sketch_the_same_as_the_whole_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    frame = pl.DataFrame({"x": rng.normal(size=5000), "c": rng.choice(["a", "b"], 5000)})
    path = tmp_path / "day.parquet"
    frame.write_parquet(path, row_group_size=700)
    parts = row_group_parts([str(path), str(path)])
    assert len(parts) == 2 * 8
    assert sum(part.select(pl.len()).collect().item() for part in parts) == 10_000
    profile = build_profile(pl.DataFrame({"x": rng.normal(size=3000), "c": ["a", "b"] * 1500}))
    whole = sketch_snapshot(profile, [pl.scan_parquet(path), pl.scan_parquet(path)])
    streamed = sketch_snapshot(profile, parts)
    assert compute_drift(profile, streamed).equals(compute_drift(profile, whole))


def test_training_data_over_the_budget_gets_a_profile_built_in_batches(tmp_path: Path) -> None:
    contract = sample_model(tmp_path)
    profiles = tmp_path / "profiles"
    training = contract.resolve(contract.sources.training)
    pl.read_parquet(training).write_parquet(training, row_group_size=GROUP_ROWS)
    tiny = with_budget(contract, 0.01)
    batched = ensure_profile(tiny, profiles)
    assert batched.mode == "sketch"
    assert not any(p.has_values for p in batched.numeric.values())
    stored = ensure_profile(tiny, profiles)  # reloaded, not rebuilt
    assert stored.mode == "sketch" and stored.content_hash == batched.content_hash
    rows = drift_slis(tiny, DAY, profiles).filter(pl.col("category") == "drift")
    ks = rows.filter(pl.col("sli") == "ks").get_column("detail").to_list()
    assert ks and all("sketch engine: the profile holds no sorted training values" in d for d in ks)
    # The fraud sample's training file holds fewer than SAMPLE_VALUES rows: the batches'
    # profile then equals the whole one in everything but the sorted values.
    whole = ensure_profile(with_budget(contract, 1e6), profiles)  # fits again: rebuilt whole
    assert whole.mode == "exact"
    for name, w in whole.numeric.items():
        b = batched.numeric[name]
        assert np.array_equal(b.grid_counts, w.grid_counts) and np.array_equal(b.cuts, w.cuts)


def test_an_in_memory_frame_against_a_profile_built_in_batches_is_sketched(
    tmp_path: Path,
) -> None:
    contract = with_budget(sample_model(tmp_path), 0.01)  # the profile is built in batches
    frame = pl.read_parquet(contract.resolve(contract.sources.features, DAY))
    rows = drift_rows(contract, frame, tmp_path / "profiles")  # as validate-candidate does
    ks = rows.filter(pl.col("sli") == "ks")
    assert ks.height == len(contract.numeric_features)
    assert all("sketch engine: the profile holds no sorted" in d for d in ks["detail"])


def test_the_default_budget_is_256_mib_or_the_memory_left_when_less(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    contract = sample_model(tmp_path)
    assert contract.drift.memory_budget_mb is None
    plenty = MemoryBudget(2**40, "1 TiB available on this machine", counts_mapped_files=False)
    monkeypatch.setattr("assets.drift_engine.available_memory", lambda: plenty)
    default = "the default: drift.memory_budget_mb unset"
    assert memory_budget(contract) == (256 * 2**20, default)
    tight = MemoryBudget(1000, "cgroup memory limit of 1 MiB", counts_mapped_files=False)
    monkeypatch.setattr("assets.drift_engine.available_memory", lambda: tight)
    assert memory_budget(contract) == (1000, "cgroup memory limit of 1 MiB")
    assert memory_budget(with_budget(contract, 1.5)) == (3 * 2**19, "drift.memory_budget_mb")
