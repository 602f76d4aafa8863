"""Ranking quality at scale: NDCG from per-slice sums over buckets of whole queries.

NDCG@k is a mean over queries, and a query's NDCG needs all of its rows together, so a
ranking day cannot be reduced bucket by bucket of the id like classification or
regression (:mod:`checks.quality_tables`): one query's documents have different ids. It is
scored in two passes instead. The id buckets' joins give the labelled rows (relevance,
score, query, slice columns), which the caller regroups by a hash of the query
(:func:`query_bucket_of`, :class:`QueryBuckets`; the asset keeps them on disk); each query
bucket then holds every row of its queries, and is reduced to one row per slice value
with the NDCG sums of :class:`checks.quality_metrics.NdcgParts` (:func:`ranking_tables`).
Tables of different query buckets add up (:func:`checks.quality_tables.merge_tables`),
and :func:`ndcg_sums` turns a slice's sums into the value the row-level
:func:`checks.quality_metrics.ndcg` gives on the same rows (equal up to float summation
order): a slice keeps the slice's rows and scores each query on those rows, as on rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt
import polars as pl

from checks.quality_join import GROUP, SCORE, Y_NUM
from checks.quality_metrics import MetricResult, NdcgParts, RankedRows, ndcg_result
from checks.quality_tables import COUNT, SUM_PREFIX, CountTables
from checks.slices import usable_rows

__all__ = [
    "NDCG_SUM",
    "RANKED",
    "RANKED_ROW_COLUMNS",
    "QueryBuckets",
    "ndcg_sums",
    "query_bucket_of",
    "ranking_tables",
]

#: The joined rows' working columns NDCG reads (relevance, score, query).
RANKED_ROW_COLUMNS: Final = (Y_NUM, SCORE, GROUP)

#: Sum columns of a ranking table (:data:`~checks.quality_tables.SUM_PREFIX`: merged by
#: adding); :data:`~checks.quality_tables.COUNT` holds the usable rows.
NDCG_SUM: Final = f"{SUM_PREFIX}ndcg"
QUERIES: Final = f"{SUM_PREFIX}queries"
QUERY_ROWS: Final = f"{SUM_PREFIX}query_rows"
SINGLE: Final = f"{SUM_PREFIX}single_document_queries"
NON_FINITE: Final = f"{SUM_PREFIX}non_finite"
NEGATIVE: Final = f"{SUM_PREFIX}negative"
OVERFLOWED: Final = f"{SUM_PREFIX}overflowed_queries"

#: Seed of the query hash that assigns rows to query buckets (any fixed value).
_QUERY_SEED: Final[int] = 0x9E7


class QueryBuckets(Protocol):
    """Where a ranking day's labelled rows are regrouped by query: :meth:`add` takes the
    rows of one id bucket, :meth:`buckets` then yields each query bucket's rows (every row
    of its queries). The asset keeps them in files; ``checks`` never writes one."""

    def add(self, rows: pl.DataFrame) -> None: ...

    def buckets(self) -> Iterator[pl.DataFrame]: ...


def query_bucket_of(count: int, dtype: pl.DataType) -> pl.Expr:
    """The query bucket (0 .. ``count`` - 1) of each joined row, by a hash of its query
    (of ``dtype``) as text; a float query is normalised first so that ``-0.0`` and ``0.0``,
    one query to the row-level path, share a bucket. (Rows with a null or NaN query are
    not scored: they are dropped before, as unusable.)"""
    query = pl.col(GROUP)
    if dtype.is_float():  # (polars keeps -0.0 + 0.0 as -0.0)
        query = pl.when(query == 0.0).then(0.0).otherwise(query)
    return query.cast(pl.String).hash(_QUERY_SEED) % count


#: Each :class:`~checks.quality_metrics.NdcgParts` field's table column (``rows`` is
#: :data:`~checks.quality_tables.COUNT`); ``ndcg_sum`` is the one float. A field missing
#: here fails ``NdcgParts(**...)`` in :func:`ndcg_sums`.
_COLUMN_OF_FIELD: Final = {
    "rows": COUNT,
    "non_finite": NON_FINITE,
    "negative": NEGATIVE,
    "queries": QUERIES,
    "query_rows": QUERY_ROWS,
    "single": SINGLE,
    "ndcg_sum": NDCG_SUM,
    "overflowed": OVERFLOWED,
}


def _table(parts: Mapping[str | None, NdcgParts], grouping: str | None) -> pl.DataFrame:
    """One table row per slice value (none: one row) with the parts as sum columns."""
    values = list(parts.values())
    columns = {
        column: pl.Series(
            column,
            [getattr(p, field) for p in values],
            dtype=pl.Float64 if field == "ndcg_sum" else pl.Int64,
        )
        for field, column in _COLUMN_OF_FIELD.items()
    }
    if grouping is None:
        return pl.DataFrame(columns)
    keys = pl.Series(grouping, list(parts), dtype=pl.String)
    return pl.DataFrame({grouping: keys, **columns})


def _ranked(rows: pl.DataFrame, k: int) -> RankedRows:
    """Whole queries' usable rows sorted for NDCG; a query that is not a number as a
    label code (numpy would compare text queries as Python objects)."""
    relevance, score = (rows.get_column(c).to_numpy() for c in (Y_NUM, SCORE))
    query = rows.get_column(GROUP)
    groups = query.to_numpy() if query.dtype.is_numeric() else _labels(query)[0]
    return RankedRows(relevance, score, groups, k=k)


def _labels(values: pl.Series) -> tuple[npt.NDArray[np.unsignedinteger], list[str | None]]:
    """Each row's label code ``0 .. n-1`` and the ``n`` labels: the values cast to
    ``String``, null a label of its own. By hashing, not sorting (1M rows: ~0.03 s against
    ~0.25 s for a dense rank of text); 16-bit codes while they fit, which numpy sorts by
    radix (:meth:`~checks.quality_metrics.RankedRows.parts_by`)."""
    text = values.cast(pl.String)
    present: list[str] = text.drop_nulls().unique().to_list()
    names: list[str | None] = [*present, *([None] if text.null_count() else [])]
    dtype = pl.UInt16 if len(names) <= np.iinfo(np.uint16).max else pl.UInt32
    codes = text.replace_strict(
        present,
        pl.int_range(len(present), dtype=dtype, eager=True),
        default=len(present),  # null, the last label
        return_dtype=dtype,
    )
    return codes.to_numpy(), names


def ranking_tables(rows: pl.DataFrame, groupings: Sequence[str], k: int) -> CountTables:
    """The model-wide table and one per grouping column (values cast to ``String``, as
    slices are labelled) of one query bucket's joined rows (working columns
    :data:`RANKED_ROW_COLUMNS` and the grouping columns). Only the usable rows count
    (relevance, score and query non-null and not NaN, as
    :func:`checks.slices.usable_rows` keeps them for the row-level metric). The rows are
    sorted once for all the tables (:class:`~checks.quality_metrics.RankedRows`)."""
    usable = usable_rows(rows, RANKED_ROW_COLUMNS)
    ranked = _ranked(usable, k)
    tables: CountTables = {None: _table({None: ranked.parts()}, None)}
    for column in dict.fromkeys(groupings):
        codes, names = _labels(usable.get_column(column))
        parts = ranked.parts_by(codes, len(names))
        tables[column] = _table(dict(zip(names, parts, strict=True)), column)
    return tables


#: The sum columns :data:`RANKED` passes (every part but ``rows``, which comes as COUNT).
_PART_COLUMNS: Final = tuple(c for f, c in _COLUMN_OF_FIELD.items() if f != "rows")


def ndcg_sums(*columns: npt.ArrayLike) -> MetricResult:
    """Mean NDCG@k (fraction) of the table rows given (one slice value's, or all):
    :func:`checks.quality_metrics.ndcg_result` of their summed parts. ``columns``: the
    arrays of :data:`RANKED`'s columns, then :data:`~checks.quality_tables.COUNT`."""
    *sums, count = (np.asarray(column).sum() for column in columns)
    named = dict(zip((f for f in _COLUMN_OF_FIELD if f != "rows"), sums, strict=True))
    ndcg_sum = float(named.pop("ndcg_sum"))
    counts = {f: int(v) for f, v in named.items()}
    return ndcg_result(NdcgParts(rows=int(count), ndcg_sum=ndcg_sum, **counts))


#: NDCG's kernel on a ranking table: metric -> (columns, kernel); the kernel also
#: receives :data:`~checks.quality_tables.COUNT`, last.
RANKED: Final[Mapping[str, tuple[tuple[str, ...], Callable[..., MetricResult]]]] = {
    "ndcg": (_PART_COLUMNS, ndcg_sums)
}
