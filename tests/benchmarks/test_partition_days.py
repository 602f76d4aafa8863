"""The partition benchmark's tiled days keep every source's ids matching."""

from __future__ import annotations

import polars as pl
import pytest

from benchmarks.partition import ID_COLUMN, MODEL, SAMPLES, _tiled_chunk

DAY = "2026-11-03"


def _tiled(source: str, rows: int, chunk: int, integer_ids: bool) -> pl.DataFrame:
    sample = pl.read_parquet(SAMPLES / MODEL / source / f"{DAY}.parquet")
    parts = [
        _tiled_chunk(sample, offset, min(chunk, rows - offset), integer_ids=integer_ids)
        for offset in range(0, rows, chunk)
    ]
    return pl.concat(parts)


@pytest.mark.parametrize("integer_ids", [False, True])
def test_every_label_of_a_tiled_day_matches_one_prediction_and_one_feature_row(
    integer_ids: bool,
) -> None:
    rows = 3 * 2500  # three copies of the sample day, generated in uneven chunks
    predictions = _tiled("predictions", rows, 1_000, integer_ids)
    labels = _tiled("labels", rows, 1_700, integer_ids)
    features = _tiled("features", rows, 2_600, integer_ids)
    for frame in (predictions, labels, features):
        assert frame.height == rows and frame.get_column(ID_COLUMN).n_unique() == rows
        assert frame.schema[ID_COLUMN] == (pl.Int64 if integer_ids else pl.String)
    joined = labels.join(predictions, on=ID_COLUMN, how="inner").join(
        features, on=ID_COLUMN, how="inner"
    )
    assert joined.height == rows
