"""measured_settings / measured_changes: what a run was measured under, and what changed."""

from __future__ import annotations

import json
from typing import Any

from checks.measured_settings import measured_changes, measured_settings
from tests.gate_fixtures import gate_contract, gate_contract_dict


def _with(**overrides: Any) -> Any:
    return gate_contract(**overrides)


def test_equal_contracts_record_equal_text_and_no_change() -> None:
    contract = gate_contract()
    recorded = measured_settings(contract)
    assert recorded == measured_settings(gate_contract())
    assert measured_changes(recorded, contract) == []
    # What it records: measuring settings only, at their non-default values.
    settings = json.loads(recorded)
    assert set(settings) <= {
        "type", "sources", "features", "predictions", "slices", "sensitive_attributes",
        "min_slice_rows", "min_labelled_rows", "slos_in_force",
    }  # fmt: skip
    assert "slos" not in settings and "owner" not in settings
    # Of the SLOs in force (built-in ones too), what decides a row's verdict.
    assert settings["slos_in_force"]["accuracy"] == {
        "objective": 0.94, "comparator": ">=", "blocking": False,
    }  # fmt: skip
    assert "clock_skew_seconds" in settings["slos_in_force"]
    assert settings["features"]["x"] == {"dtype": "Float64", "nullable": False, "min": 0, "max": 20}


def test_each_measuring_change_is_named_by_its_path() -> None:
    recorded = measured_settings(gate_contract())
    body = gate_contract_dict()
    features = body["features"]
    tightened = _with(
        features={**features, "x": {**features["x"], "max": 5}, "new": {"dtype": "Int64"}},
        min_labelled_rows=1000,
        slices=["c"],
    )
    assert measured_changes(recorded, tightened) == [
        "new feature new",
        "features.x.max 20 -> 5",
        "min_labelled_rows default -> 1000",
        "slices default -> [c]",
    ]
    no_c = {k: v for k, v in features.items() if k != "c"}
    # Without a categorical feature the built-in unseen-category SLO is not in force.
    assert measured_changes(recorded, _with(features=no_c)) == [
        "feature c no longer declared",
        "SLO unseen_category_rate no longer in force",
    ]
    # An SLO's verdict settings, and a run recorded before SLOs were (not judged on them).
    model = gate_contract().slos.model_dump()["model"]
    stricter = _with(slos={**gate_contract().slos.model_dump(), "model": {
        **model, "accuracy": {**model["accuracy"], "objective": 0.96, "blocking": True},
    }})  # fmt: skip
    assert measured_changes(recorded, stricter) == [
        "slos_in_force.accuracy.blocking false -> true",
        "slos_in_force.accuracy.objective 0.94 -> 0.96",
    ]
    unrecorded = json.dumps({k: v for k, v in json.loads(recorded).items() if k != "slos_in_force"})
    assert measured_changes(unrecorded, stricter) == []
    # Back from a setting to its default, and a section's field set for the first time.
    assert measured_changes(measured_settings(tightened), gate_contract())[2:] == [
        "min_labelled_rows 1000 -> default",
        "slices [c] -> default",
    ]
    positive = _with(predictions={**body["predictions"], "positive_label": "yes"})
    assert measured_changes(recorded, positive) == ["predictions.positive_label default -> yes"]
    fewer = {**features, "c": {**features["c"], "allowed_values": ["a"]}}
    (change,) = measured_changes(recorded, _with(features=fewer))
    assert change.startswith("features.c.allowed_values [") and change.endswith("-> [a]")


def test_settings_the_gate_reads_itself_or_that_do_not_change_rows_are_not_compared() -> None:
    recorded = measured_settings(gate_contract())
    body = gate_contract_dict()
    later_start = {**body["sources"], "start_date": "2026-11-05", "max_label_delay_days": 9}
    unjudged = _with(
        sources=later_start,
        owner="someone@example.com",
        description="new words",
        drift={"memory_budget_mb": 64},
        slos={**body["slos"], "window_days": 7},
    )
    assert measured_changes(recorded, unjudged) == []


def test_unreadable_recorded_text_is_not_judged() -> None:
    contract = gate_contract()
    assert measured_changes("not json", contract) == []
    assert measured_changes("[1, 2]", contract) == []


def test_order_paths_and_nan_bounds_change_nothing() -> None:
    body = gate_contract_dict()
    features = body["features"]
    recorded = measured_settings(gate_contract(slices=["c", "k"]))
    c_values = list(reversed(features["c"]["allowed_values"]))
    reordered = _with(
        slices=["k", "c", "k"],
        features={**features, "c": {**features["c"], "allowed_values": [*c_values, c_values[0]]}},
        sources={**body["sources"], "training": "./toy/../toy/training.parquet"},
    )
    assert measured_changes(recorded, reordered) == []
    nan_max = {**features, "x": {**features["x"], "max": float("nan")}}
    assert (
        measured_changes(measured_settings(_with(features=nan_max)), _with(features=nan_max)) == []
    )
    (change,) = measured_changes(measured_settings(gate_contract()), _with(features=nan_max))
    assert change == "features.x.max 20 -> nan"
    strict = _with(sources={**body["sources"], "strict_columns": False})
    assert measured_changes(measured_settings(gate_contract()), strict) == [
        "sources.strict_columns default -> false"
    ]


def test_a_candidate_records_no_daily_sources() -> None:
    body = gate_contract_dict()
    recorded = measured_settings(gate_contract(), candidate=True)
    assert "features" not in json.loads(recorded)["sources"]
    moved = _with(sources={**body["sources"], "features": "elsewhere/{date}.parquet"})
    assert measured_changes(recorded, moved, candidate=True) == []
    assert measured_changes(measured_settings(gate_contract()), moved) == [
        "sources.features toy/features/{date}.parquet -> elsewhere/{date}.parquet"
    ]


def test_a_recorded_run_is_normalised_as_the_contract_is() -> None:
    # Written without the normalisation (a candidate's daily sources, a ./ path, a list
    # out of order): compared alike, it is no change.
    contract = gate_contract()
    recorded = json.loads(measured_settings(contract))
    recorded["sources"]["training"] = "./" + recorded["sources"]["training"]
    recorded["features"]["c"]["allowed_values"].reverse()
    text = json.dumps(recorded)
    assert measured_changes(text, contract) == []
    assert measured_changes(text, contract, candidate=True) == []
