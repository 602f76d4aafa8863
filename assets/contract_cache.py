"""Contracts loaded once per process and configuration, reloaded when a file changes.

``datasre run`` used to parse every contract three times (the CLI, the Definitions, the
resource of each asset step). Every one of them now asks :func:`contracts_at`, which
parses a configuration again only when the set of contract files, or the size or
modification time (ns) of one of them, changed.
"""

from __future__ import annotations

import functools
from pathlib import Path

from checks.contract import Contract, load_contracts

__all__ = ["contracts_at"]

#: (file name, size in bytes, modification time in ns) of every contract file.
_Fingerprint = tuple[tuple[str, int, int], ...]


def _fingerprint(config_path: str) -> _Fingerprint:
    root = Path(config_path)
    files = sorted([*root.glob("*.yaml"), *root.glob("*.yml")]) if root.is_dir() else [root]
    stats = [(str(f), f.stat()) for f in files if f.exists()]
    return tuple((name, stat.st_size, stat.st_mtime_ns) for name, stat in stats)


@functools.lru_cache(maxsize=16)
def _load(config_path: str, fingerprint: _Fingerprint) -> tuple[Contract, ...]:
    del fingerprint  # part of the cache key only: a changed file is reloaded
    return tuple(load_contracts(config_path))


def contracts_at(config_path: str | Path) -> tuple[Contract, ...]:
    """The contracts of a file or directory (:func:`checks.contract.load_contracts`),
    parsed once while no file of it changes. Raises what the loader raises."""
    path = str(config_path)
    return _load(path, _fingerprint(path))
