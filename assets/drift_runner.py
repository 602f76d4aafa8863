"""Who runs the drift engine's per-column work: this thread, threads, or worker processes.

:func:`checks.drift.compute_drift` and :func:`checks.drift.sketch_snapshot` hand their
per-feature work to a :class:`checks.drift.MapColumns`; :class:`ColumnRunner` is the one
the assets and the drift CLI give them. It decides, from the inputs, whether sharing the
work with a second process pays:

* one process already keeps ~1.5 of 2 cores busy (polars decodes the next column in one
  thread while numpy counts in another; numpy's ``bincount`` and ``ufunc.at`` hold the
  GIL, so more threads do not help), and a worker costs ~0.45 s of CPU to start
  (interpreter, polars, numpy) that competes for the same two cores. Measured here
  (benchmarks/README.md), 1M rows: 5-30 features no gain or up to 10% slower, 50
  features 5-10% faster in exact mode and ~45% faster in sketch mode (pure numpy). Hence
  :data:`PROCESS_MIN_CELLS`;
* only references to files travel: in-memory frames, sketches and profiles holding their
  sorted values stay in this process, and so does any argument whose pickle exceeds
  :data:`MAX_SHARED_PICKLE` (it holds data; sending it would copy it).

Results are identical however the work runs.
"""

from __future__ import annotations

import os
import pickle
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final, TypeVar

import polars as pl

from assets.drift_workers import DriftWorker, DriftWorkers, WorkerCrashError
from checks.drift import in_process
from checks.profile import BaselineProfile, CurrentSketch

__all__ = ["MAX_SHARED_PICKLE", "PROCESS_MIN_CELLS", "ColumnRunner", "share_work"]

#: Work size (rows of the largest input x items) from which the work is shared with a
#: second process by default (see the module docstring for the measurements).
PROCESS_MIN_CELLS: Final = 40_000_000
#: A pickled argument larger than this holds data (an in-memory frame), not a reference
#: to files; sending it to another process would copy it, so such work stays here.
MAX_SHARED_PICKLE: Final = 1 << 20

_R = TypeVar("_R")
#: Modules polars imports on first use through a proxy (``polars._dependencies``).
_POLARS_LAZY_MODULES: Final = ("numpy", "pyarrow")


def resolve_polars_lazy_modules() -> None:
    """Make polars import numpy and pyarrow now, in this thread, before worker threads
    start.

    polars hands out a proxy that imports the module on its first attribute access and
    copies the module's names into itself. Two threads touching it first at once break
    it: numpy has a submodule named ``_globals``, the proxy's own attribute for its
    namespace, so the second thread's import writes into a module and raises
    ``TypeError: 'module' object does not support item assignment`` (seen on a loaded
    machine as a failed ``drift_slis`` step). Once resolved, the proxy never imports again.
    """
    from polars import _dependencies as dependencies

    for name in _POLARS_LAZY_MODULES:
        # The proxy, or the real module once the proxy has imported it.
        getattr(vars(dependencies)[name], "__version__", None)


class ColumnRunner:
    """A :class:`checks.drift.MapColumns` that uses threads or worker processes.

    Parameters
    ----------
    threads : int, optional
        Threads for the work when it stays in this process (polars releases the GIL
        while reading, numpy's counting does not); default ``min(4, cpu count)``; 1 runs
        the items one after the other.
    processes : int, optional
        Processes sharing the work, this one included (1: this process only). Default:
        2 when the work has at least :data:`PROCESS_MIN_CELLS` cells and two cores, else 1.
    pool : DriftWorkers, optional
        Started workers to use instead of starting ``processes - 1`` here (e.g. started
        early so that their start-up overlaps the caller's own imports); not closed here.
    """

    def __init__(
        self,
        *,
        threads: int | None = None,
        processes: int | None = None,
        pool: DriftWorkers | None = None,
    ) -> None:
        self.threads = threads if threads is not None else min(4, os.cpu_count() or 1)
        self.processes = processes
        self.pool = pool

    def __call__(self, fn: Callable[..., _R], items: Sequence[tuple[Any, ...]]) -> list[_R]:
        resolve_polars_lazy_modules()
        shared = self._shareable(items)
        if shared is not None:
            n_procs, blobs = shared
            return share_work(
                lambda i: fn(*items[i]), lambda i: (fn, blobs[i]), len(items), n_procs, self.pool
            )
        if self.threads > 1 and len(items) > 1:
            with ThreadPoolExecutor(max_workers=self.threads) as threads:
                return list(threads.map(lambda item: fn(*item), items))
        return in_process(fn, items)

    def _shareable(
        self, items: Sequence[tuple[Any, ...]]
    ) -> tuple[int, list[tuple[bytes, ...]]] | None:
        """(processes, the items' pickled arguments) when the work should be shared with
        worker processes, else None."""
        if self.processes is not None and self.processes < 2:
            return None
        if len(items) < 2 or any(_holds_data(arg) for item in items for arg in item):
            return None
        n_procs = self.processes
        if n_procs is None:
            if (os.cpu_count() or 1) < 2:
                return None
            rows = max(_n_rows(arg) for arg in items[0])
            if rows * len(items) < PROCESS_MIN_CELLS:
                return None
            n_procs = 2
        pickled: dict[int, bytes] = {}  # the same object (the current scan) pickled once
        blobs: list[tuple[bytes, ...]] = []
        for item in items:
            for arg in item:
                if id(arg) not in pickled:
                    pickled[id(arg)] = pickle.dumps(arg)
                    if len(pickled[id(arg)]) > MAX_SHARED_PICKLE:
                        return None
            blobs.append(tuple(pickled[id(arg)] for arg in item))
        return n_procs, blobs


