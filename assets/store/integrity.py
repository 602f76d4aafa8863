"""Is this file a datasre SLI store we can use? Checked read-only, before any write.

Two ways a file goes wrong, both refused with one line before a run writes a byte:

- **Foreign**: a ``runs`` or ``sli_results`` table made by another tool (other columns
  or types), a table where datasre keeps a view, or a store of a newer schema version.
  Writing beside it would half-create datasre's schema and then fail on the first insert.
- **Damaged**: a truncated file or a block whose checksum does not match. DuckDB only
  notices when it reads the block, so before a write the check reads every row of
  datasre's tables (about 0.2 s per million SLI rows on a 2-core machine); a file this
  process verified or wrote itself is not read again until something else changes it.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Final

import duckdb

from assets.store.errors import StoreError, is_storage_failure
from assets.store.schema import SCHEMA_VERSION, TABLES, VIEWS
from assets.store.slo_views import GATE_TABLES, SLO_VIEWS

__all__ = ["SCHEMA_STATEMENTS", "check_store", "is_verified", "remember_verified"]

#: Every statement that creates or upgrades the schema, in order (one list for the
#: store and for the shape it expects).
SCHEMA_STATEMENTS: Final = (*TABLES, *GATE_TABLES, *VIEWS, *SLO_VIEWS)

_CONFIG: Final = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}

#: Files this process checked or wrote: resolved path -> ((inode, size, mtime in ns),
#: whether every row was read too).
_VERIFIED: dict[Path, tuple[tuple[int, int, int], bool]] = {}

_OBJECTS_SQL: Final = (
    "select table_name, 'table' from duckdb_tables() "
    "where database_name = current_database() and schema_name = 'main' "
    "union all select view_name, 'view' from duckdb_views() "
    "where database_name = current_database() and schema_name = 'main' and not internal"
)
_COLUMNS_SQL: Final = (
    "select c.table_name, c.column_name, c.data_type, c.column_default is not null "
    "from duckdb_columns() c join duckdb_tables() t "
    "on c.database_name = t.database_name and c.schema_name = t.schema_name "
    "and c.table_name = t.table_name "
    "where c.database_name = current_database() and c.schema_name = 'main'"
)


@functools.cache
def _expected() -> tuple[dict[str, str], dict[str, dict[str, tuple[str, bool]]]]:
    """datasre's objects (name -> table|view) and each table's columns
    (name -> (type, has a default)), read from the schema built in memory."""
    con = duckdb.connect(":memory:", config=dict(_CONFIG))
    try:
        for statement in SCHEMA_STATEMENTS:
            con.execute(statement).fetchall()
        return _objects(con), _columns(con)
    finally:
        con.close()


def _objects(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return {name: kind for name, kind in con.execute(_OBJECTS_SQL).fetchall()}


def _columns(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, tuple[str, bool]]]:
    columns: dict[str, dict[str, tuple[str, bool]]] = {}
    for table, column, data_type, has_default in con.execute(_COLUMNS_SQL).fetchall():
        columns.setdefault(table, {})[column] = (data_type, bool(has_default))
    return columns


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def is_verified(path: Path, *, rows: bool = True) -> bool:
    """This process checked (or wrote) the file, its rows too when ``rows``, and nothing
    changed it since."""
    known = _VERIFIED.get(path.resolve())
    return known is not None and known[0] == _identity(path) and (known[1] or not rows)


def remember_verified(path: Path, *, rows: bool = True) -> None:
    """Record the file as sound as it is now (after this process checked or wrote it)."""
    identity = _identity(path)
    if identity is not None:
        _VERIFIED[path.resolve()] = (identity, rows)


def check_store(con: duckdb.DuckDBPyConnection, path: Path, *, read_rows: bool) -> None:
    """Raise :class:`StoreError` when ``con``'s file is foreign or damaged.

    ``read_rows`` also reads every row of datasre's tables (before a write). A file this
    process already verified, in its present state, is not checked again.
    """
    if is_verified(path, rows=read_rows):
        return
    try:
        _check_shape(con, path)
        if read_rows:
            present = _objects(con)
            for table in _expected()[1]:
                if table in present:
                    # hash() of the whole row makes DuckDB load, and checksum, every block.
                    con.execute(f'select count(hash("{table}")) from "{table}"').fetchall()
        remember_verified(path, rows=read_rows)
    except duckdb.Error as exc:
        if is_storage_failure(exc):
            raise StoreError.of(path, "read", exc) from exc
        raise


def _check_shape(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    expected_objects, expected_columns = _expected()
    found = _objects(con)
    for name, kind in sorted(found.items()):
        wanted = expected_objects.get(name)
        if wanted is not None and wanted != kind:
            raise StoreError(
                f"{path}: not a datasre store: {name} is a {kind}, datasre keeps a {wanted} "
                "there (made by another tool? use another --db)"
            )
    # The version first: a newer datasre's tables have columns this one does not know,
    # and "newer, upgrade" is the true reason, not "another tool's table".
    if "datasre_meta" in found:
        try:
            rows = con.execute(
                "select value from datasre_meta where key = 'schema_version'"
            ).fetchall()
        except duckdb.Error:
            rows = []  # not datasre's meta table: the column checks below say so
        version = rows[0][0] if rows else None
        if version is not None and (not str(version).isdigit() or int(version) > SCHEMA_VERSION):
            raise StoreError(
                f"{path}: schema version {version} is newer than this datasre's "
                f"({SCHEMA_VERSION}): upgrade datasre to write it"
            )
    found_columns = _columns(con)
    for table, columns in sorted(expected_columns.items()):
        if table not in found_columns:
            continue
        have = found_columns[table]
        strange = sorted(
            c for c, (data_type, _) in have.items() if columns.get(c, ("", False))[0] != data_type
        )
        missing = sorted(c for c, (_, default) in columns.items() if c not in have and not default)
        if strange or missing:
            detail = f"column {strange[0]} {have[strange[0]][0]}" if strange else ""
            detail = detail or f"no column {missing[0]}"
            raise StoreError(
                f"{path}: not a datasre store: table {table} has other columns ({detail}; "
                "made by another tool? use another --db)"
            )
