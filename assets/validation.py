"""Validation of one (model, day) partition: ingest, schema, completeness, freshness.

:func:`validation_slis` does the I/O and calls the pure checks; the Dagster asset declared by
:data:`VALIDATION_ASSET` is a thin wrapper, so tests call either directly. A snapshot
that cannot be read becomes an ``ingest_ok = 0`` row carrying the error (the run is then
recorded as failed) instead of an exception: the other partitions go on.
"""

import datetime as dt
from collections.abc import Callable
from typing import Final

import polars as pl
import pyarrow as pa

from assets.files import resolve_files
from assets.io import scan_snapshot, unreadable
from assets.partitions import Partition
from assets.prefetch import prefetched
from assets.resources import DatasreConfig
from assets.row_groups import snapshot_batches
from assets.sli_asset import SliAssetSpec, breached
from checks.contract import Contract
from checks.errors import InputError
from checks.feature_pass import feature_pass
from checks.freshness import evaluation_time
from checks.schema_validation import prediction_schema_row
from checks.sli import SliRow, sli_frame, slo_row

__all__ = [
    "SOURCE_FEATURES",
    "SOURCE_PREDICTIONS",
    "VALIDATION_ASSET",
    "ingest_row",
    "trained_until",
    "validation_slis",
]

SOURCE_FEATURES = "features"
SOURCE_PREDICTIONS = "predictions"

#: What is read of a snapshot: its row count and the SLI rows measured from its lazy scan
#: and its files.
SnapshotMeasure = Callable[[pl.LazyFrame, list[str]], tuple[int, list[SliRow]]]

#: The libraries it runs on, as the Dagster UI tags it.
KINDS: Final = frozenset({"polars", "pandera"})
#: What the asset measures, as the Dagster UI shows it.
DESCRIPTION: Final = (
    "Ingest, schema (pandera), completeness and freshness SLIs of the "
    "day's feature and prediction snapshots."
)


def ingest_row(contract: Contract, source: str, n_rows: int, error: str | None) -> SliRow:
    """``ingest_ok`` for one source (``feature`` names the source): 1 read, 0 not."""
    return slo_row(
        contract,
        "ingest_ok",
        "ingest",
        0.0 if error else 1.0,
        n_rows,
        feature=source,
        objective=_objective_or(contract, "ingest_ok", 1.0),
        status="error" if error else "ok",
        detail=error,
    )


def _objective_or(contract: Contract, sli: str, default: float) -> float:
    spec = contract.slo(sli)
    return spec.objective if spec is not None else default


def trained_until(contract: Contract) -> dt.datetime | None:
    """Newest timestamp of the training data (UTC), or None when it cannot be read."""
    column = contract.sources.training_timestamp_column or contract.sources.timestamp_column
    try:
        lazy = scan_snapshot(contract.resolve(contract.sources.training))
        if column not in lazy.collect_schema().names():
            return None
        value = lazy.select(pl.col(column).max()).collect().item()
    except (InputError, pl.exceptions.PolarsError):
        return None
    if not isinstance(value, dt.datetime):
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _ingested(
    contract: Contract, source: str, pattern: str, day: dt.date, measure: SnapshotMeasure
) -> list[SliRow]:
    """``ingest_ok`` of one source's day, then what ``measure`` finds in its lazy scan;
    an unreadable or empty snapshot is the ``ingest_ok = 0`` row alone, naming the file."""
    path = contract.resolve(pattern, day)
    try:
        scan = scan_snapshot(path)
        try:
            n_rows, rows = measure(scan, resolve_files(path))
        except (pl.exceptions.PolarsError, pa.ArrowException, OSError) as exc:
            raise unreadable(path, exc) from None
        if n_rows == 0:
            raise InputError(f"{path}: snapshot has no rows")
    except InputError as exc:
        return [ingest_row(contract, source, 0, str(exc))]
    return [ingest_row(contract, source, n_rows, None), *rows]


def _features(contract: Contract, day: dt.date, as_of: dt.datetime) -> list[SliRow]:
    """``ingest_ok`` of the features, then (when it read) their schema, completeness and
    freshness rows from one pass over them in batches of bounded size
    (:func:`checks.feature_pass.feature_pass` over :func:`assets.row_groups.snapshot_batches`,
    the next batch read while one is measured: :mod:`assets.prefetch`)."""

    def measure(scan: pl.LazyFrame, files: list[str]) -> tuple[int, list[SliRow]]:
        measured = feature_pass(
            contract,
            scan,
            as_of=as_of,
            trained_until=trained_until(contract),
            batches=lambda columns: prefetched(snapshot_batches(files, columns)),
        )
        return measured.n_rows, list(measured.rows)

    return _ingested(contract, SOURCE_FEATURES, contract.sources.features, day, measure)


def _predictions(contract: Contract, pattern: str, day: dt.date) -> list[SliRow]:
    """``ingest_ok`` and ``schema_valid`` of the prediction log (its schema and row count:
    the footers say both; the model's output columns are read to see that they hold a
    value; quality reads the rest)."""

    def measure(scan: pl.LazyFrame, _files: list[str]) -> tuple[int, list[SliRow]]:
        row = prediction_schema_row(contract, scan)
        return row.n_rows, [row]

    return _ingested(contract, SOURCE_PREDICTIONS, pattern, day, measure)


def validation_slis(contract: Contract, day: dt.date, now: dt.datetime) -> pl.DataFrame:
    """All ingest/schema/completeness/freshness SLI rows of one partition."""
    rows = _features(contract, day, evaluation_time(contract, day, now))
    if contract.sources.predictions is not None:
        rows.extend(_predictions(contract, contract.sources.predictions, day))
    return sli_frame(rows)


def _validation_metadata(frame: pl.DataFrame) -> dict[str, int | str]:
    """The run page's metadata: how many rows breached, and which SLIs."""
    failed = breached(frame)
    return {
        "breaches": failed.height,
        "breached_slis": ", ".join(sorted(set(failed["sli"]))) or "none",
    }


def _compute(contract: Contract, partition: Partition, datasre: DatasreConfig) -> pl.DataFrame:
    """The asset's SLI frame: :func:`validation_slis` of the partition's day."""
    return validation_slis(contract, partition.day, datasre.clock())


#: The asset, declared as data (built by :func:`assets.sli_asset.build_sli_asset`).
VALIDATION_ASSET: Final = SliAssetSpec(
    "validation_slis", DESCRIPTION, KINDS, _compute, _validation_metadata
)
