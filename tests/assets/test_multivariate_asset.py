"""The multivariate drift SLIs on the bundled samples: the domain classifier breaches on
the covariate-shift days (incident a) and not on the first clean days; the threshold's
calibration is computed once per baseline and reused."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from assets import multivariate_day
from assets.multivariate_day import multivariate_slis
from checks.contract import Contract, load_contracts

SAMPLES = Path("data/samples/contracts")


@pytest.fixture(scope="module")
def profiles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("profiles")


def _contract(model: str) -> Contract:
    return {c.model: c for c in load_contracts(SAMPLES)}[model]


def _row(frame: pl.DataFrame, sli: str) -> dict[str, object]:
    rows = frame.filter(pl.col("sli") == sli)
    assert rows.height == 1
    return rows.row(0, named=True)


@pytest.mark.parametrize(
    ("day", "breached"),
    [("2026-11-01", False), ("2026-11-02", False), ("2026-11-03", False), ("2026-11-06", True)],
)
def test_the_domain_classifier_breaches_on_the_shift_days_only(
    profiles: Path, day: str, breached: bool
) -> None:
    frame = multivariate_slis(_contract("fraud_detection"), dt.date.fromisoformat(day), profiles)
    domain = _row(frame, "domain_classifier_auc")
    pca = _row(frame, "pca_reconstruction_error")
    assert domain["ok"] is (not breached) and pca["ok"] is (not breached)
    assert domain["category"] == "drift" and domain["feature"] is None
    assert 0.5 < domain["objective"] < 0.6  # type: ignore[operator]
    if breached:
        assert domain["value"] > 0.9  # type: ignore[operator]
        # the two shifted features are named first
        detail = str(domain["detail"])
        first_two = detail.split("separates best: ")[1].split("), ")[:2]
        assert {part.split(" ")[0] for part in first_two} == {
            "avg_amount_30d",
            "session_duration_s",
        }
    else:
        assert domain["value"] < 0.53  # type: ignore[operator]


def test_the_calibration_is_stored_and_reused(
    profiles: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    contract = _contract("fraud_detection")
    multivariate_slis(contract, dt.date(2026, 11, 2), profiles)
    stored = list((profiles / "fraud_detection" / contract.version / "multivariate").glob("*.json"))
    assert [p.name for p in stored] == ["domain_null_3000.json"]

    def refuse(*args: object) -> None:
        raise AssertionError("recalibrated although the baseline did not change")

    monkeypatch.setattr(multivariate_day, "calibrate_domain_null", refuse)
    frame = multivariate_slis(contract, dt.date(2026, 11, 2), profiles)
    assert _row(frame, "domain_classifier_auc")["ok"] is True


def test_an_unreadable_features_file_gives_no_rows(profiles: Path) -> None:
    # delivery_eta 11-08 is truncated (incident j): ingest_ok records it, not these SLIs
    assert multivariate_slis(_contract("delivery_eta"), dt.date(2026, 11, 8), profiles).is_empty()


def test_a_day_above_the_read_limit_is_read_as_a_random_sample(
    profiles: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(multivariate_day, "MULTIVARIATE_READ_ROWS", 1000)
    frame = multivariate_slis(_contract("fraud_detection"), dt.date(2026, 11, 6), profiles)
    for sli in ("domain_classifier_auc", "pca_reconstruction_error"):
        row = _row(frame, sli)
        # 1,000 of the 2,500 rows read; the SLIs use at most that many.
        assert "of 2500 rows (seed 0, via a random sample of 1000)" in str(row["detail"])
        assert row["n_rows"] <= 1000  # type: ignore[operator]
    # The shift is still found on the sample.
    assert _row(frame, "domain_classifier_auc")["ok"] is False
