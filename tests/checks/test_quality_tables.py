"""Quality at scale: bucketed joins reduced to count tables give the whole-day row values.

The reference is the previous exact in-memory path, composed here from the same pieces it
used: one whole-day join, the working columns, the row-level metric kernels per slice
(:func:`checks.slices.slice_sli_rows` without counts) and fairness over rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from checks import fairness, quality, quality_join, quality_metrics
from checks.contract import Contract
from checks.prediction_log import prediction_log_sli_rows
from checks.quality_counts import precision_counts
from checks.quality_join import ID_KEY, P_POS, Y_POS, Bucket, join_day, working_columns
from checks.quality_tables import bucket_count
from checks.sli import sli_frame
from checks.slices import SliceMetric, measure, measurement_row, slice_sli_rows
from tests.fixtures import minimal_contract
from tests.quality_join_spy import distinct_ids_per_join


def contract(**extra: Any) -> Contract:
    fields: dict[str, Any] = {
        "type": "classification",
        "features": {"country": {"dtype": "String"}, "gender": {"dtype": "String"}},
        "predictions": {"score": "score", "predicted_label": "pred", "target": "label"},
        "slices": ["country", "gender"],
        "sensitive_attributes": ["gender", "country"],
        "min_slice_rows": 5,
    }
    return minimal_contract(
        sources={"predictions": "p/{date}.parquet", "labels": "l/{date}.parquet"},
        **{**fields, **extra},
    )


def random_day(seed: int, n: int = 3000) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Predictions, labels, features with everything the join must get right: repeated
    prediction ids, restated labels (the last wins), unlabelled predictions, labels with no
    prediction, null labels, NaN and tied scores, null and rare slice values, and features
    rows repeated (the last wins)."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"tx-{i:05d}" for i in range(n)])
    p_ids = np.concatenate([ids, rng.choice(ids, n // 20)])  # 5 % repeated predictions
    score = rng.choice(np.round(np.linspace(0, 1, 21), 2), p_ids.size)
    score[rng.random(p_ids.size) < 0.02] = np.nan
    predictions = pl.DataFrame(
        {"id": p_ids, "score": score, "pred": (rng.random(p_ids.size) < score).astype(int)}
    )
    labelled = rng.choice(ids, int(n * 0.9), replace=False)  # 10 % unlabelled
    l_ids = np.concatenate([labelled, rng.choice(labelled, n // 10), ["tx-unknown"]])
    label = pl.Series("label", (rng.random(l_ids.size) < 0.3).astype(int)).to_list()
    for i in rng.choice(l_ids.size, n // 50, replace=False):
        label[i] = None
    labels = pl.DataFrame({"id": l_ids, "label": label})
    f_ids = np.concatenate([ids, rng.choice(ids, n // 30), ["tx-not-predicted"]])
    countries = np.array(["DE", "FR", "US", "IT", None], dtype=object)
    country = countries[rng.integers(0, countries.size, f_ids.size)].tolist()
    country[:3] = ["rare"] * 3  # below min_slice_rows
    country[-1] = "ghost"  # a value with no labelled prediction at all
    features = pl.DataFrame(
        {
            "id": f_ids,
            "country": pl.Series(country, dtype=pl.String),
            "gender": rng.choice(["f", "m", "x"], f_ids.size),
        }
    )
    return predictions, labels, features


def reference_rows(
    c: Contract, predictions: pl.DataFrame, labels: pl.DataFrame, features: pl.DataFrame
) -> pl.DataFrame:
    """The previous in-memory classification path: the joined rows, metrics on rows."""
    joined = join_day(c, predictions, labels, features)
    frame = working_columns(c, joined.frame)
    metrics = quality._metric_specs(c, frame)
    rows = [measurement_row(c, metric, measure(frame, metric)) for metric in metrics]
    for column in c.slices:
        rows += slice_sli_rows(c, frame, column, metrics, all_values=joined.universes[column])
    for attribute in c.sensitive_attributes:
        rows += fairness.fairness_sli_rows(c, frame, attribute, y_true=Y_POS, y_pred=P_POS)
    return sli_frame(rows)


def assert_same_rows(got: pl.DataFrame, expected: pl.DataFrame) -> None:
    assert_frame_equal(got, expected, check_exact=False, rel_tol=1e-12, abs_tol=1e-12)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_counted_rows_equal_the_row_level_reference(seed: int) -> None:
    c = contract()
    predictions, labels, features = random_day(seed)
    expected = reference_rows(c, predictions, labels, features)
    skipped = expected.filter(pl.col("status") == "skipped")
    assert {"country=rare", "country=ghost"} <= set(skipped["slice"])
    got = quality.quality_sli_rows(c, predictions, labels, features=features)
    assert_same_rows(got, expected)


@pytest.mark.parametrize("buckets", [2, 7])
def test_many_buckets_equal_one_bucket(buckets: int) -> None:
    c = contract()
    predictions, labels, features = random_day(4)
    one = quality.quality_sli_rows(c, predictions, labels, features=features, buckets=1)
    many = quality.quality_sli_rows(
        c, predictions.lazy(), labels.lazy(), features=features.lazy(), buckets=buckets
    )
    assert_same_rows(many, one)
    assert one.filter(pl.col("sli") == "accuracy")["n_rows"][0] > 2000


def test_buckets_split_the_whole_day_join_exactly() -> None:
    c = contract()
    predictions, labels, features = random_day(5, n=800)
    whole = join_day(c, predictions, labels, features).frame
    parts = [join_day(c, predictions, labels, features, bucket=Bucket(b, 5)) for b in range(5)]
    assert all(0 < part.frame.height < whole.height for part in parts)
    merged = pl.concat([part.frame for part in parts])
    assert_frame_equal(merged.sort(pl.all()), whole.sort(pl.all()))


def test_buckets_agree_across_id_dtypes() -> None:
    # Int64 ids in the predictions, String in labels and features: bucketed by the string
    # form, so every id meets its label in the same bucket.
    c = contract()
    predictions = pl.DataFrame({"id": list(range(400)), "score": [0.3] * 200 + [0.7] * 200})
    predictions = predictions.with_columns(pred=(pl.col("score") > 0.5).cast(pl.Int64))
    labels = pl.DataFrame({"id": [str(i) for i in range(400)], "label": [0, 1] * 200})
    features = pl.DataFrame(
        {"id": [str(i) for i in range(400)], "country": ["DE", "FR"] * 200, "gender": "f"}
    )
    one = quality.quality_sli_rows(c, predictions, labels, features=features)
    many = quality.quality_sli_rows(c, predictions, labels, features=features, buckets=6)
    assert_same_rows(many, one)
    assert one.filter(pl.col("sli") == "accuracy")["n_rows"][0] == 400


def test_text_ids_join_by_fingerprint_with_the_row_level_values() -> None:
    # Null ids on both sides must not meet; "007" is not the integer 7; mixed id types.
    c = contract()
    predictions = pl.DataFrame(
        {
            "id": pl.Series([7, 8, None, 9, 10, 11] * 20, dtype=pl.Int64),
            "score": [0.9, 0.2, 0.8, 0.4, 0.6, 0.1] * 20,
        }
    ).with_columns(pred=(pl.col("score") > 0.5).cast(pl.Int64))
    labels = pl.DataFrame({"id": ["7", "008", None, "9", "10", "10"], "label": [1, 0, 1, 0, 1, 0]})
    features = pl.DataFrame(
        {"id": ["7", "8", None, "9", "10", "11"], "country": ["DE", "FR", "US", "DE", "FR", "IT"]}
    ).with_columns(gender=pl.lit("f"))
    joined = join_day(c, predictions, labels, features, reduce=lambda rows: rows)
    assert ID_KEY in joined.frame.columns
    assert joined.frame.schema[ID_KEY] == pl.Int128
    assert sorted(joined.frame["label"].to_list()) == [0] * 40 + [1] * 20
    expected = reference_rows(c, predictions, labels, features)
    got = quality.quality_sli_rows(c, predictions, labels, features=features, buckets=3)
    assert_same_rows(got, expected)
    assert got.filter(pl.col("sli") == "accuracy", pl.col("slice").is_null())["n_rows"][0] == 60


def _colliding(first_key_modulus: int | None, second_key_modulus: int | None) -> Any:
    """Fingerprint hashes of which each one given a modulus takes only that many values:
    nearly every pair of ids collides on it."""

    def hashes(text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        first, second = text.hash(1), text.hash(2)
        if first_key_modulus is not None:
            first = first % first_key_modulus
        if second_key_modulus is not None:
            second = second % second_key_modulus
        return first, second

    return hashes


def test_a_collision_of_one_fingerprint_hash_changes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The key joined and de-duplicated on holds both hashes: ids meet only when both agree.
    c = contract()
    predictions, labels, features = random_day(8, n=600)
    expected = reference_rows(c, predictions, labels, features)
    for first, second in ((3, None), (None, 3)):
        monkeypatch.setattr(quality_join, "_id_hashes", _colliding(first, second))
        got = quality.quality_sli_rows(c, predictions, labels, features=features)
        assert_same_rows(got, expected)
    # The test can fail: with both hashes colliding the join is wrong.
    monkeypatch.setattr(quality_join, "_id_hashes", _colliding(3, 2))
    wrong = quality.quality_sli_rows(c, predictions, labels, features=features)
    accuracy = pl.col("sli") == "accuracy", pl.col("slice").is_null()
    assert wrong.filter(*accuracy)["n_rows"][0] != expected.filter(*accuracy)["n_rows"][0]


def test_distinct_ids_skip_the_deduplication_with_the_same_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    c = contract()
    predictions, labels, features = random_day(9, n=800)
    unique_labels = labels.unique("id", keep="last", maintain_order=True)
    unique_features = features.unique("id", keep="last", maintain_order=True)
    expected = reference_rows(c, predictions, unique_labels, unique_features)
    seen = distinct_ids_per_join(monkeypatch)
    got = quality.quality_sli_rows(
        c, predictions, unique_labels, features=unique_features, buckets=3
    )
    assert_same_rows(got, expected)
    assert seen == [frozenset({"labels", "features"})] * 3
    # Distinct labels, repeated features: only the labels skip it.
    seen.clear()
    features_once_more = pl.concat([unique_features, unique_features.head(50)])
    expected = reference_rows(c, predictions, unique_labels, features_once_more)
    got = quality.quality_sli_rows(c, predictions, unique_labels, features=features_once_more)
    assert_same_rows(got, expected)
    assert seen == [frozenset({"labels"})]
    # Restated labels are de-duplicated: told their ids were distinct, the rows change.
    seen.clear()
    restated = quality.quality_sli_rows(c, predictions, labels, features=features)
    assert seen == [frozenset()]
    monkeypatch.setattr(quality, "ids_are_distinct", lambda *args, **kwargs: True)
    wrong = quality.quality_sli_rows(c, predictions, labels, features=features)
    accuracy = pl.col("sli") == "accuracy", pl.col("slice").is_null()
    assert wrong.filter(*accuracy)["n_rows"][0] > restated.filter(*accuracy)["n_rows"][0]


def test_missing_columns_keep_their_error_rows_when_bucketed() -> None:
    c = contract()
    predictions, labels, features = random_day(6, n=300)
    no_target = quality.quality_sli_rows(
        c, predictions, labels.rename({"label": "other"}), features=features, buckets=3
    )
    assert set(no_target["status"]) == {"error"}
    no_slices = quality.quality_sli_rows(
        c, predictions, labels, features=features.drop("country"), buckets=3
    )
    expected = quality.quality_sli_rows(c, predictions, labels, features=features.drop("country"))
    assert_same_rows(no_slices, expected)
    assert (no_slices.filter(pl.col("slice") == "country=?")["status"] == "error").all()


def test_bucket_count_follows_the_day() -> None:
    assert bucket_count(0) == 1
    assert bucket_count(1_000_000) == 1
    assert bucket_count(5_000_000) == 5
    assert bucket_count(5_000_001) == 6


def test_prediction_log_from_a_lazy_scan_equals_the_collected_log() -> None:
    c = contract(
        predictions={"score": "score", "latency_ms": "ms", "status": "status", "target": "y"}
    )
    rng = np.random.default_rng(7)
    log = pl.DataFrame(
        {
            "score": rng.random(500),
            "ms": np.where(rng.random(500) < 0.1, np.nan, rng.gamma(2.0, 10.0, 500)),
            "status": np.array(["ok", "error", None], dtype=object)[rng.integers(0, 3, 500)],
        }
    )
    assert_frame_equal(prediction_log_sli_rows(c, log.lazy()), prediction_log_sli_rows(c, log))


def test_counted_slices_and_fairness_equal_the_expanded_rows() -> None:
    # Few table rows standing for many: the minimum-rows guard and the group sizes must
    # count rows (the counts), not table rows.
    c = contract(min_slice_rows=5)
    table = pl.DataFrame(
        {
            "country": ["DE", "DE", "FR", "FR", "IT", None],
            "y": [True, False, True, False, True, True],
            "p": [True, True, False, False, True, False],
            "n": [6, 2, 1, 1, 4, 5],
        }
    )
    rows = table.select(pl.exclude("n").repeat_by("n").explode())

    def by_row(y: np.ndarray, p: np.ndarray) -> Any:
        return quality_metrics.precision(y, p, positive_label=True)

    by_count = SliceMetric("precision", ("y", "p"), precision_counts)
    by_rows = SliceMetric("precision", ("y", "p"), by_row)
    counted = slice_sli_rows(c, table, "country", [by_count], weight="n")
    expected = slice_sli_rows(c, rows, "country", [by_rows])
    assert_same_rows(sli_frame(counted), sli_frame(expected))
    assert sli_frame(counted)["n_rows"].to_list() == [8, 2, 4, 5]  # FR, IT below 5
    fair = fairness.fairness_sli_rows(c, table, "country", y_true="y", y_pred="p", weight="n")
    fair_rows = fairness.fairness_sli_rows(c, rows, "country", y_true="y", y_pred="p")
    assert_same_rows(sli_frame(fair), sli_frame(fair_rows))


@pytest.mark.parametrize("buckets", [1, 3])
def test_a_target_or_id_never_given_is_an_error_row_not_insufficient_data(buckets: int) -> None:
    """Labels whose target is null on every row, or a file whose ids are, are as good as
    absent: every metric is an error row saying so (a breach), as for an absent column,
    not insufficient_data (no verdict) day after day."""
    c = contract()
    predictions, labels, features = random_day(8, n=300)

    def rows(p: pl.DataFrame, lab: pl.DataFrame) -> pl.DataFrame:
        return quality.quality_sli_rows(c, p, lab, features=features, buckets=buckets)

    no_target = rows(predictions, labels.with_columns(pl.lit(None, dtype=pl.Int64).alias("label")))
    overall = no_target.filter(pl.col("slice").is_null(), pl.col("category") == "quality")
    assert set(overall["status"]) == {"error"} and not overall["ok"].any()
    assert (
        overall["detail"].str.contains("target column 'label' of labels is null on every row").all()
    )
    no_ids = rows(predictions.with_columns(pl.lit(None, dtype=pl.String).alias("id")), labels)
    assert set(no_ids["status"]) == {"error"}
    assert no_ids["detail"].str.contains("id column 'id' of predictions is null on every row").all()
    # One labelled row is a (tiny) day to score, not a missing column.
    one = labels.with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(pl.col("label")).otherwise(None).alias("label")
    )
    assert "error" not in set(rows(predictions, one).filter(pl.col("sli") == "accuracy")["status"])


@pytest.mark.parametrize("buckets", [1, 3])
def test_a_slice_column_or_feature_ids_never_given_is_an_error_row_not_one_null_slice(
    buckets: int,
) -> None:
    """A slice (and sensitive-attribute) column null on every row, or a features file whose
    ids are, measures no slice: error rows saying so, as for an absent column. Before, every
    row fell in one ``<null>`` slice, judged ok on the model-wide numbers."""
    c = contract()
    predictions, labels, features = random_day(9, n=300)

    def sliced(f: pl.DataFrame) -> pl.DataFrame:
        rows = quality.quality_sli_rows(c, predictions, labels, features=f, buckets=buckets)
        return rows.filter(pl.col("slice").is_not_null() | (pl.col("category") == "fairness"))

    no_country = sliced(features.with_columns(pl.lit(None, dtype=pl.String).alias("country")))
    country = no_country.filter(
        pl.col("slice").str.starts_with("country") | (pl.col("feature") == "country")
    )
    assert country.height and set(country["status"]) == {"error"}
    assert not country["ok"].any()
    assert country["detail"].str.contains("column 'country' of features is null on every row").all()
    gender = no_country.filter(pl.col("slice").str.starts_with("gender="))
    assert set(gender["status"]) == {"ok"} and "gender=?" not in gender["slice"].to_list()

    no_ids = sliced(features.with_columns(pl.lit(None, dtype=pl.String).alias("id")))
    assert set(no_ids["status"]) == {"error"}, no_ids.select("sli", "slice", "status")
    assert no_ids["detail"].str.contains("id column 'id' of features is null on every row").all()
