"""Reading snapshots: resolve a contract's path pattern for a day, check every file is
readable parquet, and scan lazily.

Every failure is an :class:`checks.errors.InputError` whose one-line message names the file
(and the column, where one is at fault), so the asset can record it as a failed run and
the CLI can print it.
"""

from __future__ import annotations

import datetime as dt
import glob

import polars as pl
import pyarrow.parquet as pq

from assets.files import resolve_files
from checks.contract import Contract
from checks.errors import InputError

__all__ = [
    "discover_days",
    "read_snapshot",
    "resolve_files",
    "scan_columns",
    "scan_snapshot",
    "snapshot_files",
    "unreadable",
]


def _check_parquet(path: str) -> None:
    """Open the footer; a truncated or non-parquet file fails here with its name."""
    try:
        metadata = pq.read_metadata(path)
    except (OSError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{path}: not a readable parquet file ({reason})") from None
    if metadata.num_columns == 0:
        raise InputError(f"{path}: parquet file has no columns")


def _check_agree(files: list[str]) -> None:
    """The files of one snapshot must have the same columns and, as polars reads them, the
    same types: polars refuses to scan them together otherwise, and the refusal surfaced
    as a step's crash (`SchemaError: data type mismatch for column priority`, an Int32 file
    beside an Int64 one; found by a new user) instead of the snapshot's failed ingest
    naming the files and the column. (Compared as polars types: a file written by pyarrow
    says ``string`` where polars writes ``large_string``, both read as String.)"""
    try:
        schemas = [pl.read_parquet_schema(file) for file in files]
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(f"{files[0]}: cannot read parquet ({_first_line(exc)})") from None
    first, reference = files[0], schemas[0]
    for file, schema in zip(files[1:], schemas[1:], strict=True):
        for name, dtype in reference.items():
            if name not in schema:
                raise InputError(
                    f"{file}: column {name} missing, which {first} has "
                    "(the files of one snapshot must have the same columns)"
                )
            if schema[name] != dtype:
                raise InputError(
                    f"{file}: column {name} is {schema[name]}, {dtype} in {first} (the "
                    "files of one snapshot must agree on each column's type)"
                )
        extra = [name for name in schema if name not in reference]
        if extra:
            raise InputError(
                f"{file}: column {extra[0]} not in {first} (the files of one snapshot must "
                "have the same columns)"
            )


def scan_snapshot(pattern: str) -> pl.LazyFrame:
    """A lazy scan of every file matching ``pattern``, each checked to be valid parquet,
    and all with the same columns and types."""
    files = resolve_files(pattern)
    for file in files:
        _check_parquet(file)
    if len(files) > 1:
        _check_agree(files)
    try:
        return pl.scan_parquet(files)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(f"{pattern}: cannot scan parquet ({_first_line(exc)})") from None


def scan_columns(pattern: str, columns: list[str]) -> pl.LazyFrame:
    """A lazy scan of a snapshot projected on the ``columns`` that exist in it (parquet is
    read by column: the rest is never read). Raises :class:`InputError` naming the file
    when it is missing or its footer cannot be read."""
    lazy = scan_snapshot(pattern)
    try:
        available = set(lazy.collect_schema().names())
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise unreadable(pattern, exc) from None
    return lazy.select([c for c in columns if c in available])


def read_snapshot(pattern: str, columns: list[str] | None = None) -> pl.DataFrame:
    """Collect a snapshot (optionally only ``columns`` that exist in it).

    Raises :class:`InputError` naming the file when it is missing, corrupt, or when the
    files of a glob disagree on their schema.
    """
    lazy = scan_snapshot(pattern) if columns is None else scan_columns(pattern, columns)
    try:
        return lazy.collect()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise unreadable(pattern, exc) from None


def unreadable(pattern: str, exc: BaseException) -> InputError:
    """The one-line input error for a snapshot whose footer read but whose data did not
    (a corrupt page, files of a glob disagreeing on their schema), naming the file."""
    return InputError(f"{pattern}: cannot read parquet ({_first_line(exc)})")


def snapshot_files(contract: Contract, pattern: str) -> dict[dt.date, list[str]]:
    """Existing files of a source pattern, by the day in their path (sorted).

    Days before ``sources.start_date`` and paths whose ``{date}`` part is not a
    ``YYYY-MM-DD`` day are ignored.
    """
    template = contract.resolve(pattern)
    head, _, tail = template.partition("{date}")
    found: dict[dt.date, list[str]] = {}
    for path in sorted(glob.glob(glob.escape(head) + "*" + tail.replace("{date}", "*"))):
        try:
            day = dt.date.fromisoformat(path[len(head) : len(head) + 10])
        except ValueError:
            continue
        if day >= contract.sources.start_date:
            found.setdefault(day, []).append(path)
    return found


def discover_days(contract: Contract, pattern: str | None = None) -> list[dt.date]:
    """Days for which a file of the pattern (default: the feature snapshots) exists."""
    return sorted(snapshot_files(contract, pattern or contract.sources.features))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
