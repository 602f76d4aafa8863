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
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import duckdb
import polars as pl

from assets.store.errors import StoreError, StoreLockedError, is_storage_failure
from assets.store.integrity import (
    SCHEMA_STATEMENTS,
    check_store,
    is_verified,
    remember_verified,
)
from assets.store.schema import SCHEMA_VERSION, UPGRADE_TO_3
from checks.gate_checks import CRASHED_RUN_STATUS, EVIDENCE_RUN_STATUSES, FAILED_RUN_STATUS
from checks.sli import SLI_SCHEMA

__all__ = [
    "LOCK_TIMEOUT_ENV",
    "RUN_STATUSES",
    "RunRecord",
    "SliStore",
    "StoreError",
    "StoreLockedError",
    "default_lock_timeout_s",
]

#: ``succeeded`` / ``breached``: evidence recorded; ``failed``: an input was unreadable (its
#: rows say which); ``crashed``: the job failed before its writer ran (no rows).
RUN_STATUSES: Final = (*EVIDENCE_RUN_STATUSES, FAILED_RUN_STATUS, CRASHED_RUN_STATUS)

#: Files are written in the storage format of DuckDB 1.5, so the DuckDB CLI data SREs
#: install today (PyPI's ``duckdb-cli`` 1.5.x) and older Python clients can open them;
#: DuckDB 2.0's default format is unreadable there. An existing file keeps its format.
STORAGE_COMPATIBILITY_VERSION: Final = "v1.5.0"
_CONFIG: Final[dict[str, Any]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "storage_compatibility_version": STORAGE_COMPATIBILITY_VERSION,
}
_FIRST_BACKOFF_S: Final = 0.05
_MAX_BACKOFF_S: Final = 2.0
#: Environment variable: seconds to wait for a locked file (default 120), for writers and
#: for datasre's readers alike.
LOCK_TIMEOUT_ENV: Final = "DATASRE_LOCK_TIMEOUT_S"
_DEFAULT_LOCK_TIMEOUT_S: Final = 120.0


def default_lock_timeout_s() -> float:
    """``$DATASRE_LOCK_TIMEOUT_S`` seconds, else 120."""
    raw = os.environ.get(LOCK_TIMEOUT_ENV, "").strip()
    if not raw:
        return _DEFAULT_LOCK_TIMEOUT_S
    try:
        seconds = float(raw)
    except ValueError:
        raise StoreError(f"${LOCK_TIMEOUT_ENV}: {raw!r} is not a number of seconds") from None
    if not seconds >= 0:
        raise StoreError(f"${LOCK_TIMEOUT_ENV}: must be 0 or more seconds, not {raw}")
    return seconds


