"""A ranking day's joined rows regrouped by query, on disk (:class:`QueryFiles`).

NDCG needs every row of a query together, but the quality join runs bucket by bucket of
the id (:mod:`checks.quality_ranking`). Each id bucket's rows (relevance, score, query,
slice columns: ~30 bytes a row before lz4) are written here, one Arrow IPC file per query
bucket, and read back one query bucket at a time: memory is one id bucket, then one query
bucket, never the day.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from checks.quality_join import GROUP
from checks.quality_ranking import query_bucket_of

__all__ = ["QueryFiles"]

_BUCKET_COLUMN = "__query_bucket"


class QueryFiles:
    """:class:`checks.quality_ranking.QueryBuckets` kept as files under ``directory``
    (a temporary directory the caller removes): ``count`` query buckets."""

    def __init__(self, directory: Path, count: int) -> None:
        self._directory = directory
        self._count = count
        self._added = 0
        self._schema: pl.Schema | None = None

    def add(self, rows: pl.DataFrame) -> None:
        """Write one id bucket's rows, split by query bucket (file ``q<j>/<i>.arrow``)."""
        self._schema = rows.schema
        bucket_of = query_bucket_of(self._count, rows.schema[GROUP])
        keyed = rows.with_columns(bucket_of.alias(_BUCKET_COLUMN))
        for (bucket,), part in keyed.partition_by(_BUCKET_COLUMN, as_dict=True).items():
            folder = self._directory / f"q{bucket}"
            folder.mkdir(parents=True, exist_ok=True)
            part.drop(_BUCKET_COLUMN).write_ipc(folder / f"{self._added}.arrow", compression="lz4")
        self._added += 1

    def buckets(self) -> Iterator[pl.DataFrame]:
        """Each query bucket's rows (every row of its queries), one bucket at a time; an
        empty frame for a bucket no row fell in."""
        empty = pl.DataFrame(schema=self._schema)
        for bucket in range(self._count):
            files = sorted((self._directory / f"q{bucket}").glob("*.arrow"))
            yield pl.scan_ipc(files).collect() if files else empty
