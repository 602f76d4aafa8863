"""Dagster pool slots held by runs whose process is gone: find them, free them, and never
wait for a slot without a bound.

``sli_results`` runs in the ``duckdb`` pool (one slot, ``dagster.yaml``). A ``datasre
run`` killed with SIGKILL while it holds that slot leaves the slot claimed and its run
``STARTED`` in the persistent instance for ever: Dagster frees a slot when the step ends,
and its daemon frees slots of *finished* runs only; nobody finishes a run whose process
died. Every later run then waits for the slot, silently, and cannot be interrupted
(Dagster's in-process executor only notes a SIGTERM while it waits).

So each run ``datasre run`` starts carries :data:`PROCESS_TAG`, naming the host, the
process id and the process's start time (so a recycled pid is not mistaken for the
run's). Before a partition runs, :func:`wait_for_pool_slot` marks runs whose process is
gone as failed, frees the slots they (and any finished or deleted run) still hold, and
then waits, at most ``timeout_seconds``, for a free slot, ending with one line that names
the run holding it. Runs started elsewhere (the daemon, the UI) carry no such tag and are
left to Dagster's own run monitoring.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:  # the CLI imports PoolBusyError; Dagster loads only when a run starts
    import dagster as dg

__all__ = [
    "PROCESS_TAG",
    "PoolBusyError",
    "process_identity",
    "process_is_gone",
    "release_dead_runs",
    "wait_for_pool_slot",
]

#: Run tag: ``host:pid:start`` of the process that executes the run in-process.
PROCESS_TAG: Final = "datasre/process"

#: How often a waiting partition looks at the pool again, in seconds.
POLL_SECONDS: Final = 0.5


class PoolBusyError(Exception):
    """A pool stayed full for longer than the wait allowed; the message is one line."""


def _start_ticks(pid: int) -> str | None:
    """When process ``pid`` started, in clock ticks since boot (Linux ``/proc``); ``""``
    where there is no ``/proc`` but the pid exists; ``None`` when there is no such process."""
    stat = Path(f"/proc/{pid}/stat")
    if Path("/proc/self/stat").exists():
        try:
            text = stat.read_text(encoding="ascii", errors="replace")
        except OSError:
            return None
        # Field 22 (starttime); the command name in field 2 may hold spaces and ")".
        return text.rsplit(")", 1)[1].split()[19]
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return ""
    return ""


def process_identity() -> str:
    """This process as :data:`PROCESS_TAG` writes it: ``host:pid:start``."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_ticks(pid) or ''}"


def process_is_gone(identity: str) -> bool:
    """True only when ``identity`` names a process on this host that no longer runs (or
    whose pid now belongs to a later process). A process on another host, or a tag this
    code did not write, is never judged gone."""
    host, _, rest = identity.partition(":")
    pid_text, _, start = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    now_started = _start_ticks(int(pid_text))
    return now_started is None or (bool(start) and bool(now_started) and now_started != start)


@dataclass(frozen=True)
class _Holder:
    run_id: str
    step_key: str


def _holders(instance: dg.DagsterInstance, pool: str) -> list[_Holder]:
    info = instance.event_log_storage.get_concurrency_info(pool)
    return [_Holder(slot.run_id, slot.step_key) for slot in info.claimed_slots]


def release_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark ``datasre run`` runs whose process is gone as failed, and free every pool slot
    (claimed or queued) held by such a run or by a run that has finished or no longer
    exists. Returns the run ids released, oldest first as Dagster lists them."""
    import dagster as dg

    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return []
    holding = set(storage.get_concurrency_run_ids())
    for info in storage.get_concurrency_infos(sorted(storage.get_concurrency_keys())).values():
        holding.update(slot.run_id for slot in info.claimed_slots if slot.run_id)
    unfinished = instance.get_runs(
        filters=dg.RunsFilter(
            statuses=[
                dg.DagsterRunStatus.STARTING,
                dg.DagsterRunStatus.STARTED,
                dg.DagsterRunStatus.CANCELING,
            ]
        )
    )
    dead = {
        run.run_id: run
        for run in unfinished
        if PROCESS_TAG in run.tags and process_is_gone(run.tags[PROCESS_TAG])
    }
    released: list[str] = []
    for run_id in sorted(holding | set(dead)):
        run = dead.get(run_id) or instance.get_run_by_id(run_id)
        if run is not None and run_id in dead:
            instance.report_run_failed(
                run,
                message=f"datasre: the process running this run "
                f"({run.tags[PROCESS_TAG]}) is gone (killed?); marked failed and its "
                "pool slots freed",
            )
        elif run is not None and not run.is_finished:
            continue  # alive, or not ours to judge
        if run_id in holding:
            storage.free_concurrency_slots_for_run(run_id)
        released.append(run_id)
    return released


def _describe(instance: dg.DagsterInstance, holder: _Holder) -> str:
    run = instance.get_run_by_id(holder.run_id)
    where = run.tags.get(PROCESS_TAG) if run is not None else None
    status = run.status.value if run is not None else "deleted"
    process = (
        f", process {where}"
        if where
        else f", no {PROCESS_TAG} tag: the daemon, the UI or an older datasre"
    )
    return f"run {holder.run_id} (step {holder.step_key}, {status}{process})"


def wait_for_pool_slot(instance: dg.DagsterInstance, pool: str, timeout_seconds: float) -> None:
    """Free what dead runs hold, then wait until ``pool`` has a free slot, at most
    ``timeout_seconds`` (then :class:`PoolBusyError`). The wait is ours, not Dagster's, so
    SIGINT/SIGTERM end it at once."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return
    deadline = time.monotonic() + timeout_seconds
    while True:
        release_dead_runs(instance)
        info = storage.get_concurrency_info(pool)
        if info.limit is None or len(info.claimed_slots) < info.limit:
            return
        if time.monotonic() >= deadline:
            holders = "; ".join(_describe(instance, h) for h in _holders(instance, pool))
            raise PoolBusyError(
                f"Dagster pool {pool!r} ({info.limit} slot(s)) still busy after "
                f"{timeout_seconds:g} s, held by {holders}: if that run is gone, mark it "
                "failed and free its slots in the Dagster UI (Deployment > Concurrency), "
                "or raise DATASRE_POOL_WAIT_SECONDS"
            )
        time.sleep(POLL_SECONDS)
