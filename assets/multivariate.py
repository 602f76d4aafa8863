"""The multivariate drift asset of one (model, day) partition: the domain classifier's AUC
and the PCA reconstruction error against the training baseline, computed by
:func:`assets.multivariate_day.multivariate_slis`.

``datasre run`` starts that computation with the run, in a worker process when it has one
(:func:`start_multivariate_early`), and the asset's step takes the rows.
"""

import datetime as dt
import pickle
from pathlib import Path
from typing import Final

import polars as pl

from assets import multivariate_day, started_early
from assets.drift_runner import resolve_polars_lazy_modules
from assets.drift_workers import DriftWorker
from assets.multivariate_day import multivariate_slis
from assets.partitions import Partition
from assets.quality import QUALITY_STEP, splits_on_disk
from assets.resources import DatasreConfig
from assets.sli_asset import SliAssetSpec, breached
from checks.contract import Contract

__all__ = ["MULTIVARIATE_ASSET", "STEP", "start_multivariate_early"]

#: The libraries it runs on, as the Dagster UI tags it.
KINDS: Final = frozenset({"polars", "sklearn"})
#: What the asset measures, as the Dagster UI shows it.
DESCRIPTION: Final = (
    "Multivariate drift against the training baseline: a domain "
    "classifier's cross-validated AUC (threshold calibrated on baseline-vs-baseline "
    "splits) and the PCA reconstruction error (bounds from held-out baseline rows)."
)

#: The asset's (and its step's) name.
STEP: Final = "multivariate_drift_slis"


def _measured(frame: pl.DataFrame) -> dict[str, float]:
    """The run page's metadata: each measured SLI's value by name (and the breaches)."""
    values = {row["sli"]: row["value"] for row in frame.iter_rows(named=True)}
    return {
        "breaches": breached(frame).height,
        **{name: value for name, value in values.items() if value is not None},
    }


def start_multivariate_early(
    contract: Contract,
    day: dt.date,
    profiles_dir: Path,
    worker: DriftWorker | None = None,
    *,
    close_worker: bool = False,
) -> None:
    """Start :func:`~assets.multivariate_day.multivariate_slis` of the day now, for the
    asset's step to take (:mod:`assets.started_early`); the caller
    :func:`assets.started_early.discard` s :data:`STEP` when its run is over.

    With a ``worker`` (a process started with
    :data:`~assets.drift_workers.MULTIVARIATE_WARM_MODULES`, ideally before this process
    imported Dagster), the rows are computed there: its imports (scikit-learn
    and the SciPy it loads, ~2.5 s of CPU on this project's machine) and fits run on the
    other core instead of holding this process's interpreter lock while the run starts. A
    thread here waits for them. Without one, the thread computes them itself; its limit of
    one native thread is then process-wide: BLAS and OpenMP in the other steps run on one
    thread too while it runs (polars, which they mostly use, is not limited).
    ``close_worker``: end the worker once the rows are in (its last partition), so that its
    memory is not held through the rest of the run.

    On a day the quality step splits on disk (:func:`assets.quality.splits_on_disk`) the
    computation is held until that step has ended: its sampled read and fits (~0.15 GiB
    over the worker's imports, ~1 s of a core) beside the split (~0.6 GiB, both cores)
    made the run's largest memory at once and slowed the split, while the two steps
    after it (validation, weighted drift) leave most of a core idle. On the benchmark's
    5M-row day, profiles warm, 8 interleaved pairs: median 18.7 -> 18.2 s; memory at
    once 0.78-0.96 GiB (median 0.81) -> 0.84-0.88 GiB (median 0.86): the worst case
    lower, no longer set by when the two happen to meet. A smaller day starts it at
    once: its later steps are too short to hide the fits."""
    resolve_polars_lazy_modules()  # before a second thread touches polars' lazy imports
    inputs = (contract, day, profiles_dir)
    after = QUALITY_STEP if splits_on_disk(contract, day) else None
    if worker is None:
        started_early.start(STEP, inputs, lambda: multivariate_slis(*inputs), after=after)
    else:
        started_early.start(
            STEP, inputs, lambda: _computed_by(worker, inputs, close_worker), after=after
        )


def _computed_by(
    worker: DriftWorker, inputs: tuple[Contract, dt.date, Path], close: bool
) -> pl.DataFrame:
    """The rows ``worker`` computes for ``inputs`` (then ``close`` s it); raises what the
    call raised there, or :class:`~assets.drift_workers.WorkerCrashError` (the step then
    computes them itself)."""
    try:
        worker.send(multivariate_day.multivariate_slis, tuple(pickle.dumps(i) for i in inputs))
        rows = worker.receive()
    finally:
        if close:
            worker.close()
    if not isinstance(rows, pl.DataFrame):
        raise TypeError(f"multivariate worker returned {type(rows).__name__}")
    return rows


def _compute(contract: Contract, partition: Partition, datasre: DatasreConfig) -> pl.DataFrame:
    """The asset's SLI frame: :func:`multivariate_slis` of the partition's day (the one
    started early for it, if any)."""
    profiles_dir = datasre.profiles_dir()
    early = started_early.take(STEP, (contract, partition.day, profiles_dir))
    if isinstance(early, pl.DataFrame):
        return early
    return multivariate_slis(contract, partition.day, profiles_dir)


#: The asset, declared as data (built by :func:`assets.sli_asset.build_sli_asset`).
#: Its step comes after the other compute steps but drift (Dagster runs the higher
#: priority first): started early in-process (``datasre run``,
#: :func:`start_multivariate_early`), it has their time to finish in.
MULTIVARIATE_ASSET: Final = SliAssetSpec(STEP, DESCRIPTION, KINDS, _compute, _measured, priority=-1)
