"""``datasre run``: execute the Dagster job for chosen partitions.

One after another in this process, or ``--parallel N`` at once through Dagster's
multiprocess executor (:mod:`pipelines.partition_fanout`). The same assets the schedule,
sensors and UI run; this just picks partitions, shows
progress on stderr, and prints one summary line per partition from the SLI store.
Exit 0 when it ran, whatever it measured (a breach is data); ``--fail-on-breach`` makes a
breach exit 1.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Final

from pipelines.commands.arguments import parse_day, parse_moment
from pipelines.escape import terminal
from pipelines.partition_run import (
    PartitionOutcome,
    current_instance,
    execute_partition,
    persistent_home,
    start_multivariate_worker,
)
from pipelines.settings import Settings
from pipelines.tables import text_table

if TYPE_CHECKING:
    from assets.drift_workers import DriftWorker
    from checks.contract import Contract


__all__ = [
    "SUMMARY_COLUMNS",
    "PartitionOutcome",
    "execute_partition",
    "register",
    "run",
    "run_partitions",
    "select_partitions",
]


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
        "--all", action="store_true", help="every day that has a feature snapshot file and is over"
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
    # polars is imported by run() itself, after it has started its worker.
    parser.set_defaults(func=run, import_polars_first=False)


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

    chosen: list[tuple[Contract, dt.date]] = []
    for contract in sorted(contracts, key=lambda c: c.model):
        if partition is not None:
            day = parse_day("--partition", partition)
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
        _note_gaps(contract, days)
        chosen.extend((contract, day) for day in _over(contract, days, told_now=now))
    return chosen


def _note_gaps(contract: Contract, days: list[dt.date]) -> None:
    """A note on stderr naming the days between the first and the last snapshot that have
    none: ``--all`` runs the days with files, so a missing day was skipped without a word
    and only the gate's ``days_missing`` said so (found by a new user)."""
    have = set(days)
    span = (max(days) - min(days)).days if days else 0
    gaps = [min(days) + dt.timedelta(days=i) for i in range(1, span)]
    gaps = [d for d in gaps if d not in have]
    if not gaps:
        return
    shown = ", ".join(d.isoformat() for d in gaps[:5]) + (" ..." if len(gaps) > 5 else "")
    print(
        f"datasre: {contract.model}: no snapshot for {shown} ({len(gaps)} day(s) between "
        f"its first and last): not run; to record a day as missing, "
        f"{_record_missing(contract, gaps[0])} (for {gaps[0]})",
        file=sys.stderr,
    )


def _record_missing(contract: Contract, day: dt.date) -> str:
    """How to record ``day`` as missing: the command that runs it as the day due then, a
    failed ingest the gate counts."""
    from checks.freshness import scheduled_evaluation_time

    due = scheduled_evaluation_time(contract, day).strftime("%Y-%m-%dT%H:%M:%SZ")
    command = f"datasre run --model {contract.model} --latest --now {due}"
    return f"a failed ingest the gate counts, `{command}`"


def _over(
    contract: Contract, days: list[dt.date], *, told_now: dt.datetime | None = None
) -> list[dt.date]:
    """The days that have ended by the wall clock (contract timezone), with a note on
    stderr naming the others: a run of a day not over yet sees part of it at most, and
    the gate blocks on it (``run_before_day_end``); ``--partition`` still runs one.
    ``told_now`` (``--now``) does not move the wall clock a run starts at, which is what
    the gate compares with the day's end: the note says so when it is given."""
    from checks.freshness import day_end

    wall = dt.datetime.now(dt.UTC)
    over = [day for day in days if day_end(contract, day) <= wall]
    if len(over) < len(days):
        pending = ", ".join(day.isoformat() for day in days if day not in over)
        clock = (
            f"by the wall clock, {wall.strftime('%Y-%m-%dT%H:%MZ')}: --now sets the "
            "evaluation clock, not when a run starts, which the gate checks"
            if told_now is not None
            else contract.schedule.timezone
        )
        print(
            f"datasre: {contract.model}: skipped {pending}: not over yet ({clock}); its "
            "run would see part of the day",
            file=sys.stderr,
        )
    return over


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
            f"nothing recorded: to record the day as missing, {_record_missing(contract, day)})"
        )
    _note_if_not_over(contract, day)


def _note_if_not_over(contract: Contract, day: dt.date) -> None:
    """A note on stderr when a hand-picked day has not ended yet (contract timezone): its
    run sees part of the day at most, and the gate blocks on it (``run_before_day_end``)
    until it is run again once the day is over. It still runs (a look at the day so far)."""
    from checks.freshness import day_end

    ends = day_end(contract, day)
    if dt.datetime.now(dt.UTC) < ends:
        print(
            f"datasre: {contract.model}: {day} is not over yet (it ends {ends.isoformat()}); "
            "this run sees part of the day, and the gate blocks on it (run_before_day_end) "
            "until the day is run again after it ends",
            file=sys.stderr,
        )


