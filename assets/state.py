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

__all__ = ["PROFILES", "VALIDATED", "default_state_dir", "profiles_dir", "published_dir"]

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
