"""Row ids: which column types are ids, and how two files' ids are made comparable.

Real tables carry ids as ``Int64`` (database keys), ``UInt64``, ``Int32`` or text. The same
model may log predictions with text ids and keep features with integer ones, so an id is
any integer or string type (``String``, ``Categorical``, ``Enum``), and nothing else: a
float id (``12.0``) or a date is a column that was written wrongly, not an id.

Two files join on their ids by value. When their id types differ (``Int64`` beside
``String``, or ``Int32`` beside ``UInt64``), both sides are cast to ``String`` first, whole
column: integers print without padding (``7`` becomes ``"7"``), so the integer 7 and the
text ``"7"`` are one id, while ``"007"`` stays a different one.
"""

from __future__ import annotations

from typing import Final

import polars as pl

__all__ = ["ID_TYPES", "comparable_ids", "id_cast", "is_id_dtype"]

#: How the accepted id types are named in messages.
ID_TYPES: Final = "an integer or string type"


def is_id_dtype(dtype: pl.DataType) -> bool:
    """Whether a column of this dtype can hold row ids (any integer or string type)."""
    return dtype.is_integer() or isinstance(dtype, pl.String | pl.Categorical | pl.Enum)


def comparable_ids(
    left: pl.DataFrame, right: pl.DataFrame, id_column: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``left`` and ``right`` with ``id_column`` of one type, so they can be joined on it.

    Unchanged when both already share a type; otherwise both ids become ``String``.
    """
    cast = id_cast(left.schema[id_column], right.schema[id_column], id_column)
    if cast is None:
        return left, right
    return left.with_columns(cast), right.with_columns(cast)


def id_cast(left: pl.DataType, right: pl.DataType, id_column: str) -> pl.Expr | None:
    """The cast that makes id columns of these two dtypes comparable (both to ``String``),
    None when they already share a type; for frames and lazy scans alike."""
    return None if left == right else pl.col(id_column).cast(pl.String)
