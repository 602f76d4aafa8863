"""`datasre run` on a model whose snapshots carry integer ids (as many real tables do),
with the label file keeping the same ids as text: no schema breach, the same accuracy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
from sklearn.metrics import accuracy_score

from assets.store import SliStore
from pipelines.cli import main
from tests.fixtures import FIRST_DAY, contract_dict, write_model

NOW = "2026-04-01T00:00:00+00:00"
ROWS = 400


def test_int64_ids_in_features_and_predictions_with_text_ids_in_labels(tmp_path: Path) -> None:
    body = contract_dict(slices=["c"], min_slice_rows=10)
    body["sources"]["labels"] = "toy/labels/{date}.parquet"
    body["predictions"]["target"] = "label"
    contract = write_model(tmp_path, days=1, rows=ROWS, contract=body)
    day = FIRST_DAY.isoformat()
    toy = tmp_path / "toy"
    ids = pl.int_range(9_000_000_000, 9_000_000_000 + ROWS, dtype=pl.Int64).alias("id")
    for source in ("features", "predictions"):
        path = toy / source / f"{day}.parquet"
        pl.read_parquet(path).with_columns(ids).write_parquet(path)
    predictions = pl.read_parquet(toy / "predictions" / f"{day}.parquet")
    rng = np.random.default_rng(4)
    predicted = predictions["predicted_label"].to_numpy()
    truth = np.where(rng.uniform(0, 1, ROWS) < 0.1, 1 - predicted, predicted)
    (toy / "labels").mkdir()
    # Text ids, in reverse order: only a join by value gives the right pairs.
    pl.DataFrame({"id": predictions["id"].cast(pl.String), "label": truth}).reverse().write_parquet(
        toy / "labels" / f"{day}.parquet"
    )

    db = tmp_path / "s.duckdb"
    argv = ["run", "--config", str(contract), "--db", str(db), "--now", NOW, "--quiet"]
    assert main([*argv, "--partition", day]) == 0
    store = SliStore(db)
    schema = store.query(
        "select sli, feature, value, ok, detail from sli_latest where category = 'schema' "
        "and sli in ('schema_valid', 'schema_validity', 'duplicate_id_rate')"
    )
    assert schema.height == 4  # features: 3 rows; predictions: schema_valid
    assert schema["ok"].to_list() == [True] * 4, schema.rows()
    accuracy = store.fetchall(
        "select value, n_rows from sli_latest where sli = 'accuracy' and slice is null"
    )
    assert accuracy == [(float(accuracy_score(truth, predicted)), ROWS)]
    slices = store.fetchall(
        "select sum(n_rows) from sli_latest where sli = 'slice_accuracy' and slice like 'c=%'"
    )
    assert slices == [(ROWS,)]  # every labelled row found its feature row (Int64 ids)
    assert store.fetchall("select status from runs") == [("succeeded",)]
