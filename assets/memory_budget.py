"""How much memory this process may still use, and a parquet file's row count from its footer.

Why this exists: when memory runs out inside polars or numpy, the process does not always
get a catchable ``MemoryError``. A failed allocation in polars' Rust code aborts the
process (exit 134, a Rust backtrace on stderr), and polars' streaming engine can instead
wait forever for a worker thread that could not start (observed under a 1 GiB address-space
limit: no output, no exit). So the drift command checks, before reading any column, that
the data fits in what is left, and refuses with one line when it clearly does not; and the
drift asset picks its engine (:mod:`assets.drift_engine`) from the same figure.

Sources of the limit (each optional; the smallest wins), in bytes:

* ``RLIMIT_AS`` (``ulimit -v``, ``prlimit --as``): the soft limit minus this process's
  current virtual size (``VmSize``); memory-mapped files count here.
* the cgroup v2 ``memory.max`` minus ``memory.current`` (containers, systemd units).
* ``MemAvailable`` of ``/proc/meminfo`` (the whole machine).

Everything here reads ``/proc`` and ``/sys`` and returns None where they are absent
(other platforms), so the check is then skipped.
"""

from __future__ import annotations

import resource
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = [
    "MemoryBudget",
    "available_memory",
    "files_row_count",
    "parquet_row_count",
    "parquet_row_group_rows",
]

_CGROUP_ROOT: Final = Path("/sys/fs/cgroup")
_MIB: Final = 1024 * 1024


@dataclass(frozen=True)
class MemoryBudget:
    """Bytes this process may still allocate, and which limit says so."""

    bytes_left: int
    #: Human-readable source, e.g. ``"address-space limit (ulimit -v) of 1024 MiB"``.
    source: str
    #: True when memory-mapped files count against the limit (RLIMIT_AS only).
    counts_mapped_files: bool


def _proc_kib(path: str, key: str) -> int | None:
    """A ``key:  N kB`` field of a /proc status-like file, in bytes; None if absent."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _limit_budget(what: str, limit: int, used: int, *, counts_mapped_files: bool) -> MemoryBudget:
    """The bytes left under a ``limit`` of which ``used`` bytes are taken (never below 0)."""
    return MemoryBudget(
        max(0, limit - used),
        f"{what} of {limit // _MIB} MiB, {used // _MIB} MiB in use",
        counts_mapped_files=counts_mapped_files,
    )


def _address_space_budget() -> MemoryBudget | None:
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    used = _proc_kib("/proc/self/status", "VmSize")
    if used is None:
        return None
    return _limit_budget("address-space limit (ulimit -v)", soft, used, counts_mapped_files=True)


def _cgroup_budget() -> MemoryBudget | None:
    """cgroup v2 only: this process's group from /proc/self/cgroup (``0::/path``)."""
    try:
        entry = Path("/proc/self/cgroup").read_text().splitlines()
        rel = next(line.split("::", 1)[1] for line in entry if line.startswith("0::"))
        group = _CGROUP_ROOT / rel.lstrip("/")
        limit_text = (group / "memory.max").read_text().strip()
        if limit_text == "max":
            return None
        limit = int(limit_text)
        current = int((group / "memory.current").read_text().strip())
    except (OSError, ValueError, StopIteration):
        return None
    return _limit_budget("cgroup memory limit", limit, current, counts_mapped_files=False)


def _machine_budget() -> MemoryBudget | None:
    free = _proc_kib("/proc/meminfo", "MemAvailable")
    if free is None:
        return None
    return MemoryBudget(free, f"{free // _MIB} MiB available on this machine", False)


def available_memory() -> MemoryBudget | None:
    """The tightest of the limits above, or None when none is known."""
    budgets = [b for b in (_address_space_budget(), _cgroup_budget(), _machine_budget()) if b]
    return min(budgets, key=lambda b: b.bytes_left) if budgets else None


# --- parquet row count from the footer, without polars' engine ---------------------------


