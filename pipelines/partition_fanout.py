"""The fan-out job: ``datasre run --parallel N`` hands its partitions to Dagster's
multiprocess executor instead of a process pool of its own.

Why a job of its own: Dagster runs one partition of the validation job per run, and its
multiprocess executor runs the *steps of one run* in parallel, not runs. So this job has
one step per partition (a dynamic fan-out), and each step executes the validation job of
:mod:`pipelines.definitions` for its partition in its own process, exactly as a sequential
``datasre run`` does (:func:`pipelines.partition_run.execute_partition`: the same
Definitions and assets, one Dagster run and one store transaction per partition). Which
partitions run at once (at most ``max_concurrent = N``), how a crashed step process is
reported and how SIGINT/SIGTERM reach the running steps: that is Dagster's executor.

Step processes are forked from a fork server that imported the pipeline once (Dagster's
``forkserver`` start method with preloaded modules), so a partition costs about what it
costs in-process instead of a fresh interpreter's seconds of imports. (This file has no
``from __future__ import annotations``: Dagster reads the ops' config classes from their
annotations at definition time.)
"""

import contextlib
import datetime as dt
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import dagster as dg

from pipelines.partition_run import (
    QUIET_LOGS,
    PartitionOutcome,
    execute_partition,
    instance_at,
    persistent_home,
)
from pipelines.pool_slots import PoolBusyError
from pipelines.settings import Settings

if TYPE_CHECKING:
    from checks.contract import Contract

__all__ = [
    "FANOUT_JOB_NAME",
    "NATIVE_THREAD_VARIABLES",
    "PRELOAD_MODULES",
    "FanoutRequest",
    "fanout_job",
    "fanout_run_config",
    "run_fanout",
]

FANOUT_JOB_NAME: Final = "datasre_partitions"

#: Imported once by the fork server; every partition's process is forked from it. Beyond
#: the pipeline, what a partition's steps import lazily (scikit-learn) and what a
#: sqlite instance loads (SQLAlchemy, Alembic): seconds a process otherwise pays again.
PRELOAD_MODULES: Final = (
    "pipelines.partition_fanout",
    "pipelines.definitions",
    "pipelines.pool_slots",
    "assets.writer",
    "polars",
    "duckdb",
    "scipy.stats",
    "sklearn.ensemble",
    "sklearn.model_selection",
    "sklearn.isotonic",
    "threadpoolctl",
    "sqlalchemy",
    "alembic.command",
)

#: Native thread pools (OpenMP, OpenBLAS, MKL) size themselves from these when they load.
#: N partitions at once share the cores: each process gets ``cores // N`` threads. Measured
#: on this 2-core host, 6 partitions at --parallel 2: 12-19 s per partition with the
#: default pools (every process spinning a thread per core), 3-7 s with one thread each.
NATIVE_THREAD_VARIABLES: Final = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

_STEP: Final = "run_partition"


class PartitionList(dg.Config):
    """The partitions to run, ``model|YYYY-MM-DD``, in the order to start them."""

    partitions: list[str]


class PartitionRunConfig(dg.Config):
    """What :func:`~pipelines.partition_run.execute_partition` needs, as run config: each
    step process takes its settings from here, never from its (fork server's) environment."""

    dagster_home: str
    config_path: str
    database: str
    staging_dir: str
    state_dir: str
    now: str
    executor: str
    pool_wait_seconds: float
    store: str
    kind: str
    debug: bool
    progress: bool
    total: int
    #: The fan-out's temporary directory (removed when it ends): the step's ephemeral
    #: instance keeps its artifacts there (:func:`~pipelines.partition_run.instance_at`).
    scratch_dir: str


@dg.op(out=dg.DynamicOut(str))
def partitions_to_run(config: PartitionList) -> Iterator[dg.DynamicOutput[str]]:
    """One dynamic output per partition; the mapping key is its position (``p00000``)."""
    for index, partition in enumerate(config.partitions):
        yield dg.DynamicOutput(partition, mapping_key=f"p{index:05d}")


