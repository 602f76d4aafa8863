"""The SLI store for many writers on many machines: immutable per-commit parquet files
under one shared directory, read through DuckDB views.

Why (docs/deploy.md weighs the options): one DuckDB file admits one writer process on one
machine; PostgreSQL or DuckLake would need DuckDB extensions that cannot be installed
offline and that PyPI's ``duckdb-cli`` 1.5 lacks. Parquet is built into every DuckDB.

Layout under the root (a path every machine mounts at the same place)::

    committed/<commit id>/<table>.parquet   one directory per write: what readers see
    committed/0-empty/<table>.parquet       an empty, typed file per table (globs never miss)
    staging/<commit id>/                    a write in progress: never read
    catalog.duckdb                          views only, for data SREs (duckdb-cli 1.5 opens it)

**Commit rule.** A write (one run, one waiver, one gate decision) goes to an in-memory
DuckDB with datasre's tables (created from :mod:`assets.store.schema` and
:mod:`assets.store.slo_views`, so new columns and tables flow in), is copied to
``staging/<id>/`` as one parquet file per table that got rows, every file and the
directory fsynced, then the directory is renamed into ``committed/``: one atomic rename,
so all of a write's rows in every table appear at once or not at all. A writer that dies
or fails before the rename leaves only ``staging/`` debris, which no reader looks at.
Commit ids start with the commit's wall-clock nanoseconds, so they sort by time.

**Which rows count** (the views; the same answers as the embedded store):

- ``runs``: each ``run_id``'s newest commit (a retried writer step of the same Dagster
  run, writing twice, counts once: its newest write replaces its older one); a crash
  record never outranks the run's written record, whichever committed last.
- ``sli_results``: per (model, version, partition), the rows of the run that finished
  last (ties: started last, then the greater run id), exactly the run ``sli_latest``
  picks; the rows of earlier runs of the partition are ``sli_history``, stamped with
  the run that replaced them and its finish time.
- ``slo_definitions``: per (model, version), those of the run that finished last.
- every other table (``waivers``, ``gate_decisions``, ...): all committed rows.

No Dagster import: the CLI gate reads the lake directly.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import duckdb

from assets.store.errors import StoreError, is_storage_failure
from assets.store.schema import SCHEMA_VERSION, TABLES, VIEWS
from assets.store.slo_views import GATE_TABLES, SLO_VIEWS
from assets.store.store import STORAGE_COMPATIBILITY_VERSION, SliStore, _run, written_in_place

__all__ = ["CATALOG_NAME", "COMMITTED", "STAGING", "LakeStore", "lake_view_statements"]

COMMITTED: Final = "committed"
STAGING: Final = "staging"
CATALOG_NAME: Final = "catalog.duckdb"
#: The commit holding one empty, typed parquet file per table; sorts before every real one.
EMPTY_COMMIT: Final = "0-empty"
#: Schema of the catalog holding the typed empty tables and the raw (per-commit) views.
SHAPE: Final = "lake_shape"
_CONFIG: Final[dict[str, str | bool]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}
_GLOB_CHARACTERS: Final = frozenset("*?[]{}")


def _literal(text: str) -> str:
    """A SQL string literal (DuckDB takes no parameters in COPY or read_parquet globs)."""
    return "'" + text.replace("'", "''") + "'"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@functools.cache
def _table_names() -> tuple[str, ...]:
    """datasre's tables, in creation order, from the DDL built in memory (one home)."""
    con = duckdb.connect(":memory:", config=dict(_CONFIG))
    try:
        for statement in (*TABLES, *GATE_TABLES):
            _run(con, statement)
        rows = _run(
            con,
            "select table_name from duckdb_tables() where schema_name = 'main' order by table_oid",
        )
        return tuple(str(row[0]) for row in rows)
    finally:
        con.close()


