"""Contract -> schema checks of a feature snapshot, and schema SLIs from validating it.

What a schema *is* (:func:`build_schema`, the pandera (polars backend) schema, and
:func:`row_checks`, the same checks as polars expressions) is kept apart from how it
*runs* (:class:`SchemaPass`, :func:`validate_snapshot`). pandera checks only names and
dtypes on a LazyFrame (docs/design.md, stack) and needs the whole collected day for its
data checks; so validation runs the expressions as aggregates of one streaming pass over
the snapshot (nullability, range, allowed values, unique id: full data depth, bounded
memory), and the tests hold them equal to pandera's verdict on bad frames. Failures are
summarised as counts per column and check with a few examples, never raised: a bad day is
data.

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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import pandera.polars as pa
import polars as pl

from checks.contract import Contract, FeatureSpec
from checks.ids import ID_TYPES, is_id_dtype
from checks.scalars import ROWS, collect_scalars
from checks.sli import SliRow, slo_row

__all__ = [
    "EXAMPLES_PER_CHECK",
    "NOT_NULLABLE",
    "UNIQUE",
    "ColumnFailure",
    "RowCheck",
    "SchemaPass",
    "SchemaReport",
    "build_schema",
    "polars_dtype",
    "prediction_schema_row",
    "row_checks",
    "schema_sli_rows",
    "validate_snapshot",
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


def _dtype_matches(expected: str, actual: pl.DataType) -> bool:
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
    #: Checks that could not run, and why. The streaming pass runs data checks only on
    #: columns whose dtype matched (the contract allows no check a matching dtype cannot
    #: take), so it reports none; a check failing there fails the pass (an ingest error).
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


_PREFIX: Final = "__schema"
_INVALID: Final = f"{_PREFIX}_invalid"
_DISTINCT_ID_HASHES: Final = f"{_PREFIX}_distinct_id_hashes"


@dataclass(frozen=True)
class SchemaPass:
    """Schema validation of one feature snapshot as aggregates of one streaming pass.

    Why not pandera itself: pandera (polars backend) runs data checks only on a collected
    ``DataFrame`` (on a ``LazyFrame`` it checks names and dtypes only), so validating a day
    with it holds the whole day in memory. The same checks as polars expressions
    (:func:`row_checks`, built from the contract as :func:`build_schema` is) aggregate in
    the streaming engine instead: memory stays bounded by the engine's batches, plus one
    hash set of the ids for the uniqueness count. The pandera schema stays the reference:
    tests validate bad frames both ways and require the same counts and examples.

    :meth:`exprs` are the scalar aggregates to add to the snapshot's one ``select``;
    :meth:`report` turns their values into a :class:`SchemaReport`. Only a bad day costs
    more reads: examples of failing checks (a ``head`` of the failing rows, which stops
    early) and, when ids repeat, one group-by of the ids.
    """

    contract: Contract
    missing: tuple[str, ...]
    wrong: tuple[tuple[str, str, str], ...]
    extra: tuple[str, ...]
    checks: tuple[RowCheck, ...]
    id_checked: bool

    @classmethod
    def plan(cls, contract: Contract, schema: Mapping[str, pl.DataType]) -> SchemaPass:
        """What to check in a snapshot of this schema (column names and dtypes)."""
        sources = contract.sources
        expected: dict[str, str] = {sources.id_column: _ID, sources.timestamp_column: "Datetime"}
        expected.update({name: spec.dtype for name, spec in contract.features.items()})
        missing = tuple(name for name in expected if name not in schema)
        wrong = tuple(
            (name, want, str(schema[name]))
            for name, want in expected.items()
            if name in schema and not _dtype_matches(want, schema[name])
        )
        extra = tuple(c for c in schema if c not in expected) if sources.strict_columns else ()
        checkable = {c for c in expected if c in schema} - {w[0] for w in wrong}
        checks = tuple(row_checks(contract, checkable))
        return cls(contract, missing, wrong, extra, checks, sources.id_column in checkable)

    def exprs(self) -> list[pl.Expr]:
        """Scalar aggregates (uniquely aliased) for the snapshot's one ``select``, which
        must also count the rows under :data:`checks.scalars.ROWS` (as
        :func:`checks.scalars.collect_scalars` does); :meth:`apart_exprs` go beside it."""
        exprs = [check.fails.sum().alias(f"{_PREFIX}_{i}") for i, check in enumerate(self.checks)]
        if self.checks:
            failing = pl.any_horizontal([check.fails for check in self.checks])
            exprs.append(failing.sum().alias(_INVALID))
        return exprs

    def apart_exprs(self) -> list[pl.Expr]:
        """The distinct count of the ids' 64-bit hashes, to collect in a ``select`` of its
        own (:func:`checks.scalars.collect_scalars`'s ``apart``). A set of hashes, not of
        the ids (5M text ids: ~0.7 GiB): hashing never splits one id, so as many distinct
        hashes as rows proves the ids unique; fewer (a repeat, or a collision) sends
        :meth:`report` to the exact count by id."""
        if not self.id_checked:
            return []
        hashes = pl.col(self.contract.sources.id_column).hash(seed=0).n_unique()
        return [hashes.alias(_DISTINCT_ID_HASHES)]

    def report(self, scan: pl.LazyFrame, measured: Mapping[str, Any]) -> SchemaReport:
        """The report from the values of :meth:`exprs` (``measured``), reading ``scan``
        again only for examples of failed checks and for repeated ids."""
        n_rows = int(measured[ROWS])
        counts = [int(measured[f"{_PREFIX}_{i}"]) for i in range(len(self.checks))]
        failed = [(check, n) for check, n in zip(self.checks, counts, strict=True) if n]
        examples = _examples(scan, [check for check, _ in failed])
        failures = [
            ColumnFailure(check.column, check.check, n, found)
            for (check, n), found in zip(failed, examples, strict=True)
        ]
        n_invalid = int(measured.get(_INVALID) or 0)
        n_duplicates = 0
        if self.id_checked and n_rows and int(measured[_DISTINCT_ID_HASHES]) < n_rows:
            repeated = self._repeated_ids(scan)
            n_duplicates = repeated.n_repeats
            if repeated.n_rows:
                failures.append(repeated.failure)
                n_invalid += repeated.n_rows - repeated.n_also_invalid
        return SchemaReport(
            n_rows=n_rows,
            missing_columns=self.missing,
            wrong_dtypes=self.wrong,
            extra_columns=self.extra,
            failures=tuple(sorted(failures, key=lambda f: (f.column, f.check))),
            n_invalid_rows=n_invalid,
            n_duplicate_ids=n_duplicates,
        )

    def _repeated_ids(self, scan: pl.LazyFrame) -> _RepeatedIds:
        """pandera's ``field_uniqueness``: every row whose id occurs more than once (a null
        id repeats another null), how many of them fail another check too (so no row is
        counted twice as invalid), and the first repeated ids in file order."""
        id_column = self.contract.sources.id_column
        failing = (
            pl.any_horizontal([check.fails for check in self.checks])
            if self.checks
            else pl.lit(value=False)
        )
        groups = (
            scan.with_row_index("__row")
            .select("__row", id_column, failing.alias("__failing"))
            .group_by(id_column)
            .agg(
                pl.len().alias("n"),
                pl.col("__failing").sum().alias("failing"),
                pl.col("__row").min().alias("first_row"),
                pl.col("__row").head(EXAMPLES_PER_CHECK).alias("rows"),
            )
            .filter(pl.col("n") > 1)
            .collect(engine="streaming")
        )
        first_rows = (
            groups.select(pl.col(id_column).cast(pl.String), "rows")
            .explode("rows")
            .sort("rows")
            .head(EXAMPLES_PER_CHECK)
        )
        examples = tuple(str(value) for value in first_rows.get_column(id_column).to_list())
        n_rows = int(groups.get_column("n").sum())
        failure = ColumnFailure(id_column, UNIQUE, n_rows, examples)
        n_also_invalid = int(groups.get_column("failing").sum())
        return _RepeatedIds(failure, n_rows, n_rows - groups.height, n_also_invalid)


@dataclass(frozen=True)
class _RepeatedIds:
    failure: ColumnFailure
    n_rows: int  # rows whose id occurs more than once
    n_repeats: int  # of those, the rows repeating an earlier row's id
    n_also_invalid: int  # of n_rows, those failing another check too


def _examples(scan: pl.LazyFrame, checks: Sequence[RowCheck]) -> list[tuple[str, ...]]:
    """The first :data:`EXAMPLES_PER_CHECK` failing values of each check, in file order, as
    pandera prints them (the value cast to text; a null as ``None``)."""
    if not checks:
        return []
    heads = [
        scan.filter(check.fails)
        .select(pl.col(check.column).cast(pl.String))
        .head(EXAMPLES_PER_CHECK)
        for check in checks
    ]
    found = pl.collect_all(heads, engine="streaming")
    return [tuple(str(v) for v in frame.to_series().to_list()) for frame in found]


def validate_snapshot(contract: Contract, frame: pl.DataFrame | pl.LazyFrame) -> SchemaReport:
    """Validate a feature snapshot (collected or a lazy scan) against the contract, in one
    streaming pass (:class:`SchemaPass`); never raises on bad data."""
    scan = frame.lazy()
    plan = SchemaPass.plan(contract, scan.collect_schema())
    return plan.report(scan, collect_scalars(scan, plan.exprs(), apart=plan.apart_exprs()))


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


def prediction_schema_row(contract: Contract, predictions: pl.DataFrame | pl.LazyFrame) -> SliRow:
    """``schema_valid`` of the prediction log (``feature = "predictions"``): the id and every
    column the contract names are present, the id of an integer or string type, numeric
    where a number is expected (score, latency, cost), text for the status. Needs only the
    log's schema and row count (a parquet scan answers both from the files' footers)."""
    lazy = predictions.lazy()
    schema = lazy.collect_schema()
    n_rows = int(lazy.select(pl.len()).collect().item())
    pc = contract.predictions
    expected: dict[str, str] = {contract.sources.id_column: "id"}
    expected.update({c: "numeric" for c in (pc.score, pc.latency_ms, pc.cost) if c})
    if pc.predicted_label:
        expected[pc.predicted_label] = "any"
    if pc.status:
        expected[pc.status] = "text"
    problems: list[str] = []
    for column, kind in expected.items():
        dtype = schema.get(column)
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
        n_rows,
        feature="predictions",
        objective=_objective(contract, "schema_valid", 1.0),
        detail="; ".join(problems) or None,
    )


def _objective(contract: Contract, sli: str, default: float) -> float:
    spec = contract.slo(sli)
    return spec.objective if spec is not None else default
