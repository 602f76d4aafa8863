"""The validation asset reads the day's features in one streaming pass, and that pass
gives the same rows as the schema, completeness and freshness checks run one by one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
from pytest import MonkeyPatch

from assets.validation import validation_slis
from checks.completeness import completeness_sli_rows
from checks.contract import load_contract
from checks.feature_pass import feature_pass
from checks.freshness import evaluation_time, freshness_sli_rows
from checks.scalars import batch_scalars
from checks.schema_validation import schema_sli_rows, validate_snapshot
from tests.fixtures import FIRST_DAY, write_model

NOW = dt.datetime.combine(FIRST_DAY + dt.timedelta(days=3), dt.time(), tzinfo=dt.UTC)


def test_a_clean_day_reads_the_features_in_one_pass(
    tmp_path: Path, monkeypatch: MonkeyPatch
) -> None:
    contract = load_contract(write_model(tmp_path, days=1, rows=500))
    selects: list[int] = []
    real = batch_scalars

    def counting(batch: pl.DataFrame, exprs: Any, *, derived: Any = ()) -> pl.DataFrame:
        selects.append(len(exprs))
        return real(batch, exprs, derived=derived)

    monkeypatch.setattr("checks.feature_pass.batch_scalars", counting)
    rows = validation_slis(contract, FIRST_DAY, NOW)
    assert len(selects) == 1 and selects[0] > 10  # schema + nulls + timestamps: one select
    ingest = rows.filter(pl.col("sli") == "ingest_ok")
    assert ingest.select("feature", "value", "n_rows").rows() == [
        ("features", 1.0, 500),
        ("predictions", 1.0, 500),
    ]


def test_the_one_pass_gives_the_rows_of_each_check_run_alone(tmp_path: Path) -> None:
    contract = load_contract(write_model(tmp_path, days=1, rows=500))
    path = tmp_path / "toy" / "features" / f"{FIRST_DAY}.parquet"
    frame = pl.read_parquet(path)
    bad = frame.with_columns(
        pl.when(pl.int_range(pl.len()) < 40).then(None).otherwise(pl.col("x")).alias("x"),
        pl.when(pl.int_range(pl.len()) % 50 == 0).then(pl.lit("dup")).otherwise("id").alias("id"),
    )
    bad.write_parquet(path, row_group_size=64)
    as_of = evaluation_time(contract, FIRST_DAY, NOW)
    trained = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    one_pass = feature_pass(contract, pl.scan_parquet(path), as_of=as_of, trained_until=trained)
    alone = [
        *schema_sli_rows(contract, validate_snapshot(contract, bad)),
        *completeness_sli_rows(contract, bad),
        *freshness_sli_rows(contract, bad, as_of=as_of, trained_until=trained),
    ]
    assert one_pass.n_rows == 500
    assert one_pass.rows == alone
    assert any(row.sli == "schema_validity" and row.ok is False for row in one_pass.rows)
