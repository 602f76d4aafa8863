"""A day's parquet files in parts of bounded size, for the passes that stream.

Why: the sketch engine summarises a snapshot part by part and merges the parts
(:func:`checks.drift.sketch_snapshot`), and the validation pass measures a snapshot batch by
batch (:func:`checks.feature_pass.feature_pass`), so what one part holds is what they cost in
memory. A part per file is not bounded (a 100M-row day may be one file), nor is a part per
row group (a writer may put the whole day in one). So parts are slices of at most a fixed
number of rows, cut inside row groups.

Two readers cut them (measured on the 5M-row fraud day, 21 columns):

* polars, a slice of the file's scan: polars decodes only the slice's rows but reads the
  row group's whole compressed column chunks for every slice, so it serves row groups of
  at most :data:`SLICE_MAX_COMPRESSED_BYTES` (the benchmark's 1M-row groups: ~4 MiB);
* pyarrow's streaming reader (``ParquetFile.iter_batches`` with a read buffer) for larger
  row groups: memory bounded by the batch, ~3x slower than polars on text columns.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

import polars as pl
import pyarrow.parquet as pq

from assets.memory_budget import parquet_row_group_rows
from checks.errors import InputError
from checks.scalars import BATCH_ROWS

__all__ = [
    "PART_ROWS",
    "SLICE_MAX_COMPRESSED_BYTES",
    "row_group_parts",
    "row_group_sizes",
    "snapshot_batches",
]

#: Rows of one part of :func:`row_group_parts` at most (one float64 column: 8 MiB); the
#: benchmark's 1M-row groups stay one part each.
PART_ROWS: Final = 1 << 20
#: A row group whose columns read take more bytes than this compressed is read by pyarrow's
#: streaming reader (polars would read them all again for every slice).
SLICE_MAX_COMPRESSED_BYTES: Final = 64 * 1024 * 1024
#: pyarrow's read buffer (its streaming reader otherwise loads whole column chunks).
_READ_BUFFER_BYTES: Final = 1 << 20


def row_group_sizes(file: str) -> list[int]:
    """Rows of each row group of a parquet file, from its footer (no polars engine, so
    it is safe under a tight memory limit; :mod:`assets.memory_budget`)."""
    sizes = parquet_row_group_rows(Path(file))
    if sizes is None:
        raise InputError(f"{file}: cannot read the parquet footer")
    return sizes


def row_group_parts(files: Sequence[str], part_rows: int = PART_ROWS) -> list[pl.LazyFrame]:
    """Lazy scans of at most ``part_rows`` rows that together are every file, in file then
    row order, none across a row group's edge (empty row groups left out; a file with no
    rows at all gives no part). A part is read one column at a time; polars decodes only
    its rows but reads that column's whole compressed chunk of the row group for each part
    (measured, one 20M-row group of the fraud day: the drift asset peaked at ~0.43 GiB,
    1.2 GiB before). So the bound is the writer's compressed column chunk: ~8 bytes a row of
    an incompressible float64 column in one huge row group; a lazy frame cannot carry
    pyarrow's streaming reader into the sketch's worker processes."""
    parts: list[pl.LazyFrame] = []
    for file in files:
        scan = pl.scan_parquet(file)
        offset = 0
        for rows in row_group_sizes(file):
            parts.extend(
                scan.slice(offset + start, min(part_rows, rows - start))
                for start in range(0, rows, part_rows)
            )
            offset += rows
    return parts


def snapshot_batches(
    files: Sequence[str], columns: Sequence[str], batch_rows: int = BATCH_ROWS
) -> Iterator[pl.DataFrame]:
    """The ``columns`` of every file in frames of at most ``batch_rows`` rows, in file then
    row order, each row group read by polars or pyarrow (module docstring) and typed as
    polars reads the file."""
    for file in files:
        scan = pl.scan_parquet(file).select(columns)
        schema = scan.collect_schema()
        reader = pq.ParquetFile(file, buffer_size=_READ_BUFFER_BYTES, pre_buffer=False)
        metadata = reader.metadata
        wanted = set(columns)
        offset = 0
        for index in range(metadata.num_row_groups):
            group = metadata.row_group(index)
            rows = group.num_rows
            compressed = sum(
                group.column(i).total_compressed_size
                for i in range(group.num_columns)
                if group.column(i).path_in_schema.split(".")[0] in wanted
            )
            if compressed <= SLICE_MAX_COMPRESSED_BYTES:
                for start in range(offset, offset + rows, batch_rows):
                    yield scan.slice(start, min(batch_rows, offset + rows - start)).collect()
            else:
                for batch in reader.iter_batches(
                    batch_size=batch_rows, row_groups=[index], columns=list(columns)
                ):
                    frame = pl.from_arrow(batch)
                    assert isinstance(frame, pl.DataFrame)
                    yield frame if frame.schema == schema else frame.cast(schema)
            offset += rows
