"""``datasre run``: execute the Dagster job in-process for chosen partitions.

The same assets the schedule, sensors and UI run; this just picks partitions, shows
progress on stderr, and prints one summary line per partition from the SLI store.
Exit 0 when it ran, whatever it measured (a breach is data); ``--fail-on-breach`` makes a
breach exit 1.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import json
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from pipelines.escape import terminal
from pipelines.settings import Settings
from pipelines.tables import text_table

if TYPE_CHECKING:
    from checks.contract import Contract
    from checks.run_summary import RunSummary


__all__ = [
    "SUMMARY_COLUMNS",
    "PartitionOutcome",
    "execute_partition",
    "register",
    "run",
    "run_partitions",
    "select_partitions",
]

#: Dagster's console logger quiet: progress and error lines are ours (--debug: all logs).
QUIET_LOGS: dict[str, Any] = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from pipelines.cli import add_state_dir_option

    parser = subparsers.add_parser(
        "run",
        help="validate partitions (model x day) and write SLI rows to DuckDB",
        description="Run the datasre Dagster job in-process for the chosen partitions.",
    )
    parser.add_argument(
        "--model", action="append", default=None, help="model name (repeatable; default all)"
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--partition", metavar="DAY", help="one day, YYYY-MM-DD")
    which.add_argument(
        "--all", action="store_true", help="every day that has a feature snapshot file"
    )
    which.add_argument(
        "--latest",
        action="store_true",
        help="the newest day due by --now (its evaluation time has passed), file or not: "
        "a missing snapshot is recorded as a failed ingest (the default)",
    )
    parser.add_argument(
        "--now",
        default=None,
        help="evaluation clock, ISO 8601 (default $DATASRE_NOW or the wall clock)",
    )
    parser.add_argument(
        "--fail-on-breach", action="store_true", help="exit 1 when any SLO was breached"
    )
    parser.add_argument(
        "--parallel",
        type=int,
        default=1,
        metavar="N",
        help="partitions to run at once in worker processes (default 1: in this process)",
    )
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    add_state_dir_option(parser)
    parser.set_defaults(func=run)


@dataclass(frozen=True)
class PartitionOutcome:
    """How one partition went: ``status`` is the recorded run's (``succeeded``,
    ``breached`` when a blocking SLO breached, or ``failed`` when an input was unreadable),
    or ``error`` when the job itself crashed and nothing was recorded. ``summary`` is what
    the writer recorded (:class:`checks.run_summary.RunSummary`, the one source of the
    CLI's summary); ``store_error`` is the store's one line when the SLI store could not be
    used (the CLI exits 2)."""

    model: str
    day: dt.date
    status: str
    seconds: float
    message: str | None = None
    summary: RunSummary | None = None
    store_error: str | None = None

    def describe(self) -> str:
        if self.summary is None:
            return f"job failed ({self.message})"
        counts = f"{self.summary.breaches} breaches ({self.summary.blocking} blocking)"
        if self.status == "failed":
            return f"recorded as failed, {counts}: {self.message}"
        return f"recorded, {counts}"

    def row(self) -> dict[str, Any]:
        """The partition's row of the summary (``SUMMARY_COLUMNS`` plus ``error``)."""
        s = self.summary
        return {
            "model": self.model,
            "partition": self.day.isoformat(),
            "run_status": self.status,
            "error": s.error if s else None,
            "slis": s.slis if s else None,
            "breaches": s.breaches if s else None,
            "blocking": s.blocking if s else None,
            "worst_breach": s.worst_breach if s else None,
        }


def select_partitions(
    contracts: list[Contract],
    *,
    partition: str | None,
    all_days: bool,
    now: dt.datetime | None = None,
) -> list[tuple[Contract, dt.date]]:
    """(contract, day) pairs to run, sorted by model then day.

    ``--all``: every day with a feature snapshot file. ``--latest`` (the default): the
    newest day *due* at ``now`` (:func:`checks.expected_days.newest_expected_day`),
    whether or not its file arrived: a missing snapshot is then recorded as that day's
    failed ingest instead of the day before being judged in its place. ``now`` defaults
    to the wall clock.
    """
    from assets.io import discover_days
    from checks.expected_days import evaluated_at, newest_expected_day
    from pipelines.cli import UsageError

    chosen: list[tuple[Contract, dt.date]] = []
    for contract in sorted(contracts, key=lambda c: c.model):
        if partition is not None:
            try:
                day = dt.date.fromisoformat(partition)
            except ValueError:
                raise UsageError(f"--partition: {partition!r} is not a YYYY-MM-DD day") from None
            _check_manual_day(contract, day)
            chosen.append((contract, day))
            continue
        if not all_days:
            now = now or dt.datetime.now(dt.UTC)
            newest = newest_expected_day(contract, now)
            if newest is None:
                first = contract.sources.start_date
                print(
                    f"datasre: {contract.model}: no day is due yet at {now.isoformat()} "
                    f"(the first, {first}, is evaluated at "
                    f"{evaluated_at(contract, first).isoformat()})",
                    file=sys.stderr,
                )
                continue
            chosen.append((contract, newest))
            continue
        days = discover_days(contract)
        if not days:
            pattern = contract.resolve(contract.sources.features)
            print(f"datasre: {contract.model}: no snapshot matches {pattern}", file=sys.stderr)
            continue
        chosen.extend((contract, day) for day in days)
    return chosen


def _check_manual_day(contract: Contract, day: dt.date) -> None:
    """A hand-picked day must be in the partition range and have some data.

    The schedule records a missing day as ``ingest_ok = 0`` (that is an incident); a typo
    on the command line must not: it would become the gate's newest evidence.
    """
    from assets.io import snapshot_files
    from checks.errors import InputError
    from pipelines.cli import UsageError

    if day < contract.sources.start_date:
        raise UsageError(
            f"--partition: {day} is before {contract.model}'s sources.start_date "
            f"{contract.sources.start_date} ({contract.path})"
        )
    if day > dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1):
        raise UsageError(f"--partition: {day} is in the future")
    patterns = [contract.sources.features, contract.sources.predictions, contract.sources.labels]
    if not any(day in snapshot_files(contract, p) for p in patterns if p is not None):
        missing = contract.resolve(contract.sources.features, day)
        raise InputError(
            f"{missing}: snapshot file not found ({contract.model} has no data for {day}; "
            "nothing recorded)"
        )


