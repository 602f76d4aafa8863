"""Ids of any integer or string type: validation accepts them, joins agree across types.

Accuracy is checked against ``sklearn.metrics.accuracy_score`` on labels aligned by hand
(numpy, by position), never through datasre's own join.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import accuracy_score

from checks.contract import Contract
from checks.ids import comparable_ids, is_id_dtype
from checks.quality import quality_sli_rows
from checks.schema_validation import prediction_schema_row, schema_sli_rows, validate_snapshot
from checks.schemas import UNIQUE
from tests.fixtures import FIRST_DAY, contract_dict, make_features, make_predictions

N = 300
INTEGER_TYPES = [pl.Int64, pl.Int32, pl.Int16, pl.UInt64, pl.UInt32, pl.UInt16]


@pytest.fixture
def contract() -> Contract:
    return Contract.model_validate(
        contract_dict(
            predictions={
                "score": "score",
                "predicted_label": "predicted_label",
                "target": "y",
                "latency_ms": "latency_ms",
            },
            slices=["c"],
            min_slice_rows=10,
        )
    )


def with_ids(frame: pl.DataFrame, dtype: pl.DataType | type[pl.DataType]) -> pl.DataFrame:
    """The frame with ids 1000, 1001, ... of ``dtype`` (as text when it is a string type)."""
    numbers = pl.int_range(1000, 1000 + frame.height, dtype=pl.Int64)
    return frame.with_columns(numbers.cast(pl.String).cast(dtype).alias("id"))


@pytest.mark.parametrize("dtype", [*INTEGER_TYPES, pl.String, pl.Categorical])
def test_a_feature_snapshot_with_integer_or_string_ids_has_no_schema_breach(
    contract: Contract, dtype: type[pl.DataType]
) -> None:
    frame = with_ids(make_features(N, FIRST_DAY), dtype)
    report = validate_snapshot(contract, frame)
    assert report.schema_detail() is None
    rows = schema_sli_rows(contract, report)
    assert [(r.sli, r.value, r.ok) for r in rows] == [
        ("schema_valid", 1.0, True),
        ("schema_validity", 1.0, True),
        ("duplicate_id_rate", 0.0, True),
    ]


@pytest.mark.parametrize("dtype", [pl.Float64, pl.Boolean, pl.Date])
def test_an_id_column_of_another_type_is_a_schema_breach_naming_the_column(
    contract: Contract, dtype: type[pl.DataType]
) -> None:
    frame = make_features(N, FIRST_DAY).with_columns(pl.int_range(pl.len()).cast(dtype).alias("id"))
    report = validate_snapshot(contract, frame)
    valid = schema_sli_rows(contract, report)[0]
    assert (valid.sli, valid.value, valid.ok) == ("schema_valid", 0.0, False)
    assert valid.detail == f"column id: expected an integer or string type, got {dtype()}"


@pytest.mark.parametrize("dtype", [pl.Int64, pl.UInt32, pl.String])
def test_repeated_ids_are_counted_whatever_their_type(
    contract: Contract, dtype: type[pl.DataType]
) -> None:
    frame = with_ids(make_features(N, FIRST_DAY), dtype)
    # Rows 0..4 repeat the ids of rows 10..14: 5 repeats, 10 rows share an id.
    repeated = frame.with_columns(
        pl.when(pl.int_range(pl.len()) < 5)
        .then(pl.col("id").shift(-10))
        .otherwise(pl.col("id"))
        .alias("id")
    )
    report = validate_snapshot(contract, repeated)
    assert report.n_duplicate_ids == 5
    assert report.n_invalid_rows == 10  # pandera's unique check fails every row of an id
    duplicates = schema_sli_rows(contract, report)[2]
    assert duplicates.value == pytest.approx(5 / N)
    assert duplicates.ok is False


@pytest.mark.parametrize(
    ("dtype", "ok"), [(pl.Int64, True), (pl.UInt16, True), (pl.String, True), (pl.Float64, False)]
)
def test_the_prediction_log_id_is_held_to_the_same_rule(
    contract: Contract, dtype: type[pl.DataType], ok: bool
) -> None:
    predictions = make_predictions(make_features(N, FIRST_DAY)).with_columns(
        pl.int_range(pl.len()).cast(dtype).alias("id")
    )
    row = prediction_schema_row(contract, predictions)
    assert row.ok is ok
    if not ok:
        assert row.detail == "column id: expected an integer or string type, got Float64"


def test_is_id_dtype_accepts_integers_and_text_only() -> None:
    accepted = [
        *(t() for t in INTEGER_TYPES),
        pl.Int8(),
        pl.UInt8(),
        pl.String(),
        pl.Categorical(),
        pl.Enum(["a"]),
    ]
    rejected = [pl.Float64(), pl.Float32(), pl.Boolean(), pl.Date(), pl.Datetime("us")]
    assert all(is_id_dtype(t) for t in accepted)
    assert not any(is_id_dtype(t) for t in rejected)


def test_comparable_ids_leave_equal_types_alone_and_cast_different_ones_to_text() -> None:
    ints = pl.DataFrame({"id": [7, 8]}, schema={"id": pl.Int32})
    same, also = comparable_ids(ints, ints, "id")
    assert same.schema["id"] == pl.Int32 and also.schema["id"] == pl.Int32
    text = pl.DataFrame({"id": ["7", "007"]})
    left, right = comparable_ids(ints, text, "id")
    assert left["id"].to_list() == ["7", "8"] and right["id"].to_list() == ["7", "007"]


def _day(seed: int = 5) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Features, predictions and labels (``y``) of one day, ids 1000.. as String; labels
    in a shuffled order (so a join by position would be wrong) and 10% of them missing."""
    features = with_ids(make_features(N, FIRST_DAY, seed=seed), pl.String)
    predictions = make_predictions(features, seed=seed)
    rng = np.random.default_rng(seed)
    y = np.where(
        rng.uniform(0, 1, N) < 0.8,
        predictions["predicted_label"],
        1 - predictions["predicted_label"],
    )
    labels = pl.DataFrame({"id": features["id"], "y": y}).sample(
        fraction=0.9, shuffle=True, seed=seed
    )
    return features, predictions, labels


