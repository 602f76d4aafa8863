"""Time a whole process: wall clock, CPU and peak memory over the process and its workers.

Shared by the benchmarks: a run that forks worker processes (Dagster's multiprocess
executor, the drift process pool) must not hide their memory, so the peak is the *sum*
of each process's high-water mark (an upper bound: the peaks may not coincide, e.g. a
drift worker that lives only during the drift step). ``rss_at_once_mib`` is the largest
total resident memory seen at one moment (sampled every 20 ms, and never below the main
process's exact peak): what the machine had to hold at once.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Measure", "child_pids", "timed"]


@dataclass(frozen=True)
class Measure:
    """One timed process: ``wall`` and ``cpu`` (user + system) in seconds, ``rss_mib``
    the summed peak resident set in MiB, ``processes`` how many were seen,
    ``rss_at_once_mib`` the largest total resident set at one moment (MiB)."""

    wall: float
    cpu: float
    rss_mib: float
    exit_code: int
    processes: int = 1
    rss_at_once_mib: float = 0.0


def child_pids(pid: int) -> list[int]:
    """The process ids of ``pid``'s children (Linux: ``/proc/<pid>/task/<pid>/children``);
    none when it is gone."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def _status_kib(pid: int, field: str) -> int | None:
    """A ``/proc/<pid>/status`` memory field (``VmHWM``, ``VmRSS``) in KiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _hwm_kib(pid: int) -> int | None:
    return _status_kib(pid, "VmHWM")


def timed(
    cmd: list[str],
    *,
    cwd: Path,
    env: dict[str, str] | None = None,
    ok_exit_codes: tuple[int, ...] = (0, 1),
    stdout: int | None = subprocess.DEVNULL,
) -> Measure:
    """Run ``cmd`` under ``/usr/bin/time``: wall, CPU (the process and the workers it
    waited for) and peak RSS summed over the process and its workers.

    The process's own peak is ``time``'s (its ``ru_maxrss`` is exact: ``time`` is small,
    so nothing of a large parent leaks into it through fork); each worker's is its
    ``VmHWM`` (a high-water mark, so sampling every 20 ms misses at most its last 20 ms).
    """
    with (
        tempfile.NamedTemporaryFile(suffix=".time") as fh,
        tempfile.TemporaryFile() as err,
    ):
        proc = subprocess.Popen(
            ["/usr/bin/time", "-o", fh.name, "-f", "%e %U %S %M", *cmd],
            stdout=stdout,
            stderr=err,
            cwd=cwd,
            env=env,
        )
        workers: dict[int, int] = {}
        at_once_kib = 0
        while proc.poll() is None:
            mains = child_pids(proc.pid)
            now_kib = sum(_status_kib(main, "VmRSS") or 0 for main in mains)
            pending = [w for main in mains for w in child_pids(main)]
            while pending:
                pid = pending.pop()
                hwm = _hwm_kib(pid)
                if hwm is not None:
                    workers[pid] = max(workers.get(pid, 0), hwm)
                now_kib += _status_kib(pid, "VmRSS") or 0
                pending += child_pids(pid)
            at_once_kib = max(at_once_kib, now_kib)
            time.sleep(0.02)
        err.seek(0)
        stderr = err.read().decode(errors="replace")
        fields = Path(fh.name).read_text().split()
    if proc.returncode not in ok_exit_codes:
        raise SystemExit(f"{' '.join(cmd)}: exit {proc.returncode}: {stderr[-2000:]}")
    wall, user, system, rss_kb = fields[-4:]
    return Measure(
        float(wall),
        float(user) + float(system),
        (int(rss_kb) + sum(workers.values())) / 1024,
        proc.returncode,
        1 + len(workers),
        max(at_once_kib, int(rss_kb)) / 1024,
    )
