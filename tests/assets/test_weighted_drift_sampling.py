"""``importance_weighted_drift`` on a day larger than the explain read limit: measured on a
random sample, close to the whole day's value, and saying so in its detail; the
scores are joined to the sampled rows exactly as to the whole day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from assets import explain_inputs
from assets.explain_inputs import day_features, day_scored
from assets.weighted_drift import weighted_drift_slis
from checks.contract import Contract, load_contracts

SAMPLES = Path("data/samples/contracts")
#: A sample day with a shift in two features (incident a) and 2,500 rows.
SHIFTED = dt.date(2026, 11, 6)


def _fraud() -> Contract:
    return {c.model: c for c in load_contracts(SAMPLES)}["fraud_detection"]


def _value_and_detail(frame: pl.DataFrame) -> tuple[float, str]:
    row = frame.row(0, named=True)
    return float(row["value"]), str(row["detail"])


def test_a_sampled_day_is_close_to_the_whole_day_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    whole_value, whole_detail = _value_and_detail(weighted_drift_slis(_fraud(), SHIFTED))
    assert "random sample" not in whole_detail
    monkeypatch.setattr(explain_inputs, "EXPLAIN_MAX_ROWS", 800)
    frame = weighted_drift_slis(_fraud(), SHIFTED)
    value, detail = _value_and_detail(frame)
    day_rows = pl.scan_parquet(_fraud().resolve(_fraud().sources.features, SHIFTED))
    total = day_rows.select(pl.len()).collect().item()
    assert f"day: a random sample of 800 of {total} rows" in detail
    assert "training: a random sample of 800 of" in detail
    assert frame.get_column("n_rows").item() == 800
    # Effects of 800-row samples: within the DKW bound of such a sample (0.05 at 95%).
    assert value == pytest.approx(whole_value, abs=0.05)
    assert whole_value > 0.05  # the shift is there to be measured, not two zeros


def test_scores_join_the_sampled_rows_as_a_plain_join_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    contract = _fraud()
    monkeypatch.setattr(explain_inputs, "EXPLAIN_MAX_ROWS", 700)
    features = day_features(contract, SHIFTED)
    assert features is not None and features.height <= 700
    scored = day_scored(contract, SHIFTED, features)
    assert scored is not None
    id_column, score = contract.sources.id_column, contract.predictions.score
    assert score is not None and contract.sources.predictions is not None
    log = pl.read_parquet(contract.resolve(contract.sources.predictions, SHIFTED))
    expected = features.join(
        log.select(id_column, pl.col(score).cast(pl.Float64).alias("score")).unique(
            id_column, keep="first", maintain_order=True
        ),
        on=id_column,
    )
    assert scored.height > 0.9 * features.height
    assert scored.sort(id_column).equals(expected.sort(id_column))
