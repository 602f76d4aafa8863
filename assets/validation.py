"""Validation of one (model, day) partition: ingest, schema, completeness, freshness.

:func:`validation_slis` does the I/O and calls the pure checks; the Dagster asset declared by
:data:`VALIDATION_ASSET` is a thin wrapper, so tests call either directly. A snapshot
that cannot be read becomes an ``ingest_ok = 0`` row carrying the error (the run is then
recorded as failed) instead of an exception: the other partitions go on.
"""

import datetime as dt
from typing import Final

import polars as pl

from assets.io import read_snapshot, scan_snapshot
from assets.partitions import Partition
from assets.resources import DatasreConfig
from assets.sli_asset import SliAssetSpec, breached
from checks.completeness import completeness_sli_rows
from checks.contract import Contract
from checks.errors import InputError
from checks.freshness import evaluation_time, freshness_sli_rows
from checks.schemas import prediction_schema_row, schema_sli_rows, validate_snapshot
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


def read_source(contract: Contract, pattern: str, day: dt.date) -> pl.DataFrame:
    """The day's snapshot of one source; an empty one is an input error."""
    path = contract.resolve(pattern, day)
    frame = read_snapshot(path)
    if frame.height == 0:
        raise InputError(f"{path}: snapshot has no rows")
    return frame


def _ingest(
    contract: Contract, source: str, pattern: str, day: dt.date, rows: list[SliRow]
) -> pl.DataFrame | None:
    """The day's snapshot of one source, or None when it cannot be read; either way its
    ``ingest_ok`` row is appended to ``rows``."""
    try:
        frame = read_source(contract, pattern, day)
    except InputError as exc:
        rows.append(ingest_row(contract, source, 0, str(exc)))
        return None
    rows.append(ingest_row(contract, source, frame.height, None))
    return frame


def validation_slis(contract: Contract, day: dt.date, now: dt.datetime) -> pl.DataFrame:
    """All ingest/schema/completeness/freshness SLI rows of one partition."""
    as_of = evaluation_time(contract, day, now)
    rows: list[SliRow] = []
    features = _ingest(contract, SOURCE_FEATURES, contract.sources.features, day, rows)
    if features is not None:
        rows.extend(schema_sli_rows(contract, validate_snapshot(contract, features)))
        rows.extend(completeness_sli_rows(contract, features))
        rows.extend(
            freshness_sli_rows(
                contract, features, as_of=as_of, trained_until=trained_until(contract)
            )
        )
    if contract.sources.predictions is not None:
        predictions = _ingest(contract, SOURCE_PREDICTIONS, contract.sources.predictions, day, rows)
        if predictions is not None:
            rows.append(prediction_schema_row(contract, predictions))
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