@dg.op(name=_STEP)
def run_partition(
    context: dg.OpExecutionContext, config: PartitionRunConfig, partition: str
) -> PartitionOutcome:
    """Execute the validation job for one partition in this step's process, recorded in
    the instance of ``dagster_home`` (ephemeral when empty), as a sequential ``datasre
    run`` records it; the outcome (recorded, breached, failed or
    error) is the step's output: a partition that failed is data for the summary, not a
    failure of this step."""
    import sys

    model, _, day = partition.partition("|")
    settings = Settings(
        config_path=config.config_path,
        database=config.database,
        staging_dir=config.staging_dir,
        state_dir=config.state_dir,
        now=config.now,
        executor=config.executor,
        pool_wait_seconds=config.pool_wait_seconds,
        store=config.store,
        progress=config.progress,
    )
    try:
        outcome = execute_partition(
            settings,
            model,
            dt.date.fromisoformat(day),
            config.kind,
            config.debug,
            instance=instance_at(config.dagster_home or None, config.scratch_dir),
        )
    except PoolBusyError as busy:
        # As sequentially: the caller ends with the pool's one line and exit 2.
        message = str(busy)
        outcome = PartitionOutcome(
            model, dt.date.fromisoformat(day), "error", 0.0, message, pool_busy=message
        )
    if config.progress:
        position = int((context.get_mapping_key() or "p0")[1:]) + 1
        print(
            f"[{position}/{config.total}] {outcome.model} {outcome.day}: "
            f"{outcome.describe()} in {outcome.seconds:.1f} s",
            file=sys.stderr,
            flush=True,
        )
    return outcome


@dg.job(name=FANOUT_JOB_NAME, executor_def=dg.multiprocess_executor)
def fanout_job() -> None:
    """Every chosen partition of the validation job, at most ``max_concurrent`` at once."""
    partitions_to_run().map(run_partition)


@dataclass(frozen=True)
class FanoutRequest:
    """What ``datasre run --parallel`` asks of the fan-out: these (contract, day) pairs,
    under these settings and run kind, ``parallel`` partitions at once, with or without
    progress lines and tracebacks (``debug``)."""

    pairs: "list[tuple[Contract, dt.date]]"
    settings: Settings
    kind: str
    progress: bool
    debug: bool
    parallel: int


def fanout_run_config(request: FanoutRequest, scratch_dir: str) -> dict[str, Any]:
    """Run config of :data:`fanout_job`: ``request.parallel`` step processes at once, each
    keeping its scratch files in ``scratch_dir``."""
    pairs, settings, debug = request.pairs, request.settings, request.debug
    run_config: dict[str, Any] = {
        "execution": {
            "config": {
                "max_concurrent": request.parallel,
                "start_method": {"forkserver": {"preload_modules": list(PRELOAD_MODULES)}},
                # A crashed partition is reported, not run again behind the user's back
                # (a breach or an unreadable input is an outcome, never a step failure).
                "retries": {"disabled": {}},
            }
        },
        "ops": {
            "partitions_to_run": {
                "config": {"partitions": [f"{c.model}|{day.isoformat()}" for c, day in pairs]}
            },
            _STEP: {
                "config": {
                    "dagster_home": persistent_home() or "",
                    "config_path": settings.config_path,
                    "database": settings.database,
                    "staging_dir": settings.staging_dir,
                    "state_dir": settings.state_dir,
                    "now": settings.now,
                    "executor": settings.executor,
                    "pool_wait_seconds": settings.pool_wait_seconds,
                    "store": settings.store,
                    "kind": request.kind,
                    "debug": debug,
                    "progress": request.progress,
                    "total": len(pairs),
                    "scratch_dir": scratch_dir,
                }
            },
        },
    }
    if not debug:
        run_config.update(QUIET_LOGS)
    return run_config


