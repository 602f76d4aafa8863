"""Files of one snapshot scanned together (``assets.io.scan_snapshot``): they must agree
on their columns and types, or the snapshot is unreadable with one line naming the file
and the column."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from assets.io import scan_snapshot
from checks.errors import InputError

PART = pl.DataFrame({"id": ["a", "b"], "priority": [1, 2], "score": [0.1, 0.2]})


def _parts(folder: Path, *frames: pl.DataFrame) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    for index, frame in enumerate(frames):
        frame.write_parquet(folder / f"part-{index}.parquet")
    return str(folder / "*.parquet")


def test_files_that_agree_scan_as_one_snapshot(tmp_path: Path) -> None:
    pattern = _parts(tmp_path / "day", PART, PART.head(0), PART)
    assert scan_snapshot(pattern).collect().height == 4


def test_text_written_by_pyarrow_beside_polars_agrees(tmp_path: Path) -> None:
    """pyarrow writes ``string`` where polars writes ``large_string``: both read as
    String, so the files agree (compared as arrow types, they were refused)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pattern = _parts(tmp_path / "day", PART)
    pq.write_table(
        pa.table({"id": pa.array(["c"], pa.string()), "priority": pa.array([3], pa.int64()),
                  "score": pa.array([0.3], pa.float64())}),
        tmp_path / "day" / "part-9.parquet",
    )  # fmt: skip
    assert scan_snapshot(pattern).collect()["id"].to_list() == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("other", "message"),
    [
        (PART.with_columns(pl.col("priority").cast(pl.Int32)),
         "part-1.parquet: column priority is Int32, Int64 in "),
        (PART.drop("score"), "part-1.parquet: column score missing, which "),
        (PART.with_columns(pl.lit("x").alias("note")), "part-1.parquet: column note not in "),
    ],
    ids=["an integer width (a step crashed on it)", "a missing column", "an extra column"],
)  # fmt: skip
def test_files_that_disagree_are_one_line_naming_the_file_and_column(
    tmp_path: Path, other: pl.DataFrame, message: str
) -> None:
    pattern = _parts(tmp_path / "day", PART, other)
    with pytest.raises(InputError, match=message) as raised:
        scan_snapshot(pattern)
    assert "\n" not in str(raised.value)