class _Footer:
    """A cursor over a parquet footer (Thrift compact protocol)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def byte(self) -> int:
        value = self.data[self.pos]
        self.pos += 1
        return value

    def varint(self) -> int:
        shift = result = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def skip(self, kind: int) -> None:
        """Skip one value of compact type ``kind``."""
        if kind in (1, 2):  # booleans inside a struct carry their value in the type
            return
        if kind == 3:
            self.pos += 1
        elif kind in (4, 5, 6):
            self.varint()
        elif kind == 7:
            self.pos += 8
        elif kind == 8:
            length = self.varint()  # read before moving: `pos += varint()` reads pos first
            self.pos += length
        elif kind in (9, 10):
            head = self.byte()
            size = head >> 4 if head >> 4 != 15 else self.varint()
            for _ in range(size):
                if head & 0x0F in (1, 2):
                    self.pos += 1  # a boolean element is one byte
                else:
                    self.skip(head & 0x0F)
        elif kind == 11:
            size = self.varint()
            if size:
                types = self.byte()
                for _ in range(size):
                    self.skip(types >> 4)
                    self.skip(types & 0x0F)
        elif kind == 12:
            self.struct_field(None)
        else:
            raise ValueError(f"unknown thrift compact type {kind}")

    def whole_struct_i64(self, wanted: int) -> int | None:
        """Read a whole struct; the value of its i64 field ``wanted`` (None if absent)."""
        field = 0
        found = None
        while (head := self.byte()) != 0:
            delta, kind = head >> 4, head & 0x0F
            field = field + delta if delta else self.zigzag()
            if field == wanted and kind == 6:
                found = self.zigzag()
            else:
                self.skip(kind)
        return found

    def row_group_rows(self) -> list[int]:
        """``num_rows`` of every element of ``FileMetaData.row_groups`` (field 4)."""
        field = 0
        while (head := self.byte()) != 0:
            delta, kind = head >> 4, head & 0x0F
            field = field + delta if delta else self.zigzag()
            if field == 4 and kind == 9:
                head = self.byte()
                size = head >> 4 if head >> 4 != 15 else self.varint()
                return [self.whole_struct_i64(3) or 0 for _ in range(size)]
            self.skip(kind)
        return []

    def struct_field(self, wanted: int | None) -> int | None:
        """Read a struct up to field ``wanted`` (an i64, returned) or skip all of it."""
        field = 0
        while (head := self.byte()) != 0:
            delta, kind = head >> 4, head & 0x0F
            field = field + delta if delta else self.zigzag()
            if field == wanted and kind == 6:
                return self.zigzag()
            self.skip(kind)
        return None


def _footer(path: Path) -> _Footer | None:
    """A cursor over a parquet file's footer; None when it is not readable as parquet."""
    try:
        with path.open("rb") as handle:
            handle.seek(-8, 2)
            tail = handle.read(8)
            if len(tail) < 8 or tail[4:] != b"PAR1":
                return None
            (size,) = struct.unpack("<I", tail[:4])
            handle.seek(-8 - size, 2)
            return _Footer(handle.read(size))
    except (OSError, ValueError):
        return None


def parquet_row_count(path: Path) -> int | None:
    """Rows of a parquet file from its footer (``FileMetaData.num_rows``, field 3); None
    when the file is not readable as parquet (the readers then report it).

    Why not polars: counting with polars starts its thread pools and engine, and under a
    tight memory limit that is exactly what can hang before any error surfaces.
    """
    footer = _footer(path)
    try:
        rows = footer.struct_field(3) if footer is not None else None
    except (ValueError, IndexError):
        return None
    return rows if rows is not None and rows >= 0 else None


def files_row_count(files: Iterable[str]) -> int:
    """Rows of the files from their footers (:func:`parquet_row_count`), an unreadable one
    counting 0 (its readers report it)."""
    return sum(parquet_row_count(Path(file)) or 0 for file in files)


def parquet_row_group_rows(path: Path) -> list[int] | None:
    """Rows of each row group of a parquet file (``FileMetaData.row_groups``, field 4, each
    ``RowGroup.num_rows``, field 3), from its footer as :func:`parquet_row_count`; None
    when the file is not readable as parquet."""
    footer = _footer(path)
    try:
        return footer.row_group_rows() if footer is not None else None
    except (ValueError, IndexError):
        return None
