"""Drafting a contract from data (``datasre init``'s pure part)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl
import pytest
import yaml

from checks.contract import Contract, ModelType
from checks.contract_inference import DailyFiles, InitInputs, draft_contract
from checks.errors import InputError

DAY = dt.date(2026, 11, 1)


def _events(n: int, day: dt.date) -> pl.Series:
    start = dt.datetime.combine(day, dt.time(), dt.UTC)
    return pl.Series("event_ts", [start + dt.timedelta(seconds=10 * i) for i in range(n)])


def _inputs(
    training: pl.DataFrame,
    *,
    model_type: ModelType = ModelType.CLASSIFICATION,
    features: pl.DataFrame | None = None,
    predictions: pl.DataFrame | None = None,
    labels: pl.DataFrame | None = None,
    tier: int = 2,
) -> InitInputs:
    n = 300
    feature_columns = [c for c in training.columns if c not in ("event_ts", "target")]
    daily = features
    if daily is None:
        daily = (
            training.head(n)
            .select(feature_columns)
            .with_columns(pl.Series("row_id", [f"r-{i}" for i in range(n)]), _events(n, DAY))
        )

    def files(pattern: str, frame: pl.DataFrame | None) -> DailyFiles | None:
        return None if frame is None else DailyFiles(pattern, DAY, ((DAY, frame),))

    built = files("features/{date}.parquet", daily)
    assert built is not None
    return InitInputs(
        model="toy",
        model_type=model_type,
        tier=tier,
        training_path="training.parquet",
        training=training,
        features=built,
        predictions=files("predictions/{date}.parquet", predictions),
        labels=files("labels/{date}.parquet", labels),
    )


def _training(n: int = 2000, seed: int = 7) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    null_rows = np.flatnonzero(rng.uniform(size=n) < 0.1)
    return pl.DataFrame(
        {
            "event_ts": _events(n, DAY - dt.timedelta(days=40)),
            "amount": rng.uniform(10, 20, n),
            "delta": rng.uniform(-10, 10, n),
            "share": rng.uniform(0, 0.8, n),
            "count": rng.integers(1, 9, n),
            "colour": rng.choice(["red", "NO", "yes"], n),
            "code": [f"c{i % 60}" for i in range(n)],
            "sparse": pl.Series(rng.normal(size=n)).scatter(null_rows, None),
            "target": (rng.uniform(size=n) < 0.2).astype(np.int64),
        }
    )


def _load(text: str) -> dict[str, Any]:
    raw = yaml.safe_load(text)
    assert isinstance(raw, dict)
    Contract.model_validate(raw)
    return raw


def test_numeric_ranges_are_widened_by_half_the_span_and_keep_a_zero_floor() -> None:
    features = _load(draft_contract(_inputs(_training())))["features"]
    amount, delta, count = features["amount"], features["delta"], features["count"]
    assert amount["min"] == 0  # never negative in training: 0 stays the floor
    assert 24.9 <= amount["max"] <= 25.1  # 20 + 0.5 * 10
    assert -20.1 <= delta["min"] <= -19.9 and 19.9 <= delta["max"] <= 20.1
    assert (count["dtype"], count["min"], count["max"]) == ("Int64", 0, 12)  # 8 + 3.5, up


def test_a_float_column_inside_zero_one_is_a_fraction() -> None:
    share = _load(draft_contract(_inputs(_training())))["features"]["share"]
    assert (share["min"], share["max"]) == (0, 1)


def test_low_cardinality_strings_get_allowed_values_that_stay_strings_in_yaml() -> None:
    features = _load(draft_contract(_inputs(_training())))["features"]
    assert sorted(features["colour"]["allowed_values"]) == ["NO", "red", "yes"]
    assert "allowed_values" not in features["code"]  # 60 values: too many to list


def test_nullability_and_max_null_rate_come_from_training() -> None:
    features = _load(draft_contract(_inputs(_training())))["features"]
    assert features["sparse"]["nullable"] is True
    assert features["amount"]["nullable"] is False
    assert 0.16 <= features["sparse"]["max_null_rate"] <= 0.22  # twice ~10%


def test_id_and_timestamp_columns_are_found_in_the_daily_file() -> None:
    sources = _load(draft_contract(_inputs(_training())))["sources"]
    assert (sources["id_column"], sources["timestamp_column"]) == ("row_id", "event_ts")
    assert sources["training_timestamp_column"] == "event_ts"
    assert sources["start_date"] == DAY


def test_no_id_column_is_one_line_naming_the_file() -> None:
    training = _training()
    daily = training.head(300).drop("target").with_columns(pl.lit("same").alias("row_id"))
    inputs = _inputs(training, features=daily)
    with pytest.raises(InputError, match=r"^features/\{date\}\.parquet: no id column"):
        draft_contract(inputs)


def _log(training: pl.DataFrame, score: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
    n = score.len()
    ids = pl.Series("row_id", [f"r-{i}" for i in range(n)])
    predictions = pl.DataFrame(
        [ids, _events(n, DAY), score, pl.Series("latency_ms", np.full(n, 40.0))]
    )
    labels = pl.DataFrame([ids, training.get_column("target").head(n)])
    return predictions, labels


def test_classification_accuracy_objective_is_the_majority_class_share() -> None:
    training = _training()
    score = pl.Series("p_score", np.linspace(0, 1, 300))
    predictions, labels = _log(training, score)
    raw = _load(draft_contract(_inputs(training, predictions=predictions, labels=labels)))
    majority = 1 - float(training.get_column("target").cast(pl.Float64).sum()) / training.height
    accuracy = raw["slos"]["model"]["accuracy"]["objective"]
    assert majority - 0.001 <= accuracy <= majority
    assert raw["predictions"]["score"] == "p_score"
    assert raw["predictions"]["target"] == "target"
    assert raw["slos"]["infra"]["latency_p99_ms"]["objective"] == 80
    assert raw["slos"]["infra"]["throughput_rows"]["objective"] == 240


def test_regression_error_objectives_are_relative_to_the_target_spread() -> None:
    rng = np.random.default_rng(3)
    training = _training().with_columns(pl.Series("target", rng.normal(100, 20, 2000)))
    predictions, labels = _log(training, pl.Series("predicted", rng.normal(100, 20, 300)))
    inputs = _inputs(
        training, model_type=ModelType.REGRESSION, predictions=predictions, labels=labels
    )
    text = draft_contract(inputs)
    spread = float(training.get_column("target").std())  # type: ignore[arg-type]
    model = _load(text)["slos"]["model"]
    assert spread * 0.5 <= model["rmse"]["objective"] <= spread * 0.5 * 1.01
    assert spread * 0.4 <= model["mae"]["objective"] <= spread * 0.4 * 1.01
    assert "R^2 >= 0.75" in text


def test_tier_sets_the_target_and_what_blocks() -> None:
    tier1 = _load(draft_contract(_inputs(_training(), tier=1)))["slos"]["model"]
    tier3 = _load(draft_contract(_inputs(_training(), tier=3)))["slos"]["model"]
    assert tier1["completeness"] == {"objective": 0.99, "target": 0.95, "blocking": True}
    assert tier3["completeness"] == {"objective": 0.99, "target": 0.8}
    assert tier1["data_staleness_seconds"]["blocking"] is True
    assert "blocking" not in tier3["data_staleness_seconds"]


def test_every_inferred_feature_line_says_where_it_came_from() -> None:
    text = draft_contract(_inputs(_training()))
    feature_lines = [line for line in text.splitlines() if "{dtype:" in line]
    assert feature_lines and all("  # " in line for line in feature_lines)


def test_a_ranking_model_gets_its_query_column_and_an_ndcg_slo() -> None:
    training = _training()
    n = 300
    ids = pl.Series("row_id", [f"r-{i}" for i in range(n)])
    predictions = pl.DataFrame(
        [ids, _events(n, DAY), pl.Series("query_id", [i // 10 for i in range(n)]),
         pl.Series("rank_score", np.linspace(0, 1, n))]
    )  # fmt: skip
    labels = pl.DataFrame([ids, training.get_column("target").head(n)])
    inputs = _inputs(training, model_type=ModelType.RANKING, predictions=predictions, labels=labels)
    raw = _load(draft_contract(inputs))
    assert raw["predictions"]["ranking_group"] == "query_id"
    assert raw["predictions"]["score"] == "rank_score"
    assert raw["slos"]["model"]["ndcg"]["objective"] == 0.8


def test_a_text_predicted_class_is_the_label_not_the_status() -> None:
    """Any text column of few values was taken as the status: a 3-class model's
    predicted queue became 'availability', the share of tickets sent to one queue (found
    by a new user)."""
    from checks.contract_inference_columns import prediction_columns

    queues = ["billing", "tech", "sales"]
    log = pl.DataFrame(
        {
            "ticket_id": [f"t{i}" for i in range(30)],
            "confidence": np.linspace(0.4, 0.9, 30),
            "predicted_queue": [queues[i % 3] for i in range(30)],
            "http_status": ["ok"] * 28 + ["error"] * 2,
            "latency_ms": np.linspace(5, 50, 30),
        }
    )
    found = prediction_columns(log, ModelType.CLASSIFICATION, {"ticket_id"}, set(queues))
    assert (found.predicted_label, found.status, found.success_value) == (
        "predicted_queue", "http_status", "ok"
    )  # fmt: skip
    # Without a status column, none: the predicted class is not one.
    alone = prediction_columns(log.drop("http_status"), ModelType.CLASSIFICATION,
                               {"ticket_id"}, set(queues))  # fmt: skip
    assert (alone.predicted_label, alone.status) == ("predicted_queue", None)
