"""``read_sampled``: a small snapshot is read whole; a large one is a seeded stratified
random sample (each slice its share, rows in file order), with memory bounded by one
slice and no blind spot for files whose rows repeat periodically."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from assets import sample_read
from assets.sample_read import read_sampled, slice_quotas
from assets.shared_samples import SHARED_DIR_ENV, create_shared_dir, sharing_samples
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
    assert not read.sampled and read.total_rows == 500
    assert read.frame.columns == ["i", "x"]
    assert read.frame.equals(pl.read_parquet(pattern, columns=["i", "x"]))
    assert read.describe() == "all 500 rows"


@pytest.mark.parametrize(
    ("total", "max_rows", "slice_rows"), [(1003, 100, 7), (10, 3, 4), (999, 998, 500)]
)
def test_the_slice_quotas_are_each_slices_share_and_sum_to_the_sample(
    total: int, max_rows: int, slice_rows: int
) -> None:
    quotas = slice_quotas(total, max_rows, slice_rows)
    assert sum(rows for _, rows, _ in quotas) == total
    assert sum(kept for _, _, kept in quotas) == max_rows
    for _start, rows, kept in quotas:
        assert 0 <= kept <= rows
        # a slice's share of the sample, to within one row
        assert abs(kept - rows * max_rows / total) < 1


@pytest.mark.parametrize("slice_rows", [7, 64, 1000, 5000])
def test_a_large_day_is_a_stratified_random_sample_in_file_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slice_rows: int
) -> None:
    monkeypatch.setattr(sample_read, "SLICE_ROWS", slice_rows)
    pattern = _day(tmp_path, 1003, files=3)
    read = read_sampled(pattern, ["i", "x"], max_rows=100)
    assert read.sampled and read.total_rows == 1003 and read.frame.height == 100
    rows = read.frame.get_column("i").to_numpy()
    whole = pl.read_parquet(pattern).sort("i")
    assert (np.diff(rows) > 0).all()  # distinct, in file order
    # every kept row is the file's row, whole
    assert read.frame.equals(whole.select("i", "x")[rows.tolist()])
    # spread over the day: each tenth of the file holds about a tenth of the sample
    assert np.histogram(rows, bins=10, range=(0, 1003))[0].min() >= 2
    assert read.describe() == (
        "a random sample of 100 of 1003 rows (seeded, spread evenly over the file)"
    )


def test_the_sample_is_the_same_on_a_rerun(tmp_path: Path) -> None:
    pattern = _day(tmp_path, 2000)
    first = read_sampled(pattern, ["i"], max_rows=150).frame
    sample_read._read_sampled.cache_clear()
    assert read_sampled(pattern, ["i"], max_rows=150).frame.equals(first)


def test_a_periodic_file_is_not_sampled_at_one_phase(tmp_path: Path) -> None:
    # Rows repeat with period 100 and 10,000 rows are sampled down to 100: every 100th
    # row would see one value; a random sample sees most of them.
    pl.DataFrame({"v": np.arange(10_000) % 100}).write_parquet(tmp_path / "day.parquet")
    read = read_sampled(str(tmp_path / "day.parquet"), ["v"], max_rows=100)
    assert read.frame.get_column("v").n_unique() > 50


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
    assert read.frame.height == 1000 and read.frame.get_column("id").is_in(ids.implode()).all()
    held = read.frame.to_arrow(compat_level=pl.CompatLevel.newest()).nbytes
    assert held < 100 * read.frame.height  # ~56 bytes a row; 17 MB when buffers are pinned


def test_the_same_read_is_kept_and_a_rewritten_file_is_read_again(tmp_path: Path) -> None:
    pattern = _day(tmp_path, 300)
    first = read_sampled(pattern, ["i"], max_rows=50)
    assert read_sampled(pattern, ["i"], max_rows=50) is first
    assert read_sampled(pattern, ["i", "x"], max_rows=50) is not first
    pl.DataFrame({"i": np.arange(1000, 1400), "x": 0.0}).write_parquet(tmp_path / "part-0.parquet")
    again = read_sampled(pattern, ["i"], max_rows=50)
    assert again.total_rows == 400 and (again.frame.get_column("i") >= 1000).all()


def _shared_day(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    """A 1,003-row day under ``tmp_path / "day"``, and the run's shared directory (set)."""
    (tmp_path / "day").mkdir()
    shared = tmp_path / "shared"  # created by the first sample stored
    monkeypatch.setenv(SHARED_DIR_ENV, str(shared))
    return _day(tmp_path / "day", 1003), shared


