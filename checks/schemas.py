"""Contract -> schema checks of a feature snapshot: what a schema *is*.

What a schema *is* (:func:`build_schema`, the pandera (polars backend) schema, and
:func:`row_checks`, the same checks as polars expressions) is kept apart from how it
*runs* (:mod:`checks.schema_validation`). pandera checks only names and
dtypes on a LazyFrame (docs/design.md, stack) and needs the whole collected day for its
data checks; so validation runs the expressions as aggregates of one streaming pass over
the snapshot (nullability, range, allowed values, unique id: full data depth, bounded
memory), and the tests hold them equal to pandera's verdict on bad frames. Failures are
summarised as counts per column and check with a few examples, never raised: a bad day is
data.

The id column may be of any integer or string type (:mod:`checks.ids`): databases hand out
``Int64`` keys as often as text ones, and a type the ids can take is not a breach.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import polars as pl

from checks.contract import Contract, FeatureSpec
from checks.ids import ID_TYPES, is_id_dtype

if TYPE_CHECKING:
    # Imported where the pandera schema is built, not here: validation runs the
    # expressions only, and importing pandera (which imports pandas) cost every run's
    # process ~0.6 s.
    import pandera.polars as pa

__all__ = [
    "EXAMPLES_PER_CHECK",
    "NOT_NULLABLE",
    "UNIQUE",
    "RowCheck",
    "build_schema",
    "dtype_matches",
    "polars_dtype",
    "row_checks",
]

#: Failure examples kept per (column, check), so reports stay small on a bad day.
EXAMPLES_PER_CHECK: Final = 3

#: pandera's names of its null and uniqueness checks, kept so that reports read the same.
NOT_NULLABLE: Final = "not_nullable"
UNIQUE: Final = "field_uniqueness"

_DTYPES: Final[dict[str, pl.DataType]] = {
    "Float64": pl.Float64(),
    "Float32": pl.Float32(),
    "Int64": pl.Int64(),
    "Int32": pl.Int32(),
    "Int16": pl.Int16(),
    "Int8": pl.Int8(),
    "UInt64": pl.UInt64(),
    "UInt32": pl.UInt32(),
    "UInt16": pl.UInt16(),
    "UInt8": pl.UInt8(),
    "Boolean": pl.Boolean(),
    "String": pl.String(),
    "Categorical": pl.Categorical(),
    "Date": pl.Date(),
}


def polars_dtype(name: str) -> pl.DataType | type[pl.Datetime]:
    """The polars dtype a contract dtype name stands for (``Datetime`` matches any unit/zone)."""
    if name == "Datetime":
        return pl.Datetime
    return _DTYPES[name]


#: The expected "dtype" of the id column: any type :func:`checks.ids.is_id_dtype` accepts.
_ID: Final = ID_TYPES


def dtype_matches(expected: str, actual: pl.DataType) -> bool:
    if expected == _ID:
        return is_id_dtype(actual)
    if expected == "Datetime":
        return isinstance(actual, pl.Datetime)
    return actual == _DTYPES[expected]


def _inside_range(spec: FeatureSpec) -> Callable[[pl.Expr], pl.Expr]:
    """Inclusive range test that leaves NaN alone (NaN is a null, counted by completeness)
    and fails on ±inf (an infinite value is out of any finite range)."""
    low = spec.min if spec.min is not None else float("-inf")
    high = spec.max if spec.max is not None else float("inf")
    is_float = spec.dtype in ("Float64", "Float32")

    def inside(column: pl.Expr) -> pl.Expr:
        if is_float:
            return (column.is_between(low, high) & column.is_finite()) | column.is_nan()
        return column.is_between(low, high)

    return inside


def _range_name(spec: FeatureSpec) -> str:
    return f"within_range({spec.min}, {spec.max})"


def _isin_name(allowed: Sequence[object]) -> str:
    """The name pandera gives ``Check.isin(allowed)`` in its failure cases."""
    return f"isin({list(allowed)})"


def _range_check(spec: FeatureSpec) -> pa.Check:
    """The pandera form of the range test (the expression :func:`row_checks` uses too)."""
    import pandera.polars as pa

    inside = _inside_range(spec)

    def within_range(data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(inside(pl.col(data.key)))

    return pa.Check(within_range, name=_range_name(spec))


def build_schema(contract: Contract, *, columns: set[str] | None = None) -> pa.DataFrameSchema:
    """The pandera schema of a feature snapshot: id (unique, not null) and every feature.

    ``columns`` restricts the schema to those columns (the ones present with the right
    dtype), so data checks never run on a column whose dtype is already known to be wrong.
    The timestamp column is checked by :func:`validate_snapshot` (any Datetime unit/zone).
    :func:`row_checks` is the same schema as polars expressions (the tests hold the two
    equal on bad data); validation runs those, streaming.
    """
    import pandera.polars as pa

    id_column = contract.sources.id_column
    schema_columns: dict[str, pa.Column] = {}
    if columns is None or id_column in columns:
        # No dtype: the id's type is checked by validate_snapshot (any integer or string).
        schema_columns[id_column] = pa.Column(None, nullable=False, unique=True)
    for name, spec in contract.features.items():
        if columns is not None and name not in columns:
            continue
        checks: list[pa.Check] = []
        if spec.min is not None or spec.max is not None:
            checks.append(_range_check(spec))
        if spec.allowed_values is not None:
            checks.append(pa.Check.isin(list(spec.allowed_values)))
        schema_columns[name] = pa.Column(
            polars_dtype(spec.dtype), checks=checks, nullable=spec.nullable
        )
    return pa.DataFrameSchema(schema_columns, strict=False, coerce=False, name=contract.model)


@dataclass(frozen=True)
class RowCheck:
    """One row-level check of one column, named as pandera names it in its failure cases.

    ``fails`` is a Boolean expression, true on a row that fails the check and false on every
    other row (never null). Like pandera, a data check (range, allowed values) does not
    judge null values; ``not_nullable`` does.
    """

    column: str
    check: str
    fails: pl.Expr


def _is_null(name: str, dtype: str) -> pl.Expr:
    """Null, or NaN for a float column: pandera's ``not_nullable`` counts NaN as null."""
    column = pl.col(name)
    if dtype in ("Float64", "Float32"):
        return column.is_null() | column.is_nan()
    return column.is_null()


