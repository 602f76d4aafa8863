"""Quality metrics equal scikit-learn to 1e-9; quality_sli_rows on hand-made frames."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from checks import quality, quality_metrics
from checks.contract import Contract
from checks.sli import SLI_SCHEMA
from tests.fixtures import minimal_contract

TOL = 1e-9
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=TOL, abs_tol=TOL)


# Scores from a small grid produce ties; free floats produce distinct values.
score_values = st.one_of(
    st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0]),
    st.floats(0.0, 1.0, allow_nan=False),
)


@st.composite
def binary_case(draw: Any, min_size: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(min_size, 60))
    y = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    p = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    s = np.array(draw(st.lists(score_values, min_size=n, max_size=n)), dtype=float)
    return y, p, s


@FAST
@given(binary_case())
def test_label_metrics_equal_sklearn(case: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    y, p, _ = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn's zero_division warning
        assert close(quality_metrics.accuracy(y, p).value, skm.accuracy_score(y, p))
        assert close(quality_metrics.precision(y, p).value, skm.precision_score(y, p))
        assert close(quality_metrics.recall(y, p).value, skm.recall_score(y, p))
        assert close(quality_metrics.f1(y, p).value, skm.f1_score(y, p))


@FAST
@given(binary_case(), st.sampled_from([0, 1]))
def test_positive_label_is_configurable(case: Any, positive: int) -> None:
    y, p, _ = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for ours, theirs in (
            (quality_metrics.precision, skm.precision_score),
            (quality_metrics.recall, skm.recall_score),
            (quality_metrics.f1, skm.f1_score),
        ):
            expected = theirs(y, p, pos_label=positive, labels=[0, 1])
            assert close(ours(y, p, positive_label=positive).value, expected)


@FAST
@given(binary_case())
def test_score_metrics_equal_sklearn(case: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    y, _, s = case
    loss = quality_metrics.log_loss(y, s)
    assert loss.status == "ok"
    assert close(loss.value, skm.log_loss(y, s, labels=[0, 1]))
    auc = quality_metrics.roc_auc(y, s)
    if len(set(y.tolist())) == 2:
        assert auc.status == "ok"
        assert close(auc.value, skm.roc_auc_score(y, s))
    else:
        assert math.isnan(auc.value)
        assert auc.status == "insufficient_data"


@FAST
@given(binary_case(min_size=2), st.floats(-5.0, 5.0, allow_nan=False))
def test_roc_auc_unbounded_scores_and_ties(case: Any, offset: float) -> None:
    y, _, s = case
    y = np.concatenate([y, [0, 1]])  # both classes present
    s = np.concatenate([s, [s[0], s[0]]]) * 7.0 + offset  # ties, outside [0, 1]
    assert close(quality_metrics.roc_auc(y, s).value, skm.roc_auc_score(y, s))


def test_classification_edge_cases() -> None:
    ones = np.ones(5, dtype=int)
    assert quality_metrics.roc_auc(ones, np.linspace(0, 1, 5)).status == "insufficient_data"
    # all predictions equal: AUC 0.5, like sklearn
    y = np.array([0, 1, 0, 1, 1])
    assert quality_metrics.roc_auc(y, np.full(5, 0.3)).value == pytest.approx(0.5)
    # no predicted positives: precision 0 (sklearn zero_division default)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = skm.precision_score(y, np.zeros(5, dtype=int))
    result = quality_metrics.precision(y, np.zeros(5, dtype=int))
    assert result.value == expected == 0.0
    assert result.status == "ok"
    assert result.detail is not None and "zero_division" in result.detail
    # empty input: NaN with a status for every kernel, never an exception
    empty = np.array([], dtype=float)
    for result in (
        quality_metrics.accuracy(empty, empty),
        quality_metrics.precision(empty, empty),
        quality_metrics.recall(empty, empty),
        quality_metrics.f1(empty, empty),
        quality_metrics.roc_auc(empty, empty),
        quality_metrics.log_loss(empty, empty),
        quality_metrics.calibration_error(empty, empty),
        quality_metrics.rmse(empty, empty),
        quality_metrics.mae(empty, empty),
        quality_metrics.mape(empty, empty),
        quality_metrics.ndcg(empty, empty, empty),
    ):
        assert math.isnan(result.value)
        assert result.status == "insufficient_data"
        assert result.n_rows == 0


def test_log_loss_clips_with_float64_eps_and_rejects_non_probabilities() -> None:
    y = np.array([1, 0, 1, 0])
    s = np.array([0.0, 1.0, 1.0, 0.0])  # two certain mistakes, two certain hits
    assert close(quality_metrics.log_loss(y, s).value, skm.log_loss(y, s))
    eps = np.finfo(np.float64).eps
    assert close(quality_metrics.log_loss(y, s).value, -np.log(eps) / 2)
    bad = quality_metrics.log_loss(y, np.array([0.5, 1.5, 0.5, 0.5]))
    assert bad.status == "error" and math.isnan(bad.value)
    assert quality_metrics.roc_auc(y, np.array([0.1, np.nan, 0.3, 0.2])).status == "error"


# --- calibration error -------------------------------------------------------------------


def ece_reference(y: np.ndarray, s: np.ndarray, bins: int = 10) -> float:
    """Independent reference: loop over the bins with boolean masks and means."""
    total = 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        mask = (s >= low) & ((s < high) if b < bins - 1 else (s <= high))
        if mask.any():
            total += mask.mean() * abs(y[mask].mean() - s[mask].mean())
    return total


def test_calibration_error_hand_computed() -> None:
    # bin [0.1, 0.2): scores 0.1, 0.1, labels 0, 1 -> |0.5 - 0.1| = 0.4, weight 2/5
    # bin [0.8, 0.9): score 0.8, label 1       -> |1 - 0.8| = 0.2, weight 1/5
    # bin [0.9, 1.0]: scores 0.9, 1.0, labels 1, 1 -> |1 - 0.95| = 0.05, weight 2/5
    y = np.array([0, 1, 1, 1, 1])
    s = np.array([0.1, 0.1, 0.8, 0.9, 1.0])
    expected = 2 / 5 * 0.4 + 1 / 5 * 0.2 + 2 / 5 * 0.05
    assert close(quality_metrics.calibration_error(y, s).value, expected)
    # a perfectly calibrated bin contributes nothing
    assert quality_metrics.calibration_error(np.array([0, 1]), np.array([0.5, 0.5])).value == 0.0


@FAST
@given(binary_case())
def test_calibration_error_equals_numpy_reference(case: Any) -> None:
    y, _, s = case
    assert close(quality_metrics.calibration_error(y, s).value, ece_reference(y.astype(float), s))


# --- regression --------------------------------------------------------------------------

targets = st.one_of(st.just(0.0), st.floats(-1e3, 1e3, allow_nan=False))


@FAST
@given(st.lists(st.tuples(targets, targets), min_size=1, max_size=60))
def test_regression_metrics_equal_sklearn(pairs: list[tuple[float, float]]) -> None:
    y = np.array([a for a, _ in pairs])
    p = np.array([b for _, b in pairs])
    assert close(quality_metrics.rmse(y, p).value, skm.root_mean_squared_error(y, p))
    assert close(quality_metrics.mae(y, p).value, skm.mean_absolute_error(y, p))
    # zero targets divide by eps (about 2.2e-16): relative tolerance only
    assert math.isclose(
        quality_metrics.mape(y, p).value, skm.mean_absolute_percentage_error(y, p), rel_tol=TOL
    )


def test_mape_zero_target_and_all_equal() -> None:
    y = np.array([0.0, 2.0])
    p = np.array([1.0, 2.0])
    result = quality_metrics.mape(y, p)
    assert close(result.value, skm.mean_absolute_percentage_error(y, p))
    assert result.detail is not None and "eps" in result.detail
    assert quality_metrics.rmse(y, y).value == 0.0


# --- ranking -----------------------------------------------------------------------------


def ndcg_reference(rel: np.ndarray, score: np.ndarray, groups: np.ndarray, k: int) -> float:
    values = []
    for g in np.unique(groups):
        mask = groups == g
        if mask.sum() >= 2:
            values.append(skm.ndcg_score([rel[mask]], [score[mask]], k=k))
    return float(np.mean(values)) if values else math.nan


@st.composite
def ranking_case(draw: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    n = draw(st.integers(2, 60))
    rel = draw(
        st.one_of(
            st.lists(st.integers(0, 3), min_size=n, max_size=n),
            st.lists(st.floats(0.0, 5.0, allow_nan=False), min_size=n, max_size=n),
        )
    )
    score = draw(
        st.lists(
            st.one_of(st.integers(0, 4).map(float), st.floats(-10, 10, allow_nan=False)),
            min_size=n,
            max_size=n,
        )
    )
    groups = draw(st.lists(st.sampled_from(["q1", "q2", "q3", "q4"]), min_size=n, max_size=n))
    k = draw(st.integers(1, 12))
    return np.array(rel, dtype=float), np.array(score), np.array(groups), k


@FAST
@given(ranking_case())
def test_ndcg_equals_sklearn_per_query_mean(case: Any) -> None:
    rel, score, groups, k = case
    result = quality_metrics.ndcg(rel, score, groups, k=k)
    expected = ndcg_reference(rel, score, groups, k)
    if math.isnan(expected):
        assert math.isnan(result.value)
        assert result.status == "insufficient_data"
    else:
        assert close(result.value, expected)


def test_ndcg_edge_cases() -> None:
    groups = np.array(["a", "a", "a", "b"])  # "b" has one document: left out
    rel = np.array([0.0, 0.0, 0.0, 3.0])  # no relevant document in "a": NDCG 0
    result = quality_metrics.ndcg(rel, np.array([3.0, 2.0, 1.0, 1.0]), groups, k=2)
    assert result.value == 0.0
    assert result.n_rows == 3
    assert result.detail is not None and "single-document" in result.detail
    # all scores tied: the average gain, exactly like sklearn
    rel = np.array([3.0, 0.0, 1.0])
    tied = quality_metrics.ndcg(rel, np.zeros(3), np.zeros(3), k=2)
    assert close(tied.value, skm.ndcg_score([rel], [np.zeros(3)], k=2))
    assert quality_metrics.ndcg(np.array([-1.0, 1.0]), np.zeros(2), np.zeros(2)).status == "error"


# --- quality_sli_rows --------------------------------------------------------------------


def contract(kind: str = "classification", **extra: Any) -> Contract:
    fields: dict[str, Any] = {
        "type": kind,
        "features": {"country": {"dtype": "String"}, "gender": {"dtype": "String"}},
        "predictions": {"score": "score", "predicted_label": "pred", "target": "label"},
        "slices": ["country"],
        "sensitive_attributes": ["gender"],
        "min_slice_rows": 3,
        "min_labelled_rows": 3,
    }
    return minimal_contract(
        sources={"predictions": "p/{date}.parquet", "labels": "l/{date}.parquet"},
        **{**fields, **extra},
    )


def classification_frames() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    ids = [f"r{i}" for i in range(12)]
    predictions = pl.DataFrame(
        {
            "id": ids,
            "score": [0.9, 0.8, 0.2, 0.6, 0.1, 0.7, 0.4, 0.3, 0.95, 0.05, 0.5, 0.65],
            "pred": [1, 1, 0, 1, 0, 1, 0, 0, 1, 0, 1, 1],
        }
    )
    # r11 has no label yet; r0's label was restated (the last row wins)
    labels = pl.DataFrame(
        {
            "id": ["r0", *ids[:11]],
            "label": [0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 0, 1],
        }
    )
    features = pl.DataFrame(
        {
            "id": ids,
            "country": ["DE"] * 5 + ["FR"] * 5 + ["IT", "ES"],
            "gender": ["f", "m"] * 6,
        }
    )
    return predictions, labels, features


def test_quality_sli_rows_classification() -> None:
    c = contract(slos={"model": {"roc_auc": {"objective": 0.9, "blocking": True}}})
    predictions, labels, features = classification_frames()
    rows = quality.quality_sli_rows(c, predictions, labels, features=features)
    assert dict(rows.schema) == dict(SLI_SCHEMA)

    y = np.array([1, 1, 0, 0, 0, 1, 1, 0, 1, 0, 1])  # labels of r0..r10 after the restatement
    s = predictions["score"].to_numpy()[:11]
    p = predictions["pred"].to_numpy()[:11]
    overall = rows.filter(pl.col("slice").is_null() & (pl.col("category") == "quality"))
    got = dict(zip(overall["sli"], overall["value"], strict=True))
    assert list(overall["sli"]) == list(quality.METRICS_BY_MODEL_TYPE[c.type])
    assert set(overall["n_rows"]) == {11}
    assert close(got["accuracy"], skm.accuracy_score(y, p))
    assert close(got["precision"], skm.precision_score(y, p))
    assert close(got["recall"], skm.recall_score(y, p))
    assert close(got["f1"], skm.f1_score(y, p))
    assert close(got["roc_auc"], skm.roc_auc_score(y, s))
    assert close(got["log_loss"], skm.log_loss(y, s))
    assert close(got["calibration_error"], ece_reference(y.astype(float), s))

    accuracy = overall.row(0, named=True)
    assert accuracy["objective"] == 0.94 and accuracy["comparator"] == ">="
    assert accuracy["ok"] is False and "default objective" in accuracy["detail"]
    auc = overall.filter(pl.col("sli") == "roc_auc").row(0, named=True)
    assert auc["objective"] == 0.9 and auc["blocking"] is True
    assert overall.filter(pl.col("sli") == "recall")["ok"].to_list() == [None]

    assert rows.filter(pl.col("sli") == "accuracy", pl.col("slice").is_not_null()).height == 0
    sliced = rows.filter(pl.col("sli") == "slice_accuracy")
    assert sliced["slice"].to_list() == ["country=DE", "country=ES", "country=FR", "country=IT"]
    assert sliced["status"].to_list() == ["ok", "skipped", "ok", "skipped"]
    assert sliced["n_rows"].to_list() == [5, 0, 5, 1]  # ES has no labelled row yet
    assert close(sliced["value"][0], skm.accuracy_score(y[:5], p[:5]))
    assert sliced["value"][1] is None and sliced["ok"][1] is None

    fair = rows.filter(pl.col("category") == "fairness")
    assert fair["sli"].to_list() == [
        "demographic_parity_difference",
        "equal_opportunity_difference",
    ]
    assert set(fair["feature"]) == {"gender"}
    g = features["gender"].to_numpy()[:11]
    rates = [p[g == v].mean() for v in ("f", "m")]
    tprs = [p[(g == v) & (y == 1)].mean() for v in ("f", "m")]
    assert close(fair["value"][0], max(rates) - min(rates))
    assert close(fair["value"][1], max(tprs) - min(tprs))


def test_quality_sli_rows_without_predicted_label_uses_threshold() -> None:
    c = contract(predictions={"score": "score", "target": "label"})
    predictions, labels, features = classification_frames()
    rows = quality.quality_sli_rows(c, predictions.drop("pred"), labels, features=features)
    y = np.array([1, 1, 0, 0, 0, 1, 1, 0, 1, 0, 1])
    s = predictions["score"].to_numpy()[:11]
    accuracy = rows.filter(pl.col("sli") == "accuracy", pl.col("slice").is_null())
    assert close(accuracy["value"][0], skm.accuracy_score(y, (s >= 0.5).astype(int)))
    assert accuracy["method"][0] == "score>=0.5"
    f1 = rows.filter(pl.col("sli") == "f1", pl.col("slice").is_null())
    assert f1["method"][0] == "positive=1; score>=0.5"


def test_quality_sli_rows_string_labels_and_missing_columns() -> None:
    c = contract(
        predictions={"score": "score", "predicted_label": "pred", "target": "label"},
        slices=["country"],
    )
    predictions = pl.DataFrame(
        {"id": ["a", "b", "c"], "score": [0.9, 0.2, 0.7], "pred": ["1", "0", "0"]}
    )
    labels = pl.DataFrame({"id": ["a", "b", "c"], "label": ["1", "0", "1"]})
    rows = quality.quality_sli_rows(c, predictions, labels)  # no features: slices unavailable
    overall = rows.filter(pl.col("slice").is_null(), pl.col("category") == "quality")
    assert close(overall.filter(pl.col("sli") == "accuracy")["value"][0], 2 / 3)
    assert close(overall.filter(pl.col("sli") == "recall")["value"][0], 0.5)
    errors = rows.filter(pl.col("status") == "error")
    assert errors.height > 0
    judged = errors.filter(pl.col("objective").is_not_null())
    assert judged.height > 0 and set(judged["ok"]) == {False}  # a breach, not a crash
    # no target column in the labels: every metric is an error row, no exception
    broken = quality.quality_sli_rows(c, predictions, labels.rename({"label": "y"}))
    assert set(broken["status"]) == {"error"}
    assert broken.height == len(quality.METRICS_BY_MODEL_TYPE[c.type])
    assert broken["ok"][0] is False and broken["objective"][0] == 0.94  # accuracy: a breach


def test_a_multiclass_target_leaves_the_binary_only_metrics_unjudged() -> None:
    """A 3-class model's score (the top class's probability) read as P(positive_label)
    gave a ROC AUC and calibration error judged ``ok``: meaningless numbers shown as
    passing. Labels and one-vs-rest metrics still hold."""
    c = contract(
        predictions={
            "score": "score",
            "predicted_label": "pred",
            "target": "label",
            "positive_label": "billing",
        },
        slos={"model": {"roc_auc": {"objective": 0.7, "blocking": True}}},
    )
    predictions, _, features = classification_frames()
    classes = ["billing", "tech", "sales"]
    predictions = predictions.with_columns(pl.Series("pred", [classes[i % 3] for i in range(12)]))
    labels = pl.DataFrame({"id": [f"r{i}" for i in range(12)],
                           "label": [classes[(i * 2) % 3] for i in range(12)]})  # fmt: skip
    rows = quality.quality_sli_rows(c, predictions, labels, features=features)
    skipped = rows.filter(pl.col("sli").is_in(["roc_auc", "log_loss", "calibration_error",
                                               "slice_roc_auc", "slice_log_loss",
                                               "slice_calibration_error"]))  # fmt: skip
    assert skipped.height >= 3
    assert set(skipped["status"]) == {"skipped"}
    assert skipped["value"].is_null().all() and skipped["ok"].is_null().all()
    assert "the labels hold 3 classes" in skipped["detail"][0]
    overall = rows.filter(pl.col("slice").is_null(), pl.col("category") == "quality")
    y = np.array([classes[(i * 2) % 3] for i in range(12)])
    p = np.array([classes[i % 3] for i in range(12)])
    got = dict(zip(overall["sli"], overall["value"], strict=True))
    assert close(got["accuracy"], skm.accuracy_score(y, p))
    assert close(got["precision"], skm.precision_score(y == "billing", p == "billing"))
    # Two classes: measured as before.
    binary = labels.with_columns(pl.col("label").replace("sales", "tech"))
    two = quality.quality_sli_rows(c, predictions, binary, features=features)
    auc = two.filter(pl.col("sli") == "roc_auc", pl.col("slice").is_null())
    assert auc["status"].to_list() == ["ok"] and auc["value"][0] is not None


def test_quality_sli_rows_regression_and_ranking() -> None:
    reg = contract(
        "regression",
        predictions={"score": "yhat", "target": "y"},
        slices=[],
        sensitive_attributes=[],
        slos={"model": {"mae": {"objective": 2.0}}},
    )
    predictions = pl.DataFrame({"id": [1, 2, 3, 4], "yhat": [1.0, 2.5, None, 0.0]})
    labels = pl.DataFrame({"id": [4, 3, 2, 1], "y": [0.0, 3.0, 2.0, 1.5]})
    rows = quality.quality_sli_rows(reg, predictions, labels)
    y, p = np.array([1.5, 2.0, 0.0]), np.array([1.0, 2.5, 0.0])
    got = dict(zip(rows["sli"], rows["value"], strict=True))
    assert close(got["rmse"], skm.root_mean_squared_error(y, p))
    assert close(got["mae"], skm.mean_absolute_error(y, p))
    assert math.isclose(got["mape"], skm.mean_absolute_percentage_error(y, p), rel_tol=TOL)
    assert set(rows["n_rows"]) == {3}  # the null prediction is not scored
    assert rows.filter(pl.col("sli") == "rmse")["objective"][0] == 0.15
    assert rows.filter(pl.col("sli") == "mae")["ok"][0] is True

    rank = contract(
        "ranking",
        predictions={"score": "s", "target": "rel", "ranking_group": "query", "ndcg_k": 2},
        slices=[],
        sensitive_attributes=[],
    )
    predictions = pl.DataFrame(
        {"id": range(6), "s": [3.0, 2.0, 1.0, 1.0, 1.0, 0.5], "query": ["a"] * 3 + ["b"] * 3}
    )
    labels = pl.DataFrame({"id": range(6), "rel": [0, 2, 1, 3, 0, 1]})
    rows = quality.quality_sli_rows(rank, predictions, labels)
    expected = np.mean(
        [
            skm.ndcg_score([[0, 2, 1]], [[3.0, 2.0, 1.0]], k=2),
            skm.ndcg_score([[3, 0, 1]], [[1.0, 1.0, 0.5]], k=2),
        ]
    )
    assert rows["sli"].to_list() == ["ndcg"]
    assert close(rows["value"][0], expected)
    assert rows["objective"][0] == 0.8
    assert rows["method"][0] == "ndcg@2"


def test_quality_sli_rows_no_labels_yet() -> None:
    c = contract()
    predictions, _, features = classification_frames()
    labels = pl.DataFrame(schema={"id": pl.String, "label": pl.Int64})
    rows = quality.quality_sli_rows(c, predictions, labels, features=features)
    overall = rows.filter(pl.col("slice").is_null(), pl.col("category") == "quality")
    assert set(overall["status"]) == {"insufficient_data"}
    assert overall["value"].null_count() == overall.height
    assert set(overall["ok"].to_list()) == {None}


@FAST
@given(st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, -3.0]) | st.floats(-9, 9), max_size=40))
def test_average_ranks_equal_scipy(values: list[float]) -> None:
    from scipy.stats import rankdata

    array = np.array(values, dtype=float)
    assert np.allclose(quality_metrics.average_ranks(array), rankdata(array), atol=0)


def test_quality_sli_rows_id_dtypes_differ() -> None:
    c = contract(slices=[], sensitive_attributes=[])
    predictions = pl.DataFrame({"id": [1, 2, 3], "score": [0.9, 0.2, 0.7], "pred": [1, 0, 1]})
    labels = pl.DataFrame({"id": ["1", "2", "3"], "label": [1, 0, 0]})
    rows = quality.quality_sli_rows(c, predictions, labels)
    accuracy = rows.filter(pl.col("sli") == "accuracy")
    assert accuracy["n_rows"][0] == 3
    assert close(accuracy["value"][0], 2 / 3)


def test_a_model_wide_metric_on_fewer_labelled_rows_than_the_floor_is_not_judged() -> None:
    predictions, labels, features = classification_frames()  # 11 labelled rows
    enough = quality.quality_sli_rows(contract(), predictions, labels, features=features)
    accuracy = enough.filter((pl.col("sli") == "accuracy") & pl.col("slice").is_null()).row(
        0, named=True
    )
    assert accuracy["n_rows"] == 11 and accuracy["status"] == "ok" and accuracy["ok"] is not None
    thin = quality.quality_sli_rows(
        contract(min_labelled_rows=12), predictions, labels, features=features
    )
    model_wide = thin.filter((pl.col("category") == "quality") & pl.col("slice").is_null())
    assert model_wide.height > 0
    assert set(model_wide["status"]) == {"insufficient_data"}
    assert model_wide["ok"].null_count() == model_wide.height
    row = model_wide.filter(pl.col("sli") == "accuracy").row(0, named=True)
    assert row["value"] == accuracy["value"]  # kept, for the record
    assert "11 labelled rows, fewer than min_labelled_rows (12): too few to judge" in row["detail"]
