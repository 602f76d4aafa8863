"""Fault injectors: each changes exactly what it says, by the stated magnitude."""

from __future__ import annotations

import polars as pl
import pytest

from checks import faults
from checks.contract import load_contracts
from checks.fault_classes import FAULT_CLASSES

FRAME = pl.DataFrame(
    {
        "id": [f"r{i}" for i in range(1000)],
        "x": [float(i % 10) for i in range(1000)],
        "k": [i % 5 for i in range(1000)],
        "c": ["a", "b"] * 500,
    }
)


def test_covariate_shift_moves_the_mean_by_k_training_sd() -> None:
    shifted = faults.covariate_shift(FRAME, "x", training_sd=2.0)
    moved = shifted["x"].cast(pl.Float64) - FRAME["x"].cast(pl.Float64)
    assert set(moved.round(9)) == {faults.SHIFT_SIGMAS * 2.0}
    integer = faults.covariate_shift(FRAME, "k", training_sd=1.4)
    assert integer.schema["k"] == pl.Int64


def test_share_faults_hit_their_share_of_rows_and_nothing_else() -> None:
    nulled = faults.null_burst(FRAME, "x", seed=1)
    assert nulled["x"].null_count() / 1000 == pytest.approx(faults.NULL_SHARE, abs=0.05)
    assert nulled.drop("x").equals(FRAME.drop("x"))
    mixed = faults.category_mix(FRAME, "c", "z", seed=1)
    assert (mixed["c"] == "z").mean() == pytest.approx(faults.MIX_SHARE, abs=0.05)
    new = faults.new_category(FRAME, "c", seed=1)
    share = (new["c"] == faults.NEW_CATEGORY).mean()
    assert share == pytest.approx(faults.NEW_CATEGORY_SHARE, abs=0.05)
    assert faults.dropped_feature(FRAME, "k").columns == ["id", "x", "c"]
    assert faults.schema_change(FRAME, "x").schema["x"] == pl.String


def test_concept_change_flips_labels_only_inside_the_slice() -> None:
    labels = pl.DataFrame({"id": FRAME["id"], "y": [0] * 1000})
    in_slice = FRAME["c"] == "a"
    flipped = faults.concept_change(
        labels, in_slice, "y", classification=True, regression_shift=0.0, seed=2
    )
    assert flipped.filter(~in_slice)["y"].sum() == 0
    assert flipped.filter(in_slice)["y"].mean() == pytest.approx(faults.FLIP_SHARE, abs=0.07)
    numeric = pl.DataFrame({"id": FRAME["id"], "y": [10.0] * 1000})
    moved = faults.concept_change(
        numeric, in_slice, "y", classification=False, regression_shift=12.0, seed=2
    )
    assert set(moved.filter(in_slice)["y"]) == {22.0}
    assert set(moved.filter(~in_slice)["y"]) == {10.0}


def test_concept_change_moves_a_text_label_to_another_class() -> None:
    """A queue-name label crashed `datasre chaos` (found by a new user)."""
    queues = ["billing", "sales", "tech"]
    labels = pl.DataFrame({"id": FRAME["id"], "y": [queues[i % 3] for i in range(1000)]})
    in_slice = FRAME["c"] == "a"
    changed = faults.concept_change(
        labels, in_slice, "y", classification=True, regression_shift=0.0, seed=2
    )
    moved = changed["y"] != labels["y"]
    assert not (moved & ~in_slice).any()
    assert moved.filter(in_slice).mean() == pytest.approx(faults.FLIP_SHARE, abs=0.07)
    assert set(changed["y"]) == set(queues)
    after = {"billing": "sales", "sales": "tech", "tech": "billing"}
    was = labels.filter(moved)["y"].to_list()
    assert changed.filter(moved)["y"].to_list() == [after[q] for q in was]


def test_every_fault_class_applies_to_both_sample_models() -> None:
    for contract in load_contracts("data/samples/contracts"):
        specs = {name: faults.fault_spec(contract, name) for name in FAULT_CLASSES}
        assert all(spec is not None for spec in specs.values()), contract.model
    with pytest.raises(ValueError, match="unknown fault class"):
        faults.fault_spec(contract, "meteor")
