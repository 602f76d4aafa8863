"""Small frames derived from snapshot files, kept in the state directory until the files
change.

Why: the estimated quality of every unlabelled day is calibrated on the seven labelled
days before it, and the next day's reference shares six of them. Each reference day is a
pass over a predictions file and a labels file (seconds at 5M rows, a minute at 100M);
its sampled (score, target) frame is at most a few MB. Keeping it, keyed by a hash of
what it was built from (the files' paths, sizes and modification times, and the build's
settings), means a daily run reads one new reference day, and a rewritten or restated
file is read again because its key changes.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from assets.atomic_file import write_atomically

__all__ = ["cached_frame"]


def cached_frame(
    directory: Path, name: str, key: dict[str, Any], build: Callable[[], pl.DataFrame | None]
) -> pl.DataFrame | None:
    """The frame ``build`` makes, read from ``directory/<name>.<hash of key>.parquet`` when
    a run already built it from the same inputs. A ``None`` from ``build`` (an input
    missing or unreadable) is not kept; older entries of ``name`` are removed when a new
    one is written; an unreadable entry is rebuilt."""
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()
    path = directory / f"{name}.{digest[:20]}.parquet"
    if path.is_file():
        try:
            return pl.read_parquet(path)
        except (pl.exceptions.PolarsError, OSError):
            pass  # damaged: build it again
    frame = build()
    if frame is None:
        return None
    encoded = io.BytesIO()
    frame.write_parquet(encoded)
    write_atomically(path, encoded.getvalue())
    for stale in directory.glob(f"{name}.*.parquet"):
        if stale != path:
            stale.unlink(missing_ok=True)
    return frame
