"""How a feature snapshot's schema checks *run*, and the schema SLIs of the outcome.

:class:`SchemaPass` runs :func:`checks.schemas.row_checks` as scalar aggregates of the
snapshot's one streaming pass (full data depth, bounded memory); :func:`validate_snapshot`
runs it on one frame or scan alone. Failures are counts per column and check with a few
examples (:class:`SchemaReport`), never raised: a bad day is data.

SLIs produced (category ``schema``, track ``model``):

- ``schema_valid`` (1/0): every declared column present with its declared dtype, and no
  undeclared column when ``sources.strict_columns`` is set.
- ``schema_validity`` (fraction of rows): rows that pass every row-level check.
- ``schema_violation_rate`` per feature is not an SLO of its own; per-column failures are
  reported in ``detail`` of the ``schema_validity`` row and in :class:`SchemaReport`.
- ``duplicate_id_rate`` (fraction of rows): rows whose id repeats an earlier row's id.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import polars as pl

from checks.contract import Contract
from checks.ids import ID_TYPES, is_id_dtype
from checks.scalars import ROWS, collect_scalars
from checks.schemas import (
    EXAMPLES_PER_CHECK,
    UNIQUE,
    RowCheck,
    dtype_matches,
    row_checks,
)
from checks.sli import SliRow, slo_row
from checks.slices import never_given

__all__ = [
    "ColumnFailure",
    "SchemaPass",
    "SchemaReport",
    "prediction_schema_row",
    "schema_sli_rows",
    "validate_snapshot",
]


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
#: Rows whose ids are grouped at once when repeated ids are counted. A larger snapshot's
#: ids are first narrowed, one hash bucket of them at a time, to those that repeat, so the
#: memory is one bucket's distinct ids (a 100M-row day with one repeat would otherwise
#: group 100M text ids at once), plus the repeated ids themselves.
REPEATED_ID_BUCKET_ROWS: Final = 2_000_000


def _mask(index: int) -> str:
    """The name of check ``index``'s failing-rows column (:meth:`SchemaPass.masks`)."""
    return f"__fails_{index}"


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
        expected: dict[str, str] = {
            sources.id_column: ID_TYPES,
            sources.timestamp_column: "Datetime",
        }
        expected.update({name: spec.dtype for name, spec in contract.features.items()})
        missing = tuple(name for name in expected if name not in schema)
        wrong = tuple(
            (name, want, str(schema[name]))
            for name, want in expected.items()
            if name in schema and not dtype_matches(want, schema[name])
        )
        extra = tuple(c for c in schema if c not in expected) if sources.strict_columns else ()
        checkable = {c for c in expected if c in schema} - {w[0] for w in wrong}
        checks = tuple(row_checks(contract, checkable))
        return cls(contract, missing, wrong, extra, checks, sources.id_column in checkable)

    def masks(self) -> list[pl.Expr]:
        """Each check's failing rows as a Boolean column (``__fails_<i>``), to add to the
        snapshot before :meth:`exprs` (``with_columns``; :func:`checks.scalars.collect_scalars`'
        ``derived``), which count them and the rows failing any.

        Why: both counts need every check's mask, and an expression written twice is
        evaluated twice: on the 5M-row fraud day the row-level count alone, each check
        computed again inside one ``any_horizontal``, took a third of validation (37
        checks: 3.1 -> 0.9 s with the masks computed once)."""
        return [check.fails.alias(_mask(i)) for i, check in enumerate(self.checks)]

    def exprs(self) -> list[pl.Expr]:
        """Scalar aggregates (uniquely aliased) of the :meth:`masks` columns for the
        snapshot's one ``select``, which must also count the rows under
        :data:`checks.scalars.ROWS` (as :func:`checks.scalars.collect_scalars` does);
        :meth:`apart_exprs` go beside it."""
        masks = [pl.col(_mask(i)) for i in range(len(self.checks))]
        exprs = [mask.sum().alias(f"{_PREFIX}_{i}") for i, mask in enumerate(masks)]
        if masks:
            exprs.append(pl.any_horizontal(masks).sum().alias(_INVALID))
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

    def id_hashes(self, batch: pl.DataFrame) -> npt.NDArray[np.uint64] | None:
        """The 64-bit hashes of one batch's ids (those :meth:`apart_exprs` counts), for
        :class:`checks.hash_repeats.HashRepeats`; None when the ids are not checked."""
        if not self.id_checked:
            return None
        hashes = batch.get_column(self.contract.sources.id_column).hash(seed=0)
        return hashes.to_numpy()

    def distinct_ids(self, n_distinct: int) -> dict[str, int]:
        """What :meth:`apart_exprs` would have measured: the distinct id hashes, to add to
        the values passed to :meth:`report` when they were counted batch by batch."""
        return {_DISTINCT_ID_HASHES: n_distinct} if self.id_checked else {}

    def add_examples(
        self, batch: pl.DataFrame, measured: Mapping[str, Any], found: list[list[str]]
    ) -> None:
        """Extend ``found`` (a list per check, in :attr:`checks` order) with the first failing
        values of ``batch`` of each check still short of :data:`EXAMPLES_PER_CHECK`, given
        the batch's values of :meth:`exprs` (``measured``); batches in file order give the
        examples :meth:`report` would read from the whole scan."""
        for i, check in enumerate(self.checks):
            wanted = EXAMPLES_PER_CHECK - len(found[i])
            if wanted > 0 and measured[f"{_PREFIX}_{i}"]:
                values = batch.filter(check.fails).get_column(check.column).head(wanted)
                found[i].extend(str(v) for v in values.cast(pl.String).to_list())

    def report(
        self,
        scan: pl.LazyFrame,
        measured: Mapping[str, Any],
        examples: Sequence[Sequence[str]] | None = None,
    ) -> SchemaReport:
        """The report from the values of :meth:`exprs` (``measured``), reading ``scan``
        again for repeated ids and, unless ``examples`` (per check, :meth:`add_examples`)
        are given, for examples of failed checks."""
        n_rows = int(measured[ROWS])
        counts = [int(measured[f"{_PREFIX}_{i}"]) for i in range(len(self.checks))]
        failed = [
            (i, check, n) for i, (check, n) in enumerate(zip(self.checks, counts, strict=True)) if n
        ]
        if examples is None:
            examples = _examples(scan, [check for _, check, _ in failed])
        else:
            examples = [tuple(examples[i]) for i, _, _ in failed]
        failures = [
            ColumnFailure(check.column, check.check, n, tuple(found))
            for (_, check, n), found in zip(failed, examples, strict=True)
        ]
        n_invalid = int(measured.get(_INVALID) or 0)
        n_duplicates = 0
        if self.id_checked and n_rows and int(measured[_DISTINCT_ID_HASHES]) < n_rows:
            repeated = self._repeated_ids(scan, n_rows)
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

    def _repeated_ids(self, scan: pl.LazyFrame, n_rows: int) -> _RepeatedIds:
        """pandera's ``field_uniqueness``: every row whose id occurs more than once (a null
        id repeats another null), how many of them fail another check too (so no row is
        counted twice as invalid), and the first repeated ids in file order. Above
        :data:`REPEATED_ID_BUCKET_ROWS` rows only the rows of ids that repeat are grouped
        (:func:`_ids_that_repeat`); the checks are row-wise, so the counts are the same."""
        id_column = self.contract.sources.id_column
        failing = (
            pl.any_horizontal([check.fails for check in self.checks])
            if self.checks
            else pl.lit(value=False)
        )
        rows = scan.with_row_index("__row")
        buckets = math.ceil(n_rows / REPEATED_ID_BUCKET_ROWS)
        if buckets > 1:
            rows = rows.filter(_ids_that_repeat(scan, id_column, buckets))
        groups = (
            rows.select("__row", id_column, failing.alias("__failing"))
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


def _ids_that_repeat(scan: pl.LazyFrame, id_column: str, buckets: int) -> pl.Expr:
    """Whether a row's id occurs more than once in ``scan``, found ``buckets`` times over
    the id column alone, each time grouping the ids whose hash falls in one bucket (every
    copy of an id, nulls included, hashes to the same bucket)."""
    ids = scan.select(id_column)
    bucket = pl.col(id_column).hash(seed=0) % buckets
    repeated = [
        ids.filter(bucket == index)
        .group_by(id_column)
        .agg(pl.len().alias("n"))
        .filter(pl.col("n") > 1)
        .select(id_column)
        .collect(engine="streaming")
        .get_column(id_column)
        for index in range(buckets)
    ]
    values = pl.concat(repeated)
    wanted = pl.col(id_column).is_in(values.drop_nulls().implode())
    return wanted | pl.col(id_column).is_null() if values.null_count() else wanted


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
    measured = collect_scalars(scan, plan.exprs(), apart=plan.apart_exprs(), derived=plan.masks())
    return plan.report(scan, measured)


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
    where a number is expected (score, latency, cost), text for the status; and the model's
    outputs (score, predicted label, query) not null (or NaN) on every row of a non-empty
    log: such a column is as good as absent, and the quality metrics it feeds would only
    say they had no row to score (no verdict), day after day. Reads the log's schema and
    row count (a parquet scan answers both from the files' footers) and those columns."""
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
    outputs = [pc.score, pc.predicted_label, pc.ranking_group]
    problems += _outputs_never_given(lazy, schema, outputs)
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


def _outputs_never_given(
    lazy: pl.LazyFrame, schema: pl.Schema, columns: list[str | None]
) -> list[str]:
    """A problem for each of ``columns`` (those present) with no usable value on any row
    of a non-empty log: all null, or all NaN for a float."""
    present = [c for c in columns if c is not None and c in schema]
    return [
        f"column {column}: every value is null" + (" or NaN" if schema[column].is_float() else "")
        for column in (never_given(lazy, schema, present) if present else [])
    ]


def _objective(contract: Contract, sli: str, default: float) -> float:
    spec = contract.slo(sli)
    return spec.objective if spec is not None else default
