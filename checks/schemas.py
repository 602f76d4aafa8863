"""Contract -> pandera (polars backend) schema, and schema SLIs from validating a snapshot.

What a schema *is* (:func:`build_schema`) is kept apart from how it *runs*
(:func:`validate_snapshot`). pandera checks only names and dtypes on a LazyFrame
(docs/design.md, stack), so validation runs on a collected ``DataFrame`` and the data checks
(nullability, range, allowed values, unique id) really execute. Failures are summarised as
counts per column and check with a few examples, never raised: a bad day is data.

SLIs produced (category ``schema``, track ``model``):

- ``schema_valid`` (1/0): every declared column present with its declared dtype, and no
  undeclared column when ``sources.strict_columns`` is set.
- ``schema_validity`` (fraction of rows): rows that pass every row-level check.
- ``schema_violation_rate`` per feature is not an SLO of its own; per-column failures are
  reported in ``detail`` of the ``schema_validity`` row and in :class:`SchemaReport`.
- ``duplicate_id_rate`` (fraction of rows): rows whose id repeats an earlier row's id.

The id column may be of any integer or string type (:mod:`checks.ids`): databases hand out
``Int64`` keys as often as text ones, and a type the ids can take is not a breach.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import pandera.errors as pa_errors
import pandera.polars as pa
import polars as pl

from checks.contract import Contract, FeatureSpec
from checks.ids import ID_TYPES, is_id_dtype
from checks.sli import SliRow, slo_row

__all__ = [
    "EXAMPLES_PER_CHECK",
    "ColumnFailure",
    "SchemaReport",
    "build_schema",
    "polars_dtype",
    "prediction_schema_row",
    "schema_sli_rows",
    "validate_snapshot",
]

#: Failure examples kept per (column, check), so reports stay small on a bad day.
EXAMPLES_PER_CHECK: Final = 3

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


def _dtype_matches(expected: str, actual: pl.DataType) -> bool:
    if expected == _ID:
        return is_id_dtype(actual)
    if expected == "Datetime":
        return isinstance(actual, pl.Datetime)
    return actual == _DTYPES[expected]


def _range_check(name: str, spec: FeatureSpec) -> pa.Check:
    """Inclusive range check that leaves NaN alone (NaN is a null, counted by completeness)
    and fails on ±inf (an infinite value is out of any finite range)."""
    low = spec.min if spec.min is not None else float("-inf")
    high = spec.max if spec.max is not None else float("inf")
    is_float = spec.dtype in ("Float64", "Float32")

    def within_range(data: pa.PolarsData) -> pl.LazyFrame:
        column = pl.col(data.key)
        if is_float:
            inside = (column.is_between(low, high) & column.is_finite()) | column.is_nan()
        else:
            inside = column.is_between(low, high)
        return data.lazyframe.select(inside)

    return pa.Check(within_range, name=f"within_range({spec.min}, {spec.max})")


def build_schema(contract: Contract, *, columns: set[str] | None = None) -> pa.DataFrameSchema:
    """The pandera schema of a feature snapshot: id (unique, not null) and every feature.

    ``columns`` restricts the schema to those columns (the ones present with the right
    dtype), so data checks never run on a column whose dtype is already known to be wrong.
    The timestamp column is checked by :func:`validate_snapshot` (any Datetime unit/zone).
    """
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
            checks.append(_range_check(name, spec))
        if spec.allowed_values is not None:
            checks.append(pa.Check.isin(list(spec.allowed_values)))
        schema_columns[name] = pa.Column(
            polars_dtype(spec.dtype), checks=checks, nullable=spec.nullable
        )
    return pa.DataFrameSchema(schema_columns, strict=False, coerce=False, name=contract.model)


@dataclass(frozen=True)
class ColumnFailure:
    """Rows of one column failing one check, with up to :data:`EXAMPLES_PER_CHECK` values."""

    column: str
    check: str
    n_rows: int
    examples: tuple[str, ...]


@dataclass(frozen=True)
class SchemaReport:
    """The outcome of validating one snapshot. Counts are rows of the snapshot."""

    n_rows: int
    missing_columns: tuple[str, ...] = ()
    wrong_dtypes: tuple[tuple[str, str, str], ...] = ()  # (column, expected, actual)
    extra_columns: tuple[str, ...] = ()
    failures: tuple[ColumnFailure, ...] = ()
    n_invalid_rows: int = 0
    n_duplicate_ids: int = 0
    errors: tuple[str, ...] = field(default=())

    @property
    def schema_valid(self) -> bool:
        return not (self.missing_columns or self.wrong_dtypes or self.extra_columns)

    def schema_detail(self) -> str | None:
        parts = [f"column {c}: missing" for c in self.missing_columns]
        parts += [f"column {c}: expected {e}, got {a}" for c, e, a in self.wrong_dtypes]
        parts += [f"column {c}: not in the contract" for c in self.extra_columns]
        return "; ".join(parts) or None

    def failure_detail(self) -> str | None:
        parts = [
            f"{f.column} {f.check}: {f.n_rows} rows (e.g. {', '.join(f.examples)})"
            for f in self.failures
        ]
        parts += list(self.errors)
        return "; ".join(parts) or None


def validate_snapshot(contract: Contract, frame: pl.DataFrame) -> SchemaReport:
    """Validate a collected feature snapshot against the contract; never raises on bad data."""
    sources = contract.sources
    actual = frame.schema
    expected: dict[str, str] = {sources.id_column: _ID, sources.timestamp_column: "Datetime"}
    expected.update({name: spec.dtype for name, spec in contract.features.items()})
    missing = tuple(name for name in expected if name not in actual)
    wrong = tuple(
        (name, want, str(actual[name]))
        for name, want in expected.items()
        if name in actual and not _dtype_matches(want, actual[name])
    )
    extra = tuple(c for c in actual if c not in expected) if sources.strict_columns else ()
    checkable = {c for c in expected if c in actual} - {w[0] for w in wrong}

    failures: list[ColumnFailure] = []
    errors: list[str] = []
    n_invalid = 0
    schema = build_schema(contract, columns=checkable)
    try:
        schema.validate(frame, lazy=True)
    except pa_errors.SchemaErrors as exc:
        cases = exc.failure_cases
        row_cases = cases.filter(pl.col("index").is_not_null())
        n_invalid = row_cases.select(pl.col("index").n_unique()).item()
        if row_cases.height:
            summary = (
                row_cases.group_by("column", "check")
                .agg(
                    pl.col("index").n_unique().alias("n_rows"),
                    pl.col("failure_case").head(EXAMPLES_PER_CHECK).alias("examples"),
                )
                .sort("column", "check")
            )
            failures = [
                ColumnFailure(r["column"], r["check"], r["n_rows"], tuple(map(str, r["examples"])))
                for r in summary.iter_rows(named=True)
            ]
        # A check that could not run at all (no row index) is reported, not swallowed.
        errors = [
            f"{r['column']} {r['check']}: {r['failure_case']}"
            for r in cases.filter(pl.col("index").is_null()).iter_rows(named=True)
        ]

    id_column = sources.id_column
    n_duplicates = 0
    if id_column in checkable and frame.height:
        n_duplicates = frame.height - frame.select(pl.col(id_column).n_unique()).item()
    return SchemaReport(
        n_rows=frame.height,
        missing_columns=missing,
        wrong_dtypes=wrong,
        extra_columns=extra,
        failures=tuple(failures),
        n_invalid_rows=int(n_invalid),
        n_duplicate_ids=int(n_duplicates),
        errors=tuple(errors),
    )


def schema_sli_rows(contract: Contract, report: SchemaReport) -> list[SliRow]:
    """SLI rows of category ``schema`` for one snapshot's :class:`SchemaReport`."""
    n = report.n_rows
    validity = (1.0 - report.n_invalid_rows / n) if n else None
    duplicates = (report.n_duplicate_ids / n) if n else None
    id_ok = contract.sources.id_column not in report.missing_columns
    return [
        slo_row(
            contract,
            "schema_valid",
            "schema",
            1.0 if report.schema_valid else 0.0,
            n,
            objective=_objective(contract, "schema_valid", 1.0),
            detail=report.schema_detail(),
        ),
        slo_row(
            contract,
            "schema_validity",
            "schema",
            validity,
            n,
            status="error" if report.errors else "ok",
            detail=report.failure_detail(),
        ),
        slo_row(
            contract,
            "duplicate_id_rate",
            "schema",
            duplicates if id_ok else None,
            n,
            status="ok" if id_ok else "error",
            detail=None if id_ok else f"id column {contract.sources.id_column} missing",
        ),
    ]


