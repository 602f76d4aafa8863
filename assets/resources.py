"""Dagster resources: the contracts and state directory, the SLI store, and the staging
IO manager.

The polars IO managers of dagster-polars / dagster-duckdb-polars fail on load with
polars 2 / duckdb 2 (docs/design.md, stack), so compute assets hand their SLI frames to the writer
through :class:`SliStagingIOManager`, which writes one parquet file per asset and
partition (atomically: temp file, then rename).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import dagster as dg
import polars as pl

from assets.contract_cache import contracts_at
from assets.state import profiles_dir, published_dir
from assets.store import SliStore
from assets.store.backends import open_store
from checks.contract import Contract

__all__ = ["DatasreConfig", "SliStagingIOManager", "SliStoreResource", "staged_run_dir"]


class DatasreConfig(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Where the contracts and the state directory are, and the clock.

    ``state_dir`` holds the baseline profiles and the validated-snapshot manifests
    (:mod:`assets.state`; the settings put it beside the SLI store by default). ``now``
    (ISO 8601 with offset) pins the evaluation clock for reproducible runs and tests;
    empty means the wall clock.
    """

    config_path: str
    state_dir: str
    now: str = ""
    #: A compute step still running after this many seconds says so on stderr, and says
    #: when it ends (``datasre run`` without ``--quiet``); 0: never.
    slow_step_seconds: float = 0.0

    def profiles_dir(self) -> Path:
        """Stored baseline profiles: ``<state_dir>/profiles``."""
        return profiles_dir(self.state_dir)

    def published_dir(self) -> Path:
        """Manifests of validated snapshots: ``<state_dir>/validated``."""
        return published_dir(self.state_dir)

    def contracts(self) -> dict[str, Contract]:
        """Every contract by model, parsed once per process (:mod:`assets.contract_cache`)."""
        return {contract.model: contract for contract in contracts_at(self.config_path)}

    def contract(self, model: str) -> Contract:
        contracts = self.contracts()
        if model not in contracts:
            raise KeyError(f"{self.config_path}: no contract for model {model!r}")
        return contracts[model]

    def clock(self) -> dt.datetime:
        if not self.now:
            return dt.datetime.now(dt.UTC)
        moment = dt.datetime.fromisoformat(self.now)
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class SliStoreResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The SLI store (``database`` is the DuckDB file path, or the lake's root directory
    when ``backend`` is ``lake``; ``lock_timeout_s`` unset: ``$DATASRE_LOCK_TIMEOUT_S``
    or 120 s)."""

    database: str
    lock_timeout_s: float | None = None
    backend: str = "duckdb"

    def store(self) -> SliStore:
        return open_store(self.database, self.backend, lock_timeout_s=self.lock_timeout_s)


def staged_run_dir(base_dir: str, run_id: str) -> Path:
    """The directory of one run's staged SLI frames (:class:`SliStagingIOManager`)."""
    return Path(base_dir) / run_id


class SliStagingIOManager(dg.ConfigurableIOManager):
    """Parquet hand-off of SLI frames between compute assets and the writer asset."""

    base_dir: str

    def _path(self, run_id: str, asset_key: dg.AssetKey, partition: str) -> Path:
        # Keyed by run: two runs of one partition at once (sensor and a UI re-execution)
        # never read each other's frames. Files are small (one row per SLI); a run of
        # an ephemeral instance (`datasre run` without DAGSTER_HOME) removes its folder
        # (pipelines.partition_run), others are pruned with Dagster's own run storage.
        safe = partition.replace("|", "__").replace("/", "_")
        return staged_run_dir(self.base_dir, run_id) / "/".join(asset_key.path) / f"{safe}.parquet"

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame) -> None:
        path = self._path(context.run_id, context.asset_key, context.asset_partition_key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        obj.write_parquet(temporary)
        temporary.replace(path)

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        upstream = context.upstream_output
        if upstream is None or upstream.run_id is None:
            raise ValueError(f"no upstream run for {context.asset_key.to_user_string()}")
        path = self._path(upstream.run_id, context.asset_key, context.asset_partition_key)
        return pl.read_parquet(path)
