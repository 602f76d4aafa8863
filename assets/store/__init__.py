"""The DuckDB SLI store (no Dagster import: the CLI gate reuses it).

The names load on first use (PEP 562), so a command that never opens a store (``datasre
drift``, ``--help``) does not pay for importing DuckDB (~0.1 s of CPU per process).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assets.store.errors import StoreError, StoreLockedError
    from assets.store.store import RunRecord, SliStore

__all__ = ["RunRecord", "SliStore", "StoreError", "StoreLockedError"]

_HOMES = {
    "RunRecord": "assets.store.store",
    "SliStore": "assets.store.store",
    "StoreError": "assets.store.errors",
    "StoreLockedError": "assets.store.errors",
}


def __getattr__(name: str) -> object:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
