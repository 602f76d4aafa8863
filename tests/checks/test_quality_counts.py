"""Count kernels (checks.quality_counts) against scikit-learn and the row-level kernels."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from checks import quality_counts as qc
from checks import quality_metrics as qm

TOL = 1e-9
FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# A small grid gives many ties (each distinct score becomes one count row); free floats
# give none.
score_values = st.one_of(
    st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0]),
    st.floats(0.0, 1.0, allow_nan=False),
)


@st.composite
def binary_case(draw: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 80))
    y = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    p = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    s = np.array(draw(st.lists(score_values, min_size=n, max_size=n)), dtype=float)
    return y, p, s


def counted(**columns: np.ndarray) -> dict[str, np.ndarray]:
    """The rows as a count table: distinct value combinations and how many rows have them."""
    table = pl.DataFrame(columns).group_by(list(columns)).agg(pl.len().alias("count"))
    return {name: table.get_column(name).to_numpy() for name in table.columns}


def same(a: qm.MetricResult, b: qm.MetricResult) -> bool:
    values = (math.isnan(a.value) and math.isnan(b.value)) or math.isclose(
        a.value, b.value, rel_tol=TOL, abs_tol=TOL
    )
    return values and (a.n_rows, a.status, a.detail) == (b.n_rows, b.status, b.detail)


@FAST
@given(binary_case())
def test_label_counts_equal_sklearn_and_row_kernels(case: Any) -> None:
    y, p, _ = case
    t = counted(y=y, p=p)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = {
            "precision": skm.precision_score(y, p, zero_division=0.0),
            "recall": skm.recall_score(y, p, zero_division=0.0),
            "f1": skm.f1_score(y, p, zero_division=0.0),
        }
    got = {
        "precision": qc.precision_counts(t["y"], t["p"], t["count"]),
        "recall": qc.recall_counts(t["y"], t["p"], t["count"]),
        "f1": qc.f1_counts(t["y"], t["p"], t["count"]),
    }
    rows = {
        "precision": qm.precision(y, p, positive_label=True),
        "recall": qm.recall(y, p, positive_label=True),
        "f1": qm.f1(y, p, positive_label=True),
    }
    for name, result in got.items():
        assert math.isclose(result.value, expected[name], abs_tol=TOL)
        assert same(result, rows[name])
    correct = counted(c=y == p)
    accuracy = qc.accuracy_counts(correct["c"], correct["count"])
    assert math.isclose(accuracy.value, skm.accuracy_score(y, p), abs_tol=TOL)
    assert same(accuracy, qm.accuracy(y, p))


@FAST
@given(binary_case())
def test_score_counts_equal_sklearn_and_row_kernels(case: Any) -> None:
    y, _, s = case
    t = counted(y=y, s=s)
    auc = qc.roc_auc_counts(t["y"], t["s"], t["count"])
    loss = qc.log_loss_counts(t["y"], t["s"], t["count"])
    ece = qc.calibration_error_counts(t["y"], t["s"], t["count"])
    assert same(auc, qm.roc_auc(y, s, positive_label=True))
    assert same(loss, qm.log_loss(y, s, positive_label=True))
    assert same(ece, qm.calibration_error(y, s, positive_label=True))
    if 0 < y.sum() < y.size:
        assert math.isclose(auc.value, skm.roc_auc_score(y, s), abs_tol=TOL)
    assert math.isclose(loss.value, skm.log_loss(y, s, labels=[False, True]), abs_tol=TOL)


def test_roc_auc_counts_exact_at_a_large_tied_scale() -> None:
    # 2 million rows on 7 scores: the counts are large, the U statistic is integer-exact.
    rng = np.random.default_rng(14)
    s = rng.choice([0.0, 0.1, 0.2, 0.2, 0.5, 0.8, 0.9, 1.0], size=2_000_000)
    y = rng.random(s.size) < s
    t = counted(y=y, s=s)
    assert t["count"].size <= 14
    got = qc.roc_auc_counts(t["y"], t["s"], t["count"])
    assert got.n_rows == s.size
    assert math.isclose(got.value, skm.roc_auc_score(y, s), rel_tol=1e-12)


@pytest.mark.parametrize(
    ("y", "s"),
    [
        ([], []),  # no rows
        ([True, True], [0.2, 0.4]),  # one class only
        ([True, False], [0.2, math.inf]),  # not finite
        ([True, False], [-0.5, 1.5]),  # outside [0, 1]
    ],
)
def test_edge_cases_match_row_kernels(y: list[bool], s: list[float]) -> None:
    truth, score = np.array(y, dtype=bool), np.array(s, dtype=float)
    count = np.ones(truth.size, dtype=np.int64)
    pairs: list[tuple[Callable[..., qm.MetricResult], Callable[..., qm.MetricResult]]] = [
        (qc.roc_auc_counts, qm.roc_auc),
        (qc.log_loss_counts, qm.log_loss),
        (qc.calibration_error_counts, qm.calibration_error),
    ]
    for by_count, by_row in pairs:
        assert same(by_count(truth, score, count), by_row(truth, score, positive_label=True))
    empty = qc.accuracy_counts(np.array([], dtype=bool), np.array([], dtype=np.int64))
    assert same(empty, qm.accuracy(np.array([]), np.array([])))
    pairs = [
        (qc.precision_counts, qm.precision),
        (qc.recall_counts, qm.recall),
        (qc.f1_counts, qm.f1),
    ]
    for by_count, by_row in pairs:
        no_positives = np.zeros(3, dtype=bool)
        assert same(
            by_count(no_positives, no_positives, np.array([2, 1, 1])),
            by_row(np.zeros(4, dtype=bool), np.zeros(4, dtype=bool), positive_label=True),
        )
