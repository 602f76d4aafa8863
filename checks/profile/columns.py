"""Reading one feature column for a profile or a drift comparison (whole-column polars,
one column at a time): which dtypes are numeric or categorical, the non-null values, the
category counts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from checks.arrays import FloatArray
from checks.errors import InputError

__all__ = [
    "categorical_counts",
    "categorical_counts_and_missing",
    "column_height",
    "feature_columns",
    "is_categorical_dtype",
    "is_numeric_dtype",
    "numeric_values",
]


def is_numeric_dtype(dtype: pl.DataType) -> bool:
    """Integer and float columns are numeric features (Boolean is categorical)."""
    return bool(dtype.is_numeric())


def is_categorical_dtype(dtype: pl.DataType) -> bool:
    return isinstance(dtype, pl.String | pl.Categorical | pl.Enum | pl.Boolean)


# --- column extraction (whole-column polars, one column at a time) -------------------


def numeric_values(frame: pl.DataFrame | pl.LazyFrame, column: str) -> tuple[FloatArray, int]:
    """(non-null, non-NaN values as float64, count of dropped nulls and NaN).

    Reads only ``column`` from a LazyFrame (projection pushdown on parquet scans), once:
    the null count comes from the same read.
    """
    if isinstance(frame, pl.DataFrame):
        raw = frame.get_column(column)
    else:
        raw = frame.select(pl.col(column)).collect().to_series()
    values = raw.cast(pl.Float64)
    if values.null_count() or values.is_nan().any():
        # One filter drops both: is_not_nan is null on nulls, and filter drops nulls.
        values = values.filter(values.is_not_nan())
    arr = values.to_numpy()
    if not arr.flags.writeable or arr.dtype != np.float64:
        arr = np.asarray(arr, dtype=np.float64)
    return arr, raw.len() - values.len()


def column_height(frame: pl.DataFrame | pl.LazyFrame, column: str) -> int:
    """Rows of a column, nulls included (a LazyFrame counts without reading values)."""
    if isinstance(frame, pl.DataFrame):
        return frame.height
    return int(frame.select(pl.col(column).len()).collect().item())


def categorical_counts(frame: pl.DataFrame | pl.LazyFrame, column: str) -> pl.DataFrame:
    """Category counts as a frame ``category: String, count: Int64`` sorted by category.

    Categories are compared as strings (``cast(String)``); nulls are dropped (see
    :func:`categorical_counts_and_missing` for their count).
    """
    return categorical_counts_and_missing(frame, column)[0]


def categorical_counts_and_missing(
    frame: pl.DataFrame | pl.LazyFrame, column: str
) -> tuple[pl.DataFrame, int]:
    """(category counts as :func:`categorical_counts`, number of nulls), in one pass."""
    counts = (
        frame.lazy()
        .select(pl.col(column).cast(pl.String).alias("category"))
        .group_by("category")
        .agg(pl.len().cast(pl.Int64).alias("count"))
        .collect()
    )
    nulls = counts.filter(pl.col("category").is_null()).get_column("count").sum()
    return counts.drop_nulls("category").sort("category"), int(nulls or 0)


def feature_columns(
    frame: pl.DataFrame | pl.LazyFrame,
    numeric: Sequence[str] | None,
    categorical: Sequence[str] | None,
) -> tuple[list[str], list[str]]:
    """(numeric, categorical) feature columns of a frame: the given ones, each checked to
    exist, or when both are None every numeric and every categorical column."""
    schema = frame.collect_schema() if isinstance(frame, pl.LazyFrame) else frame.schema
    if numeric is None and categorical is None:
        return (
            [c for c, t in schema.items() if is_numeric_dtype(t)],
            [c for c, t in schema.items() if is_categorical_dtype(t)],
        )
    nums, cats = list(numeric or []), list(categorical or [])
    for name in nums + cats:
        if name not in schema:
            raise InputError(f"baseline: column {name!r}: not found")
    return nums, cats
