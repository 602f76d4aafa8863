"""A day's parquet files as one lazy scan per row group, for engines that stream.

Why: the sketch engine summarises a snapshot part by part and merges the parts
(:func:`checks.drift.sketch_snapshot`), so what one part holds is what one column of it
costs in memory. A part per file is not bounded (a 100M-row day may be one file); a part
per row group is, as large as the writer made its row groups (1M rows in
``benchmarks/partition.py``, 8 MB of one float64 column). The row groups come from the
files' footers; each part is a slice of the file's scan that polars reads from that row
group alone (its slice is pushed down to the parquet reader).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from assets.memory_budget import parquet_row_group_rows
from checks.errors import InputError

__all__ = ["row_group_parts", "row_group_sizes"]


def row_group_sizes(file: str) -> list[int]:
    """Rows of each row group of a parquet file, from its footer (no polars engine, so
    it is safe under a tight memory limit; :mod:`assets.memory_budget`)."""
    sizes = parquet_row_group_rows(Path(file))
    if sizes is None:
        raise InputError(f"{file}: cannot read the parquet footer")
    return sizes


def row_group_parts(files: Sequence[str]) -> list[pl.LazyFrame]:
    """One lazy scan per row group of every file, in file then row-group order (empty row
    groups left out; a file with no rows at all gives no part)."""
    parts: list[pl.LazyFrame] = []
    for file in files:
        scan = pl.scan_parquet(file)
        offset = 0
        for rows in row_group_sizes(file):
            if rows:
                parts.append(scan.slice(offset, rows))
            offset += rows
    return parts