def prediction_schema_row(contract: Contract, predictions: pl.DataFrame) -> SliRow:
    """``schema_valid`` of the prediction log (``feature = "predictions"``): the id and every
    column the contract names are present, the id of an integer or string type, numeric
    where a number is expected (score, latency, cost), text for the status."""
    pc = contract.predictions
    expected: dict[str, str] = {contract.sources.id_column: "id"}
    expected.update({c: "numeric" for c in (pc.score, pc.latency_ms, pc.cost) if c})
    if pc.predicted_label:
        expected[pc.predicted_label] = "any"
    if pc.status:
        expected[pc.status] = "text"
    problems: list[str] = []
    for column, kind in expected.items():
        dtype = predictions.schema.get(column)
        if dtype is None:
            problems.append(f"column {column}: missing")
        elif kind == "id" and not is_id_dtype(dtype):
            problems.append(f"column {column}: expected {ID_TYPES}, got {dtype}")
        elif kind == "numeric" and not dtype.is_numeric():
            problems.append(f"column {column}: expected a number, got {dtype}")
        elif kind == "text" and dtype not in (pl.String(), pl.Categorical()):
            problems.append(f"column {column}: expected text, got {dtype}")
    return slo_row(
        contract,
        "schema_valid",
        "schema",
        0.0 if problems else 1.0,
        predictions.height,
        feature="predictions",
        objective=_objective(contract, "schema_valid", 1.0),
        detail="; ".join(problems) or None,
    )


def _objective(contract: Contract, sli: str, default: float) -> float:
    spec = contract.slo(sli)
    return spec.objective if spec is not None else default
