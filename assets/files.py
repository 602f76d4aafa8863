"""Which files a path or glob names: the one resolution the assets and the drift CLI share.

Kept apart from :mod:`assets.io` (which reads parquet with pyarrow and knows contracts) so
that the drift CLI resolves files the same way without importing either (~0.6 s).
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

from checks.errors import InputError

__all__ = ["FileStamp", "file_stamps", "resolve_files"]

#: A file's path, size in bytes and modification time in ns: what tells a rewritten file
#: from the one read before.
FileStamp = tuple[str, int, int]


def resolve_files(pattern: str) -> list[str]:
    """Files matching an absolute or relative path or glob, sorted; raises
    :class:`InputError` naming the pattern if none."""
    if glob.has_magic(pattern):
        files = sorted(glob.glob(pattern))
    else:
        files = [pattern] if Path(pattern).exists() else []
    if not files:
        raise InputError(f"{pattern}: snapshot file not found")
    return files


def file_stamps(pattern: str) -> list[FileStamp]:
    """The :data:`FileStamp` of each file of ``pattern``; raises :class:`InputError` (no
    file) as :func:`resolve_files` does, and :class:`OSError` when a file vanishes while
    being looked at."""
    return [(f, (s := os.stat(f)).st_size, s.st_mtime_ns) for f in resolve_files(pattern)]