#: The ``runs`` columns :meth:`RunRecord.values` gives, in order.
RUN_VALUE_COLUMNS: Final = (
    "run_id, model, model_version, partition, started_at, finished_at, status, error, kind, "
    "evaluation_delay_hours, timezone, measured_under"
)
#: One ``?`` per column of :data:`RUN_VALUE_COLUMNS`.
_RUN_VALUE_MARKS: Final = ", ".join("?" for _ in RUN_VALUE_COLUMNS.split(","))


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
    #: The contract's ``schedule`` the run was judged under (None: not known).
    evaluation_delay_hours: float | None = None
    timezone: str | None = None
    #: The contract's measuring settings, JSON (:mod:`checks.measured_settings`; None: not
    #: known).
    measured_under: str | None = None

    def values(self) -> list[object]:
        """The record's values for the ``runs`` columns of :data:`RUN_VALUE_COLUMNS`, in
        that order."""
        return [
            self.run_id,
            self.model,
            self.model_version,
            self.partition,
            self.started_at,
            self.finished_at,
            self.status,
            self.error,
            self.kind,
            self.evaluation_delay_hours,
            self.timezone,
            self.measured_under,
        ]

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

    def __init__(self, path: str | Path, *, lock_timeout_s: float | None = None) -> None:
        self.path = Path(path)
        self.lock_timeout_s = default_lock_timeout_s() if lock_timeout_s is None else lock_timeout_s

    # --- connections -----------------------------------------------------------------
    def _open(self, *, read_only: bool) -> duckdb.DuckDBPyConnection:
        """Open the file, retrying with backoff while another process holds it.

        Storage failures (permissions, a read-only mount, a damaged or foreign file)
        become one-line :class:`StoreError`; a lock held for the whole timeout becomes
        :class:`StoreLockedError`.
        """
        existed = self.path.exists()
        deadline = time.monotonic() + self.lock_timeout_s
        delay = _FIRST_BACKOFF_S
        announced = False
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only, config=dict(_CONFIG))
            except duckdb.Error as exc:
                if not _is_lock_error(exc):
                    raise StoreError.of(self.path, "open" if existed else "create", exc) from None
                if not announced:
                    # One line, so a data SRE sees why the command pauses (their session).
                    print(
                        f"datasre: waiting up to {self.lock_timeout_s:g} s for {self.path}: "
                        "another process holds it (close read-only sessions to let it go on)",
                        file=sys.stderr,
                    )
                    announced = True
                if time.monotonic() + delay > deadline:
                    raise StoreLockedError(
                        f"{self.path}: cannot open: still locked by another process after "
                        f"{self.lock_timeout_s:g} s (${LOCK_TIMEOUT_ENV} sets the wait)"
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, _MAX_BACKOFF_S)

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived connection, retried with backoff while the file is locked.

        The file is checked first (:func:`assets.store.integrity.check_store`): a foreign
        or damaged store is refused before anything is written, from a read-only open;
        before a write every row is read once. Closing checkpoints the file, so a full
        disk may only show then: that is a :class:`StoreError` too.
        """
        if read_only and not self.path.exists():
            raise FileNotFoundError(
                f"{self.path}: no SLI database yet (run `datasre run` first, or pass --db or "
                "set $DATASRE_DB to the store it wrote)"
            )
        if not read_only:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError.of(self.path.parent, "create the directory", exc) from None
            if self.path.exists() and not is_verified(self.path):
                checker = self._open(read_only=True)
                try:
                    check_store(checker, self.path, read_rows=True)
                finally:
                    checker.close()
        con = self._open(read_only=read_only)
        try:
            if read_only:
                check_store(con, self.path, read_rows=False)
            yield con
        except BaseException as exc:
            _close_quietly(con)
            if is_storage_failure(exc):
                raise StoreError.of(self.path, "read" if read_only else "write", exc) from exc
            raise
        try:
            con.close()
        except duckdb.Error as exc:
            raise StoreError.of(self.path, "write", exc) from exc
        if not read_only:
            remember_verified(self.path)

    def ensure_schema(self) -> None:
        """Create missing tables and views (one transaction)."""
        with self.transaction():
            pass  # transaction() checks the file and creates the schema; nothing else to do

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection inside one transaction: committed when the block ends,
        rolled back (nothing written) when it raises. The schema is ensured inside it.

        A storage failure (full disk, read-only mount, damaged block) raises
        :class:`StoreError` naming the file and the OS error.
        """
        with self.connect() as con:
            try:
                con.begin()
                _create_schema(con)
                yield con
                con.commit()
            except BaseException as exc:
                _rollback_quietly(con)
                if is_storage_failure(exc):
                    raise StoreError.of(self.path, "write", exc) from exc
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
                f"insert or replace into runs ({RUN_VALUE_COLUMNS}, n_slis, n_breaches, "
                f"n_labels) values ({_RUN_VALUE_MARKS}, ?, ?, ?)",
                [*run.values(), frame.height, int(n_breaches or 0), run.n_labels],
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

    def record_crashed_run(
        self, run: RunRecord, *, unless_recorded_since: dt.datetime | None = None
    ) -> bool:
        """Record a run whose job crashed before its writer ran: one ``runs`` row (status
        ``crashed``, ``error`` its one line, no SLI rows), in one transaction. The
        partition's rows from earlier runs stay in ``sli_results`` (``sli_latest`` skips a
        crashed run); the gate blocks while it is the newest partition's newest run.

        Nothing is written when ``run.run_id`` is already recorded: its writer committed
        before a later step failed, and that record stands; nor, given
        ``unless_recorded_since``, when a run of the partition finished since then (for a
        crash whose own run id is unknown). Returns whether it wrote."""
        if run.status != CRASHED_RUN_STATUS:
            raise ValueError(
                f"a crashed run's status is {CRASHED_RUN_STATUS!r}, not {run.status!r}"
            )
        # Asked first through the read path: a lake's transaction sees only its own rows
        # (a writer committing between this read and the commit below keeps its record:
        # the lake's runs view ranks a crash record below a written one).
        try:
            recorded = self.fetchall(
                "select 1 from runs where run_id = ? or (model = ? and model_version = ? "
                "and partition = ? and finished_at >= ?::timestamptz)",
                [
                    run.run_id,
                    run.model,
                    run.model_version,
                    run.partition,
                    unless_recorded_since,
                ],
            )
        except FileNotFoundError:
            recorded = []  # no store yet (a lake root without commits): no runs either
        if recorded:
            return False
        with self.transaction() as con:
            inserted = _run(
                con,
                f"insert into runs ({RUN_VALUE_COLUMNS}, n_slis, n_breaches, n_labels) "
                f"select {_RUN_VALUE_MARKS}, 0, 0, null "
                "where not exists (select 1 from runs where run_id = ?) returning run_id",
                [*run.values(), run.run_id],
            )
        return bool(inserted)

    # --- reads -----------------------------------------------------------------------
    def query(self, sql: str, parameters: Sequence[object] | None = None) -> pl.DataFrame:
        """Run a read-only parameterised query and return a polars frame.

        Like the writer, it waits (up to ``lock_timeout_s``) while a run holds the file.
        """
        with self.connect(read_only=True) as con:
            relation = con.sql(sql, params=list(parameters or []))
            result: pl.DataFrame = relation.pl() if relation is not None else pl.DataFrame()
            return result

    def snapshot(self, destination: str | Path) -> Path:
        """Copy the store, consistently, to ``destination`` for long ad-hoc sessions.

        A DuckDB session open on the live file blocks every run, and opening it while a
        run writes fails at once; a snapshot is a separate file a data SRE may keep open
        as long as they like. The copy is made by DuckDB under a read-only open (so it
        waits for a writing run, like every datasre reader, and never copies a
        half-written file), into a temporary file that replaces ``destination`` only
        when complete. Seconds: about 3.5 per million SLI rows on a 2-core machine.
        """
        target = Path(destination)
        if target.resolve() == self.path.resolve():
            raise StoreError(f"{target}: cannot snapshot the store onto itself")
        with self.connect(read_only=True) as con, written_in_place(target) as partial:
            source = _run(con, "select current_database()")[0][0]
            # ATTACH takes no parameters: the path is a quoted literal.
            literal = str(partial).replace("'", "''")
            _run(con, f"attach '{literal}' as datasre_snapshot (read_only false)")
            _run(con, f'copy from database "{source}" to datasre_snapshot')
            _run(con, "detach datasre_snapshot")
        return target

    def fetchall(self, sql: str, parameters: Sequence[object] | None = None) -> list[Any]:
        """Like :meth:`query`, as tuples."""
        with self.connect(read_only=True) as con:
            return con.execute(sql, list(parameters or [])).fetchall()


