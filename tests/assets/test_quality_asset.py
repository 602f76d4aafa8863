"""The quality asset's I/O: labels when they exist, slices from the features snapshot."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from pytest import MonkeyPatch

import assets.quality as quality_asset
from assets.quality import quality_slis
from assets.query_buckets import QueryFiles
from checks.contract import Contract, load_contract
from tests.fixtures import CATEGORIES, FIRST_DAY, contract_dict, write_model
from tests.quality_join_spy import distinct_ids_per_join


def with_labels(tmp_path: Path) -> Path:
    body = contract_dict(slices=["c"], min_slice_rows=10)
    body["sources"]["labels"] = "toy/labels/{date}.parquet"
    body["predictions"]["target"] = "label"
    path = write_model(tmp_path, days=1, rows=300, contract=body)
    predictions = pl.read_parquet(tmp_path / "toy" / "predictions" / f"{FIRST_DAY}.parquet")
    (tmp_path / "toy" / "labels").mkdir()
    flips = np.random.default_rng(1).uniform(0, 1, predictions.height) < 0.05
    predictions.select(
        "id",
        pl.when(pl.Series(flips))
        .then(1 - pl.col("predicted_label"))
        .otherwise(pl.col("predicted_label"))
        .alias("label"),
    ).write_parquet(tmp_path / "toy" / "labels" / f"{FIRST_DAY}.parquet")
    return path


def test_quality_is_scored_per_slice_when_labels_exist(tmp_path: Path) -> None:
    contract = load_contract(with_labels(tmp_path))
    rows = quality_slis(contract, FIRST_DAY)
    accuracy = rows.filter(pl.col("sli") == "accuracy")
    assert accuracy["slice"].to_list() == [None]
    assert accuracy["ok"].to_list() == [True]  # 0.95
    sliced = rows.filter(pl.col("sli") == "slice_accuracy").sort("slice")
    assert sliced["slice"].to_list() == ["c=a", "c=b", "c=c"]
    assert rows.filter(pl.col("sli") == "ingest_ok")["feature"].to_list() == ["labels"]


def test_an_empty_features_snapshot_leaves_slices_unjudged_not_bogus(tmp_path: Path) -> None:
    contract = load_contract(with_labels(tmp_path))
    features = tmp_path / "toy" / "features" / f"{FIRST_DAY}.parquet"
    pl.read_parquet(features).head(0).write_parquet(features)
    rows = quality_slis(contract, FIRST_DAY)
    sliced = rows.filter(pl.col("slice").is_not_null())
    assert sliced.height > 0
    assert sliced["status"].unique().to_list() == ["skipped"]
    assert sliced["ok"].null_count() == sliced.height
    overall = rows.filter((pl.col("sli") == "accuracy") & pl.col("slice").is_null())
    assert overall.height == 1 and overall["ok"][0] is True


def test_a_missing_score_column_breaches_the_score_metrics(tmp_path: Path) -> None:
    contract = load_contract(with_labels(tmp_path))
    path = tmp_path / "toy" / "predictions" / f"{FIRST_DAY}.parquet"
    pl.read_parquet(path).drop("score").write_parquet(path)
    rows = quality_slis(contract, FIRST_DAY).filter(pl.col("slice").is_null())
    errors = rows.filter(pl.col("status") == "error")
    assert sorted(errors["sli"].to_list()) == [
        "calibration_error", "confidence_p50", "log_loss", "roc_auc",
    ]  # fmt: skip
    quality_errors = errors.filter(pl.col("category") == "quality")
    assert quality_errors["detail"].unique().to_list() == [
        "prediction column(s) score named by the contract are missing"
    ]
    assert rows.filter(pl.col("sli") == "accuracy")["status"].to_list() == ["ok"]


def test_a_missing_features_snapshot_leaves_slices_unjudged_like_an_unreadable_one(
    tmp_path: Path,
) -> None:
    contract = load_contract(with_labels(tmp_path))
    (tmp_path / "toy" / "features" / f"{FIRST_DAY}.parquet").unlink()
    rows = quality_slis(contract, FIRST_DAY)
    sliced = rows.filter(pl.col("slice").is_not_null())
    assert sliced["slice"].unique().to_list() == ["c=?"]
    assert sliced["status"].unique().to_list() == ["skipped"]
    assert sliced["ok"].null_count() == sliced.height  # no breach per slice SLI
    assert sliced["detail"].unique().to_list() == [
        "slice columns come from the features snapshot, which is missing"
    ]
    overall = rows.filter((pl.col("sli") == "accuracy") & pl.col("slice").is_null())
    assert overall.height == 1 and overall["ok"][0] is True


def test_only_the_columns_quality_uses_are_read(tmp_path: Path, monkeypatch: MonkeyPatch) -> None:
    contract = load_contract(with_labels(tmp_path))
    read: dict[str, list[str]] = {}
    real = quality_asset._optional

    def spy(
        contract: Contract, pattern: str | None, day: dt.date, columns: list[str]
    ) -> pl.LazyFrame | None:
        scan = real(contract, pattern, day, columns)
        if scan is not None and pattern is not None:
            read[Path(pattern).parent.name] = scan.collect_schema().names()
        return scan

    monkeypatch.setattr(quality_asset, "_optional", spy)
    quality_slis(contract, FIRST_DAY)
    assert read == {
        "predictions": ["id", "score", "predicted_label", "latency_ms", "status"],
        "labels": ["id", "label"],
        "features": ["id", "c"],
    }


def _ids_as(kind: str, tmp_path: Path) -> None:
    """The toy day's text ids as integers in every snapshot (``integer``), or in the
    predictions and labels only, the features keeping them as text (``mixed``)."""
    for name in ("predictions", "labels", "features"):
        path = tmp_path / "toy" / name / f"{FIRST_DAY}.parquet"
        number = pl.col("id").str.extract(r"-(\d+)$").cast(pl.Int64)
        if kind == "mixed" and name == "features":
            number = number.cast(pl.String)
        pl.read_parquet(path).with_columns(number.alias("id")).write_parquet(path)


@pytest.mark.parametrize("ids", ["text", "integer", "mixed"])
def test_bucketed_and_spilled_days_equal_the_one_bucket_day(
    tmp_path: Path, monkeypatch: MonkeyPatch, ids: str
) -> None:
    # 300 prediction rows: 100 rows a bucket filters the snapshots 3 times; 30 a bucket
    # makes 10 buckets (above SPILL_BUCKETS: split on disk once, text ids written as their
    # fingerprints); restated labels included. Integer ids hash into buckets as integers,
    # mixed ones as text: a row in no bucket or in two is miscounted.
    contract = load_contract(with_labels(tmp_path))
    if ids != "text":
        _ids_as(ids, tmp_path)
    labels = tmp_path / "toy" / "labels" / f"{FIRST_DAY}.parquet"
    restated = pl.read_parquet(labels)
    flipped = restated.head(40).with_columns((1 - pl.col("label")).alias("label"))
    restated = pl.concat([restated, flipped])
    restated.write_parquet(labels)
    whole = quality_slis(contract, FIRST_DAY, bucket_rows=10_000)
    assert whole.filter(pl.col("sli") == "accuracy")["n_rows"].to_list() == [300]
    assert 300 // 100 <= quality_asset.SPILL_BUCKETS < 300 // 30
    for bucket_rows in (100, 30):
        got = quality_slis(contract, FIRST_DAY, bucket_rows=bucket_rows)
        assert_frame_equal(got, whole, check_exact=False, rel_tol=1e-12, abs_tol=1e-12)
    # Fewer split files than buckets: file i holds buckets i, i + 3, ...
    monkeypatch.setattr(quality_asset, "SPLIT_FILES", 3)
    got = quality_slis(contract, FIRST_DAY, bucket_rows=30)
    assert_frame_equal(got, whole, check_exact=False, rel_tol=1e-12, abs_tol=1e-12)


def test_splits_on_disk_foretells_the_step_from_the_footers_alone(
    tmp_path: Path, monkeypatch: MonkeyPatch
) -> None:
    # The run holds other work until a split day's quality step has ended: the forecast
    # must be the step's own decision.
    contract = load_contract(with_labels(tmp_path))
    split_calls: list[int] = []
    real_split = quality_asset._split

    def spy(*args: object, **kwargs: object) -> object:
        split_calls.append(1)
        return real_split(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(quality_asset, "_split", spy)
    for bucket_rows, expected in ((10_000, False), (100, False), (30, True)):
        split_calls.clear()
        quality_slis(contract, FIRST_DAY, bucket_rows=bucket_rows)
        assert bool(split_calls) is expected
        forecast = quality_asset.splits_on_disk(contract, FIRST_DAY, bucket_rows=bucket_rows)
        assert forecast is expected
    unlabelled = contract.model_copy(
        update={"sources": contract.sources.model_copy(update={"labels": None})}
    )
    assert not quality_asset.splits_on_disk(unlabelled, FIRST_DAY, bucket_rows=30)
    assert not quality_asset.splits_on_disk(
        contract, FIRST_DAY + dt.timedelta(days=9), bucket_rows=30
    )  # no predictions that day


def test_a_split_day_skips_the_deduplication_bucket_by_bucket(
    tmp_path: Path, monkeypatch: MonkeyPatch
) -> None:
    # 4 restated labels among 300: the buckets they fall in de-duplicate the labels, the
    # others are proven distinct and skip it; the rows equal the one-bucket day's.
    contract = load_contract(with_labels(tmp_path))
    labels = tmp_path / "toy" / "labels" / f"{FIRST_DAY}.parquet"
    restated = pl.read_parquet(labels)
    flipped = restated.head(4).with_columns((1 - pl.col("label")).alias("label"))
    pl.concat([restated, flipped]).write_parquet(labels)
    whole = quality_slis(contract, FIRST_DAY, bucket_rows=10_000)
    seen = distinct_ids_per_join(monkeypatch)
    got = quality_slis(contract, FIRST_DAY, bucket_rows=30)
    assert_frame_equal(got, whole, check_exact=False, rel_tol=1e-12, abs_tol=1e-12)
    assert len(seen) == 10
    assert 1 <= seen.count(frozenset({"features"})) <= 4  # restated labels in it
    assert seen.count(frozenset({"labels", "features"})) == 10 - seen.count(frozenset({"features"}))


def test_a_bucketed_day_whose_feature_ids_are_not_ids_is_not_split(
    tmp_path: Path, monkeypatch: MonkeyPatch
) -> None:
    # Float feature ids cannot be matched: the slices say so, as on a one-bucket day. A
    # split would fingerprint them as text and join them in every bucket but the first.
    contract = load_contract(with_labels(tmp_path))
    features = tmp_path / "toy" / "features" / f"{FIRST_DAY}.parquet"
    number = pl.col("id").str.extract(r"-(\d+)$").cast(pl.Float64)
    pl.read_parquet(features).with_columns(number.alias("id")).write_parquet(features)
    splits: list[object] = []
    real = quality_asset._split

    def spy(*args: object) -> object:
        splits.append(real(*args))  # type: ignore[arg-type]
        return splits[-1]

    monkeypatch.setattr(quality_asset, "_split", spy)
    whole = quality_slis(contract, FIRST_DAY, bucket_rows=10_000)
    slices = whole.filter(pl.col("slice").is_not_null())
    assert slices.height and set(slices["status"]) == {"error"}
    assert "Float64" in slices["detail"][0]
    got = quality_slis(contract, FIRST_DAY, bucket_rows=30)
    assert splits == [None]
    assert_frame_equal(got, whole, check_exact=False, rel_tol=1e-12, abs_tol=1e-12)


def test_a_ranking_day_regrouped_by_query_on_disk_equals_the_one_bucket_day(
    tmp_path: Path, monkeypatch: MonkeyPatch
) -> None:
    # 300 rows in queries of 1-9 documents: 60 rows a bucket regroups 5 id buckets into 5
    # query buckets (files); 30 rows a bucket also splits the day on disk first.
    predictions_spec = {"score": "score", "target": "rel", "ranking_group": "query", "ndcg_k": 3}
    body = contract_dict(type="ranking", slices=["c"], min_slice_rows=10)
    body["predictions"] = {**body["predictions"], **predictions_spec}
    del body["predictions"]["predicted_label"]
    body["sources"]["labels"] = "toy/labels/{date}.parquet"
    contract = load_contract(write_model(tmp_path, days=1, rows=300, contract=body))
    day_file = f"{FIRST_DAY}.parquet"
    predictions_path = tmp_path / "toy" / "predictions" / day_file
    predictions = pl.read_parquet(predictions_path)
    rng = np.random.default_rng(3)
    sizes = rng.integers(1, 10, predictions.height)
    query = np.repeat(np.arange(sizes.size), sizes)[: predictions.height]
    predictions.with_columns(query=pl.Series(query).cast(pl.String)).write_parquet(predictions_path)
    rel = rng.integers(0, 4, predictions.height)
    labels = predictions.select("id", rel=pl.Series(rel, dtype=pl.Float64))
    restated = labels.head(30).with_columns(rel=3.0 - pl.col("rel"))
    (tmp_path / "toy" / "labels").mkdir()
    pl.concat([labels, restated]).write_parquet(tmp_path / "toy" / "labels" / day_file)
    whole = quality_slis(contract, FIRST_DAY, bucket_rows=10_000)
    ndcg = whole.filter(pl.col("sli") == "ndcg")
    assert ndcg["status"].to_list() == ["ok"] and ndcg["n_rows"][0] > 250
    assert whole.filter(pl.col("sli") == "slice_ndcg").height == len(CATEGORIES)
    added: list[int] = []
    add = QueryFiles.add

    def counted_add(self: QueryFiles, rows: pl.DataFrame) -> None:
        added.append(rows.height)
        add(self, rows)

    monkeypatch.setattr(QueryFiles, "add", counted_add)
    for bucket_rows in (60, 30):
        added.clear()
        got = quality_slis(contract, FIRST_DAY, bucket_rows=bucket_rows)
        assert_frame_equal(got, whole, check_exact=False, rel_tol=1e-12, abs_tol=1e-12)
        assert len(added) == 300 // bucket_rows  # every id bucket's rows were regrouped
