"""Mixed numeric/categorical frames with nulls -> float matrices, learned on the baseline.

Two encodings, one per method:

- :func:`ordinal_matrix` (domain classifier): numeric columns as float64 with null (and
  NaN, ±inf) = NaN (the gradient-boosted trees route NaN themselves); a categorical
  column as the index of its value among the baseline's categories (the
  :data:`MAX_CATEGORIES` most frequent), a category the baseline never had as one shared
  "unseen" code, null as NaN. A column the frame lacks (or cannot cast) is all NaN, so a
  dropped or retyped feature separates.
- :func:`frequency_matrix` (PCA reconstruction, NannyML's definition): numeric nulls (and
  NaN, ±inf) imputed with the baseline's mean of its finite values, categorical nulls
  with the baseline's most frequent category, then each category replaced by its
  relative frequency in the baseline (unseen categories: 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

__all__ = ["MAX_CATEGORIES", "ColumnCodes", "frequency_matrix", "learn_codes", "ordinal_matrix"]

#: Categories kept per feature (the most frequent in the baseline; the rest share the
#: "unseen" code). Histogram gradient boosting allows at most 255 bins, NaN included.
MAX_CATEGORIES = 250

FloatMatrix = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ColumnCodes:
    """What the encodings learned from the baseline.

    ``categories[name]`` is the kept categories, most frequent first; ``frequencies`` their
    relative frequency among the baseline's non-null values; ``numeric_means`` the
    baseline mean of each numeric feature (nulls and NaN left out).
    """

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    categories: dict[str, tuple[str, ...]]
    frequencies: dict[str, tuple[float, ...]]
    numeric_means: dict[str, float]

    @property
    def columns(self) -> tuple[str, ...]:
        """Matrix column order: numeric features, then categorical ones."""
        return (*self.numeric, *self.categorical)


def learn_codes(
    baseline: pl.DataFrame, numeric: Sequence[str], categorical: Sequence[str]
) -> ColumnCodes:
    """Categories, their frequencies and the numeric means of the baseline."""
    categories: dict[str, tuple[str, ...]] = {}
    frequencies: dict[str, tuple[float, ...]] = {}
    for name in categorical:
        counts = (
            baseline.select(pl.col(name).cast(pl.String).drop_nulls().alias("value"))
            .group_by("value")
            .len()
            .sort(["len", "value"], descending=[True, False])
        )
        total = int(counts["len"].sum()) or 1
        kept = counts.head(MAX_CATEGORIES)
        categories[name] = tuple(kept["value"].to_list())
        frequencies[name] = tuple((kept["len"] / total).to_list())
    means = baseline.select([_finite(pl.col(n).cast(pl.Float64)).mean().alias(n) for n in numeric])
    numeric_means = {n: float(means[n][0] or 0.0) for n in numeric} if numeric else {}
    return ColumnCodes(
        numeric=tuple(numeric),
        categorical=tuple(categorical),
        categories=categories,
        frequencies=frequencies,
        numeric_means=numeric_means,
    )


def _finite(value: pl.Expr) -> pl.Expr:
    """``value`` with NaN and ±inf as null: both encodings read a non-finite number as a
    missing one (±inf made the PCA's reconstruction error NaN, recorded as a breach with
    no value; found by a new user). The schema checks count them as out of range."""
    return pl.when(value.is_finite()).then(value).otherwise(None)


def _numeric(frame: pl.DataFrame, name: str) -> pl.Expr:
    if name not in frame.columns:
        return pl.lit(None, dtype=pl.Float64).alias(name)
    return _finite(pl.col(name).cast(pl.Float64, strict=False)).alias(name)


def _categorical(frame: pl.DataFrame, name: str) -> pl.Expr:
    if name not in frame.columns:
        return pl.lit(None, dtype=pl.String).alias(name)
    return pl.col(name).cast(pl.String, strict=False).alias(name)


def ordinal_matrix(frame: pl.DataFrame, codes: ColumnCodes) -> FloatMatrix:
    """The frame as the domain classifier's float matrix (columns: ``codes.columns``)."""
    expressions = [_numeric(frame, n) for n in codes.numeric]
    for name in codes.categorical:
        kept = codes.categories[name]
        unseen = float(len(kept))
        value = _categorical(frame, name)
        expressions.append(
            pl.when(value.is_null())
            .then(None)
            .otherwise(
                value.replace_strict(
                    list(kept),
                    [float(i) for i in range(len(kept))],
                    default=unseen,
                    return_dtype=pl.Float64,
                )
            )
            .alias(name)
        )
    return _to_matrix(frame.height, frame.select(expressions) if expressions else None)


def frequency_matrix(frame: pl.DataFrame, codes: ColumnCodes) -> FloatMatrix:
    """The frame as the PCA's float matrix, imputed and frequency-encoded as NannyML does."""
    expressions = [
        _numeric(frame, n).fill_null(codes.numeric_means[n]).alias(n) for n in codes.numeric
    ]
    for name in codes.categorical:
        kept = codes.categories[name]
        most_frequent = kept[0] if kept else None
        value = _categorical(frame, name)
        if most_frequent is not None:
            value = value.fill_null(pl.lit(most_frequent))
        expressions.append(
            value.replace_strict(
                list(kept), list(codes.frequencies[name]), default=0.0, return_dtype=pl.Float64
            )
            .fill_null(0.0)
            .alias(name)
        )
    return _to_matrix(frame.height, frame.select(expressions) if expressions else None)


def _to_matrix(height: int, encoded: pl.DataFrame | None) -> FloatMatrix:
    if encoded is None:
        return np.empty((height, 0), dtype=np.float64)
    matrix: FloatMatrix = encoded.to_numpy(order="c").astype(np.float64, copy=False)
    return matrix
