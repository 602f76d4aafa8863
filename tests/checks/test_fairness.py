"""Fairness differences against independent numpy references and a hand-computed example.

fairlearn is not installed; the references below follow its definitions:
``demographic_parity_difference(method="between_groups")`` = max - min selection rate and
``equal_opportunity_difference`` = max - min true positive rate over groups.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checks import fairness
from checks.sli import sli_frame
from tests.fixtures import minimal_contract

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def dpd_reference(y_pred: np.ndarray, groups: np.ndarray) -> float:
    rates = [np.mean(y_pred[groups == g] == 1) for g in np.unique(groups)]
    return float(max(rates) - min(rates)) if len(rates) >= 2 else math.nan


def eod_reference(y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray) -> float:
    tprs = []
    for g in np.unique(groups):
        positives = (groups == g) & (y_true == 1)
        if positives.any():  # a group without positives has no TPR (see checks.fairness)
            tprs.append(np.mean(y_pred[positives] == 1))
    return float(max(tprs) - min(tprs)) if len(tprs) >= 2 else math.nan


def test_hand_computed_example() -> None:
    # group a: predictions 1,1,0,0 -> selection 0.5; positives rows 0,1,2 -> TPR 2/3
    # group b: predictions 1,0,0   -> selection 1/3; positives rows 4,5 -> TPR 1/2
    y_true = np.array([1, 1, 1, 0, 1, 1, 0])
    y_pred = np.array([1, 1, 0, 0, 1, 0, 0])
    groups = np.array(["a", "a", "a", "a", "b", "b", "b"])
    dpd = fairness.demographic_parity_difference(y_pred, groups)
    assert math.isclose(dpd.value, 0.5 - 1 / 3)
    assert dpd.rates == {"a": 0.5, "b": 1 / 3}
    assert dpd.n_rows == 7
    eod = fairness.equal_opportunity_difference(y_true, y_pred, groups)
    assert math.isclose(eod.value, 2 / 3 - 1 / 2)


@st.composite
def case(draw: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 80))
    y = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    p = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    g = draw(st.lists(st.sampled_from(["x", "y", "z"]), min_size=n, max_size=n))
    return np.array(y), np.array(p), np.array(g)


@FAST
@given(case())
def test_equal_numpy_references(data: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    y, p, g = data
    for got, expected in (
        (fairness.demographic_parity_difference(p, g), dpd_reference(p, g)),
        (fairness.equal_opportunity_difference(y, p, g), eod_reference(y, p, g)),
    ):
        if math.isnan(expected):
            assert math.isnan(got.value) and got.status == "insufficient_data"
        else:
            assert got.status == "ok"
            assert math.isclose(got.value, expected, abs_tol=1e-12)


def test_edge_cases() -> None:
    # one group only: nothing to compare
    one = fairness.demographic_parity_difference(np.array([1, 0]), np.array(["a", "a"]))
    assert math.isnan(one.value) and one.status == "insufficient_data"
    # all predictions equal: no disparity
    same = fairness.demographic_parity_difference(np.ones(4), np.array(["a", "b", "a", "b"]))
    assert same.value == 0.0
    # group without positives is left out of equal opportunity, and says so
    eod = fairness.equal_opportunity_difference(
        np.array([1, 1, 0, 1, 0]), np.array([1, 0, 1, 1, 0]), np.array(["a", "a", "b", "c", "c"])
    )
    assert math.isclose(eod.value, 0.5)
    assert eod.left_out == {"b": "no actual positives"}
    # small groups are left out when a minimum is set
    small = fairness.demographic_parity_difference(
        np.array([1, 1, 0, 0, 1]), np.array(["a", "a", "b", "b", "c"]), min_group_rows=2
    )
    assert small.value == 1.0 and "c" in small.left_out
    # null group is its own group
    nulls = fairness.demographic_parity_difference(
        np.array([1, 0]), np.array(["a", None], dtype=object)
    )
    assert nulls.rates == {"<null>": 0.0, "a": 1.0}


def test_fairness_sli_rows() -> None:
    contract = minimal_contract(
        sources={"predictions": "p/{date}.parquet", "labels": "l/{date}.parquet"},
        predictions={"predicted_label": "pred", "target": "label"},
        features={"gender": {"dtype": "String"}},
        sensitive_attributes=["gender"],
        min_slice_rows=2,
        slos={"model": {"demographic_parity_difference": {"objective": 0.1}}},
    )
    frame = pl.DataFrame(
        {
            "gender": ["f", "f", "m", "m", "x"],
            "y": [True, False, True, True, True],
            "p": [True, False, False, True, True],
        }
    )
    rows = sli_frame(fairness.fairness_sli_rows(contract, frame, "gender", y_true="y", y_pred="p"))
    assert rows["sli"].to_list() == [
        "demographic_parity_difference",
        "equal_opportunity_difference",
    ]
    assert rows["category"].to_list() == ["fairness", "fairness"]
    assert rows["value"].to_list() == [0.0, 0.5]  # "x" has 1 row < min_slice_rows
    assert rows["ok"].to_list() == [True, None]
    assert rows["n_rows"].to_list() == [4, 4]
    assert "left out: x=" in rows["detail"][0]
    missing = fairness.fairness_sli_rows(
        contract, frame.drop("gender"), "gender", y_true="y", y_pred="p"
    )
    assert [r.status for r in missing] == ["error", "error"]
