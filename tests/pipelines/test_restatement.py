"""Late labels: a day is scored when its labels land, and the restatement is visible in
``runs`` (which run, when, how many labels) while ``sli_latest`` shows the restated rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from assets.store import SliStore
from pipelines.cli import main
from tests.fixtures import contract_dict, write_model

DAY = "2026-03-02"


def test_labels_arriving_later_restate_the_day(tmp_path: Path) -> None:
    body = contract_dict()
    body["sources"]["labels"] = "toy/labels/{date}.parquet"
    body["predictions"]["target"] = "label"
    contract = write_model(tmp_path, days=1, contract=body)
    db = tmp_path / "s.duckdb"
    args = ["run", "--config", str(contract), "--db", str(db), "--partition", DAY, "--quiet"]
    assert main([*args, "--now", "2026-03-03T06:00:00+00:00"]) == 0
    store = SliStore(db)
    assert store.fetchall("select count(*) from sli_latest where category = 'quality'") == [(0,)]

    predictions = pl.read_parquet(tmp_path / "toy" / "predictions" / f"{DAY}.parquet")
    rng = np.random.default_rng(7)
    flip = rng.uniform(0, 1, predictions.height) < 0.1  # 90% of labels agree with the model
    labels = predictions.select(
        "id",
        pl.Series(
            "label",
            np.where(flip, 1 - predictions["predicted_label"], predictions["predicted_label"]),
        ),
    )
    (tmp_path / "toy" / "labels").mkdir()
    labels.write_parquet(tmp_path / "toy" / "labels" / f"{DAY}.parquet")
    assert main([*args, "--now", "2026-03-05T06:00:00+00:00"]) == 0

    runs = store.fetchall(
        "select n_labels from runs where partition = ? order by finished_at", [DAY]
    )
    assert runs == [(None,), (predictions.height,)]
    accuracy = store.fetchall(
        "select value, n_rows from sli_latest where sli = 'accuracy' and slice is null"
    )
    expected = 1 - flip.mean()
    assert len(accuracy) == 1 and abs(accuracy[0][0] - expected) < 1e-12
    assert accuracy[0][1] == predictions.height
    # the restated day keeps exactly one set of rows
    assert store.fetchall("select count(distinct run_id) from sli_results") == [(1,)]


def test_a_restatement_keeps_the_replaced_values_queryable(tmp_path: Path) -> None:
    body = contract_dict()
    body["sources"]["labels"] = "toy/labels/{date}.parquet"
    body["predictions"]["target"] = "label"
    contract = write_model(tmp_path, days=1, contract=body)
    db = tmp_path / "s.duckdb"
    args = ["run", "--config", str(contract), "--db", str(db), "--partition", DAY, "--quiet"]
    predictions = pl.read_parquet(tmp_path / "toy" / "predictions" / f"{DAY}.parquet")
    (tmp_path / "toy" / "labels").mkdir()
    rng = np.random.default_rng(11)
    draws = rng.uniform(0, 1, predictions.height)
    accuracies = []
    for share_flipped, now in (
        (0.1, "2026-03-04T06:00:00+00:00"),
        (0.3, "2026-03-06T06:00:00+00:00"),
    ):
        flip = draws < share_flipped  # the corrected labels disagree with the model more
        predicted = predictions["predicted_label"].to_numpy()
        labels = predictions.select(
            "id", pl.Series("label", np.where(flip, 1 - predicted, predicted))
        )
        labels.write_parquet(tmp_path / "toy" / "labels" / f"{DAY}.parquet")
        assert main([*args, "--now", now]) == 0
        accuracies.append(1 - flip.mean())

    store = SliStore(db)
    first_run, second_run = (
        row[0] for row in store.fetchall("select run_id from runs order by finished_at")
    )
    both = store.fetchall(
        "select run_id, value from sli_history where sli = 'accuracy' and slice is null "
        "union all "
        "select run_id, value from sli_latest where sli = 'accuracy' and slice is null "
        "order by value desc"
    )
    assert [run for run, _ in both] == [first_run, second_run]
    assert [value for _, value in both] == pytest.approx(accuracies, abs=1e-12)
    # sli_latest: one row per SLI, all of the newest run
    keys = store.fetchall(
        "select count(*), count(distinct (sli, feature, slice, method)), count(distinct run_id) "
        "from sli_latest"
    )
    assert keys[0][0] == keys[0][1] and keys[0][2] == 1
    replaced_by = store.fetchall("select distinct replaced_by from sli_history")
    assert replaced_by == [(second_run,)]
