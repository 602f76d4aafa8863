"""Estimated quality (CBPE) rows: on an unlabelled day only, calibrated on the days the
contract guarantees labelled, replaced by the realized metrics when labels land."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from assets import estimated_quality
from assets.estimated_quality import calibration_reference, estimated_quality_slis, reference_days
from assets.sample_read import read_sampled
from assets.store import SliStore
from checks.contract import Contract, load_contracts
from checks.estimated_quality import estimated_quality_rows
from pipelines.cli import main
from tests.fixtures import FIRST_DAY, contract_dict, write_model

SAMPLES = Path("data/samples/contracts")


def _fraud() -> Contract:
    return {c.model: c for c in load_contracts(SAMPLES)}["fraud_detection"]


def test_an_unlabelled_sample_day_gets_estimated_rows_and_a_labelled_day_none() -> None:
    contract = _fraud()
    rows = estimated_quality_slis(contract, dt.date(2026, 11, 13))
    assert rows["sli"].to_list() == [
        "estimated_accuracy", "estimated_precision", "estimated_recall", "estimated_f1",
        "estimated_roc_auc",
    ]  # fmt: skip
    assert set(rows["status"]) == {"estimated"} and set(rows["method"]) == {"cbpe"}
    assert set(rows["category"]) == {"estimated_quality"}
    accuracy = rows.row(0, named=True)
    # judged against the contract's accuracy objective; no estimated SLO is declared
    assert accuracy["objective"] == 0.94 and accuracy["ok"] is True
    assert "2026-11-04 .. 2026-11-10 (7 labelled days)" in accuracy["detail"]
    assert 0.9 < accuracy["value"] < 0.99 and accuracy["n_rows"] > 2400
    assert estimated_quality_slis(contract, dt.date(2026, 11, 12)).is_empty()


def test_a_day_above_the_read_limits_is_estimated_from_random_samples(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    contract, day = _fraud(), dt.date(2026, 11, 13)
    whole = estimated_quality_slis(contract, day)
    monkeypatch.setattr(estimated_quality, "DAY_MAX_ROWS", 1000)
    monkeypatch.setattr(estimated_quality, "REFERENCE_DAY_MAX_ROWS", 300)
    sampled = estimated_quality_slis(contract, day)
    assert sampled["sli"].to_list() == whole["sli"].to_list()
    predictions = contract.resolve(contract.sources.predictions or "", day)
    total = pl.scan_parquet(predictions).select(pl.len()).collect().item()
    accuracy = sampled.row(0, named=True)
    detail = str(accuracy["detail"])
    assert detail.endswith(
        f"; the day's scores: a random sample of 1000 of {total} rows "
        "(seeded, spread evenly over the file)"
    )
    assert accuracy["n_rows"] <= 1000
    # 7 reference days of at most 300 sampled predictions each.
    assert int(detail.split("calibration on ")[1].split(" ", maxsplit=1)[0]) <= 7 * 300
    # A 1,000-row sample and a 2,100-row calibration: within a few points of the whole.
    for metric in ("estimated_accuracy", "estimated_roc_auc"):
        near = sampled.filter(pl.col("sli") == metric).item(0, "value")
        assert near == pytest.approx(
            whole.filter(pl.col("sli") == metric).item(0, "value"), abs=0.03
        )


def test_a_sampled_reference_day_joins_the_labels_of_its_sampled_ids(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    contract, day = _fraud(), dt.date(2026, 11, 13)
    monkeypatch.setattr(estimated_quality, "REFERENCE_DAY_MAX_ROWS", 500)
    reference, _ = calibration_reference(contract, day)
    root = Path("data/samples/fraud_detection")
    expected = []
    for reference_day in reference_days(contract, day):
        # The sampled rows (the sampler has its own tests), joined by a plain in-memory join.
        sampled = read_sampled(
            str(root / "predictions" / f"{reference_day}.parquet"),
            ["transaction_id", "fraud_score"],
            500,
        ).frame
        assert sampled.height == 500
        labels = pl.read_parquet(root / "labels" / f"{reference_day}.parquet")
        expected.append(
            sampled.join(
                labels.unique("transaction_id", keep="last", maintain_order=True),
                on="transaction_id",
                maintain_order="left",
            ).select("fraud_score", "is_fraud")
        )
    assert reference.equals(pl.concat(expected, how="vertical_relaxed"))
    assert 7 * 300 < reference.height <= 7 * 500


def test_the_reference_is_the_days_the_label_delay_guarantees() -> None:
    days = reference_days(_fraud(), dt.date(2026, 11, 13))  # max_label_delay_days: 3
    assert days[0] == dt.date(2026, 11, 4) and days[-1] == dt.date(2026, 11, 10)
    assert len(days) == 7


def test_on_clean_sample_days_the_estimate_is_within_its_band_of_the_realized_accuracy() -> None:
    # 11-04 .. 11-06 and 11-08 have no label incident (the data's README); pretend their
    # labels are not in and compare with the realized accuracy of their label files.
    contract = _fraud()
    root = Path("data/samples/fraud_detection")
    for day in ("2026-11-04", "2026-11-05", "2026-11-06", "2026-11-08"):
        predictions = pl.read_parquet(root / "predictions" / f"{day}.parquet")
        reference, period = calibration_reference(contract, dt.date.fromisoformat(day))
        rows = estimated_quality_rows(contract, reference, predictions, reference_days=period)
        row = rows.row(0, named=True)
        labels = pl.read_parquet(root / "labels" / f"{day}.parquet")
        joined = predictions.join(labels, on="transaction_id").drop_nulls("predicted_label")
        realized = (joined["predicted_label"] == joined["is_fraud"]).cast(pl.Float64).mean()
        assert isinstance(realized, float)
        low, high = (float(x) for x in row["detail"].split("[")[1].split("]")[0].split(", "))
        assert low <= realized <= high, (day, row["value"], realized)
        assert abs(row["value"] - realized) < 0.005


def test_a_multiclass_reference_is_not_estimated() -> None:
    """CBPE calibrates P(positive_label): a 3-class model's estimated accuracy was 0.80,
    judged ok, while its accuracy was 0.57 (found by a new user)."""
    contract = _fraud()
    day = "2026-11-08"
    predictions = pl.read_parquet(
        Path("data/samples/fraud_detection/predictions") / f"{day}.parquet"
    )
    reference, period = calibration_reference(contract, dt.date.fromisoformat(day))
    three = reference.with_columns(
        pl.when(pl.int_range(pl.len()) % 3 == 0).then(2).otherwise(pl.col("is_fraud"))
        .cast(reference.schema["is_fraud"]).alias("is_fraud")
    )  # fmt: skip
    rows = estimated_quality_rows(contract, three, predictions, reference_days=period)
    assert set(rows["status"]) == {"skipped"}
    assert rows["value"].is_null().all() and rows["ok"].is_null().all()
    assert "hold 3 classes" in rows["detail"][0]
    binary = estimated_quality_rows(contract, reference, predictions, reference_days=period)
    assert set(binary["status"]) == {"estimated"}


def _labels(predictions: pl.DataFrame, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return predictions.select(
        "id",
        pl.Series(
            "label",
            (rng.uniform(size=predictions.height) < predictions["score"].to_numpy()).astype(
                np.int64
            ),
        ),
    )


def test_late_labels_replace_the_estimate_with_the_realized_accuracy(tmp_path: Path) -> None:
    body = contract_dict()
    body["sources"]["labels"] = "toy/labels/{date}.parquet"
    body["predictions"]["target"] = "label"
    contract = write_model(tmp_path, days=5, contract=body)
    toy = tmp_path / "toy"
    (toy / "labels").mkdir()
    for offset in range(2):  # the first two days are labelled
        day = (FIRST_DAY + dt.timedelta(days=offset)).isoformat()
        predictions = pl.read_parquet(toy / "predictions" / f"{day}.parquet")
        _labels(predictions, offset).write_parquet(toy / "labels" / f"{day}.parquet")
    last = (FIRST_DAY + dt.timedelta(days=4)).isoformat()
    db = tmp_path / "s.duckdb"
    args = ["run", "--config", str(contract), "--db", str(db), "--partition", last, "--quiet"]
    assert main([*args, "--now", "2026-03-07T06:00:00+00:00"]) == 0
    store = SliStore(db)
    estimated = store.fetchall(
        "select sli, status, ok from sli_latest where category = 'estimated_quality' order by sli"
    )
    assert [(s, st) for s, st, _ in estimated] == [
        ("estimated_accuracy", "estimated"), ("estimated_f1", "estimated"),
        ("estimated_precision", "estimated"), ("estimated_recall", "estimated"),
        ("estimated_roc_auc", "estimated"),
    ]  # fmt: skip
    assert store.fetchall("select count(*) from sli_latest where sli = 'accuracy'") == [(0,)]

    predictions = pl.read_parquet(toy / "predictions" / f"{last}.parquet")
    _labels(predictions, 9).write_parquet(toy / "labels" / f"{last}.parquet")
    assert main([*args, "--now", "2026-03-10T06:00:00+00:00"]) == 0
    assert store.fetchall(
        "select count(*) from sli_latest where category = 'estimated_quality'"
    ) == [(0,)]
    assert store.fetchall(
        "select count(*) from sli_latest where sli = 'accuracy' and slice is null"
    ) == [(1,)]
    # the estimate stays auditable in the history of replaced rows
    assert store.fetchall(
        "select count(*) from sli_history where sli = 'estimated_accuracy' and status = 'estimated'"
    ) == [(1,)]
