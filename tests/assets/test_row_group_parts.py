"""The sketch engine's parts are bounded by rows, not by the writer's row groups: a day in
one row group is cut into parts of at most ``part_rows`` rows, and its sketch gives the
same drift rows as the same day in many row groups, with KS bounds holding the exact KS."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from assets.row_groups import PART_ROWS, row_group_parts
from checks.drift import compute_drift, sketch_snapshot
from checks.profile import build_profile

N = 6_000


def _day(tmp_path: Path, name: str, row_group_rows: int) -> str:
    rng = np.random.default_rng(11)
    frame = pl.DataFrame(
        {
            "x": rng.normal(0.2, 1.1, N),
            "k": rng.integers(0, 7, N).astype(np.float64),  # ties: a spiky distribution
            "c": rng.choice(["a", "b", "c"], N),
        }
    )
    path = tmp_path / name
    frame.write_parquet(path, row_group_size=row_group_rows)
    return str(path)


def test_one_row_group_is_cut_into_parts_of_bounded_rows(tmp_path: Path) -> None:
    one = _day(tmp_path, "one.parquet", N)
    assert pq.ParquetFile(one).metadata.num_row_groups == 1
    parts = row_group_parts([one], part_rows=1_000)
    assert [part.select(pl.len()).collect().item() for part in parts] == [1_000] * 6
    assert pl.concat(parts).collect().equals(pl.read_parquet(one))
    assert len(row_group_parts([one])) == 1 and PART_ROWS >= N  # the default: 1M rows


def test_one_row_group_sketches_as_many_do_and_its_bounds_hold_the_exact_values(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(12)
    training = pl.DataFrame(
        {
            "x": rng.normal(0.0, 1.0, 4_000),
            "k": rng.integers(0, 7, 4_000).astype(np.float64),
            "c": rng.choice(["a", "b", "c"], 4_000),
        }
    )
    profile = build_profile(training)
    one = _day(tmp_path, "one.parquet", N)
    many = _day(tmp_path, "many.parquet", 700)
    cut = compute_drift(profile, sketch_snapshot(profile, row_group_parts([one], part_rows=512)))
    grouped = compute_drift(profile, sketch_snapshot(profile, row_group_parts([many])))
    exact_columns = ["feature", "method", "n_current", "n_missing_current", "status"]
    assert cut.select(exact_columns).equals(grouped.select(exact_columns))
    assert np.allclose(cut["statistic"], grouped["statistic"], rtol=1e-12, atol=0)
    exact = compute_drift(profile, pl.read_parquet(one)).filter(pl.col("method") == "ks")
    ks = cut.filter(pl.col("method") == "ks").join(exact, on="feature", suffix="_exact")
    assert ks.height == 2
    for row in ks.iter_rows(named=True):
        low, width = row["statistic"], row["error_bound"]
        assert low <= row["statistic_exact"] <= low + width + 1e-12
