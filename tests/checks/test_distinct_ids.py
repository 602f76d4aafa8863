"""ids_are_distinct: distinct hashes prove distinct ids; any repeat says they may repeat."""

from __future__ import annotations

import polars as pl
import pytest

from checks.distinct_ids import ids_are_distinct


@pytest.mark.parametrize("keep_max_rows", [10, 1_000_000])  # bitmaps, kept hashes
def test_distinct_ids_and_repeats(keep_max_rows: int) -> None:
    ids = [f"tx-{i}" for i in range(5000)]
    distinct = pl.LazyFrame({"id": ids})
    assert ids_are_distinct(distinct, "id", keep_max_rows=keep_max_rows)
    repeated = pl.LazyFrame({"id": [*ids, "tx-4321"]})
    assert not ids_are_distinct(repeated, "id", keep_max_rows=keep_max_rows)
    integers = pl.LazyFrame({"id": list(range(5000))})
    assert ids_are_distinct(integers, "id", keep_max_rows=keep_max_rows)


def test_null_ids() -> None:
    one_null = pl.LazyFrame({"id": ["a", None, "b"]})
    assert ids_are_distinct(one_null, "id")
    two_nulls = pl.LazyFrame({"id": ["a", None, "b", None]})
    assert not ids_are_distinct(two_nulls, "id")  # de-duplicated as before: harmless


def test_an_empty_snapshot_has_distinct_ids() -> None:
    assert ids_are_distinct(pl.LazyFrame({"id": pl.Series([], dtype=pl.String)}), "id")
