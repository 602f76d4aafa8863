"""Quality estimated before labels arrive (CBPE) for one (model, day) partition of a
binary classifier.

Only a day whose label file is not there yet gets estimated rows; a day with labels gets
the realized metrics from ``quality_slis`` instead, so when late labels land and the
sensor re-runs the day (a restatement), the realized rows replace the estimates.

The calibration reference is what the contract guarantees to be labelled when the day is
evaluated: the predictions and labels of the :data:`REFERENCE_DAYS` days ending
``ceil(sources.max_label_delay_days)`` days before it (for fraud_detection's 3-day delay,
day D is calibrated on D-9 .. D-3). The reference therefore follows the model's recent
behaviour, and a replay of an old day uses the same days it would have used then.
"""

import datetime as dt
import math
from typing import Final

import polars as pl

from assets.io import read_snapshot, resolve_files
from assets.partitions import Partition
from assets.resources import DatasreConfig
from assets.sli_asset import SliAssetSpec, breached
from checks.contract import Contract, ModelType
from checks.errors import InputError
from checks.estimated_quality import estimated_quality_rows
from checks.ids import comparable_ids
from checks.sli import empty_sli_frame

__all__ = [
    "ESTIMATED_QUALITY_ASSET",
    "REFERENCE_DAYS",
    "calibration_reference",
    "estimated_quality_slis",
    "reference_days",
]

#: Labelled days the calibration uses.
REFERENCE_DAYS: Final = 7

#: The libraries it runs on, as the Dagster UI tags it.
KINDS: Final = frozenset({"polars", "sklearn"})
#: What the asset measures, as the Dagster UI shows it.
DESCRIPTION: Final = (
    "Accuracy, precision, recall, F1 and ROC AUC estimated from calibrated "
    "scores (CBPE) for a day whose labels are not in yet (status 'estimated'); the "
    "realized metrics replace them when the labels arrive."
)


def _exists(contract: Contract, pattern: str, day: dt.date) -> bool:
    try:
        resolve_files(contract.resolve(pattern, day))
    except InputError:
        return False
    return True


def reference_days(contract: Contract, day: dt.date) -> list[dt.date]:
    """The calibration days of ``day``: :data:`REFERENCE_DAYS` days ending
    ``ceil(max_label_delay_days)`` days before it (at least one day before)."""
    delay = max(1, math.ceil(contract.sources.max_label_delay_days))
    last = day - dt.timedelta(days=delay)
    return [last - dt.timedelta(days=back) for back in range(REFERENCE_DAYS - 1, -1, -1)]


def _labelled(contract: Contract, day: dt.date) -> pl.DataFrame | None:
    """The day's predictions joined with its labels (score and target), or None when
    either file is missing or unreadable (that day is not part of the reference)."""
    sources, columns = contract.sources, contract.predictions
    assert sources.predictions is not None and sources.labels is not None
    assert columns.score is not None and columns.target is not None
    id_column = sources.id_column
    try:
        predictions = read_snapshot(
            contract.resolve(sources.predictions, day), [id_column, columns.score]
        )
        labels = read_snapshot(contract.resolve(sources.labels, day), [id_column, columns.target])
    except InputError:
        return None
    if {id_column, columns.score} - set(predictions.columns) or {id_column, columns.target} - set(
        labels.columns
    ):
        return None
    predictions, labels = comparable_ids(predictions, labels, id_column)
    return predictions.join(
        labels.unique(subset=[id_column], keep="last", maintain_order=True),
        on=id_column,
        how="inner",
        maintain_order="left",
    ).select(columns.score, columns.target)


def calibration_reference(contract: Contract, day: dt.date) -> tuple[pl.DataFrame, str]:
    """The labelled predictions (score, target) of :func:`reference_days` that exist,
    and the period's description for the rows' detail."""
    days = reference_days(contract, day)
    frames = [frame for d in days if (frame := _labelled(contract, d)) is not None]
    reference = pl.concat(frames, how="vertical_relaxed") if frames else pl.DataFrame()
    period = f"{days[0].isoformat()} .. {days[-1].isoformat()} ({len(frames)} labelled days)"
    return reference, period


def estimated_quality_slis(contract: Contract, day: dt.date) -> pl.DataFrame:
    """Estimated quality rows of an unlabelled day; empty for a labelled day, a model that
    is not a classifier, or a contract without predictions, labels, score or target."""
    sources, columns = contract.sources, contract.predictions
    if (
        contract.type != ModelType.CLASSIFICATION
        or sources.predictions is None
        or sources.labels is None
        or columns.score is None
        or columns.target is None
        or _exists(contract, sources.labels, day)
    ):
        return empty_sli_frame()
    try:
        predictions = read_snapshot(contract.resolve(sources.predictions, day))
    except InputError:
        return empty_sli_frame()  # recorded by validation_slis as ingest_ok = 0
    reference, period = calibration_reference(contract, day)
    return estimated_quality_rows(contract, reference, predictions, reference_days=period)


def _compute(contract: Contract, partition: Partition, datasre: DatasreConfig) -> pl.DataFrame:
    """The asset's SLI frame: :func:`estimated_quality_slis` of the partition's day."""
    return estimated_quality_slis(contract, partition.day)


def _breach_count(frame: pl.DataFrame) -> dict[str, int]:
    """The run page's metadata: how many rows breached."""
    return {"breaches": breached(frame).height}


#: The asset, declared as data (built by :func:`assets.sli_asset.build_sli_asset`).
ESTIMATED_QUALITY_ASSET: Final = SliAssetSpec(
    "estimated_quality_slis", DESCRIPTION, KINDS, _compute, _breach_count
)