def _drawing_forbidden(monkeypatch: pytest.MonkeyPatch) -> None:
    """A read from here on may not pass over the day (it must load a shared sample)."""

    def forbidden(*_: object) -> None:
        raise AssertionError("the day was read again")

    monkeypatch.setattr(sample_read, "slice_quotas", forbidden)


def test_a_process_of_the_run_loads_the_sample_another_one_drew(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Same files, columns and size: the second process (a cleared cache) loads the
    # first one's file instead of passing over the day, and gets the same rows and types.
    pattern, shared = _shared_day(tmp_path, monkeypatch)
    first = read_sampled(pattern, ["i", "x"], max_rows=100)
    assert len(list(shared.glob("sample-*.arrow"))) == 1
    sample_read._read_sampled.cache_clear()
    with monkeypatch.context() as patched:
        _drawing_forbidden(patched)
        loaded = read_sampled(pattern, ["i", "x"], max_rows=100)
    assert loaded.frame.equals(first.frame) and loaded.frame.schema == first.frame.schema
    assert loaded.total_rows == 1003 and loaded.describe() == first.describe()
    # Another read (other columns) is drawn, not taken from that file.
    sample_read._read_sampled.cache_clear()
    other = read_sampled(pattern, ["i"], max_rows=100)
    assert other.frame.equals(first.frame.select("i"))
    assert len(list(shared.glob("sample-*.arrow"))) == 2


def test_a_day_read_whole_is_not_shared_and_a_damaged_share_is_drawn_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pattern, shared = _shared_day(tmp_path, monkeypatch)
    read_sampled(pattern, ["i"], max_rows=2000)  # whole: nothing to share
    assert not shared.exists()
    first = read_sampled(pattern, ["i"], max_rows=100)
    (stored,) = shared.glob("sample-*.arrow")
    stored.write_bytes(b"half a file")
    sample_read._read_sampled.cache_clear()
    assert read_sampled(pattern, ["i"], max_rows=100).frame.equals(first.frame)


def test_the_shared_directory_keeps_as_many_samples_as_a_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pattern, shared = _shared_day(tmp_path, monkeypatch)
    for size in (100, 101, 102, 103):
        read_sampled(pattern, ["i"], max_rows=size)
    assert len(list(shared.glob("sample-*.arrow"))) == sample_read._KEPT
    assert not list(shared.glob(".*"))  # no partial file left


def test_without_a_shared_directory_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SHARED_DIR_ENV, raising=False)
    pattern = _day(tmp_path, 1003)
    before = set(tmp_path.iterdir())
    read_sampled(pattern, ["i"], max_rows=100)
    assert set(tmp_path.iterdir()) == before


def test_sharing_samples_names_a_fresh_directory_for_the_block_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(SHARED_DIR_ENV, "/previous")
    with sharing_samples() as directory:
        assert os.environ[SHARED_DIR_ENV] == str(directory)
        assert not directory.exists()  # until a sample is stored: a killed run leaves none
        create_shared_dir(directory)
        (directory / "sample-x.arrow").write_bytes(b"x")
    assert os.environ[SHARED_DIR_ENV] == "/previous"
    assert not directory.exists()
    monkeypatch.delenv(SHARED_DIR_ENV)
    with sharing_samples():
        pass
    assert SHARED_DIR_ENV not in os.environ


@pytest.mark.parametrize(
    "error", [OSError(28, "No space left on device"), pl.exceptions.ComputeError("x")]
)
def test_a_sample_that_cannot_be_shared_is_still_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    pattern, shared = _shared_day(tmp_path, monkeypatch)

    def fails(self: pl.DataFrame, target: object, **_: object) -> None:
        Path(str(target)).write_bytes(b"partial")
        raise error

    monkeypatch.setattr(pl.DataFrame, "write_ipc", fails)
    read = read_sampled(pattern, ["i"], max_rows=100)  # not an InputError of the day
    assert read.frame.height == 100
    assert not list(shared.iterdir())  # no partial file left