def _sklearn_accuracy(
    predictions: pl.DataFrame, labels: pl.DataFrame, mask: np.ndarray | None = None
) -> float:
    """Accuracy by aligning labels to predictions with numpy (ids 1000.. are positions)."""
    position = labels["id"].cast(pl.Int64).to_numpy() - 1000
    y_pred = predictions["predicted_label"].to_numpy()[position]
    y_true = labels["y"].to_numpy()
    keep = np.ones(position.size, dtype=bool) if mask is None else mask[position]
    return float(accuracy_score(y_true[keep], y_pred[keep]))


def _accuracy_rows(rows: pl.DataFrame) -> dict[str | None, tuple[float, int]]:
    acc = rows.filter(pl.col("sli").is_in(["accuracy", "slice_accuracy"]))
    return {r["slice"]: (r["value"], r["n_rows"]) for r in acc.iter_rows(named=True)}


@pytest.mark.parametrize(
    ("predictions_ids", "labels_ids", "features_ids"),
    [
        (pl.Int64, pl.String, pl.Int64),
        (pl.String, pl.Int64, pl.UInt32),
        (pl.Int32, pl.UInt64, pl.String),
        (pl.Categorical, pl.Int16, pl.Int64),
    ],
)
def test_quality_joins_ids_of_different_types_and_matches_sklearn(
    contract: Contract,
    predictions_ids: type[pl.DataType],
    labels_ids: type[pl.DataType],
    features_ids: type[pl.DataType],
) -> None:
    features, predictions, labels = _day()
    all_text = _accuracy_rows(quality_sli_rows(contract, predictions, labels, features=features))
    mixed = _accuracy_rows(
        quality_sli_rows(
            contract,
            predictions.with_columns(pl.col("id").cast(predictions_ids)),
            labels.with_columns(pl.col("id").cast(pl.Int64).cast(labels_ids)),
            features=features.with_columns(pl.col("id").cast(pl.Int64).cast(features_ids)),
        )
    )
    assert mixed == all_text
    assert mixed[None][1] == labels.height
    assert mixed[None][0] == pytest.approx(_sklearn_accuracy(predictions, labels), abs=1e-12)
    categories = features["c"].to_numpy()
    for value in ("a", "b", "c"):
        expected = _sklearn_accuracy(predictions, labels, categories == value)
        assert mixed[f"c={value}"][0] == pytest.approx(expected, abs=1e-12)


def test_labels_with_float_ids_are_an_error_row_not_a_silent_empty_join(
    contract: Contract,
) -> None:
    _, predictions, labels = _day()
    rows = quality_sli_rows(
        contract, predictions, labels.with_columns(pl.col("id").cast(pl.Float64))
    )
    accuracy = rows.filter(pl.col("sli") == "accuracy").row(0, named=True)
    assert (accuracy["status"], accuracy["ok"]) == ("error", False)
    assert (
        accuracy["detail"] == "id column 'id' of labels is Float64, not an integer or string type"
    )


@pytest.mark.parametrize("dtype", [pl.Int64, pl.String, pl.Categorical])
def test_repeated_ids_counted_bucket_by_bucket_equal_the_whole_count(
    contract: Contract, dtype: type[pl.DataType], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above REPEATED_ID_BUCKET_ROWS only the rows of repeated ids are grouped, found one
    hash bucket at a time: the same report as grouping every id at once (repeats, null
    ids repeating each other, repeated rows failing another check too, examples)."""
    rng = np.random.default_rng(7)
    frame = with_ids(make_features(N, FIRST_DAY), pl.String)
    copies = rng.integers(0, N, size=40)  # rows that take another row's id
    ids = frame["id"].to_numpy().copy()
    ids[copies] = ids[rng.integers(0, N, size=40)]
    nulls = pl.Series(rng.random(N) < 0.03)  # a few null ids, repeating each other
    x = np.where(rng.random(N) < 0.1, -1.0, frame["x"].to_numpy())  # below min 0: fails
    messy = frame.with_columns(
        pl.when(nulls).then(None).otherwise(pl.Series(ids)).cast(dtype).alias("id"),
        pl.Series("x", x),
    )
    whole = validate_snapshot(contract, messy)
    assert whole.n_duplicate_ids > 20 and any(f.check == UNIQUE for f in whole.failures)
    monkeypatch.setattr("checks.schema_validation.REPEATED_ID_BUCKET_ROWS", 7)  # 43 buckets
    assert validate_snapshot(contract, messy) == whole
