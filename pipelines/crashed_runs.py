"""A run whose job crashed before its writer ran, recorded in ``runs`` (status ``crashed``).

Why: such a run writes nothing, so without this record the store cannot tell "today's
validation crashed" from "today's validation has not run yet", and the gate judged the
evidence before it as if nothing had happened. ``datasre run`` records its own crashed
partitions (and ``--parallel`` those whose step process died); the run-failure sensor
(:func:`build_crash_sensor`) records those of the daemon's schedules and sensors and of
runs launched from the UI. All go through :func:`record_crash`, which writes nothing for a
run whose writer committed before a later step failed (that record stands).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, Final

import dagster as dg

from assets.contract_cache import contracts_at
from assets.partitions import Partition
from assets.store import RunRecord, StoreError
from assets.store.backends import open_store
from assets.writer import KIND_TAG
from checks import errors as datasre_errors
from checks.gate_checks import CRASHED_RUN_STATUS
from pipelines.settings import Settings

__all__ = ["RECORDED_BY_WRITER", "build_crash_sensor", "crash_line", "record_crash"]

#: What :func:`record_crash` says of a run whose writer had recorded it.
RECORDED_BY_WRITER: Final = "recorded by its writer before the job failed"

#: Longest error line kept in ``runs.error`` (characters): one line, not a traceback.
MAX_ERROR_CHARS: Final = 500


def crash_line(step_failures: Iterable[Any]) -> str:
    """The first failed step and the first line of the error that caused it, from Dagster
    step-failure events: Dagster wraps a step's exception ('Error occurred while executing
    op ...'), so the line a data SRE needs is the innermost cause's."""
    for event in step_failures:
        error = event.step_failure_data.error
        if error is not None:
            while error.cause is not None:
                error = error.cause
            lines = str(error.message).strip().splitlines() or [str(error.cls_name)]
            # datasre's own errors are one line naming the file and key: without the
            # class path Dagster prefixes (``checks.errors.InputError: ``).
            first = lines[0].removeprefix(f"{datasre_errors.__name__}.{error.cls_name}: ")
            return f"step {event.step_key}: {first}"
    return "job failed"


def record_crash(
    settings: Settings,
    model: str,
    day: dt.date,
    *,
    run_id: str,
    started_at: dt.datetime,
    finished_at: dt.datetime,
    kind: str,
    error: str,
    unless_recorded_since: dt.datetime | None = None,
) -> str | None:
    """Record the crashed run in the settings' store (the contract's version, today's).

    Returns None when it wrote the run; :data:`RECORDED_BY_WRITER` when the run's writer
    had already recorded it (it failed after committing: e.g. on a blocking breach, as
    the writer ends such a run); else one line saying why it could not (the store
    unusable, the model no longer in the contracts)."""
    versions = {c.model: c.version for c in contracts_at(settings.config_path)}
    if model not in versions:
        return f"not recorded: model {model!r} is not in {settings.config_path}"
    line = " ".join(error.split())
    run = RunRecord(
        run_id=run_id,
        model=model,
        model_version=versions[model],
        partition=day.isoformat(),
        started_at=started_at,
        finished_at=finished_at,
        status=CRASHED_RUN_STATUS,
        error=line[:MAX_ERROR_CHARS],
        kind=kind,
    )
    try:
        written = open_store(settings.database, settings.store).record_crashed_run(
            run, unless_recorded_since=unless_recorded_since
        )
    except (StoreError, OSError) as exc:
        return f"not recorded: {exc}"
    return None if written else RECORDED_BY_WRITER


def build_crash_sensor(
    job: dg.UnresolvedAssetJobDefinition, settings: Settings
) -> dg.SensorDefinition:
    """The run-failure sensor recording the job's crashed runs (on by default: it only
    writes the ``runs`` row a crash would otherwise leave out)."""

    @dg.run_failure_sensor(
        name="crashed_run_sensor",
        monitored_jobs=[job],
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Records a validation run that failed before writing its SLI rows "
        "as runs.status = 'crashed', so the gate blocks instead of judging older evidence.",
    )
    def crashed_run_sensor(context: dg.RunFailureSensorContext) -> None:
        run = context.dagster_run
        key = run.tags.get("dagster/partition")
        if key is None:
            return  # not a partition run: nothing to record it against
        model, day = Partition.of(key)
        # The run's own times, not the tick's: a tick that comes late (a daemon restart,
        # a backlog) must not make an old crash newer than the re-run that fixed it.
        record = context.instance.get_run_record_by_id(run.run_id)
        end = record.end_time if record is not None else None
        finished = (
            dt.datetime.fromtimestamp(end, dt.UTC) if end is not None else dt.datetime.now(dt.UTC)
        )
        started = (
            dt.datetime.fromtimestamp(record.start_time, dt.UTC)
            if record is not None and record.start_time is not None
            else finished
        )
        failures = (
            entry.dagster_event
            for entry in context.instance.all_logs(
                run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE
            )
            if entry.dagster_event is not None
        )
        unrecorded = record_crash(
            settings,
            model,
            day,
            run_id=run.run_id,
            started_at=started,
            finished_at=finished,
            kind=run.tags.get(KIND_TAG, "scheduled"),
            error=crash_line(failures),
        )
        if unrecorded not in (None, RECORDED_BY_WRITER):
            context.log.warning(f"crashed run {run.run_id} of {key}: {unrecorded}")

    return crashed_run_sensor
