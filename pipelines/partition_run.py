"""One partition through the validation job, in this process: what ``datasre run`` does
for each partition, whether it runs them one after another or hands them to Dagster's
multiprocess executor (:mod:`pipelines.partition_fanout`), and what became of it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.settings import Settings

if TYPE_CHECKING:
    from assets.drift_workers import DriftWorker
    from checks.run_summary import RunSummary

__all__ = [
    "QUIET_LOGS",
    "PartitionOutcome",
    "current_instance",
    "execute_partition",
    "instance_at",
    "persistent_home",
    "start_multivariate_worker",
]


#: Dagster's console logger quiet: progress and error lines are ours (--debug: all logs).
QUIET_LOGS: dict[str, Any] = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@dataclass(frozen=True)
class PartitionOutcome:
    """How one partition went: ``status`` is the recorded run's (``succeeded``,
    ``breached`` when a blocking SLO breached, ``failed`` when an input was unreadable, or
    ``crashed`` when the job crashed before its writer ran and that is recorded), or
    ``error`` when the job failed and nothing could be recorded (the store unusable).
    ``summary`` is what the writer recorded (:class:`checks.run_summary.RunSummary`, the
    one source of the CLI's summary); ``store_error`` is the store's one line when the SLI
    store could not be used (the CLI exits 2)."""

    model: str
    day: dt.date
    status: str
    seconds: float
    message: str | None = None
    summary: RunSummary | None = None
    store_error: str | None = None
    pool_busy: str | None = None

    @property
    def job_failed(self) -> bool:
        """The job itself failed (crashed, or could not record), as opposed to a run that
        recorded its verdict on the data."""
        from checks.gate_checks import CRASHED_RUN_STATUS

        return self.status in ("error", CRASHED_RUN_STATUS)

    def describe(self) -> str:
        if self.summary is None:
            return f"job failed ({self.message})"
        counts = f"{self.summary.breaches} breaches ({self.summary.blocking} blocking)"
        from checks.gate_checks import FAILED_RUN_STATUS

        if self.status == FAILED_RUN_STATUS:
            return f"recorded as failed, {counts}: {self.message}"
        return f"recorded, {counts}"

    def row(self) -> dict[str, Any]:
        """The partition's row of the summary (``SUMMARY_COLUMNS`` plus ``error``)."""
        s = self.summary
        return {
            "model": self.model,
            "partition": self.day.isoformat(),
            "run_status": self.status,
            "error": s.error if s else self.message,
            "slis": s.slis if s else None,
            "breaches": s.breaches if s else None,
            "blocking": s.blocking if s else None,
            "worst_breach": s.worst_breach if s else None,
        }


def current_instance() -> Any:
    """The persistent Dagster instance when DAGSTER_HOME is set (so the UI sees the runs),
    else an ephemeral one; one per process and place, reused by every partition it runs
    instead of a new set of sqlite engines (and, ephemeral, held connections) each time."""
    return instance_at(persistent_home())


def persistent_home() -> str | None:
    """``$DAGSTER_HOME`` when it holds a ``dagster.yaml``, else None."""
    home = os.environ.get("DAGSTER_HOME")
    return home if home and Path(home, "dagster.yaml").exists() else None


def instance_at(home: str | None, scratch: str | None = None) -> Any:
    """The instance of ``dagster.yaml`` in ``home``, or an ephemeral one for None; one per
    process, home and working directory. An ephemeral instance keeps its artifacts (the
    staged frames' directory) in a new directory inside ``scratch`` when given: a process
    that ends without running finalizers (a fan-out step's) would leave one of its own,
    made in ``TMPDIR``, behind; whoever made ``scratch`` removes it."""
    return _instance_at(home, os.getcwd(), scratch)


@functools.cache
def _instance_at(home: str | None, cwd: str, scratch: str | None) -> Any:
    """Cached by home and working directory (dagster.yaml's storage paths are relative to
    it)."""
    import dagster as dg

    if home is not None:
        return dg.DagsterInstance.from_config(home)
    if scratch is not None:
        return dg.DagsterInstance.ephemeral(tempdir=tempfile.mkdtemp(dir=scratch))
    return dg.DagsterInstance.ephemeral()


@functools.cache
def _job(settings: Settings) -> Any:
    """The job for these settings, built once per process (workers reuse it)."""
    from pipelines.definitions import build_definitions
    from pipelines.jobs import JOB_NAME

    return build_definitions(settings).resolve_job_def(JOB_NAME)


def execute_partition(
    settings: Settings,
    model: str,
    day: dt.date,
    kind: str,
    debug: bool = False,
    *,
    instance: Any | None = None,
    worker: DriftWorker | None = None,
    close_worker: bool = False,
) -> PartitionOutcome:
    """Run the job for one partition in this process, recorded in ``instance`` (default
    :func:`current_instance`); never raises for a failed run, but
    raises :class:`KeyboardInterrupt` when SIGINT/SIGTERM interrupted it (Dagster records
    the run as failed and returns) so the caller stops instead of going on to the next
    partition, and :class:`~pipelines.pool_slots.PoolBusyError` when the ``duckdb`` pool
    stayed busy (:func:`~pipelines.pool_slots.wait_for_pool_slot`). ``worker``
    (:func:`start_multivariate_worker`) computes the multivariate SLIs beside the run;
    ``close_worker``: this is the last partition it serves."""
    from assets.partitions import partition_key
    from assets.writer import DUCKDB_POOL, KIND_TAG
    from checks.gate_checks import CRASHED_RUN_STATUS
    from pipelines.crashed_runs import crash_line, record_crash
    from pipelines.pool_slots import PROCESS_TAG, process_identity, wait_for_pool_slot

    started = time.perf_counter()
    started_at = dt.datetime.now(dt.UTC)
    instance = instance if instance is not None else current_instance()
    wait_for_pool_slot(instance, DUCKDB_POOL, settings.pool_wait_seconds)
    run_id = str(uuid.uuid4())  # as Dagster makes them; known before the run ends
    with (
        _unstaged_after(settings, run_id, instance.is_ephemeral),
        _multivariate_started_early(settings, model, day, worker, close_worker),
    ):
        result = _job(settings).execute_in_process(
            partition_key=partition_key(model, day),
            instance=instance,
            raise_on_error=False,
            run_id=run_id,
            tags={KIND_TAG: kind, PROCESS_TAG: process_identity()},
            run_config={} if debug else QUIET_LOGS,
        )
        if _interrupted(result):
            raise KeyboardInterrupt  # inside: the early thread is not waited for
    seconds = time.perf_counter() - started
    summary = _recorded_summary(result)
    if summary is not None and _failed_only_on_the_data(result):
        # A blocking breach or an unreadable input is data (recorded), not a crash.
        return PartitionOutcome(
            model, day, summary.run_status, seconds, summary.error, summary=summary
        )
    store_error = _store_error(result)
    if store_error is not None:
        return PartitionOutcome(model, day, "error", seconds, store_error, store_error=store_error)
    message = crash_line(e for e in result.all_events if e.is_step_failure)
    if summary is None:
        # Nothing recorded: say so in ``runs``, or the gate reads the day before as current.
        unrecorded = record_crash(
            settings,
            model,
            day,
            run_id=result.run_id,
            started_at=started_at,
            finished_at=dt.datetime.now(dt.UTC),
            kind=kind,
            error=message,
        )
        if unrecorded is None:
            return PartitionOutcome(model, day, CRASHED_RUN_STATUS, seconds, message)
        message = f"{message} ({unrecorded})"
    return PartitionOutcome(model, day, "error", seconds, message)


@contextlib.contextmanager
def _unstaged_after(settings: Settings, run_id: str, ephemeral: bool) -> Iterator[None]:
    """Remove the run's staged SLI frames when it ends, however it ends, if its instance
    is ephemeral: nothing can re-execute a run whose record is gone with the process, and
    every ``datasre run`` left a folder of them (``.dagster/staging/<run id>/``, ~75 KB
    for the fraud sample) for ever. A persistent instance's runs keep theirs (a UI
    re-execution reads them)."""
    from assets.resources import staged_run_dir

    try:
        yield
    finally:
        if ephemeral:
            shutil.rmtree(staged_run_dir(settings.staging_dir, run_id), ignore_errors=True)


def start_multivariate_worker() -> DriftWorker:
    """A worker process for :func:`execute_partition`'s multivariate SLIs, started now:
    call it before importing Dagster, so that the worker's imports (scikit-learn, SciPy)
    overlap this process's. The caller closes it (``close_worker``, or
    :meth:`~assets.drift_workers.DriftWorker.close`: one never used is killed)."""
    from assets.drift_workers import MULTIVARIATE_WARM_MODULES, DriftWorker

    return DriftWorker(MULTIVARIATE_WARM_MODULES)


@contextlib.contextmanager
def _multivariate_started_early(
    settings: Settings, model: str, day: dt.date, worker: DriftWorker | None, close_worker: bool
) -> Iterator[None]:
    """The partition's multivariate SLIs computed beside the run's other steps, in
    ``worker`` or on a thread (:mod:`assets.started_early`: ``execute_in_process`` runs the
    steps one at a time, on ~1.2 of 2 cores); their step takes them. Nothing is started
    for a model the configuration lacks: the run says so itself."""
    from assets import started_early
    from assets.contract_cache import contracts_at
    from assets.multivariate import STEP, start_multivariate_early
    from assets.state import profiles_dir

    contract = next((c for c in contracts_at(settings.config_path) if c.model == model), None)
    if contract is None:
        yield
        return
    start_multivariate_early(
        contract, day, profiles_dir(settings.state_dir), worker, close_worker=close_worker
    )
    try:
        yield
    except BaseException:
        started_early.discard(STEP, wait=False)
        raise
    started_early.discard(STEP)


def _interrupted(result: Any) -> bool:
    """Dagster caught a SIGINT/SIGTERM (mapped to SIGINT) inside a step and ended the run."""
    return any(
        e.is_step_failure
        and e.step_failure_data.error is not None
        and e.step_failure_data.error.cls_name
        in ("DagsterExecutionInterruptedError", "KeyboardInterrupt")
        for e in result.all_events
    )


def _recorded_summary(result: Any) -> RunSummary | None:
    """The run summary the writer attached to ``sli_results``, or None when it recorded
    nothing."""
    from assets.writer import RUN_SUMMARY_KEY
    from checks.run_summary import RunSummary

    recorded = result.asset_materializations_for_node("sli_results")
    if not recorded or RUN_SUMMARY_KEY not in recorded[-1].metadata:
        return None
    return RunSummary.from_dict(recorded[-1].metadata[RUN_SUMMARY_KEY].value)


def _failed_only_on_the_data(result: Any) -> bool:
    """Every failed step, if any, is the writer ending on a recorded run's verdict (its
    failure carries the run summary): a breach or an unreadable input, not a crash."""
    from assets.writer import RUN_SUMMARY_KEY

    for event in result.all_events:
        if event.is_step_failure:
            data = event.step_failure_data.user_failure_data
            if data is None or RUN_SUMMARY_KEY not in data.metadata:
                return False
    return True


def _store_error(result: Any) -> str | None:
    """The writer's one line when the SLI store could not be used, else None."""
    from assets.writer import STORE_ERROR_KEY

    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data.user_failure_data is not None:
            value = event.step_failure_data.user_failure_data.metadata.get(STORE_ERROR_KEY)
            if value is not None:
                return str(value.value)
    return None