def run_fanout(request: FanoutRequest) -> tuple[list[PartitionOutcome], bool]:
    """Run ``request.pairs`` through :data:`fanout_job`, ``request.parallel`` at once.

    The fan-out run itself lives in a temporary instance, deleted after (the multiprocess
    executor needs one on disk): what users look at, in the UI too, is the partitions'
    runs, recorded where a sequential ``datasre run`` records them. Its console stays
    quiet unless ``debug`` (the executor's own lines in every step process follow the
    instance's log level, not the run config).

    Returns one outcome per partition, sorted by model and day (a step whose process
    died is recorded as a ``crashed`` outcome unless its day was recorded since or the
    store failed, :func:`_crashed_step`; a partition the run ended before gives an
    ``error`` one; each with a one-line reason), and whether SIGINT or SIGTERM
    interrupted the run.
    """
    pairs, debug = request.pairs, request.debug
    started_at = dt.datetime.now(dt.UTC)
    threads = str(max(1, (os.cpu_count() or 1) // request.parallel))
    with ExitStack() as stack:
        temporary = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="datasre-run-")))
        run_config = fanout_run_config(request, str(temporary))
        # No compute-log capture: it would start two `tail` processes per step and delay
        # the progress lines, which go straight to this terminal instead.
        settings_yaml = (
            "telemetry:\n  enabled: false\ncompute_logs:\n"
            "  module: dagster._core.storage.noop_compute_log_manager\n"
            "  class: NoOpComputeLogManager\n"
        )
        if not debug:
            settings_yaml += "python_logs:\n  python_log_level: CRITICAL\n"
        (temporary / "dagster.yaml").write_text(settings_yaml, "utf-8")
        instance = stack.enter_context(dg.DagsterInstance.from_config(str(temporary)))
        stack.enter_context(_environment({v: threads for v in NATIVE_THREAD_VARIABLES}))
        result = stack.enter_context(
            dg.execute_job(
                dg.reconstructable(fanout_job),
                instance=instance,
                run_config=run_config,
                raise_on_error=False,
            )
        )
        events = result.all_events
        by_key: dict[str, PartitionOutcome] = {}
        if any(e.is_successful_output and _is_partition_step(e.step_key) for e in events):
            by_key = dict(result.output_for_node(_STEP))
        failures = {
            e.step_key: e.step_failure_data.error
            for e in events
            if e.is_step_failure and _is_partition_step(e.step_key)
        }
    interrupted = any(
        error is not None
        and error.cls_name in ("DagsterExecutionInterruptedError", "KeyboardInterrupt")
        for error in failures.values()
    )
    outcomes = list(by_key.values())
    done = {(o.model, o.day) for o in outcomes}
    reasons = {
        int(str(key).rsplit("[p", 1)[1].rstrip("]")): str(error.message).strip().splitlines()[0]
        for key, error in failures.items()
        if error is not None
    }
    for index, (contract, day) in enumerate(pairs):
        if (contract.model, day) not in done:
            if index in reasons and not interrupted:
                outcomes.append(
                    _crashed_step(request, contract.model, day, reasons[index], started_at)
                )
                continue
            reason = reasons.get(index, "not run: the fan-out run ended before it")
            outcomes.append(PartitionOutcome(contract.model, day, "error", 0.0, reason))
    return sorted(outcomes, key=lambda o: (o.model, o.day)), interrupted


def _crashed_step(
    request: FanoutRequest, model: str, day: dt.date, reason: str, started_at: dt.datetime
) -> PartitionOutcome:
    """A partition whose step process died (killed for memory, say) before it reported:
    recorded as a crashed run (its own run id is lost with the process: a new one), unless
    a run of the day was recorded since the fan-out started (it died after its writer)."""
    from checks.gate_checks import CRASHED_RUN_STATUS
    from pipelines.crashed_runs import record_crash

    message = f"step process: {reason}"
    unrecorded = record_crash(
        request.settings,
        model,
        day,
        run_id=f"fanout-{uuid.uuid4()}",
        started_at=started_at,
        finished_at=dt.datetime.now(dt.UTC),
        kind=request.kind,
        error=message,
        unless_recorded_since=started_at,
    )
    if unrecorded is None:
        return PartitionOutcome(model, day, CRASHED_RUN_STATUS, 0.0, message)
    return PartitionOutcome(model, day, "error", 0.0, f"{message} ({unrecorded})")


def _is_partition_step(step_key: str | None) -> bool:
    return step_key is not None and step_key.startswith(f"{_STEP}[")


@contextlib.contextmanager
def _environment(defaults: dict[str, str]) -> Iterator[None]:
    """Set the variables of ``defaults`` the user did not set, for the ``with`` block (the
    fork server, started inside it, keeps them), then remove them again."""
    added = {k: v for k, v in defaults.items() if k not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)
