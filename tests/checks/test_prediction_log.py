"""Prediction-log SLIs: quantiles equal numpy's default (linear), availability, throughput."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checks.contract import Contract
from checks.prediction_log import prediction_log_sli_rows
from checks.sli import SLI_SCHEMA
from tests.fixtures import minimal_contract

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def contract(kind: str = "classification", **columns: Any) -> Contract:
    predictions = {
        "score": "score",
        "latency_ms": "latency",
        "cost": "cost",
        "status": "status",
        "success_value": "ok",
    }
    predictions.update(columns)
    # Only the SLOs the named columns can measure (the contract refuses the others).
    infra = {
        name: spec
        for name, spec, column in (
            ("latency_p99_ms", {"objective": 250.0}, predictions["latency_ms"]),
            ("availability", {"objective": 0.99}, predictions["status"]),
        )
        if column is not None
    }
    return minimal_contract(
        sources={"predictions": "p/{date}.parquet"},
        type=kind,
        features={"x": {"dtype": "Float64"}},
        predictions={k: v for k, v in predictions.items() if v is not None},
        slos={"infra": infra},
    )


def by_sli(rows: pl.DataFrame) -> dict[str, dict[str, Any]]:
    return {row["sli"]: row for row in rows.iter_rows(named=True)}


finite = st.floats(0.0, 1e4, allow_nan=False)


@FAST
@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.floats(0.0, 1.0, allow_nan=False)),
            st.one_of(st.none(), st.just(math.nan), finite),
            st.one_of(st.none(), finite),
            st.sampled_from(["ok", "error", None]),
        ),
        min_size=1,
        max_size=60,
    )
)
def test_quantiles_equal_numpy(log: list[tuple[Any, Any, Any, Any]]) -> None:
    frame = pl.DataFrame(
        log,
        schema={
            "score": pl.Float64,
            "latency": pl.Float64,
            "cost": pl.Float64,
            "status": pl.String,
        },
        orient="row",
    )
    rows = by_sli(prediction_log_sli_rows(contract(), frame))

    def check(sli: str, values: np.ndarray, q: float) -> None:
        values = values[~np.isnan(values)]
        if values.size == 0:
            assert rows[sli]["status"] == "insufficient_data" and rows[sli]["value"] is None
        else:
            assert math.isclose(
                rows[sli]["value"], np.quantile(values, q), rel_tol=1e-12, abs_tol=1e-12
            )
            assert rows[sli]["n_rows"] == values.size

    score = frame["score"].to_numpy().astype(float)
    check("confidence_p50", np.maximum(score, 1 - score), 0.5)
    latency = frame["latency"].fill_nan(None).to_numpy().astype(float)
    check("latency_p50_ms", latency, 0.5)
    check("latency_p99_ms", latency, 0.99)
    cost = frame["cost"].to_numpy().astype(float)
    check("cost_per_prediction_p50", cost, 0.5)
    check("cost_per_prediction_p99", cost, 0.99)
    statuses = [row[3] for row in log]
    assert math.isclose(rows["availability"]["value"], statuses.count("ok") / len(log))
    assert rows["throughput_rows"]["value"] == len(log)


def test_rows_tracks_objectives_and_categories() -> None:
    frame = pl.DataFrame(
        {
            "score": [0.9, 0.2, 0.6, 0.5],
            "latency": [10.0, 20.0, 30.0, 400.0],
            "cost": [0.01, 0.01, 0.02, 0.01],
            "status": ["ok", "ok", "ok", "timeout"],
        }
    )
    rows = prediction_log_sli_rows(contract(), frame)
    assert dict(rows.schema) == dict(SLI_SCHEMA)
    got = by_sli(rows)
    assert list(got) == [
        "confidence_p50",
        "latency_p50_ms",
        "latency_p99_ms",
        "cost_per_prediction_p50",
        "cost_per_prediction_p99",
        "availability",
        "throughput_rows",
    ]
    assert got["confidence_p50"]["track"] == "model"
    assert math.isclose(got["confidence_p50"]["value"], np.quantile([0.9, 0.8, 0.6, 0.5], 0.5))
    assert {got[s]["track"] for s in got if s != "confidence_p50"} == {"infra"}
    assert got["latency_p99_ms"]["ok"] is False  # 388.3 ms > 250 ms
    assert got["latency_p50_ms"]["ok"] is None  # no objective declared
    assert got["availability"]["value"] == 0.75 and got["availability"]["ok"] is False
    assert got["cost_per_prediction_p99"]["category"] == "cost"


def test_unnamed_columns_are_skipped_and_missing_ones_are_errors() -> None:
    c = contract("regression", latency_ms=None, cost=None, status=None)
    frame = pl.DataFrame({"score": [1.0, 2.0]})
    got = by_sli(prediction_log_sli_rows(c, frame))
    assert list(got) == ["throughput_rows"]  # no confidence for regression
    errors = by_sli(prediction_log_sli_rows(contract(), frame))
    assert errors["latency_p99_ms"]["status"] == "error"
    assert errors["latency_p99_ms"]["ok"] is False
    assert errors["availability"]["status"] == "error"


def test_empty_log() -> None:
    frame = pl.DataFrame(
        schema={"score": pl.Float64, "latency": pl.Float64, "cost": pl.Float64, "status": pl.String}
    )
    got = by_sli(prediction_log_sli_rows(contract(), frame))
    assert got["throughput_rows"]["value"] == 0.0
    assert got["availability"]["status"] == "insufficient_data"
    assert got["latency_p99_ms"]["status"] == "insufficient_data"
    assert got["latency_p99_ms"]["ok"] is None


def test_a_log_longer_than_sort_max_rows_gives_the_same_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Above SORT_MAX_ROWS the quantiles are found by narrowing, not by sorting the
    column: the same rows, values equal bit for bit (nulls, NaN and ties included)."""
    rng = np.random.default_rng(5)
    n = 5_000
    frame = pl.DataFrame(
        {
            "score": rng.random(n),
            "latency": np.where(rng.random(n) < 0.05, np.nan, rng.lognormal(3.0, 1.0, n)),
            "cost": rng.integers(1, 5, n) / 1000,
            "status": rng.choice(["ok", "error"], n, p=[0.99, 0.01]),
        }
    ).with_columns(
        pl.when(pl.int_range(pl.len()) % 97 == 0).then(None).otherwise("score").alias("score")
    )
    sorted_whole = prediction_log_sli_rows(contract(), frame.lazy())
    monkeypatch.setattr("checks.prediction_log.SORT_MAX_ROWS", 100)
    narrowed = prediction_log_sli_rows(contract(), frame.lazy())
    assert narrowed.equals(sorted_whole)
    assert frame["score"].null_count() == 52 and frame["latency"].is_nan().sum() > 0