def _judged_and_failing(column: str, passes: pl.Expr) -> pl.Expr:
    return pl.col(column).is_not_null() & ~passes.fill_null(value=False)


def row_checks(contract: Contract, columns: set[str]) -> list[RowCheck]:
    """The row-level checks of :func:`build_schema` restricted to ``columns``, as polars
    expressions: the id's ``not_nullable``, each feature's ``not_nullable`` (when not
    nullable), range and allowed values. The id's uniqueness needs the whole column, not a
    row expression: :class:`SchemaPass` measures it."""
    id_column = contract.sources.id_column
    checks: list[RowCheck] = []
    if id_column in columns:
        checks.append(RowCheck(id_column, NOT_NULLABLE, pl.col(id_column).is_null()))
    for name, spec in contract.features.items():
        if name not in columns:
            continue
        if not spec.nullable:
            checks.append(RowCheck(name, NOT_NULLABLE, _is_null(name, spec.dtype)))
        if spec.min is not None or spec.max is not None:
            inside = _inside_range(spec)(pl.col(name))
            checks.append(RowCheck(name, _range_name(spec), _judged_and_failing(name, inside)))
        if spec.allowed_values is not None:
            allowed = list(spec.allowed_values)
            member = pl.col(name).is_in(allowed)
            checks.append(RowCheck(name, _isin_name(allowed), _judged_and_failing(name, member)))
    return checks
