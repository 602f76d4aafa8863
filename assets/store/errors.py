"""Why the SLI store cannot be used, in one line naming the file and the cause.

DuckDB reports an OS failure inside a longer message (``IO Error: Could not write file
"x.duckdb.wal": No space left on device``), and a damaged file as a checksum or
short-read error. A data SRE needs the file and the cause, not the engine's wording, so
these errors become ``<file>: cannot <action>: <cause>``: the CLI prints that line and
exits 2 ("cannot use this store"), and nothing of the run is committed.
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path
from typing import Final

import duckdb

from checks.errors import InputError

__all__ = ["StoreError", "StoreLockedError", "is_storage_failure", "storage_cause"]

#: OS errors a store can meet, in DuckDB's wording (strerror): the cause worth naming.
_OS_CAUSES: Final = tuple(
    os.strerror(code)
    for code in (
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EROFS,
        errno.EACCES,
        errno.EPERM,
        errno.EIO,
        errno.ENOENT,
        errno.ENOTDIR,
        errno.EISDIR,
        errno.EFBIG,
    )
)
#: DuckDB's wording for a file that is damaged (bad block checksum, cut short).
_DAMAGE_MARKERS: Final = ("corrupt database file", "could not read enough bytes", "checksum")
_ENGINE_PREFIX: Final = re.compile(r"^[A-Za-z ]*(Error|Exception): ")


class StoreError(InputError):
    """The SLI store cannot be used: one line ``<file>: cannot <action>: <cause>``.

    An input problem for the CLI (exit 2), never a crash: the run's rows are not
    committed, and the file is left as it was.
    """

    @classmethod
    def of(cls, path: Path, action: str, failure: BaseException) -> StoreError:
        return cls(f"{path}: cannot {action}: {storage_cause(failure)}")


class StoreLockedError(StoreError):
    """The database file stayed locked by another process for the whole timeout."""


def storage_cause(failure: BaseException) -> str:
    """The cause of a storage failure in a few words: the OS error when the message
    carries one, "damaged" for checksum and short-read errors, else the engine's first
    line without its ``IO Error:`` prefix."""
    if isinstance(failure, OSError) and failure.strerror:
        return failure.strerror
    text = str(failure).strip()
    lowered = text.lower()
    for cause in _OS_CAUSES:
        if cause.lower() in lowered:
            return cause
    first = _ENGINE_PREFIX.sub("", text.splitlines()[0]) if text else type(failure).__name__
    if "not a valid duckdb database" in lowered:
        return "not a DuckDB database file"
    if any(marker in lowered for marker in _DAMAGE_MARKERS):
        return f"the file is damaged (truncated or a bad checksum: {first})"
    return first


def is_storage_failure(failure: BaseException) -> bool:
    """True for failures of the file or the disk (as opposed to a bug in a query):
    OS errors, DuckDB I/O, permission and fatal errors, and damaged blocks."""
    if isinstance(failure, OSError | duckdb.IOException | duckdb.PermissionException):
        return True
    if isinstance(failure, duckdb.FatalException):
        return True
    if isinstance(failure, duckdb.Error):
        lowered = str(failure).lower()
        return any(m in lowered for m in _DAMAGE_MARKERS) or any(
            c.lower() in lowered for c in _OS_CAUSES
        )
    return False