def _instance() -> Any:
    """The persistent Dagster instance when DAGSTER_HOME is set (so the UI sees the runs),
    else an ephemeral one; one per process and place, reused by every partition it runs
    instead of a new set of sqlite engines (and, ephemeral, held connections) each time."""
    home = os.environ.get("DAGSTER_HOME")
    persistent = bool(home) and Path(str(home), "dagster.yaml").exists()
    return _instance_at(home if persistent else None, os.getcwd())


@functools.cache
def _instance_at(home: str | None, cwd: str) -> Any:
    """Cached by DAGSTER_HOME and working directory (dagster.yaml's storage paths are
    relative to it)."""
    import dagster as dg

    if home is not None:
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


@functools.cache
def _job(settings: Settings) -> Any:
    """The job for these settings, built once per process (workers reuse it)."""
    from pipelines.definitions import build_definitions
    from pipelines.jobs import JOB_NAME

    return build_definitions(settings).resolve_job_def(JOB_NAME)


def execute_partition(
    settings: Settings, model: str, day: dt.date, kind: str, debug: bool = False
) -> PartitionOutcome:
    """Run the job for one partition in this process; never raises for a failed run, but
    raises :class:`KeyboardInterrupt` when SIGINT/SIGTERM interrupted it (Dagster records
    the run as failed and returns) so the caller stops instead of going on to the next
    partition, and :class:`~pipelines.pool_slots.PoolBusyError` when the ``duckdb`` pool
    stayed busy (:func:`~pipelines.pool_slots.wait_for_pool_slot`)."""
    from assets.partitions import partition_key
    from assets.writer import DUCKDB_POOL, KIND_TAG
    from pipelines.pool_slots import PROCESS_TAG, process_identity, wait_for_pool_slot

    started = time.perf_counter()
    instance = _instance()
    wait_for_pool_slot(instance, DUCKDB_POOL, settings.pool_wait_seconds)
    result = _job(settings).execute_in_process(
        partition_key=partition_key(model, day),
        instance=instance,
        raise_on_error=False,
        tags={KIND_TAG: kind, PROCESS_TAG: process_identity()},
        run_config={} if debug else QUIET_LOGS,
    )
    seconds = time.perf_counter() - started
    if _interrupted(result):
        raise KeyboardInterrupt
    summary = _recorded_summary(result)
    if summary is not None and _failed_only_on_the_data(result):
        # A blocking breach or an unreadable input is data (recorded), not a crash.
        return PartitionOutcome(
            model, day, summary.run_status, seconds, summary.error, summary=summary
        )
    store_error = _store_error(result)
    message = store_error or _failure_message(result)
    return PartitionOutcome(model, day, "error", seconds, message, store_error=store_error)


