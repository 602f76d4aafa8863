"""ids_are_distinct: distinct hashes prove distinct ids; any repeat says they may repeat."""

from __future__ import annotations

import polars as pl

from checks.distinct_ids import ids_are_distinct


def test_distinct_ids_and_repeats() -> None:
    ids = [f"tx-{i}" for i in range(5000)]
    distinct = pl.LazyFrame({"id": ids})
    assert ids_are_distinct(distinct, "id")
    repeated = pl.LazyFrame({"id": [*ids, "tx-4321"]})
    assert not ids_are_distinct(repeated, "id")
    integers = pl.LazyFrame({"id": list(range(5000))})
    assert ids_are_distinct(integers, "id")
    assert not ids_are_distinct(pl.LazyFrame({"id": [*range(5000), 4321]}), "id")
    categorical = pl.LazyFrame({"id": pl.Series([*ids, "tx-7"], dtype=pl.Categorical)})
    assert not ids_are_distinct(categorical, "id")
    two_null_integers = pl.LazyFrame({"id": pl.Series([1, None, 2, None], dtype=pl.Int32)})
    assert not ids_are_distinct(two_null_integers, "id")


def test_a_snapshot_above_the_limit_is_not_checked() -> None:
    distinct = pl.LazyFrame({"id": [f"tx-{i}" for i in range(5000)]})
    assert ids_are_distinct(distinct, "id", max_rows=5000)
    assert not ids_are_distinct(distinct, "id", max_rows=4999)


def test_null_ids() -> None:
    one_null = pl.LazyFrame({"id": ["a", None, "b"]})
    assert ids_are_distinct(one_null, "id")
    two_nulls = pl.LazyFrame({"id": ["a", None, "b", None]})
    assert not ids_are_distinct(two_nulls, "id")  # de-duplicated as before: harmless


def test_an_empty_snapshot_has_distinct_ids() -> None:
    assert ids_are_distinct(pl.LazyFrame({"id": pl.Series([], dtype=pl.String)}), "id")
