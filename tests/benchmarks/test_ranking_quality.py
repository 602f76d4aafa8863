"""benchmarks/ranking_quality.py builds a ranking day chunk by chunk whose ids match across
its three files and whose queries hold 10 documents, and its bucketed quality step gives
the rows of the whole-day join."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from assets.quality import quality_slis
from benchmarks import ranking_quality
from checks.contract_loader import load_contract


def test_a_small_day_is_consistent_and_scores_alike_bucketed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ranking_quality, "CHUNK_ROWS", 1000)
    contract_path = ranking_quality.build_day(3000, tmp_path)
    model = tmp_path / "model"
    day = f"{ranking_quality.DAY}.parquet"
    files = {s: pl.read_parquet(model / s / day) for s in ("predictions", "labels", "features")}
    assert {f.height for f in files.values()} == {3000}
    assert files["predictions"]["id"].is_unique().all()
    for other in ("labels", "features"):
        assert files[other]["id"].equals(files["predictions"]["id"])
    assert set(files["predictions"].group_by("query").len()["len"]) == {10}
    contract = load_contract(contract_path)
    whole = quality_slis(contract, ranking_quality.DAY)
    bucketed = quality_slis(contract, ranking_quality.DAY, bucket_rows=700)
    assert whole.filter(pl.col("sli") == "ndcg")["status"].to_list() == ["ok"]
    assert whole.filter(pl.col("sli") == "slice_ndcg").height == len(ranking_quality.COUNTRIES)
    keys = ["sli", "slice"]
    assert_frame_equal(bucketed.sort(keys), whole.sort(keys), check_exact=False, rel_tol=1e-12)