def run_partitions(
    pairs: list[tuple[Contract, dt.date]],
    *,
    settings: Settings,
    kind: str,
    progress: bool,
    debug: bool = False,
    parallel: int = 1,
    after_each: Callable[[], None] | None = None,
) -> list[PartitionOutcome]:
    """Execute the job once per partition; failures don't stop the others.

    ``parallel`` > 1 runs that many partitions at once in worker processes (spawned, so
    each has its own DuckDB and Dagster state); their writers take turns on the DuckDB
    file through the store's lock retry, so no SLI row is lost or doubled. ``after_each``
    runs after every partition (the CLI's check for a signal Dagster swallowed).
    """
    outcomes: list[PartitionOutcome] = []

    def report(outcome: PartitionOutcome) -> None:
        outcomes.append(outcome)
        if progress:
            print(
                f"[{len(outcomes)}/{len(pairs)}] {outcome.model} {outcome.day}: "
                f"{outcome.describe()} in {outcome.seconds:.1f} s",
                file=sys.stderr,
            )
        if after_each is not None:
            after_each()

    if parallel <= 1 or len(pairs) == 1:
        for contract, day in pairs:
            report(execute_partition(settings, contract.model, day, kind, debug))
        return outcomes
    # Create the instance's storage here, once: workers that each found it missing would
    # race to create the same sqlite tables ("table runs already exists").
    _instance()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=parallel, mp_context=context) as pool:
        futures = [
            pool.submit(execute_partition, settings, contract.model, day, kind, debug)
            for contract, day in pairs
        ]
        try:
            for future in as_completed(futures):
                report(future.result())
        except BaseException:
            # Interrupted (or a worker raised): queued partitions never start; the ones
            # running finish or are interrupted with the process group.
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return sorted(outcomes, key=lambda o: (o.model, o.day))


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


def _failure_message(result: Any) -> str:
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            if error is not None:
                return str(error.message).strip().splitlines()[0]
    return "job failed"


#: Columns of the run summary table (``--format table``), in order.
SUMMARY_COLUMNS: Final = (
    "model",
    "partition",
    "run_status",
    "slis",
    "breaches",
    "blocking",
    "worst_breach",
)


@contextlib.contextmanager
def _interrupts_stop_the_run() -> Iterator[Callable[[], None]]:
    """SIGINT and SIGTERM end the whole run (KeyboardInterrupt: exit 130 from the CLI).

    Outside Dagster, SIGTERM raises like Ctrl-C. While a partition executes, Dagster's own
    handler takes both signals: inside a step it fails the run and returns, elsewhere it
    only sets a flag it clears when the run ends, so the signal would be lost and the next
    partition would start. A wakeup fd (written by Python for every handled signal,
    whoever's handler runs) keeps the evidence; the function yielded raises
    KeyboardInterrupt when it holds SIGINT or SIGTERM: call it after each partition.
    """
    if threading.current_thread() is not threading.main_thread():
        yield lambda: None
        return
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    previous_handler = signal.signal(signal.SIGTERM, signal.default_int_handler)
    previous_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)

    def raise_if_signalled() -> None:
        try:
            received = reader.recv(4096)
        except BlockingIOError:
            return
        if {signal.SIGINT, signal.SIGTERM} & set(received):
            raise KeyboardInterrupt

    try:
        yield raise_if_signalled
    finally:
        signal.set_wakeup_fd(previous_fd)
        signal.signal(signal.SIGTERM, previous_handler)
        reader.close()
        writer.close()


