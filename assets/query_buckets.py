"""A ranking day's joined rows regrouped by query, on disk (:class:`QueryFiles`).

NDCG needs every row of a query together, but the quality join runs bucket by bucket of
the id (:mod:`checks.quality_ranking`). Each id bucket's rows (relevance, score, query,
slice columns: ~30 bytes a row before lz4) are written here, as one Arrow IPC file with
one record batch per query bucket, and read back one query bucket at a time (that batch of
every file): memory is one id bucket, then one query bucket, never the day.

Why a file per id bucket, not per (id bucket, query bucket): a 100M-row day has 100 of
each, and 10,000 small files cost ~1.5 ms each to write and remove; with 100 files of 100
batches each the 100M-row ranking day's quality step took 118.7 s instead of 129.4 s.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
from pyarrow import ipc

from checks.quality_join import GROUP
from checks.quality_ranking import query_bucket_of

__all__ = ["QueryFiles"]

_BUCKET_COLUMN = "__query_bucket"
#: lz4 frames: the joined rows shrink ~2x and decompress faster than the disk reads them.
_WRITE_OPTIONS = ipc.IpcWriteOptions(compression="lz4")


class QueryFiles:
    """:class:`checks.quality_ranking.QueryBuckets` kept as files under ``directory``
    (a temporary directory the caller removes): ``count`` query buckets."""

    def __init__(self, directory: Path, count: int) -> None:
        self._directory = directory
        self._count = count
        self._schema: pl.Schema | None = None
        #: Per file written: the numbers of the record batches of each query bucket in it.
        self._batches: list[tuple[Path, dict[int, list[int]]]] = []

    def add(self, rows: pl.DataFrame) -> None:
        """Write one id bucket's rows as one file, a record batch per query bucket (the
        rows sorted by query bucket, so that the batches are slices of one table and share
        its dictionaries: an IPC file holds one dictionary per column)."""
        self._schema = rows.schema
        bucket_of = query_bucket_of(self._count, rows.schema[GROUP])
        keyed = rows.with_columns(bucket_of.alias(_BUCKET_COLUMN)).sort(_BUCKET_COLUMN)
        bucket = keyed.get_column(_BUCKET_COLUMN).to_numpy()
        table = keyed.drop(_BUCKET_COLUMN).to_arrow().unify_dictionaries().combine_chunks()
        edges = np.searchsorted(bucket, np.arange(self._count + 1), side="left").tolist()
        self._directory.mkdir(parents=True, exist_ok=True)
        path = self._directory / f"{len(self._batches)}.arrow"
        batches_of: dict[int, list[int]] = {}
        written = 0
        with ipc.new_file(path, table.schema, options=_WRITE_OPTIONS) as writer:
            for index, (start, end) in enumerate(itertools.pairwise(edges)):
                for batch in table.slice(start, end - start).to_batches():
                    writer.write_batch(batch)
                    batches_of.setdefault(index, []).append(written)
                    written += 1
        self._batches.append((path, batches_of))

    def buckets(self) -> Iterator[pl.DataFrame]:
        """Each query bucket's rows (every row of its queries), one bucket at a time; an
        empty frame for a bucket no row fell in."""
        empty = pl.DataFrame(schema=self._schema)
        for bucket in range(self._count):
            batches = [
                batch
                for path, batches_of in self._batches
                if bucket in batches_of
                for batch in _read_batches(path, batches_of[bucket])
            ]
            if not batches:
                yield empty
                continue
            frame = pl.from_arrow(pa.Table.from_batches(batches))
            assert isinstance(frame, pl.DataFrame)
            yield frame if frame.schema == empty.schema else frame.cast(empty.schema)


def _read_batches(path: Path, numbers: list[int]) -> list[pa.RecordBatch]:
    """Record batches ``numbers`` of the file, read (not memory-mapped: mapped pages of
    every file would count as the process's memory) and the file closed again (a day of
    1,000 id buckets would otherwise hold 1,000 open files)."""
    with pa.OSFile(str(path)) as source:
        reader = ipc.open_file(source)
        return [reader.get_batch(number) for number in numbers]
