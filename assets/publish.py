"""``validated_snapshot``: the downstream asset the blocking checks protect.

When every blocking check of a partition passed, this asset publishes a manifest of the
day's snapshot files (path, bytes, rows, modification time) under
``<state_dir>/validated/<model>/<day>.json`` (:mod:`assets.state`). Consumers (retraining,
feature backfills, BI) read only manifested snapshots, so a day whose data broke a
blocking SLO never flows on: Dagster skips this asset when a blocking check fails.
"""

import datetime as dt
import json
import os
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq

from assets.atomic_file import write_atomically
from assets.io import resolve_files
from assets.partitions import Partition
from assets.resources import DatasreConfig
from assets.state import inside
from checks.contract import Contract
from checks.errors import InputError

__all__ = ["build_publish_asset", "manifest_path", "snapshot_manifest"]


def manifest_path(published_dir: str | Path, model: str, day: dt.date) -> Path:
    """Where the partition's manifest lives: ``<published_dir>/<model>/<day>.json``."""
    return inside(published_dir, model, f"{day.isoformat()}.json")


def snapshot_manifest(contract: Contract, day: dt.date) -> dict[str, object]:
    """What was validated: each source's files with size, rows and mtime (UTC)."""
    sources: dict[str, list[dict[str, object]]] = {}
    for name in ("features", "predictions", "labels"):
        pattern = getattr(contract.sources, name)
        if pattern is None:
            continue
        try:
            files = resolve_files(contract.resolve(pattern, day))
        except InputError:
            continue
        sources[name] = [
            {
                "path": file,
                "bytes": os.path.getsize(file),
                "rows": pq.read_metadata(file).num_rows,
                "modified_at": dt.datetime.fromtimestamp(
                    os.path.getmtime(file), dt.UTC
                ).isoformat(),
            }
            for file in files
        ]
    return {
        "model": contract.model,
        "model_version": contract.version,
        "partition": day.isoformat(),
        "sources": sources,
    }


def build_publish_asset(partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        name="validated_snapshot",
        partitions_def=partitions_def,
        deps=["sli_results"],
        group_name="publish",
        kinds={"json"},
        description="Manifest of the day's snapshot files, published only when every "
        "blocking check of the partition passed.",
    )
    def validated_snapshot(
        context: dg.AssetExecutionContext, datasre: DatasreConfig
    ) -> dg.MaterializeResult:  # type: ignore[type-arg]
        model, day = Partition.of(context.partition_key)
        manifest = snapshot_manifest(datasre.contract(model), day)
        manifest["published_at"] = dt.datetime.now(dt.UTC).isoformat()
        manifest["dagster_run_id"] = context.run.run_id
        path = manifest_path(datasre.published_dir(), model, day)
        write_atomically(path, json.dumps(manifest, indent=2))
        return dg.MaterializeResult(metadata={"manifest": str(path)})

    return validated_snapshot