def lake_view_statements(root: Path) -> list[str]:
    """SQL that makes a DuckDB database (in memory, or the catalog file) read the lake at
    ``root``: the typed empty tables in schema ``lake_shape``, one raw view per table over
    its committed parquet files (with the commit id as ``_commit``), then datasre's
    tables as views with the commit rule of the module docstring, then datasre's own
    views (``sli_latest``, ``slo_status``, ...) on top, unchanged."""
    committed = root.resolve() / COMMITTED
    statements = [f"create schema if not exists {SHAPE}", f"use {SHAPE}"]
    statements += [*TABLES, *GATE_TABLES, "use main"]
    for table in _table_names():
        pattern = _literal(str(committed / "*" / f"{table}.parquet"))
        statements.append(
            f"create or replace view {SHAPE}.{_quoted('raw_' + table)} as "
            f"select *, null::varchar as _commit from {SHAPE}.{_quoted(table)} "
            "union all by name "
            "select * exclude (filename), "
            "regexp_extract(filename, '([^/\\\\]+)[/\\\\][^/\\\\]+$', 1) as _commit "
            f"from read_parquet({pattern}, union_by_name = true, filename = true)"
        )
    special = {"runs", "sli_results", "sli_history", "slo_definitions"}
    statements += [
        # Each run's newest commit (a retried writer step writes its run again); a crash
        # record never outranks its run's written record, whichever committed last (the
        # crash recorder's "already recorded?" read and its commit are not atomic).
        f"""create or replace view {SHAPE}.run_commits as
        select * from {SHAPE}.raw_runs
        qualify row_number() over (
            partition by run_id order by status = 'crashed', _commit desc
        ) = 1""",
        # The runs of each partition in finishing order, and which run replaced each (a
        # crashed run wrote no rows and replaces none).
        f"""create or replace view {SHAPE}.partition_runs as
        select run_id, _commit, model, model_version, partition, finished_at, started_at,
            lead(run_id) over w as replaced_by, lead(finished_at) over w as replaced_at
        from {SHAPE}.run_commits
        where status <> 'crashed'
        window w as (
            partition by model, model_version, partition
            order by coalesce(finished_at, started_at), started_at, run_id
        )""",
        f"create or replace view runs as select * exclude (_commit) from {SHAPE}.run_commits",
        f"""create or replace view sli_results as
        select * exclude (_commit) from {SHAPE}.raw_sli_results
        where _commit in (select _commit from {SHAPE}.partition_runs where replaced_by is null)
        """,
        f"""create or replace view sli_history as
        select * exclude (_commit) from {SHAPE}.raw_sli_history
        union all by name
        select s.* exclude (_commit), p.replaced_at, p.replaced_by
        from {SHAPE}.raw_sli_results s join {SHAPE}.partition_runs p using (_commit)
        where p.replaced_by is not null""",
        f"""create or replace view slo_definitions as
        select d.* exclude (_commit) from {SHAPE}.raw_slo_definitions d
        join {SHAPE}.run_commits r using (_commit)
        qualify dense_rank() over (
            partition by d.model, d.model_version
            order by coalesce(r.finished_at, r.started_at) desc, r.started_at desc,
                r.run_id desc
        ) = 1""",
    ]
    statements += [
        f"create or replace view {_quoted(table)} as "
        f"select * exclude (_commit) from {SHAPE}.{_quoted('raw_' + table)}"
        for table in _table_names()
        if table not in special
    ]
    return [*statements, *VIEWS, *SLO_VIEWS]


