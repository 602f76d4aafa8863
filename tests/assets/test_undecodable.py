"""A corrupt page behind a good footer: the step that meets it records the source's failed
ingest (naming the file) instead of crashing the run, and only then."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from assets.drift import drift_slis
from assets.quality import quality_slis
from assets.undecodable import first_undecodable, or_unreadable
from checks.contract import load_contract
from tests.assets.test_quality_asset import with_labels
from tests.fixtures import FIRST_DAY, corrupt_page, write_model


def _file(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    pl.DataFrame({"x": [float(i) for i in range(5000)], "k": list(range(5000))}).write_parquet(path)
    return path


def test_the_first_file_that_does_not_decode_is_named(tmp_path: Path) -> None:
    good, bad = _file(tmp_path, "good.parquet"), _file(tmp_path, "bad.parquet")
    corrupt_page(bad, "x")
    with pytest.raises(pl.exceptions.PolarsError):
        pl.read_parquet(bad)  # the premise: polars cannot read it either
    assert first_undecodable([str(good)]) is None
    problem = first_undecodable([str(good), str(bad)])
    assert problem is not None
    assert str(problem).startswith(f"{bad}: cannot read parquet (")


def test_an_error_the_files_do_not_explain_is_raised(tmp_path: Path) -> None:
    good = str(_file(tmp_path, "good.parquet"))
    contract = load_contract(write_model(tmp_path, days=1, rows=10))

    def fails() -> pl.DataFrame:
        raise pl.exceptions.ComputeError("not the data's fault")

    with pytest.raises(pl.exceptions.ComputeError, match="not the data's fault"):
        or_unreadable(contract, {"features": [good]}, fails)


def test_drift_of_a_features_file_that_does_not_decode_is_its_failed_ingest(
    tmp_path: Path,
) -> None:
    contract = load_contract(write_model(tmp_path, days=1, rows=3000))
    features = tmp_path / "toy" / "features" / f"{FIRST_DAY}.parquet"
    corrupt_page(features, "x")
    rows = drift_slis(contract, FIRST_DAY, tmp_path / "profiles")
    failed = rows.filter(pl.col("feature") == "features")
    assert failed.select("sli", "value", "ok").rows() == [("ingest_ok", 0.0, False)]
    assert failed["detail"][0].startswith(f"{features}: cannot read parquet (")
    assert rows.height == 1  # no drift row pretends the file read


def test_labels_that_do_not_decode_are_their_failed_ingest_not_a_crash(tmp_path: Path) -> None:
    contract = load_contract(with_labels(tmp_path))
    labels = tmp_path / "toy" / "labels" / f"{FIRST_DAY}.parquet"
    corrupt_page(labels, "label")
    rows = quality_slis(contract, FIRST_DAY)
    ingest = rows.filter((pl.col("sli") == "ingest_ok") & (pl.col("feature") == "labels"))
    # The footer read (the first row), the data did not (the second): the writer keeps
    # the failed one (checks.ingest_rows).
    assert ingest["ok"].to_list() == [True, False]
    assert ingest["detail"][1].startswith(f"{labels}: cannot read parquet (")
    assert rows.filter(pl.col("category") == "quality").is_empty()


def test_a_prediction_log_column_only_quality_reads_is_the_logs_failed_ingest(
    tmp_path: Path,
) -> None:
    """Validation reads the log's footers and model outputs, not its latency: a corrupt
    latency page made the quality step return no row at all, so the day's prediction-log
    SLIs were silently missing while its ingest said "read"."""
    contract = load_contract(with_labels(tmp_path))
    predictions = tmp_path / "toy" / "predictions" / f"{FIRST_DAY}.parquet"
    corrupt_page(predictions, "latency_ms")
    rows = quality_slis(contract, FIRST_DAY)
    assert rows.select("sli", "feature", "ok").rows() == [("ingest_ok", "predictions", False)]
    assert rows["detail"][0].startswith(f"{predictions}: cannot read parquet (")
