"""The DuckDB SLI store: one transaction per run, parameterised SQL only.

DuckDB admits one read-write *process* per file, and a read-only holder (a data SRE's
ad-hoc session) blocks writers too (docs/design.md, stack). So connections are short-lived, opened
per operation, and opening retries with exponential backoff for up to ``lock_timeout_s``
seconds: a held lock delays a run instead of failing it. Extension auto-install is off, so
a query that needs a network extension fails fast instead of hanging offline.

No Dagster import here: the CLI gate and ad-hoc tools reuse the store directly.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import duckdb
import polars as pl

from assets.store.schema import SCHEMA_VERSION, TABLES, VIEWS
from checks.errors import InputError
from checks.sli import SLI_SCHEMA

__all__ = ["RUN_STATUSES", "RunRecord", "SliStore", "StoreLockedError"]

RUN_STATUSES: Final = ("succeeded", "breached", "failed")

_CONFIG: Final[dict[str, Any]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}
_FIRST_BACKOFF_S: Final = 0.05
_MAX_BACKOFF_S: Final = 2.0


class StoreLockedError(InputError):
    """The database file stayed locked by another process for the whole timeout.

    An input problem for the CLI (exit 2): the file is not usable now, nothing was written.
    """


@dataclass(frozen=True)
class RunRecord:
    """One row of ``runs``: one execution for one (model, version, partition)."""

    run_id: str
    model: str
    model_version: str
    partition: str
    started_at: dt.datetime
    finished_at: dt.datetime
    status: str
    error: str | None = None
    kind: str = "scheduled"
    n_labels: int | None = None

    def __post_init__(self) -> None:
        if self.status not in RUN_STATUSES:
            raise ValueError(f"run status must be one of {RUN_STATUSES}, not {self.status!r}")
        for name in ("started_at", "finished_at"):
            if getattr(self, name).tzinfo is None:
                raise ValueError(f"{name} must be timezone-aware")


def _is_lock_error(exc: duckdb.Error) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("conflicting" in text or "could not set" in text)


class SliStore:
    """SLI rows and runs in one DuckDB file.

    Parameters
    ----------
    path
        The database file; its directory is created on first write.
    lock_timeout_s
        How long (seconds) to keep retrying while another process holds the file.
    """

    def __init__(self, path: str | Path, *, lock_timeout_s: float = 120.0) -> None:
        self.path = Path(path)
        self.lock_timeout_s = lock_timeout_s

    # --- connections -----------------------------------------------------------------
    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived connection, retried with backoff while the file is locked."""
        if read_only and not self.path.exists():
            raise FileNotFoundError(f"{self.path}: no SLI database yet (run `datasre run` first)")
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.lock_timeout_s
        delay = _FIRST_BACKOFF_S
        announced = False
        while True:
            try:
                con = duckdb.connect(str(self.path), read_only=read_only, config=dict(_CONFIG))
                break
            except duckdb.Error as exc:
                if not _is_lock_error(exc):
                    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                    raise InputError(
                        f"{self.path}: cannot open the SLI database ({first})"
                    ) from None
                if not announced:
                    # One line, so a data SRE sees why the run pauses (their session).
                    print(
                        f"datasre: waiting up to {self.lock_timeout_s:g} s for {self.path}: "
                        "another process holds it (close read-only sessions to let it go on)",
                        file=sys.stderr,
                    )
                    announced = True
                if time.monotonic() + delay > deadline:
                    raise StoreLockedError(
                        f"{self.path}: still locked by another process after "
                        f"{self.lock_timeout_s:g} s ({exc})"
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, _MAX_BACKOFF_S)
        try:
            yield con
        finally:
            con.close()

    def ensure_schema(self) -> None:
        with self.connect() as con:
            _create_schema(con)

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection inside one transaction: committed when the block ends,
        rolled back (nothing written) when it raises. The schema is ensured first."""
        with self.connect() as con:
            _create_schema(con)
            con.begin()
            try:
                yield con
                con.commit()
            except BaseException:
                con.rollback()
                raise

    # --- writes ----------------------------------------------------------------------
    def write_run(
        self,
        run: RunRecord,
        slis: pl.DataFrame,
        *,
        slo_definitions: pl.DataFrame | None = None,
        before_commit: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
    ) -> int:
        """Record one run and replace its partition's SLI rows, in one transaction.

        ``slis`` has the columns of :data:`checks.sli.SLI_SCHEMA`. Rows of earlier runs of
        the same (model, version, partition) move to ``sli_history`` (stamped with this
        run's id and finish time) in the same transaction, so a re-run leaves exactly one
        set of rows in ``sli_results``, a restatement stays auditable, and a failure leaves
        the old set intact.
        ``before_commit`` lets tests fail on purpose inside the transaction.

        Returns the number of SLI rows written.
        """
        missing = set(SLI_SCHEMA) - set(slis.columns)
        if missing:
            raise ValueError(f"SLI frame lacks columns {sorted(missing)}")
        frame = slis.select(list(SLI_SCHEMA)).cast(pl.Schema(SLI_SCHEMA))
        n_breaches = frame.select((pl.col("ok") == pl.lit(value=False)).sum()).item()
        with self.transaction() as con:
            _move_replaced_rows_to_history(con, run)
            _run(
                con,
                "insert or replace into runs (run_id, model, model_version, partition, "
                "started_at, finished_at, status, error, kind, n_slis, n_breaches, n_labels) "
                "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    run.run_id,
                    run.model,
                    run.model_version,
                    run.partition,
                    run.started_at,
                    run.finished_at,
                    run.status,
                    run.error,
                    run.kind,
                    frame.height,
                    int(n_breaches or 0),
                    run.n_labels,
                ],
            )
            incoming = frame.to_arrow()
            con.register("incoming_slis", incoming)
            _run(
                con,
                "insert into sli_results by name "
                "select ? as run_id, ? as model, ? as model_version, ? as partition, "
                "? as measured_at, * from incoming_slis",
                [run.run_id, run.model, run.model_version, run.partition, run.finished_at],
            )
            con.unregister("incoming_slis")
            if slo_definitions is not None and slo_definitions.height:
                _replace_slo_definitions(con, run, slo_definitions)
            if before_commit is not None:
                before_commit(con)
        return frame.height

    # --- reads -----------------------------------------------------------------------
    def query(self, sql: str, parameters: Sequence[object] | None = None) -> pl.DataFrame:
        """Run a read-only parameterised query and return a polars frame."""
        with self.connect(read_only=True) as con:
            relation = con.sql(sql, params=list(parameters or []))
            result: pl.DataFrame = relation.pl() if relation is not None else pl.DataFrame()
            return result

    def fetchall(self, sql: str, parameters: Sequence[object] | None = None) -> list[Any]:
        with self.connect(read_only=True) as con:
            return con.execute(sql, list(parameters or [])).fetchall()


def _run(
    con: duckdb.DuckDBPyConnection, sql: str, parameters: Sequence[object] | None = None
) -> list[Any]:
    """Execute and drain the result: DuckDB 2 refuses new work while a result is open."""
    return con.execute(sql, list(parameters or [])).fetchall()


def _move_replaced_rows_to_history(con: duckdb.DuckDBPyConnection, run: RunRecord) -> None:
    """Move the partition's current SLI rows to ``sli_history``, replaced by ``run``.

    Rows of ``run`` itself (a retried writer step of the same Dagster run) are dropped,
    not kept: they are not an earlier measurement.
    """
    key = [run.model, run.model_version, run.partition]
    _run(
        con,
        "insert into sli_history by name "
        "select *, ? as replaced_at, ? as replaced_by from sli_results "
        "where model = ? and model_version = ? and partition = ? and run_id <> ?",
        [run.finished_at, run.run_id, *key, run.run_id],
    )
    _run(
        con,
        "delete from sli_results where model = ? and model_version = ? and partition = ?",
        key,
    )


def _create_schema(con: duckdb.DuckDBPyConnection) -> None:
    from assets.store.slo_views import GATE_TABLES, SLO_VIEWS

    for statement in (*TABLES, *GATE_TABLES, *VIEWS, *SLO_VIEWS):
        _run(con, statement)
    _run(
        con,
        "insert or replace into datasre_meta values ('schema_version', ?)",
        [str(SCHEMA_VERSION)],
    )


def _replace_slo_definitions(
    con: duckdb.DuckDBPyConnection, run: RunRecord, definitions: pl.DataFrame
) -> None:
    _run(
        con,
        "delete from slo_definitions where model = ? and model_version = ?",
        [run.model, run.model_version],
    )
    con.register("incoming_slos", definitions.to_arrow())
    _run(
        con,
        "insert into slo_definitions by name "
        "select ? as model, ? as model_version, ? as updated_at, * from incoming_slos",
        [run.model, run.model_version, run.finished_at],
    )
    con.unregister("incoming_slos")
