"""``read_sampled``: a small snapshot is read whole; a large one is every k-th row of the
files in order, whatever the slice size, with memory bounded by one slice."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from assets import sample_read
from assets.sample_read import read_sampled
from checks.errors import InputError


def _day(tmp_path: Path, rows: int, files: int = 1) -> str:
    """``files`` parquet files of a ``rows``-row day (columns ``i`` = row number, ``x``,
    ``extra``) under ``tmp_path``; the glob pattern that names them."""
    rng = np.random.default_rng(7)
    frame = pl.DataFrame({"i": np.arange(rows), "x": rng.normal(size=rows), "extra": rows})
    bounds = np.linspace(0, rows, files + 1).astype(int)
    for n, (start, end) in enumerate(itertools.pairwise(bounds)):
        frame.slice(start, end - start).write_parquet(tmp_path / f"part-{n}.parquet")
    return str(tmp_path / "part-*.parquet")


def test_a_day_within_the_limit_is_read_whole(tmp_path: Path) -> None:
    pattern = _day(tmp_path, 500)
    read = read_sampled(pattern, ["i", "x", "absent"], max_rows=500)
    assert read.step == 1 and not read.sampled and read.total_rows == 500
    assert read.frame.columns == ["i", "x"]
    assert read.frame.equals(pl.read_parquet(pattern, columns=["i", "x"]))
    assert read.describe() == "all 500 rows"


@pytest.mark.parametrize("slice_rows", [7, 64, 1000, 5000])
def test_a_large_day_is_every_kth_row_whatever_the_slice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slice_rows: int
) -> None:
    monkeypatch.setattr(sample_read, "SLICE_ROWS", slice_rows)
    pattern = _day(tmp_path, 1003, files=3)
    read = read_sampled(pattern, ["i", "x"], max_rows=100)
    # ceil(1003 / 100) = 11: rows 0, 11, 22, ... 990 of the three files in order.
    assert read.step == 11 and read.sampled and read.total_rows == 1003
    assert read.frame.get_column("i").to_list() == list(range(0, 1003, 11))
    assert read.frame.height <= 100
    assert read.describe() == "a systematic sample of 92 of 1003 rows (one row in every 11)"


def test_a_corrupt_file_is_an_input_error_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "day.parquet"
    bad.write_bytes(b"not parquet at all")
    with pytest.raises(InputError, match=r"day\.parquet"):
        read_sampled(str(bad), ["x"], max_rows=10)


def test_a_missing_file_is_an_input_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nothing\.parquet"):
        read_sampled(str(tmp_path / "nothing.parquet"), ["x"], max_rows=10)


def test_a_sample_holds_only_its_own_strings(tmp_path: Path) -> None:
    # 300,000 ids of 44 bytes (13 MB); a 1,000-row sample must not pin the slices' buffers.
    ids = pl.Series("id", [f"transaction-{i:012d}-padding-padding" for i in range(300_000)])
    pl.DataFrame({"id": ids}).write_parquet(tmp_path / "day.parquet")
    read = read_sampled(str(tmp_path / "day.parquet"), ["id"], max_rows=1000)
    assert read.frame.get_column("id").to_list() == ids.gather_every(300).to_list()
    held = read.frame.to_arrow(compat_level=pl.CompatLevel.newest()).nbytes
    assert held < 100 * read.frame.height  # ~56 bytes a row; 17 MB when buffers are pinned


def test_the_same_read_is_kept_and_a_rewritten_file_is_read_again(tmp_path: Path) -> None:
    pattern = _day(tmp_path, 300)
    first = read_sampled(pattern, ["i"], max_rows=50)
    assert read_sampled(pattern, ["i"], max_rows=50) is first
    assert read_sampled(pattern, ["i", "x"], max_rows=50) is not first
    pl.DataFrame({"i": np.arange(1000, 1400), "x": 0.0}).write_parquet(tmp_path / "part-0.parquet")
    again = read_sampled(pattern, ["i"], max_rows=50)
    assert again.total_rows == 400 and again.frame.get_column("i")[0] == 1000
