"""The one-line out-of-memory message of the drift command (what ran out, what to do).

What memory is left, and a parquet file's row count, are :mod:`assets.memory_budget`'s.
"""

from __future__ import annotations

__all__ = ["out_of_memory_message"]


def out_of_memory_message(file: str, detail: str) -> str:
    """The one line every out-of-memory exit prints: the file, what ran out, what to do."""
    return (
        f"{file}: out of memory: {detail}; use --sketch with a stored profile (reads the "
        "snapshot row group by row group), --processes 1 --workers 1, smaller files, or a machine "
        "(or limit) with more memory"
    )
