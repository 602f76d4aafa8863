"""QueryFiles gives back every row it was given, each query bucket once, every row of a
query in one bucket, with the types it was given (text, categorical and enum queries and
slices, nulls), from one file per id bucket."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from assets.query_buckets import QueryFiles
from checks.quality_join import GROUP, SCORE, Y_NUM


def _id_bucket(seed: int, query_dtype: pl.DataType) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    n = 500
    query = pl.Series(GROUP, [f"q{i}" for i in rng.integers(0, 60, n)])
    slice_values = [None, "DE", "FR", "US"]
    return pl.DataFrame(
        {
            Y_NUM: rng.integers(0, 4, n).astype(float),
            SCORE: rng.random(n),
            GROUP: query.cast(query_dtype),
            "country": pl.Series(
                [slice_values[i] for i in rng.integers(0, 4, n)], dtype=pl.Categorical
            ),
            "row": np.arange(n) + seed * n,
        }
    )


@pytest.mark.parametrize(
    "query_dtype",
    [pl.String(), pl.Categorical(), pl.Enum([f"q{i}" for i in range(60)])],
)
def test_rows_come_back_regrouped_by_query(tmp_path: Path, query_dtype: pl.DataType) -> None:
    added = [_id_bucket(seed, query_dtype) for seed in range(4)]
    files = QueryFiles(tmp_path / "queries", count=7)
    for rows in added:
        files.add(rows)
    assert len(list((tmp_path / "queries").iterdir())) == len(added)  # a file per id bucket
    buckets = list(files.buckets())
    assert len(buckets) == 7
    assert sum(1 for b in buckets if b.height) > 1  # the rows really spread
    for bucket in buckets:
        assert bucket.schema == added[0].schema
    owners = pl.concat(
        [b.select(GROUP, pl.lit(i).alias("bucket")) for i, b in enumerate(buckets)]
    ).unique()
    assert owners.get_column(GROUP).is_unique().all()  # a query lives in one bucket
    got = pl.concat(buckets).sort("row")
    assert_frame_equal(got, pl.concat(added).sort("row"))


def test_no_rows_gives_empty_buckets_of_the_schema(tmp_path: Path) -> None:
    files = QueryFiles(tmp_path / "queries", count=3)
    files.add(_id_bucket(0, pl.String()).head(0))
    buckets = list(files.buckets())
    assert [b.height for b in buckets] == [0, 0, 0]
    assert all(b.schema == _id_bucket(0, pl.String()).schema for b in buckets)
