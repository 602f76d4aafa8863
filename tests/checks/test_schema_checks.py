"""Schema, completeness and freshness checks against hand-computed values."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from checks.completeness import completeness_sli_rows, null_counts
from checks.contract import Contract
from checks.freshness import evaluation_time, freshness_sli_rows
from checks.schema_validation import schema_sli_rows, validate_snapshot
from checks.sli import SliRow
from tests.fixtures import FIRST_DAY, contract_dict, make_features

N = 200


@pytest.fixture
def contract() -> Contract:
    return Contract.model_validate(contract_dict())


@pytest.fixture
def clean() -> pl.DataFrame:
    return make_features(N, FIRST_DAY)


def first(rows: list[SliRow], sli: str, feature: str | None = None) -> SliRow:
    return next(r for r in rows if r.sli == sli and (feature is None or r.feature == feature))


def set_first(frame: pl.DataFrame, column: str, count: int, value: object) -> pl.DataFrame:
    return frame.with_columns(
        pl.when(pl.int_range(pl.len()) < count)
        .then(pl.lit(value, dtype=frame.schema[column]))
        .otherwise(pl.col(column))
        .alias(column)
    )


def test_a_clean_snapshot_is_valid_and_meets_every_schema_objective(
    contract: Contract, clean: pl.DataFrame
) -> None:
    report = validate_snapshot(contract, clean)
    assert report.schema_valid and report.n_invalid_rows == 0 and not report.errors
    rows = schema_sli_rows(contract, report)
    assert [(r.sli, r.value, r.ok) for r in rows] == [
        ("schema_valid", 1.0, True),
        ("schema_validity", 1.0, True),
        ("duplicate_id_rate", 0.0, True),
    ]


def test_out_of_range_values_and_infinities_count_as_invalid_rows_but_nan_does_not(
    contract: Contract, clean: pl.DataFrame
) -> None:
    frame = set_first(clean, "x", 6, -1.0)  # rows 0-5 below min 0
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 10)
        .then(float("inf"))
        .when(pl.int_range(pl.len()) == 11)
        .then(float("nan"))
        .otherwise(pl.col("x"))
        .alias("x")
    )
    contract_nullable_x = Contract.model_validate(
        contract_dict(
            features={
                **contract_dict()["features"],
                "x": {"dtype": "Float64", "nullable": True, "min": 0, "max": 20},
            }
        )
    )
    report = validate_snapshot(contract_nullable_x, frame)
    assert report.n_invalid_rows == 7  # 6 negative + 1 infinite; NaN is a null
    validity = first(schema_sli_rows(contract_nullable_x, report), "schema_validity")
    assert validity.value == pytest.approx(1 - 7 / N)
    assert validity.ok is False  # 0.965 < 0.99
    assert validity.detail is not None and "x within_range" in validity.detail


def test_nan_in_a_non_nullable_float_is_a_null_violation(
    contract: Contract, clean: pl.DataFrame
) -> None:
    report = validate_snapshot(contract, set_first(clean, "x", 3, float("nan")))
    assert [(f.column, f.check, f.n_rows) for f in report.failures] == [("x", "not_nullable", 3)]


def test_unseen_categories_and_duplicate_ids_are_counted(
    contract: Contract, clean: pl.DataFrame
) -> None:
    frame = set_first(clean, "c", 4, "zebra")
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) >= N - 5)
        .then(pl.lit("dup"))
        .otherwise(pl.col("id"))
        .alias("id")
    )
    report = validate_snapshot(contract, frame)
    # 5 rows share the id "dup": 4 of them repeat an earlier row.
    assert report.n_duplicate_ids == 4
    checks = {(f.column, f.check): f.n_rows for f in report.failures}
    assert checks[("c", "isin(['a', 'b', 'c'])")] == 4
    assert checks[("id", "field_uniqueness")] == 5
    rows = schema_sli_rows(contract, report)
    assert first(rows, "duplicate_id_rate").value == pytest.approx(4 / N)
    assert first(rows, "duplicate_id_rate").ok is False


def test_missing_extra_and_wrongly_typed_columns_make_the_schema_invalid(
    contract: Contract, clean: pl.DataFrame
) -> None:
    frame = clean.drop("k").with_columns(pl.col("x").cast(pl.String), pl.lit(1).alias("surprise"))
    report = validate_snapshot(contract, frame)
    assert report.missing_columns == ("k",)
    assert report.wrong_dtypes == (("x", "Float64", "String"),)
    assert report.extra_columns == ("surprise",)
    assert not report.errors  # data checks never ran on the wrongly typed column
    row = first(schema_sli_rows(contract, report), "schema_valid")
    assert (row.value, row.ok, row.blocking) == (0.0, False, True)
    assert row.detail == (
        "column k: missing; column x: expected Float64, got String; "
        "column surprise: not in the contract"
    )


def test_null_rates_count_nan_and_missing_columns_and_completeness_is_the_cell_share(
    contract: Contract, clean: pl.DataFrame
) -> None:
    frame = set_first(clean, "x", 20, float("nan"))
    frame = set_first(frame, "c", 10, None).drop("k")
    assert null_counts(contract, frame) == {"x": 20, "k": N, "c": 10}
    rows = completeness_sli_rows(contract, frame)
    assert first(rows, "null_rate", "x").value == pytest.approx(0.1)
    assert first(rows, "null_rate", "x").ok is False
    assert first(rows, "null_rate", "c").value == pytest.approx(0.05)
    assert first(rows, "null_rate", "c").ok is True  # <= 0.05
    assert first(rows, "null_rate", "k").value == 1.0
    # 3 features x 200 rows = 600 cells; 20 + 200 + 10 are null.
    assert first(rows, "completeness").value == pytest.approx(1 - 230 / 600)


def test_a_feature_max_null_rate_wins_over_the_contract_slo(clean: pl.DataFrame) -> None:
    body = contract_dict()
    body["features"]["c"]["max_null_rate"] = 0.01
    contract = Contract.model_validate(body)
    row = first(completeness_sli_rows(contract, set_first(clean, "c", 4, None)), "null_rate", "c")
    assert (row.objective, row.value, row.ok) == (0.01, 0.02, False)


def test_evaluation_time_is_day_end_plus_delay_capped_at_now(contract: Contract) -> None:
    late = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert evaluation_time(contract, FIRST_DAY, late) == dt.datetime(2026, 3, 3, 6, tzinfo=dt.UTC)
    early = dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC)
    assert evaluation_time(contract, FIRST_DAY, early) == early
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluation_time(contract, FIRST_DAY, dt.datetime(2026, 3, 2))


def test_staleness_and_model_age_in_seconds_and_days(
    contract: Contract, clean: pl.DataFrame
) -> None:
    newest = clean["event_ts"].max()
    assert isinstance(newest, dt.datetime)
    as_of = newest + dt.timedelta(hours=30)
    trained = as_of - dt.timedelta(days=100, hours=12)
    rows = freshness_sli_rows(contract, clean, as_of=as_of, trained_until=trained)
    staleness, age, _skew = rows
    assert (staleness.value, staleness.ok) == (30 * 3600.0, True)  # <= 129600 s
    assert (age.value, age.ok) == (100.5, False)  # > 90 days
    stale = freshness_sli_rows(
        contract, clean, as_of=as_of + dt.timedelta(hours=7), trained_until=None
    )
    assert stale[0].ok is False  # 37 h > 36 h
    assert (stale[1].status, stale[1].ok) == ("error", False)


def test_no_usable_timestamps_is_a_recorded_error_not_a_crash(
    contract: Contract, clean: pl.DataFrame
) -> None:
    frame = clean.with_columns(pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("event_ts"))
    row = freshness_sli_rows(
        contract, frame, as_of=dt.datetime(2026, 3, 3, tzinfo=dt.UTC), trained_until=None
    )[0]
    assert (row.value, row.status, row.ok) == (None, "error", False)
    assert row.detail == "no usable timestamps in column event_ts"


def test_the_prediction_log_schema_names_missing_and_mistyped_columns(
    contract: Contract, clean: pl.DataFrame
) -> None:
    from checks.schema_validation import prediction_schema_row
    from tests.fixtures import make_predictions

    predictions = make_predictions(clean)
    good = prediction_schema_row(contract, predictions)
    assert (good.feature, good.value, good.ok) == ("predictions", 1.0, True)
    bad = prediction_schema_row(
        contract, predictions.drop("score").with_columns(pl.col("latency_ms").cast(pl.String))
    )
    assert (bad.value, bad.ok, bad.blocking) == (0.0, False, True)
    assert bad.detail == "column score: missing; column latency_ms: expected a number, got String"


def test_a_model_output_with_no_value_on_any_row_fails_the_prediction_log_schema(
    contract: Contract, clean: pl.DataFrame
) -> None:
    """A score or predicted label null (or NaN) on every row is as good as absent: the
    quality metrics it feeds could only say they had no row to score, with no verdict."""
    from checks.schema_validation import prediction_schema_row
    from tests.fixtures import make_predictions

    predictions = make_predictions(clean)
    assert contract.predictions.predicted_label in predictions.columns
    label = contract.predictions.predicted_label
    no_labels = predictions.with_columns(pl.lit(None, dtype=predictions.schema[label]).alias(label))
    row = prediction_schema_row(contract, no_labels)
    assert (row.value, row.ok, row.blocking) == (0.0, False, True)
    assert row.detail == f"column {label}: every value is null"
    nan_scores = predictions.with_columns(pl.lit(float("nan")).alias("score"))
    assert prediction_schema_row(contract, nan_scores).detail == (
        "column score: every value is null or NaN"
    )
    # One usable value is enough (nulls on some rows are the completeness SLIs' business),
    # and an empty log has nothing to judge here.
    one_left = no_labels.with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(predictions.get_column(label))
        .otherwise(pl.col(label))
        .alias(label)
    )
    assert prediction_schema_row(contract, one_left).value == 1.0
    assert prediction_schema_row(contract, no_labels.head(0)).value == 1.0
