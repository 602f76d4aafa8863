"""A snapshot read whole while it is small, as a bounded random sample when it is not.

Why: some measurements are estimates whatever the day's size (the importance weights of
``importance_weighted_drift``, the domain classifier's AUC, which trains on at most
``DOMAIN_MAX_ROWS`` rows, the estimated quality's means), yet reading a 100M-row day
whole to sample it costs tens of GiB. Above ``max_rows`` the day is read in slices of
:data:`SLICE_ROWS` rows and each slice keeps its share of ``max_rows`` rows, drawn
uniformly without replacement with a seed of its own (a stratified random sample, rows
kept in file order). So memory is bounded by one slice; the sample is spread over the
whole day (a file sorted by time is sampled at every hour, not in its first one); and a
re-run measures the same rows. Not every k-th row: a day whose rows repeat with a period
that divides k (a tiled or round-robin file) would give a handful of distinct rows.
At or below ``max_rows`` the frame is the snapshot itself, so results on small days are
exactly the whole-data ones.

The multivariate SLIs and ``importance_weighted_drift`` ask for the same sample of the
same day; the last two reads are kept (keyed by the files' paths, sizes and modification
times, so a rewritten file is read again), so a partition run in one process passes over
the day's feature columns for them once. Across processes: when the run shares a directory
(:mod:`assets.shared_samples`; ``datasre run`` sets one up for itself and its
multivariate worker process), a sample drawn from a large day is also written there as
an Arrow IPC file, and a process asking for the same read (same files, sizes,
modification times, columns and size) loads it instead of passing over the day again.
Callers must not modify the frame.
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import polars as pl

from assets.files import FileStamp, file_stamps
from assets.io import scan_columns, unreadable
from assets.shared_samples import create_shared_dir, shared_dir

__all__ = ["SAMPLE_SEED", "SLICE_ROWS", "SampledSnapshot", "read_sampled", "slice_quotas"]

#: Rows decoded at a time while sampling a large snapshot (~0.25 GiB for 20 columns).
SLICE_ROWS: Final = 250_000
#: The seed of every slice's draw (with the slice's first row number).
SAMPLE_SEED: Final = 0
#: Reads kept by a process (the last ones), and shared files kept in the directory.
_KEPT: Final = 2


@dataclass(frozen=True)
class SampledSnapshot:
    """The rows read (``frame``) and the snapshot's row count (``frame`` is the whole
    snapshot when they are equal)."""

    frame: pl.DataFrame
    total_rows: int

    @property
    def sampled(self) -> bool:
        """True when ``frame`` holds a sample, not every row."""
        return self.frame.height < self.total_rows

    def describe(self) -> str:
        """How the rows were chosen, for an SLI row's detail."""
        if not self.sampled:
            return f"all {self.total_rows} rows"
        return (
            f"a random sample of {self.frame.height} of {self.total_rows} rows "
            f"(seeded, spread evenly over the file)"
        )


def slice_quotas(total: int, max_rows: int, slice_rows: int) -> list[tuple[int, int, int]]:
    """``(first row, rows, rows kept)`` of each slice: the kept rows are
    ``floor(end x f) - floor(start x f)`` with ``f = max_rows / total``, so every slice keeps
    its share and the quotas sum to exactly ``max_rows``."""
    starts = np.arange(0, total, slice_rows, dtype=np.int64)
    ends = np.minimum(starts + slice_rows, total)
    kept = (ends * max_rows) // total - (starts * max_rows) // total
    return [(int(s), int(e - s), int(k)) for s, e, k in zip(starts, ends, kept, strict=True)]


def _compact_strings(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with its string columns copied into buffers of their own.

    Why: polars' strings are views into the buffers they were decoded into, and a gather
    keeps those buffers alive, so every kept sample of a slice would pin the whole
    slice's decoded strings (measured: 3.3 GiB after 400 slices of a 100M-row day, against
    0.4 GiB copied). Arrow's plain string layout holds only the kept bytes.
    """
    strings = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    if not strings:
        return frame
    oldest = pl.CompatLevel.oldest()
    return frame.with_columns(
        pl.Series(name, frame.get_column(name).to_arrow(compat_level=oldest)) for name in strings
    )


def read_sampled(pattern: str, columns: list[str], max_rows: int) -> SampledSnapshot:
    """The snapshot's ``columns`` (those that exist): whole when it has at most
    ``max_rows`` rows, else a stratified random sample of ``max_rows`` rows read slice by
    slice.

    Raises :class:`~checks.errors.InputError` naming the file when it is missing or
    unreadable, as :func:`assets.io.read_snapshot` does.
    """
    try:
        stamps = file_stamps(pattern)
    except OSError as exc:
        raise unreadable(pattern, exc) from None
    return _read_sampled(pattern, tuple(columns), max_rows, tuple(stamps))


@functools.lru_cache(maxsize=_KEPT)
def _read_sampled(
    pattern: str, columns: tuple[str, ...], max_rows: int, stamps: tuple[FileStamp, ...]
) -> SampledSnapshot:
    """:func:`read_sampled`, kept for the same files (``stamps``: path, size, mtime)."""
    scan = scan_columns(pattern, list(columns))
    try:
        total = int(scan.select(pl.len()).collect().item())
        if total <= max_rows:
            return SampledSnapshot(scan.collect(), total)
        shared = _shared_file((pattern, columns, max_rows, stamps, total))
        drawn = _load_shared(shared)
        if drawn is None:
            parts = []
            for start, rows, kept in slice_quotas(total, max_rows, SLICE_ROWS):
                rng = np.random.default_rng([SAMPLE_SEED, start])
                chosen = np.sort(rng.choice(rows, size=kept, replace=False))
                part = scan.slice(start, rows).collect()
                parts.append(_compact_strings(part.gather(pl.Series(chosen, dtype=pl.UInt32))))
            drawn = pl.concat(parts)
            _store_shared(shared, drawn)
        return SampledSnapshot(drawn, total)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise unreadable(pattern, exc) from None


def _shared_file(key: tuple[object, ...]) -> Path | None:
    """Where the sample ``key`` names is shared with the run's other processes; None
    when the run shares no directory."""
    directory = shared_dir()
    if directory is None:
        return None
    digest = hashlib.sha256(repr(key).encode()).hexdigest()
    return directory / f"sample-{digest}.arrow"


def _load_shared(path: Path | None) -> pl.DataFrame | None:
    """The sample another process of the run stored at ``path``; None when there is none
    (not stored yet, or unreadable: the caller then draws it itself)."""
    if path is None or not path.is_file():
        return None
    try:
        return pl.read_ipc(path)
    except (pl.exceptions.PolarsError, OSError):
        return None


def _store_shared(path: Path | None, frame: pl.DataFrame) -> None:
    """Share ``frame`` at ``path`` (written whole, then renamed: a reader never sees half
    a file). Sharing only saves the other processes a read, so a failure to write (a full
    disk, a directory already removed) is not an error of this read, which raises
    :class:`~checks.errors.InputError` for the day's files only."""
    if path is None:
        return
    partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    try:
        create_shared_dir(path.parent)
        frame.write_ipc(partial)
        os.replace(partial, path)
        # As many as this process keeps (a run goes day by day): the rest is disk.
        stored = sorted(path.parent.glob("sample-*.arrow"), key=lambda p: p.stat().st_mtime)
        for old in stored[:-_KEPT]:
            old.unlink(missing_ok=True)
    except (OSError, pl.exceptions.PolarsError):  # not the day's fault: not its error
        partial.unlink(missing_ok=True)