def run(args: argparse.Namespace) -> int:

    from assets.contract_cache import contracts_at
    from assets.store import StoreError
    from pipelines.cli import EXIT_NO, EXIT_OK, UsageError

    settings = Settings.from_env(
        config_path=args.config, database=args.db, now=args.now, state_dir=args.state_dir
    )
    now = dt.datetime.now(dt.UTC)
    if settings.now:
        try:
            now = dt.datetime.fromisoformat(settings.now)
        except ValueError:
            raise UsageError(f"--now: {settings.now!r} is not an ISO 8601 time") from None
        now = now if now.tzinfo is not None else now.replace(tzinfo=dt.UTC)
    contracts = list(contracts_at(settings.config_path))
    if args.model:
        known = {c.model for c in contracts}
        unknown = sorted(set(args.model) - known)
        if unknown:
            raise UsageError(
                f"--model: unknown model {unknown[0]!r} in {settings.config_path} "
                f"(known: {', '.join(sorted(known))})"
            )
        contracts = [c for c in contracts if c.model in args.model]
    pairs = select_partitions(contracts, partition=args.partition, all_days=args.all, now=now)
    if not pairs:
        found = "snapshot files found" if args.all else "day due yet"
        raise UsageError(f"nothing to run: no {found} for the selected models")
    if args.parallel < 1:
        raise UsageError(f"--parallel: must be at least 1, not {args.parallel}")
    with _interrupts_stop_the_run() as raise_if_signalled:
        outcomes = run_partitions(
            pairs,
            settings=settings,
            kind="backfill" if args.all else "manual",
            progress=not args.quiet,
            debug=args.debug,
            parallel=args.parallel,
            after_each=raise_if_signalled,
        )
    store_errors = [o.store_error for o in outcomes if o.store_error is not None]
    if store_errors:
        # The store is unusable: nothing of this run is in it, so no summary from it.
        raise StoreError(store_errors[0])
    outcomes = sorted(outcomes, key=lambda o: (o.model, o.day))
    rows = [o.row() for o in outcomes]
    slices = [
        {"model": o.model, "partition": o.day.isoformat(), **worst}
        for o in outcomes
        if o.summary is not None
        for worst in o.summary.worst_slices
    ]
    if args.format == "json":
        document = {"partitions": rows, "breached_worst_slices": slices}
        print(json.dumps(document, indent=2, default=str))
    else:
        print(
            "\n".join(text_table(SUMMARY_COLUMNS, [[r[c] for c in SUMMARY_COLUMNS] for r in rows]))
        )
        if slices:
            print("\nworst slice per SLI, where it breached:")
            for row in slices:
                print(
                    f"  {row['model']} {row['partition']} {row['sli']}: {terminal(row['slice'])} = "
                    f"{row['value']:.4g} (objective {row['comparator']} {row['objective']:g})"
                )
    for outcome in outcomes:
        if outcome.status == "error":
            print(
                f"datasre: {outcome.model} {outcome.day}: job failed: "
                f"{terminal(str(outcome.message))}",
                file=sys.stderr,
            )
    for row in rows:
        if row["run_status"] == "failed":
            print(
                f"datasre: {row['model']} {row['partition']}: input missing or unreadable: "
                f"{terminal(str(row['error']))}",
                file=sys.stderr,
            )
    failed_jobs = any(o.status == "error" for o in outcomes)
    breached = any(o.summary is not None and o.summary.breaches > 0 for o in outcomes)
    if failed_jobs:
        return EXIT_NO
    return EXIT_NO if (args.fail_on_breach and breached) else EXIT_OK
