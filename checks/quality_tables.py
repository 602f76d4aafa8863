"""Count tables: a classification day's labelled rows reduced to mergeable counts (and
the merging of a regression day's sums, :mod:`checks.quality_sums`, by the same rules).

Why: the metrics of a day only need, per slice value, how many labelled rows have each
(score, actual positive, predicted positive, label correct). That table is as large as the
number of distinct scores, not as the day; two tables merge by adding their counts. So a
day larger than memory is joined bucket by bucket (:class:`checks.quality_join.Bucket`),
each bucket is reduced to its tables (:func:`count_tables`), the tables are summed
(:func:`merge_tables`), and the metrics are computed once, from counts
(:mod:`checks.quality_counts`), equal to the row-level metrics of the whole day.

A table holds the grouping column (a slice or sensitive-attribute column cast to String;
none for the model-wide table), the working columns the classification metrics read
(:data:`checks.quality_join.SCORE`, ``Y_POS``, ``P_POS``, and :data:`CORRECT`), null and NaN
kept as their own keys (each metric drops the rows it cannot use, as on rows), and
:data:`COUNT`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Final

import polars as pl

from checks.quality_join import P_LABEL, P_POS, SCORE, Y_LABEL, Y_POS

__all__ = [
    "BUCKET_ROWS",
    "CORRECT",
    "COUNT",
    "SUM_PREFIX",
    "CountTables",
    "bucket_count",
    "count_tables",
    "finest_counts",
    "merge_tables",
]

#: Working column: whether the predicted label equals the true label (null where either is
#: unusable: null, or NaN for a float label), what ``accuracy`` counts.
CORRECT: Final = "__correct"
#: Count column of a table: how many labelled rows have the row's values.
COUNT: Final = "__count"
#: Prefix of a table's other columns that merge by adding, not by key (a regression
#: day's sums of errors, :mod:`checks.quality_sums`).
SUM_PREFIX: Final = "__sum_"

#: Prediction rows joined per bucket. Why this size: the join's peak memory grows with the
#: bucket (string ids, the label and features build sides); one million rows keep it to a few
#: hundred MiB, while each extra bucket re-reads the id columns (~0.05 s per million rows).
BUCKET_ROWS: Final[int] = 1_000_000

#: grouping column (None: the model-wide table) -> its count table.
CountTables = dict[str | None, pl.DataFrame]


def bucket_count(rows: int, bucket_rows: int = BUCKET_ROWS) -> int:
    """Buckets for a day of ``rows`` prediction rows: enough that each has ~``bucket_rows``."""
    return max(1, math.ceil(rows / bucket_rows))


def _usable(name: str, schema: Mapping[str, pl.DataType]) -> pl.Expr:
    usable = pl.col(name).is_not_null()
    return usable & pl.col(name).is_not_nan() if schema[name].is_float() else usable


def _keys(schema: Mapping[str, pl.DataType]) -> list[pl.Expr]:
    """The metric columns of a table, derived from the working columns present."""
    keys = [pl.col(name) for name in (SCORE, Y_POS, P_POS) if name in schema]
    if Y_LABEL in schema and P_LABEL in schema:
        usable = _usable(Y_LABEL, schema) & _usable(P_LABEL, schema)
        same = pl.col(Y_LABEL) == pl.col(P_LABEL)
        keys.append(pl.when(usable).then(same).otherwise(None).alias(CORRECT))
    return keys


def finest_counts(frame: pl.LazyFrame, groupings: Sequence[str]) -> pl.LazyFrame:
    """One count table by every grouping column at once (cast to String) and the metric
    columns of ``frame``'s working columns (:func:`checks.quality_join.working_columns`).

    Why one: the streaming engine then reduces the joined rows as they come, in a single
    pass; :func:`count_tables` splits it (it has at most as many rows as the bucket)."""
    by = [pl.col(column).cast(pl.String) for column in dict.fromkeys(groupings)]
    by += _keys(frame.collect_schema())
    return frame.group_by(by).agg(pl.len().cast(pl.Int64).alias(COUNT))


def _summed(name: str) -> bool:
    """Whether a table column merges by adding (a count or a sum), not as a key."""
    return name == COUNT or name.startswith(SUM_PREFIX)


def _add_up(table: pl.DataFrame, keys: Sequence[str]) -> pl.DataFrame:
    """``table``'s count and sum columns added up per value of ``keys`` (none: one row)."""
    totals = [pl.col(name).sum() for name in table.columns if _summed(name)]
    return table.group_by(keys).agg(totals) if keys else table.select(totals)


def count_tables(finest: pl.DataFrame, groupings: Sequence[str]) -> CountTables:
    """The model-wide table and one per grouping column, from :func:`finest_counts` (or
    :func:`checks.quality_sums.finest_sums`)."""
    grouped = list(dict.fromkeys(groupings))
    keys = [name for name in finest.columns if not _summed(name) and name not in grouped]
    tables: CountTables = {None: _add_up(finest, keys)}
    for column in grouped:
        tables[column] = _add_up(finest, [column, *keys])
    return tables


def merge_tables(left: CountTables, right: CountTables) -> CountTables:
    """Two buckets' tables as one: counts and sums of equal keys added (null and NaN keys
    too); ``right`` itself when ``left`` is empty (no bucket merged yet)."""
    if not left:
        return right
    merged: CountTables = {}
    for grouping, table in left.items():
        keys = [name for name in table.columns if not _summed(name)]
        both = pl.concat([table, right[grouping]], how="vertical")
        merged[grouping] = _add_up(both, keys)
    return merged
