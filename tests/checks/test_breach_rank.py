"""The worst-breach ranking: blocking first, then the miss against the row's own objective,
in units of the error that objective allows; drift statistics never compared by value."""

from __future__ import annotations

import math

import polars as pl

from checks.breach_rank import rank_breaches, relative_miss

COLUMNS = ("category", "sli", "method", "value", "objective", "comparator", "ok", "blocking")


def frame(*rows: tuple[object, ...]) -> pl.DataFrame:
    return pl.DataFrame(
        [dict(zip(COLUMNS, row, strict=True)) for row in rows],
        schema={
            "category": pl.String,
            "sli": pl.String,
            "method": pl.String,
            "value": pl.Float64,
            "objective": pl.Float64,
            "comparator": pl.String,
            "ok": pl.Boolean,
            "blocking": pl.Boolean,
        },
    )


def test_a_chi2_statistic_never_outranks_a_measured_miss() -> None:
    rows = frame(
        ("drift", "chi2", "chi2", 512.0, 0.1, "<=", False, False),
        ("drift", "drifted_feature_share", None, 0.158, 0.1, "<=", False, False),
        ("quality", "accuracy", None, 0.90, 0.94, ">=", False, False),
        ("quality", "accuracy", None, 0.97, 0.94, ">=", True, False),
    )
    ranked = rank_breaches(rows)
    assert ranked["sli"].to_list() == ["accuracy", "drifted_feature_share", "chi2"]
    misses = ranked["miss"].to_list()
    assert math.isclose(misses[0], 0.04 / 0.06)  # error 0.10 where 0.06 is allowed
    assert math.isclose(misses[1], 0.058 / 0.1)
    assert misses[2] is None


def test_blocking_first_and_a_zero_tolerance_objective_is_an_infinite_miss() -> None:
    rows = frame(
        ("quality", "accuracy", None, 0.10, 0.94, ">=", False, False),
        ("schema", "schema_validity", None, 0.98, 0.99, ">=", False, True),
        ("ingest", "ingest_ok", None, 0.0, 1.0, ">=", False, False),
        ("freshness", "data_staleness_seconds", None, None, 129600.0, "<=", False, False),
    )
    ranked = rank_breaches(rows)
    assert ranked["sli"].to_list() == [
        "schema_validity",  # blocking, however small its miss
        "ingest_ok",  # objective 1 allows no error at all
        "accuracy",
        "data_staleness_seconds",  # breached, but no value to measure the miss
    ]
    assert ranked["miss"][1] == float("inf")


def test_an_uncatalogued_sli_is_judged_relative_to_its_objective() -> None:
    rows = frame(("custom", "widgets", None, 150.0, 100.0, "<=", False, False))
    assert rows.select(relative_miss()).item() == 0.5
