"""A regression day's quality from per-slice sums (checks.quality_sums) equals the
row-level kernels on the whole-day join, one bucket or many.

The reference is the previous in-memory path composed from its pieces (one whole-day
join, the working columns, the row kernels of checks.quality_metrics per slice), which
tests/checks/test_quality.py holds equal to scikit-learn.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from checks import quality
from checks.contract import Contract
from tests.checks.test_quality_tables import (
    assert_same_rows,
    contract,
    random_day,
    reference_rows,  # no sensitive attributes here: no fairness rows
)


def regression_contract() -> Contract:
    return contract(
        type="regression",
        predictions={"score": "yhat", "target": "y"},
        sensitive_attributes=[],
    )


def regression_day(seed: int) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """random_day's ids, repeats, restatements, unlabelled rows and slices, with a
    continuous target and prediction: nulls, NaN and zero targets among them."""
    predictions, labels, features = random_day(seed)
    rng = np.random.default_rng(seed + 100)
    yhat = rng.lognormal(2.0, 0.5, predictions.height)
    yhat[rng.random(yhat.size) < 0.02] = np.nan
    y = rng.lognormal(2.0, 0.5, labels.height)
    y[rng.random(y.size) < 0.03] = 0.0
    target = pl.Series("y", y).to_list()
    for i in rng.choice(len(target), 20, replace=False):
        target[i] = None
    return (
        predictions.with_columns(pl.Series("yhat", yhat)),
        labels.with_columns(pl.Series("y", target, dtype=pl.Float64)),
        features,
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_summed_rows_equal_the_row_level_reference(seed: int) -> None:
    c = regression_contract()
    predictions, labels, features = regression_day(seed)
    expected = reference_rows(c, predictions, labels, features)
    assert {"rmse", "mae", "mape", "slice_rmse", "slice_mae", "slice_mape"} == set(expected["sli"])
    assert expected.filter(pl.col("sli") == "mape")["detail"][0].startswith("zero targets")
    assert {"country=rare", "country=ghost"} <= set(
        expected.filter(pl.col("status") == "skipped")["slice"]
    )
    got = quality.quality_sli_rows(c, predictions, labels, features=features)
    assert_same_rows(got, expected)


@pytest.mark.parametrize("buckets", [3, 9])
def test_many_buckets_equal_the_whole_day(buckets: int) -> None:
    c = regression_contract()
    predictions, labels, features = regression_day(3)
    expected = reference_rows(c, predictions, labels, features)
    many = quality.quality_sli_rows(
        c, predictions.lazy(), labels.lazy(), features=features.lazy(), buckets=buckets
    )
    assert_same_rows(many, expected)


def test_an_infinite_prediction_is_an_error_row_as_on_rows() -> None:
    c = regression_contract()
    predictions, labels, features = regression_day(4)
    first_labelled = labels.filter(pl.col("y").is_not_null())["id"][0]
    broken = predictions.with_columns(
        pl.when(pl.col("id") == first_labelled).then(np.inf).otherwise("yhat").alias("yhat")
    )
    expected = reference_rows(c, broken, labels, features)
    got = quality.quality_sli_rows(c, broken, labels, features=features, buckets=2)
    assert_same_rows(got, expected)
    overall = got.filter(pl.col("slice").is_null())
    assert set(overall["status"]) == {"error"}


@pytest.mark.parametrize("buckets", [1, 3])
def test_an_absent_prediction_column_is_an_error_row_not_a_crash(buckets: int) -> None:
    """The score the contract names is not in the predictions: every regression metric is
    an error row saying so (a breach), as for classification and ranking; the step used
    to stop on the missing working column and the day recorded no row at all."""
    c = regression_contract()
    predictions, labels, features = regression_day(5)
    rows = quality.quality_sli_rows(
        c, predictions.drop("yhat"), labels, features=features, buckets=buckets
    )
    overall = rows.filter(pl.col("slice").is_null())
    assert set(overall["sli"]) == {"rmse", "mae", "mape"}
    assert set(overall["status"]) == {"error"}
    assert overall["detail"].str.contains("yhat").all()
    assert not overall.filter(pl.col("sli") == "rmse")["ok"][0]
