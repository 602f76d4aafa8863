"""The drift asset's I/O: stored profiles built once and rebuilt on change; prediction
drift against the contract's prediction baseline."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from assets.drift import SIGNATURE_FILE, drift_rows, drift_slis, ensure_profile
from checks.contract import load_contract
from checks.profile.freshness import FORMAT_VERSION
from tests.fixtures import FIRST_DAY, contract_dict, write_model


def built_at(profiles: Path) -> str:
    return str(json.loads((profiles / "toy" / "1.0.0" / SIGNATURE_FILE).read_text())["built_at"])


def test_the_profile_is_built_once_and_rebuilt_when_the_training_data_changes(
    tmp_path: Path,
) -> None:
    contract = load_contract(write_model(tmp_path, days=1))
    profiles = tmp_path / "profiles"
    first = ensure_profile(contract, profiles)
    stamp = built_at(profiles)
    again = ensure_profile(contract, profiles)
    assert built_at(profiles) == stamp  # read back, not rebuilt
    assert again.content_hash == first.content_hash
    training = tmp_path / "toy" / "training.parquet"
    pl.read_parquet(training).head(1500).write_parquet(training)
    os.utime(training, (1e9, 1e9))  # a different mtime and size: a new signature
    rebuilt = ensure_profile(contract, profiles)
    assert built_at(profiles) != stamp
    assert rebuilt.content_hash != first.content_hash
    # A profile stored before the KS grids (no version key: format 1) is rebuilt once.
    signature_file = profiles / "toy" / "1.0.0" / SIGNATURE_FILE
    stored = json.loads(signature_file.read_text())
    del stored["format_version"]
    signature_file.write_text(json.dumps(stored))
    stamp = built_at(profiles)
    ensure_profile(contract, profiles)
    assert built_at(profiles) != stamp
    assert json.loads(signature_file.read_text())["format_version"] == FORMAT_VERSION
    stamp = built_at(profiles)
    ensure_profile(contract, profiles)
    assert built_at(profiles) == stamp


def test_a_profile_stored_in_another_format_version_or_from_other_training_is_rebuilt(
    tmp_path: Path,
) -> None:
    contract = load_contract(write_model(tmp_path, days=1))
    profiles = tmp_path / "profiles"
    ensure_profile(contract, profiles)
    signature_file = profiles / "toy" / "1.0.0" / SIGNATURE_FILE
    for change in ({"format_version": FORMAT_VERSION - 1}, {"signature": "0" * 64}):
        stored = json.loads(signature_file.read_text())
        signature_file.write_text(json.dumps({**stored, **change}))
        stamp = built_at(profiles)
        ensure_profile(contract, profiles)
        assert built_at(profiles) != stamp, change
        rewritten = json.loads(signature_file.read_text())
        assert rewritten["format_version"] == FORMAT_VERSION
        assert rewritten["signature"] == stored["signature"]
    assert (
        json.loads((profiles / "toy" / "1.0.0" / "profile.json").read_text())["format_version"]
        == FORMAT_VERSION
    )


def _write_fixed_layout(frame: pl.DataFrame, path: Path) -> None:
    """Parquet whose byte size depends only on the schema and row count: no compression,
    no dictionary, no statistics (so the same size holds other values)."""
    pq.write_table(
        frame.to_arrow(), path, compression="none", use_dictionary=False, write_statistics=False
    )


def test_training_data_replaced_with_the_same_size_and_mtime_rebuilds_the_profile(
    tmp_path: Path,
) -> None:
    contract = load_contract(write_model(tmp_path, days=1))
    training = tmp_path / "toy" / "training.parquet"
    original = pl.read_parquet(training)
    _write_fixed_layout(original, training)
    stamp = training.stat()
    profiles = tmp_path / "profiles"
    current = pl.read_parquet(tmp_path / "toy" / "features" / f"{FIRST_DAY.isoformat()}.parquet")
    drift_rows(contract, current, profiles)  # stores the profile of the original data
    # The same bytes count, other values, the old mtime (as `cp -p` or `rsync -t` leave it).
    _write_fixed_layout(original.with_columns(pl.col("x") + 3.0), training)
    os.utime(training, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert training.stat().st_size == stamp.st_size
    assert training.stat().st_mtime_ns == stamp.st_mtime_ns

    def ks_of_x(profiles_dir: Path) -> float:
        rows = drift_rows(contract, current, profiles_dir)
        return float(rows.filter((pl.col("sli") == "ks") & (pl.col("feature") == "x"))["value"][0])

    reused = ks_of_x(profiles)
    fresh = ks_of_x(tmp_path / "fresh-profiles")
    assert reused == fresh
    assert fresh > 0.5  # x moved by 1.5 standard deviations: a stale profile says ~0


def test_a_shifted_score_distribution_is_prediction_drift(tmp_path: Path) -> None:
    body = contract_dict()
    body["sources"]["prediction_baseline"] = "toy/reference.parquet"
    contract_path = write_model(tmp_path, days=2, rows=2000, contract=body)
    rng = np.random.default_rng(3)
    scores = rng.uniform(0, 1, 5000)
    pl.DataFrame(
        {"score": scores, "predicted_label": (scores >= 0.5).astype(np.int64)}
    ).write_parquet(tmp_path / "toy" / "reference.parquet")
    shifted_day = FIRST_DAY + dt.timedelta(days=1)
    path = tmp_path / "toy" / "predictions" / f"{shifted_day.isoformat()}.parquet"
    pl.read_parquet(path).with_columns(
        (pl.col("score") ** 3).alias("score"),  # the model turned timid
        (pl.col("score") ** 3 >= 0.5).cast(pl.Int64).alias("predicted_label"),
    ).write_parquet(path)
    contract = load_contract(contract_path)

    def prediction_rows(day: dt.date) -> dict[tuple[str, str], bool | None]:
        frame = drift_slis(contract, day, tmp_path / "profiles")
        rows = frame.filter(pl.col("category") == "prediction_drift")
        return {(r["sli"], r["feature"]): r["ok"] for r in rows.iter_rows(named=True)}

    clean = prediction_rows(FIRST_DAY)
    assert clean == {
        ("ks", "score"): True,
        ("psi", "score"): True,
        ("chi2", "predicted_label"): True,
        ("psi", "predicted_label"): True,
    }
    drifted = prediction_rows(shifted_day)
    assert drifted[("ks", "score")] is False
    assert drifted[("chi2", "predicted_label")] is False


def test_the_drifted_feature_share_names_a_declared_feature_the_day_lacks(
    tmp_path: Path,
) -> None:
    """A feature column missing from the day has no drift rows; the share row says so
    instead of reading "0 of 2" as if every declared feature had been checked."""
    contract = load_contract(write_model(tmp_path, days=1))
    day = pl.read_parquet(tmp_path / "toy" / "features" / f"{FIRST_DAY.isoformat()}.parquet")
    rows = drift_rows(contract, day.drop("k"), tmp_path / "profiles")
    share = rows.filter(pl.col("sli") == "drifted_feature_share").row(0, named=True)
    assert share["n_rows"] == 2 and "of 2 features with a verdict drifted" in share["detail"]
    assert share["detail"].endswith("; not measured (absent or mistyped, see schema_valid): k")
    whole = drift_rows(contract, day, tmp_path / "profiles")
    assert "not measured" not in whole.filter(pl.col("sli") == "drifted_feature_share")["detail"][0]


def test_a_date_feature_is_never_named_as_not_measured(tmp_path: Path) -> None:
    """Drift compares numeric and categorical features only: a declared Date feature has
    no drift rows on any day, which is no finding of the day."""
    body = contract_dict()
    body["features"] = {**body["features"], "d": {"dtype": "Date"}}
    contract = load_contract(write_model(tmp_path, days=1, contract=body))
    day_file = tmp_path / "toy" / "features" / f"{FIRST_DAY.isoformat()}.parquet"
    for path in (tmp_path / "toy" / "training.parquet", day_file):
        pl.read_parquet(path).with_columns(d=pl.col("event_ts").dt.date()).write_parquet(path)
    rows = drift_rows(contract, pl.read_parquet(day_file), tmp_path / "profiles")
    share = rows.filter(pl.col("sli") == "drifted_feature_share")["detail"][0]
    assert "not measured" not in share, share
    rows = drift_rows(contract, pl.read_parquet(day_file).drop("x"), tmp_path / "profiles")
    share = rows.filter(pl.col("sli") == "drifted_feature_share")["detail"][0]
    assert share.endswith("not measured (absent or mistyped, see schema_valid): x"), share
