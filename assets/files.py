"""Which files a path or glob names: the one resolution the assets and the drift CLI share.

Kept apart from :mod:`assets.io` (which reads parquet with pyarrow and knows contracts) so
that the drift CLI resolves files the same way without importing either (~0.6 s).
"""

from __future__ import annotations

import glob
from pathlib import Path

from checks.errors import InputError

__all__ = ["resolve_files"]


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
