"""Where things are by default, overridable by environment and CLI flags.

- ``DATASRE_CONFIG``: a contract file or a directory of them (default the samples').
- ``DATASRE_DB``: the DuckDB SLI store (default ``data/datasre.duckdb``), or the lake's root
  directory when ``DATASRE_STORE=lake`` (default ``data/datasre.lake``).
- ``DATASRE_STORE``: ``duckdb`` (one file, one writer at a time; the default) or ``lake``
  (committed parquet under a directory every machine shares; :mod:`assets.store.lake`).
- ``DATASRE_STATE_DIR``: baseline profiles and manifests of validated snapshots (default
  beside the store: ``<db directory>/<db stem>.state``, see :mod:`assets.state`), so a
  different ``--db`` is a completely separate installation.
- ``DATASRE_STAGING``: staged SLI frames between assets (default ``.dagster/staging``;
  keyed by Dagster run id, so two stores never read each other's frames).
- ``DATASRE_EXECUTOR``: ``default``, ``in_process``, ``multiprocess``, ``celery`` or ``k8s``:
  how the daemon and UI execute a run's steps (``datasre run`` runs each partition's steps
  in-process; ``--parallel N`` spreads partitions over Dagster's multiprocess executor).
- ``DATASRE_NOW``: pin the evaluation clock (ISO 8601), for reproducible runs.
- ``DATASRE_POOL_WAIT_SECONDS``: how long ``datasre run`` waits for the ``duckdb`` pool slot
  held by another live run before it gives up with exit 2 (default 900).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from assets.state import default_state_dir, profiles_dir, published_dir
from assets.store.backends import STORE_BACKENDS, open_store
from pipelines.usage import UsageError

if TYPE_CHECKING:
    from assets.store.store import SliStore

__all__ = ["DEFAULT_CONFIG", "DEFAULT_DB", "DEFAULT_STAGING", "Settings"]

DEFAULT_CONFIG: Final = "data/samples/contracts"
DEFAULT_DB: Final = "data/datasre.duckdb"
DEFAULT_LAKE: Final = "data/datasre.lake"
DEFAULT_STAGING: Final = ".dagster/staging"
DEFAULT_POOL_WAIT_SECONDS: Final = 900.0


@dataclass(frozen=True)
class Settings:
    """Paths and clock of one installation; ``state_dir`` empty means beside ``database``."""

    config_path: str
    database: str
    staging_dir: str
    state_dir: str = ""
    now: str = ""
    executor: str = "default"
    pool_wait_seconds: float = DEFAULT_POOL_WAIT_SECONDS
    store: str = "duckdb"
    #: Say on stderr which step of a partition is slow (``datasre run`` without --quiet).
    progress: bool = False
    #: Where the shipped runbooks are browsable (exported alerts link them under it).
    runbook_base_url: str = ""

    def __post_init__(self) -> None:
        if not self.state_dir:
            object.__setattr__(self, "state_dir", str(default_state_dir(self.database)))

    @property
    def profiles_dir(self) -> str:
        return str(profiles_dir(self.state_dir))

    @property
    def published_dir(self) -> str:
        return str(published_dir(self.state_dir))

    @classmethod
    def from_env(
        cls,
        *,
        config_path: str | None = None,
        database: str | None = None,
        now: str | None = None,
        state_dir: str | None = None,
    ) -> Settings:
        store = _store_backend()
        default_db = DEFAULT_LAKE if store == "lake" else DEFAULT_DB
        return cls(
            config_path=config_path or os.environ.get("DATASRE_CONFIG", DEFAULT_CONFIG),
            database=database or os.environ.get("DATASRE_DB", default_db),
            staging_dir=os.environ.get("DATASRE_STAGING", DEFAULT_STAGING),
            state_dir=state_dir or os.environ.get("DATASRE_STATE_DIR", ""),
            now=now if now is not None else os.environ.get("DATASRE_NOW", ""),
            executor=os.environ.get("DATASRE_EXECUTOR", "default"),
            pool_wait_seconds=_seconds("DATASRE_POOL_WAIT_SECONDS", DEFAULT_POOL_WAIT_SECONDS),
            store=store,
            runbook_base_url=os.environ.get("DATASRE_RUNBOOK_BASE_URL", ""),
        )

    def sli_store(self) -> SliStore:
        """The SLI store these settings name (``DATASRE_STORE`` at ``database``)."""
        return open_store(self.database, self.store)


def _store_backend() -> str:
    """``$DATASRE_STORE`` (default ``duckdb``), else a one-line usage error."""
    backend = os.environ.get("DATASRE_STORE", "").strip() or "duckdb"
    if backend not in STORE_BACKENDS:
        raise UsageError(
            f"$DATASRE_STORE: {backend!r} is not a store backend (one of "
            f"{', '.join(STORE_BACKENDS)})"
        )
    return backend


def _seconds(variable: str, default: float) -> float:
    """A non-negative number of seconds from the environment, else a one-line usage error."""
    text = os.environ.get(variable, "")
    if not text:
        return default
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:
        raise UsageError(f"${variable}: {text!r} is not a number of seconds >= 0")
    return seconds
