"""``unseen_category_rate`` against hand-computed values, and the built-in SLO behind it."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from checks.contract import Contract
from checks.gate import decide
from checks.gate_verdict import CheckName
from checks.profile import build_profile
from checks.sli import SliRow, slo_definitions_frame
from checks.slo import built_in_slos, declared_definitions, error_budgets, slos_in_force
from checks.unseen import UNSEEN_EXAMPLES, unseen_category_rows
from tests.fixtures import contract_dict
from tests.gate_fixtures import FINISHED, days, gate_contract, history_frame, runs_frame

TRAINING = pl.DataFrame(
    {
        "c": ["a", "b", "c"] * 10,
        "flag": [True, False, True] * 10,
    }
)


def _contract(**slos: Any) -> Contract:
    body = contract_dict()
    body["features"] = {
        "x": {"dtype": "Float64"},
        "c": {"dtype": "String"},
        "flag": {"dtype": "Boolean"},
    }
    body["slos"]["model"].update(slos)
    return Contract.model_validate(body)


def _rows(contract: Contract, current: pl.DataFrame) -> dict[str, SliRow]:
    profile = build_profile(TRAINING, categorical=["c", "flag"])
    rows = unseen_category_rows(contract, profile, current.lazy(), ["c", "flag"])
    assert all(r.sli == "unseen_category_rate" for r in rows)
    return {str(r.feature): r for r in rows}


def test_the_rate_is_unseen_rows_over_non_null_rows_with_the_values_named_verbatim() -> None:
    # 200 rows: 6 'd', 1 'a ' (a trailing space is a new category), 3 null, 190 known.
    c = ["d"] * 6 + ["a "] + [None] * 3 + ["a", "b", "c", "b", "a"] * 38
    current = pl.DataFrame({"c": c, "flag": [True] * 200})
    row = _rows(_contract(), current)["c"]
    assert row.value == pytest.approx(7 / 197)
    assert row.n_rows == 197
    assert (row.objective, row.comparator, row.ok) == (0.0, "<=", False)
    assert (row.track, row.category, row.status, row.blocking) == ("model", "schema", "ok", False)
    assert row.detail == "2 categories the baseline never had: 'd' 6 rows, 'a ' 1 row"


def test_a_day_with_only_known_categories_meets_the_objective() -> None:
    current = pl.DataFrame({"c": ["c", "a", None], "flag": [False, True, True]})
    rows = _rows(_contract(), current)
    assert [(r.value, r.n_rows, r.ok, r.detail) for r in rows.values()] == [
        (0.0, 2, True, None),
        (0.0, 3, True, None),
    ]


def test_the_contract_may_tolerate_a_share_of_new_categories() -> None:
    current = pl.DataFrame({"c": ["z"] + ["a"] * 99, "flag": [True] * 100})
    tolerant = _rows(_contract(unseen_category_rate={"objective": 0.01}), current)["c"]
    assert (tolerant.value, tolerant.objective, tolerant.ok) == (0.01, 0.01, True)
    strict = _rows(_contract(), current)["c"]
    assert (strict.value, strict.objective, strict.ok) == (0.01, 0.0, False)


def test_categories_compare_as_strings_as_the_profile_counted_them() -> None:
    # A Categorical day against a String baseline; a Boolean baseline that never had False.
    profile = build_profile(
        pl.DataFrame({"c": ["a", "b"] * 20, "flag": [True] * 40}), categorical=["c", "flag"]
    )
    current = pl.DataFrame(
        {"c": pl.Series(["a", "b", "q", "a"], dtype=pl.Categorical), "flag": [True, False] * 2}
    )
    rows = unseen_category_rows(_contract(), profile, current, ["c", "flag"])
    assert [(r.feature, r.value, r.detail) for r in rows] == [
        ("c", 0.25, "1 category the baseline never had: 'q' 1 row"),
        ("flag", 0.5, "1 category the baseline never had: 'false' 2 rows"),
    ]


def test_the_detail_names_the_most_frequent_values_and_counts_the_rest() -> None:
    values = [f"new{i}" for i in range(UNSEEN_EXAMPLES + 2) for _ in range(10 - i)]
    current = pl.DataFrame({"c": values, "flag": [True] * len(values)})
    detail = _rows(_contract(), current)["c"].detail
    assert detail == (
        "7 categories the baseline never had: 'new0' 10 rows, 'new1' 9 rows, 'new2' 8 rows, "
        "'new3' 7 rows, 'new4' 6 rows and 2 more"
    )


def test_an_all_null_column_has_no_verdict() -> None:
    current = pl.DataFrame({"c": [None, None]}, schema={"c": pl.String}).with_columns(
        flag=pl.lit(True)
    )
    row = _rows(_contract(), current)["c"]
    assert (row.value, row.n_rows, row.ok, row.status) == (None, 0, None, "insufficient_data")


def test_only_features_the_profile_holds_as_categorical_get_a_row() -> None:
    profile = build_profile(TRAINING, categorical=["c"])
    current = pl.DataFrame({"c": ["a"], "flag": [True]})
    rows = unseen_category_rows(_contract(), profile, current, ["c", "flag", "absent"])
    assert [r.feature for r in rows] == ["c"]


# --- the built-in SLO -------------------------------------------------------------------


def test_the_built_in_slo_is_in_force_and_budgeted_when_the_contract_is_silent() -> None:
    contract = _contract()
    assert contract.slo("unseen_category_rate") is None
    spec = slos_in_force(contract).model["unseen_category_rate"]
    assert (spec.objective, spec.target, spec.blocking) == (0.0, 0.9, False)  # tier 2
    definitions = slo_definitions_frame(contract).filter(pl.col("sli") == "unseen_category_rate")
    assert definitions.select("track", "objective", "comparator", "target").rows() == [
        ("model", 0.0, "<=", 0.9)
    ]
    assert "unseen_category_rate" not in {d.sli for d in declared_definitions(contract)}


def test_a_declared_slo_wins_and_a_model_without_categories_has_none() -> None:
    declared = _contract(unseen_category_rate={"objective": 0.02, "blocking": True})
    assert "unseen_category_rate" not in built_in_slos(declared)
    assert slos_in_force(declared).model["unseen_category_rate"].objective == 0.02
    body = contract_dict()
    body["features"] = {"x": {"dtype": "Float64"}}
    numeric_only = Contract.model_validate(body)
    assert "unseen_category_rate" not in slos_in_force(numeric_only).model
    tier_one = Contract.model_validate({**contract_dict(), "tier": 1})
    assert built_in_slos(tier_one)["unseen_category_rate"].target == 0.95


def test_a_new_category_every_day_exhausts_the_budget_and_blocks_the_gate() -> None:
    contract = gate_contract()
    last_four = days(14)[-4:]
    slis = history_frame(contract, 14, bad={"unseen_category_rate": last_four})
    budget = next(b for b in error_budgets(slis, contract) if b.slo == "unseen_category_rate")
    assert (budget.bad, budget.evaluations, budget.exhausted) == (4, 14, True)  # 4 > 1.4
    verdict = decide(contract, slis, runs_frame(contract, [FINISHED]), now=FINISHED)
    assert not verdict.ready
    blocked = [r for r in verdict.reasons if r.slo == "unseen_category_rate"]
    assert [r.check for r in blocked] == [CheckName.MODEL_BUDGET]