@contextmanager
def written_in_place(target: Path) -> Iterator[Path]:
    """A temporary path beside ``target`` for the block to write a file at; it replaces
    ``target`` only when the block completes, so a reader sees the old file or the new
    one, never a part. An OS or DuckDB error removes it and is a :class:`StoreError`
    naming ``target``."""
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial.unlink(missing_ok=True)
        yield partial
        partial.replace(target)
    except (OSError, duckdb.Error) as exc:
        partial.unlink(missing_ok=True)
        raise StoreError.of(target, "write", exc) from exc


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
    """Create what is missing, rewrite rows an older version wrote
    (:data:`assets.store.schema.UPGRADE_TO_3`); the schema version is written only when it
    changes, so each upgrade runs once."""
    for statement in SCHEMA_STATEMENTS:
        _run(con, statement)
    stored = _run(con, "select value from datasre_meta where key = 'schema_version'")
    if stored and stored[0][0].isdigit() and int(stored[0][0]) < 3:
        for table in ("sli_results", "sli_history"):  # fixed names, not user input
            for statement in UPGRADE_TO_3:
                _run(con, statement.format(table=table))
    if not stored or stored[0][0] != str(SCHEMA_VERSION):
        _run(
            con,
            "insert or replace into datasre_meta values ('schema_version', ?)",
            [str(SCHEMA_VERSION)],
        )


def _rollback_quietly(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back, ignoring a failure: after a fatal I/O error DuckDB has already
    invalidated the database, and the original error is the one to report."""
    with suppress(duckdb.Error):
        con.rollback()


def _close_quietly(con: duckdb.DuckDBPyConnection) -> None:
    with suppress(duckdb.Error):
        con.close()


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