def _fsync(path: Path) -> None:
    """Flush a file's or a directory's data and entry to disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _publish(staging: Path, committed: Path) -> None:
    """The commit point: one atomic rename of a complete, fsynced directory."""
    staging.rename(committed)
    _fsync(committed.parent)


class LakeStore(SliStore):
    """SLI rows and runs as committed parquet files under ``root`` (see the module).

    The same reads and writes as :class:`SliStore`: :meth:`write_run`, :meth:`query`,
    :meth:`fetchall` and the gate's :class:`~assets.store.gate_store.GateStore` work
    unchanged. Reads never wait for writers and writers never wait for each other: no
    lock is taken anywhere. ``connect`` always gives a read-only view of the lake;
    writes go through :meth:`transaction` (inserts only: nothing committed is ever
    changed or deleted, the views decide which rows count).
    """

    def __init__(self, root: str | Path, *, lock_timeout_s: float | None = None) -> None:
        super().__init__(root, lock_timeout_s=lock_timeout_s)
        strange = sorted(_GLOB_CHARACTERS & set(str(self.path.resolve())))
        if strange:
            raise StoreError(
                f"{self.path}: cannot use as a lake root: the path has {strange[0]!r}, a "
                "glob character DuckDB would expand (choose another directory)"
            )

    @property
    def catalog_path(self) -> Path:
        """The DuckDB file of views data SREs open (``duckdb -readonly <it>``)."""
        return self.path / CATALOG_NAME

    # --- reads -----------------------------------------------------------------------
    @contextmanager
    def connect(self, *, read_only: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        """An in-memory DuckDB whose tables are views over the committed files.

        ``read_only`` is accepted for :class:`SliStore`'s signature: every connection
        here only reads (writes go through :meth:`transaction`).
        """
        del read_only
        if not (self.path / COMMITTED).is_dir():
            raise FileNotFoundError(f"{self.path}: no SLI store yet (run `datasre run` first)")
        con = duckdb.connect(":memory:", config=dict(_CONFIG))
        try:
            for statement in lake_view_statements(self.path):
                _run(con, statement)
            yield con
        except BaseException as exc:
            if is_storage_failure(exc):
                raise StoreError.of(self.path, "read", exc) from exc
            raise
        finally:
            con.close()

    def snapshot(self, destination: str | Path) -> Path:
        """Materialise the lake's tables and views into one DuckDB file (1.5 format) at
        ``destination``, replacing it only when complete."""
        target = Path(destination)
        with self.connect() as con, written_in_place(target) as partial:
            _run(
                con,
                f"attach {_literal(str(partial))} as datasre_snapshot "
                f"(storage_version {_literal(STORAGE_COMPATIBILITY_VERSION)})",
            )
            for table in _table_names():
                _run(
                    con,
                    f"create table datasre_snapshot.{_quoted(table)} as "
                    f"select * from main.{_quoted(table)}",
                )
            _run(con, "use datasre_snapshot")
            for statement in (*VIEWS, *SLO_VIEWS):
                _run(con, statement)
            _run(con, "use memory")
            _run(con, "detach datasre_snapshot")
        return target

    # --- writes ----------------------------------------------------------------------
    def ensure_schema(self) -> None:
        """Create the directories, the empty typed files and the catalog (idempotent)."""
        try:
            self._ensure_layout()
        except (OSError, duckdb.Error) as exc:
            raise StoreError.of(self.path, "write", exc) from exc

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """An in-memory DuckDB with datasre's (empty) tables: what the block inserts is
        committed to the lake as one commit when it ends; nothing when it raises."""
        con = duckdb.connect(":memory:", config=dict(_CONFIG))
        try:
            for statement in (*TABLES, *GATE_TABLES):
                _run(con, statement)
            yield con
            self._commit(con)
        finally:
            con.close()

    def _commit(self, con: duckdb.DuckDBPyConnection) -> None:
        tables = [
            t for t in _table_names() if _run(con, f"select count(*) from {_quoted(t)}")[0][0]
        ]
        commit_id = f"{time.time_ns():020d}-{uuid.uuid4().hex[:12]}"
        staging = self.path / STAGING / commit_id
        try:
            self._ensure_layout()
            if not tables:
                return
            staging.mkdir(parents=True)
            for table in tables:
                file = staging / f"{table}.parquet"
                _run(con, f"copy {_quoted(table)} to {_literal(str(file))} (format parquet)")
                _fsync(file)
            _fsync(staging)
            _publish(staging, self.path / COMMITTED / commit_id)
        except BaseException as exc:
            shutil.rmtree(staging, ignore_errors=True)
            if is_storage_failure(exc):
                raise StoreError.of(self.path, "write", exc) from exc
            raise

    def _ensure_layout(self) -> None:
        """``committed/``, ``staging/``, an empty typed file per table, and the catalog;
        each file is written under a temporary name and renamed, so writers on several
        machines may do this at the same moment."""
        empty = self.path / COMMITTED / EMPTY_COMMIT
        (self.path / STAGING).mkdir(parents=True, exist_ok=True)
        empty.mkdir(parents=True, exist_ok=True)
        missing = [t for t in _table_names() if not (empty / f"{t}.parquet").exists()]
        if missing:
            con = duckdb.connect(":memory:", config=dict(_CONFIG))
            try:
                for statement in (*TABLES, *GATE_TABLES):
                    _run(con, statement)
                for table in missing:
                    temporary = self.path / STAGING / f"{table}.{uuid.uuid4().hex}.parquet"
                    _run(
                        con,
                        f"copy {_quoted(table)} to {_literal(str(temporary))} (format parquet)",
                    )
                    temporary.replace(empty / f"{table}.parquet")
            finally:
                con.close()
        self._ensure_catalog()

    def _ensure_catalog(self) -> None:
        """(Re)build ``catalog.duckdb`` when missing or made from other SQL (another
        datasre version, another mount point): the SQL's digest sits beside it in
        ``catalog.version``."""
        marker = self.path / "catalog.version"
        statements = lake_view_statements(self.path)
        digest = hashlib.sha256("\n;\n".join(statements).encode()).hexdigest()
        wanted = f"schema {SCHEMA_VERSION} sql {digest}"
        current = marker.read_text("utf-8") if marker.exists() else ""
        if self.catalog_path.exists() and current == wanted:
            return
        temporary = self.path / STAGING / f"catalog.{uuid.uuid4().hex}.duckdb"
        config: dict[str, str | bool | int | float | list[str]] = {
            **_CONFIG,
            "storage_compatibility_version": STORAGE_COMPATIBILITY_VERSION,
        }
        con = duckdb.connect(str(temporary), config=config)
        try:
            for statement in statements:
                _run(con, statement)
        finally:
            con.close()
        temporary.replace(self.catalog_path)
        marker_temporary = marker.with_name(f".{marker.name}.{uuid.uuid4().hex}")
        marker_temporary.write_text(wanted, "utf-8")
        marker_temporary.replace(marker)
