"""The state directory: what datasre keeps beside its SLI store besides the store itself.

A run's state is the DuckDB store plus the baseline profiles it measured drift against
and the manifests of the snapshots it validated. Keeping them together, in a directory
found from the store's path (``<db directory>/<db stem>.state/``, e.g.
``data/datasre.state/`` for ``data/datasre.duckdb``) unless one is named explicitly, means
``--db`` alone isolates a run completely: a second store never rebuilds or reads the first
one's profiles, nor overwrites its manifests.

Layout::

    <state_dir>/profiles/<model>/<version>/           stored baseline profile
    <state_dir>/profiles/<model>/<version>/predictions/  prediction baseline profile
    <state_dir>/validated/<model>/<day>.json          manifest of a validated snapshot
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from checks.errors import InputError

__all__ = [
    "PROFILES",
    "VALIDATED",
    "default_state_dir",
    "inside",
    "profiles_dir",
    "published_dir",
]

#: Subdirectories of the state directory.
PROFILES: Final = "profiles"
VALIDATED: Final = "validated"


def default_state_dir(database: str | Path) -> Path:
    """``<db directory>/<db stem>.state``: the state of the store at ``database``."""
    path = Path(database)
    return path.with_name(f"{path.stem}.state")


def profiles_dir(state_dir: str | Path) -> Path:
    """Where stored baseline profiles live: ``<state_dir>/profiles``."""
    return Path(state_dir) / PROFILES


def published_dir(state_dir: str | Path) -> Path:
    """Where manifests of validated snapshots live: ``<state_dir>/validated``."""
    return Path(state_dir) / VALIDATED


def inside(root: str | Path, *names: str) -> Path:
    """``root/names...``, refused unless it stays under ``root`` once resolved.

    The contract already refuses a model name or version that could leave the state
    directory (``checks.contract.is_safe_path_name``); this is the second line of defence
    at the place a path is built, so no contract value can make datasre write, lock or
    delete files elsewhere (``../../tmp/x``, an absolute path, a symlink out).

    Raises
    ------
    InputError
        Naming the root and the names when the path escapes.
    """
    base = Path(root).resolve()
    path = base.joinpath(*names).resolve()
    if not path.is_relative_to(base) or path == base:
        joined = "/".join(names)
        raise InputError(f"{base}: {joined!r} leaves the state directory; refused")
    return base.joinpath(*names)