def run_partitions(
    pairs: list[tuple[Contract, dt.date]],
    *,
    settings: Settings,
    kind: str,
    progress: bool,
    debug: bool = False,
    parallel: int = 1,
    after_each: Callable[[], None] | None = None,
    worker: DriftWorker | None = None,
) -> list[PartitionOutcome]:
    """Execute the job once per partition; failures don't stop the others.

    ``parallel`` > 1 hands the partitions to Dagster: one run of the fan-out job
    (:mod:`pipelines.partition_fanout`) whose multiprocess executor runs ``parallel`` of
    them at once, each in a process of its own, each the same one-partition run as here.
    Their writers take turns on the DuckDB file (the ``duckdb`` pool of a persistent
    instance, and the store's lock retry), so no SLI row is lost or doubled.
    ``after_each`` runs after every partition here, after all of them in parallel (the
    CLI's check for a signal Dagster swallowed). ``worker``
    (:func:`~pipelines.partition_run.start_multivariate_worker`) computes the multivariate
    SLIs of the partitions run here, one after another, and is closed after the last.
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
        for index, (contract, day) in enumerate(pairs):
            last = index == len(pairs) - 1
            report(
                execute_partition(
                    settings, contract.model, day, kind, debug, worker=worker, close_worker=last
                )
            )
        return outcomes
    from pipelines.partition_fanout import FanoutRequest, run_fanout

    if persistent_home() is not None:
        # Create the instance's storage here, once: step processes that each found it
        # missing would race to create the same sqlite tables ("table runs already exists").
        current_instance()
    outcomes, interrupted = run_fanout(
        FanoutRequest(pairs, settings, kind, progress=progress, debug=debug, parallel=parallel)
    )
    if after_each is not None:
        after_each()
    if interrupted:
        raise KeyboardInterrupt
    return outcomes


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


#: The longest path a Unix socket takes (``sun_path``: 108 bytes with its NUL, Linux).
_UNIX_SOCKET_PATH_MAX: Final = 107


def _check_socket_room() -> None:
    """``--parallel`` starts multiprocessing's fork server, which listens on a Unix socket
    in ``TMPDIR`` (``pymp-XXXXXXXX/listener-XXXXXXXX`` under it). Under a longer TMPDIR
    than a socket path takes, every partition failed with only "the fan-out run ended
    before it"; this says why first."""
    import os
    import tempfile

    from pipelines.cli import UsageError

    base = tempfile.gettempdir()
    listener = os.path.join(base, "pymp-" + "x" * 8, "listener-" + "x" * 8)
    if len(os.fsencode(listener)) > _UNIX_SOCKET_PATH_MAX:
        raise UsageError(
            f"--parallel: TMPDIR {base} is too long: the worker processes' Unix socket "
            f"under it would take {len(os.fsencode(listener))} bytes of at most "
            f"{_UNIX_SOCKET_PATH_MAX}; set TMPDIR to a shorter directory"
        )


def run(args: argparse.Namespace) -> int:
    from assets.shared_samples import sharing_samples  # no polars: the worker starts first
    from pipelines.held_interrupts import import_holding_interrupts

    with sharing_samples():  # one sampled read of a large day for every process of the run
        # Started first, so that its imports overlap this process's (Dagster's, the job's).
        worker = None
        if args.parallel <= 1:
            with contextlib.suppress(OSError):  # none (out of processes): the step computes
                worker = start_multivariate_worker()
        try:
            import_holding_interrupts("polars")  # first here: see pipelines.held_interrupts
            return _run(args, worker)
        except BaseException:
            if worker is not None:
                worker.kill()  # interrupted or failed: its computation is not waited for
            raise
        finally:
            if worker is not None:
                worker.close()


def _run(args: argparse.Namespace, worker: DriftWorker | None) -> int:
    from assets.contract_cache import contracts_at
    from assets.store import StoreError
    from checks.gate_checks import FAILED_RUN_STATUS
    from pipelines.cli import EXIT_NO, EXIT_OK, UsageError
    from pipelines.pool_slots import PoolBusyError

    settings = dataclasses.replace(
        Settings.from_env(
            config_path=args.config, database=args.db, now=args.now, state_dir=args.state_dir
        ),
        progress=not args.quiet,
    )
    now = dt.datetime.now(dt.UTC)
    if settings.now:
        now = parse_moment("--now", settings.now)
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
    if args.parallel > 1 and len(pairs) > 1:
        _check_socket_room()
    with _interrupts_stop_the_run() as raise_if_signalled:
        outcomes = run_partitions(
            pairs,
            settings=settings,
            kind="backfill" if args.all else "manual",
            progress=not args.quiet,
            debug=args.debug,
            parallel=args.parallel,
            after_each=raise_if_signalled,
            worker=worker,
        )
    store_errors = [o.store_error for o in outcomes if o.store_error is not None]
    if store_errors:
        # The store is unusable: nothing of this run is in it, so no summary from it.
        raise StoreError(store_errors[0])
    busy = [o.pool_busy for o in outcomes if o.pool_busy is not None]
    if busy:
        # A --parallel step found the pool busy: exit 2 as a sequential run does.
        raise PoolBusyError(busy[0])
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
        if outcome.job_failed:
            print(
                f"datasre: {outcome.model} {outcome.day}: job failed: "
                f"{terminal(str(outcome.message))}",
                file=sys.stderr,
            )
    for row in rows:
        if row["run_status"] == FAILED_RUN_STATUS:
            print(
                f"datasre: {row['model']} {row['partition']}: input missing or unreadable: "
                f"{terminal(str(row['error']))}",
                file=sys.stderr,
            )
    failed_jobs = any(o.job_failed for o in outcomes)
    breached = any(o.summary is not None and o.summary.breaches > 0 for o in outcomes)
    if failed_jobs:
        return EXIT_NO
    return EXIT_NO if (args.fail_on_breach and breached) else EXIT_OK
