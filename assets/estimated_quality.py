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

A large day costs what a bounded one does: the day's scores are read whole up to
:data:`DAY_MAX_ROWS` rows and as a seeded random sample of that many above it, and each
reference day's predictions up to :data:`REFERENCE_DAY_MAX_ROWS` (then only the labels of
the sampled ids are kept while the label file streams). The estimates are means over the
rows read: a 500k-row sample moves an estimated share by at most ~0.002 (3 standard errors),
well inside the band, and the band, computed from the rows read, is then wider than the
whole day's would be. The rows' detail says when a sample was read. Each reference day's
(score, target) frame is kept in the state directory until one of its files changes
(:mod:`assets.frame_cache`): the next day's run reads one new reference day, not seven.
"""

import datetime as dt
import math
from pathlib import Path
from typing import Final

import polars as pl

from assets.files import file_stamps
from assets.frame_cache import cached_frame
from assets.io import resolve_files, scan_snapshot
from assets.partitions import Partition
from assets.resources import DatasreConfig
from assets.sample_read import read_sampled
from assets.sli_asset import SliAssetSpec, breached
from assets.state import inside
from checks.contract import Contract, ModelType
from checks.errors import InputError
from checks.estimated_quality import estimated_quality_rows
from checks.ids import id_cast
from checks.sli import empty_sli_frame

__all__ = [
    "DAY_MAX_ROWS",
    "ESTIMATED_QUALITY_ASSET",
    "REFERENCE_CACHE",
    "REFERENCE_DAYS",
    "REFERENCE_DAY_MAX_ROWS",
    "calibration_reference",
    "estimated_quality_slis",
    "reference_days",
]

#: Labelled days the calibration uses.
REFERENCE_DAYS: Final = 7
#: Folder (per model version, in the state directory) of the kept reference days.
REFERENCE_CACHE: Final = "estimated_reference"
#: Rows of the day's predictions read whole; a larger day is sampled down to this many.
DAY_MAX_ROWS: Final = 500_000
#: Rows of each reference day's predictions read whole; larger ones are sampled.
REFERENCE_DAY_MAX_ROWS: Final = 100_000

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
    """The day's predictions (a random sample of at most :data:`REFERENCE_DAY_MAX_ROWS`)
    joined with their labels (score and target), or None when either file is missing or
    unreadable (that day is not part of the reference)."""
    sources, columns = contract.sources, contract.predictions
    assert sources.predictions is not None and sources.labels is not None
    assert columns.score is not None and columns.target is not None
    id_column = sources.id_column
    try:
        predictions = read_sampled(
            contract.resolve(sources.predictions, day),
            [id_column, columns.score],
            REFERENCE_DAY_MAX_ROWS,
        ).frame
        label_scan = scan_snapshot(contract.resolve(sources.labels, day))
        label_schema = label_scan.collect_schema()
    except (InputError, pl.exceptions.PolarsError, OSError):
        return None
    if {id_column, columns.score} - set(predictions.columns) or {
        id_column,
        columns.target,
    } - set(label_schema.names()):
        return None
    label_scan = label_scan.select(id_column, columns.target)
    cast = id_cast(predictions.schema[id_column], label_schema[id_column], id_column)
    if cast is not None:
        predictions, label_scan = predictions.with_columns(cast), label_scan.with_columns(cast)
    try:
        # Only the sampled ids' labels are kept while the file streams; the filter keeps
        # the file's order, so "the last label of an id" is the same as in the whole file.
        labels = label_scan.filter(
            pl.col(id_column).is_in(predictions.get_column(id_column).implode())
        ).collect(engine="streaming")
    except (pl.exceptions.PolarsError, OSError):
        return None
    return predictions.join(
        labels.unique(subset=[id_column], keep="last", maintain_order=True),
        on=id_column,
        how="inner",
        maintain_order="left",
    ).select(columns.score, columns.target)


def _kept_labelled(contract: Contract, day: dt.date, cache: Path | None) -> pl.DataFrame | None:
    """:func:`_labelled`, kept in ``cache`` (the state directory) until either file of
    the day changes (:mod:`assets.frame_cache`); ``cache`` None: always read."""
    sources, columns = contract.sources, contract.predictions
    assert sources.predictions is not None and sources.labels is not None
    if cache is None:
        return _labelled(contract, day)
    try:
        predictions = file_stamps(contract.resolve(sources.predictions, day))
        labels = file_stamps(contract.resolve(sources.labels, day))
    except (InputError, OSError):
        return None  # a missing day is not part of the reference
    key = {
        "predictions": predictions,
        "labels": labels,
        "columns": [sources.id_column, columns.score, columns.target],
        "max_rows": REFERENCE_DAY_MAX_ROWS,
    }
    return cached_frame(cache, day.isoformat(), key, lambda: _labelled(contract, day))


def calibration_reference(
    contract: Contract, day: dt.date, cache: Path | None = None
) -> tuple[pl.DataFrame, str]:
    """The labelled predictions (score, target) of :func:`reference_days` that exist,
    and the period's description for the rows' detail. ``cache``: a directory where each
    reference day's frame is kept between runs (None: read every day's files)."""
    days = reference_days(contract, day)
    frames = [frame for d in days if (frame := _kept_labelled(contract, d, cache)) is not None]
    reference = pl.concat(frames, how="vertical_relaxed") if frames else pl.DataFrame()
    period = f"{days[0].isoformat()} .. {days[-1].isoformat()} ({len(frames)} labelled days)"
    return reference, period


def estimated_quality_slis(
    contract: Contract, day: dt.date, cache: Path | None = None
) -> pl.DataFrame:
    """Estimated quality rows of an unlabelled day; empty for a labelled day, a model that
    is not a classifier, or a contract without predictions, labels, score or target.
    ``cache``: where reference days are kept between runs (:func:`calibration_reference`)."""
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
        read = read_sampled(
            contract.resolve(sources.predictions, day),
            [columns.score, *([columns.predicted_label] if columns.predicted_label else [])],
            DAY_MAX_ROWS,
        )
    except InputError:
        return empty_sli_frame()  # recorded by validation_slis as ingest_ok = 0
    reference, period = calibration_reference(contract, day, cache)
    rows = estimated_quality_rows(contract, reference, read.frame, reference_days=period)
    if read.sampled:
        rows = rows.with_columns(pl.col("detail") + f"; the day's scores: {read.describe()}")
    return rows


def _compute(contract: Contract, partition: Partition, datasre: DatasreConfig) -> pl.DataFrame:
    """The asset's SLI frame: :func:`estimated_quality_slis` of the partition's day, its
    reference days kept under ``<profiles>/<model>/<version>/estimated_reference/``."""
    cache = inside(datasre.profiles_dir(), contract.model, contract.version, REFERENCE_CACHE)
    return estimated_quality_slis(contract, partition.day, cache)


def _breach_count(frame: pl.DataFrame) -> dict[str, int]:
    """The run page's metadata: how many rows breached."""
    return {"breaches": breached(frame).height}


#: The asset, declared as data (built by :func:`assets.sli_asset.build_sli_asset`).
ESTIMATED_QUALITY_ASSET: Final = SliAssetSpec(
    "estimated_quality_slis", DESCRIPTION, KINDS, _compute, _breach_count
)