def _holds_data(arg: Any) -> bool:
    """An in-memory frame or sketch, or a profile holding its sorted values: data that
    would be copied to another process rather than read there from files."""
    if isinstance(arg, pl.DataFrame | CurrentSketch):
        return True
    if isinstance(arg, BaselineProfile):
        return any(p.values is not None and p.loader is None for p in arg.numeric.values())
    return False


def _n_rows(arg: Any) -> int:
    """Rows of an input, cheaply (parquet metadata for a scan; the sum over a list of
    scans); 0 for anything else or when unknown."""
    if isinstance(arg, list):
        return sum(_n_rows(part) for part in arg)
    if isinstance(arg, BaselineProfile):
        sizes = [p.n + p.n_missing for p in arg.numeric.values()]
        sizes += [c.n + c.n_missing for c in arg.categorical.values()]
        return max([arg.n_rows, *sizes])
    if isinstance(arg, pl.LazyFrame):
        try:
            return int(arg.select(pl.len()).collect().item())
        except pl.exceptions.PolarsError:
            return 0  # unreadable: the per-column work reports it
    return 0


def share_work(
    local: Callable[[int], _R],
    remote: Callable[[int], tuple[Callable[..., _R], tuple[bytes, ...]]],
    n_items: int,
    n_procs: int,
    pool: DriftWorkers | None,
) -> list[_R]:
    """Items ``0..n_items-1`` done by this thread (``local(i)``) and by worker processes
    (the call ``remote(i)``: a function and its pickled arguments): ``pool``'s workers, or
    ``n_procs - 1`` started here and ended afterwards.

    All sides take the next item from one queue in item order (callers put the costliest
    first), so the work balances whatever the workers' start-up time: a worker gets items
    only once it is ready, at most two in flight. A worker that dies has its unanswered
    items put back for the others, unless it died of memory exhaustion (aborted or
    killed: see :class:`assets.drift_workers.WorkerCrashError`), which is raised here as a
    ``MemoryError`` at once; an exception raised by an item is raised here.
    """
    own = pool is None
    workers: DriftWorkers = pool if pool is not None else DriftWorkers(n_procs - 1)
    queue = deque(range(n_items))
    lock = threading.Lock()
    results: list[_R | None] = [None] * n_items
    errors: list[BaseException] = []
    took = [threading.Event() for _ in workers.workers]

    def take(mark: threading.Event | None = None) -> int | None:
        with lock:
            if errors or not queue:
                return None
            if mark is not None:
                mark.set()  # under the lock: whoever sees an empty queue sees this
            return queue.popleft()

    def feed(worker: DriftWorker, mark: threading.Event) -> None:
        if not queue or not worker.wait_ready():
            return
        pending: deque[int] = deque()
        try:
            while True:
                while len(pending) < 2:
                    i = take(mark)
                    if i is None:
                        break
                    pending.append(i)
                    worker.send(*remote(i))
                if not pending:
                    return
                results[pending[0]] = worker.receive()
                pending.popleft()
        except WorkerCrashError as crash:
            with lock:
                if crash.out_of_memory:  # redoing it here would run out of memory too
                    errors.append(MemoryError(f"a drift worker process ran out of memory: {crash}"))
                else:
                    queue.extendleft(reversed(pending))  # this thread or another redoes them
        except BaseException as exc:
            with lock:
                errors.append(exc)

    threads = [
        threading.Thread(target=feed, args=(w, e), name="drift-feeder", daemon=True)
        for w, e in zip(workers.workers, took, strict=True)
    ]
    for thread in threads:
        thread.start()
    try:
        while True:
            while (i := take()) is not None:
                try:
                    results[i] = local(i)
                except BaseException as exc:
                    with lock:
                        errors.append(exc)
            # Wait for the workers that took items; one still starting gets no more.
            for thread, mark in zip(threads, took, strict=True):
                if mark.is_set():
                    thread.join()
            with lock:
                if errors or not queue:
                    break
    finally:
        if own:
            workers.close()
    if errors:
        raise errors[0]
    done: list[_R] = []
    for got in results:
        assert got is not None
        done.append(got)
    return done
