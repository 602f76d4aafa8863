"""Worker processes (standard library only): the drift engine's per-column work, and a
partition's multivariate SLIs computed beside the rest of a ``datasre run``.

:mod:`assets.drift_runner` decides when to use them for drift,
:func:`assets.multivariate.start_multivariate_early` for the multivariate SLIs (one worker
warm with :data:`MULTIVARIATE_WARM_MODULES`); ``checks`` never starts a process.

Why processes: numpy's ``bincount`` and ``ufunc.at`` hold the GIL, so threads barely
overlap the column work; a second interpreter does. Why not ``multiprocessing``: its spawn
start method re-imports the caller's ``__main__`` module in every worker (a script
without a ``__name__`` guard would run again, and the ``datasre`` console script would
import every subcommand), and its pool hides when a worker is ready. A worker here is a
fresh interpreter running :func:`serve`, connected by two pipes; it imports what it is
told to warm up, says it is ready, then answers calls ``(function, pickled arguments)``
in order with ``(ok, result or exception)``, pickled with a length prefix. The function
travels as a pickle reference (a module-level function), never as a module name to
import.

This module imports nothing heavy, so the CLI can start workers before it imports polars
and numpy itself: the workers' start-up (~0.5 s of CPU) then overlaps the parent's.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import queue
import signal
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, Final

__all__ = [
    "MULTIVARIATE_WARM_MODULES",
    "DriftWorker",
    "DriftWorkers",
    "WorkerCrashError",
    "keep_freed_memory",
    "serve",
]

#: Modules a drift worker imports before it says it is ready (the runner, which imports
#: the drift engine, polars and numpy).
WARM_MODULES: Final = ("assets.drift_runner",)
#: Modules a multivariate worker imports before it says it is ready: the computation
#: (:mod:`assets.multivariate_day`) and the scikit-learn modules it imports when it runs.
MULTIVARIATE_WARM_MODULES: Final = (
    "assets.multivariate_day",
    "sklearn.ensemble",
    "sklearn.model_selection",
)
_HEADER = struct.Struct("<Q")
#: A worker's first statements, then :func:`serve`. SIGINT (Ctrl-C) stays blocked, as the
#: fork left it (see :class:`DriftWorker`), until the warm imports are done; then it ends
#: the worker by its default action (:func:`_end_on_interrupt`).
_BOOT = (
    "import signal, sys;"
    "signal.signal(signal.SIGINT, signal.SIG_DFL);"
    "from assets.drift_workers import serve; serve(sys.argv[1:])"
)
#: Worker-side cache of unpickled arguments: pickles up to this size (a scan's plan, a
#: profile slice) are kept, at most this many, so that the same current snapshot sent
#: with every column is unpickled once per worker rather than once per column.
_CACHE_MAX_BLOB: Final = 64 * 1024
_CACHE_MAX_ENTRIES: Final = 16


#: Exit statuses of a worker that ran out of memory: a failed allocation in polars' Rust
#: code aborts (SIGABRT, or 134 through a shell), the kernel's OOM killer sends SIGKILL.
_OUT_OF_MEMORY_STATUSES: Final = frozenset({-signal.SIGABRT, -signal.SIGKILL, 134, 137})
#: Seconds to wait for a worker whose pipe closed to report its exit status.
_EXIT_WAIT_SECONDS: Final = 5.0


class WorkerCrashError(Exception):
    """A worker process died or its pipe broke; its unanswered calls can be retried,
    except when it most likely ran out of memory (:attr:`out_of_memory`): the same call
    in another process would run out too."""

    def __init__(self, message: str, returncode: int | None = None) -> None:
        super().__init__(message)
        #: The worker's exit status (negative: killed by that signal); None if unknown.
        self.returncode = returncode

    @property
    def out_of_memory(self) -> bool:
        return self.returncode in _OUT_OF_MEMORY_STATUSES


def _write(stream: IO[bytes], obj: object) -> None:
    _write_pickled(stream, pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))


def _write_pickled(stream: IO[bytes], data: bytes) -> None:
    stream.write(_HEADER.pack(len(data)))
    stream.write(data)
    stream.flush()


def _read(stream: IO[bytes]) -> Any:
    """The next pickled object, or raise EOFError when the other side closed."""
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        raise EOFError
    (size,) = _HEADER.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)


class DriftWorker:
    """One worker process. Calls are pipelined: :meth:`send` several, then
    :meth:`receive` their results in the same order.

    Use from one thread at a time. :meth:`close` ends the process (by its own id).
    """

    def __init__(self, warm: Sequence[str] = WARM_MODULES, polars_threads: int = 1) -> None:
        req_read, req_write = os.pipe()
        res_read, res_write = os.pipe()
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        # One polars thread: the parent and its workers already occupy the cores, and
        # more threads only contend (measured: less CPU and a shorter run with 1).
        env["POLARS_MAX_THREADS"] = str(polars_threads)
        # SIGINT blocked across the fork (a child inherits the mask, and so do the threads
        # its imports start): a Ctrl-C during the worker's start waits for its warm
        # imports, then ends it (_end_on_interrupt).
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGINT])
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-c", _BOOT, str(req_read), str(res_write), *warm],
                pass_fds=(req_read, res_write),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                env=env,
            )
        except BaseException:
            os.close(req_write)  # no process: this side's ends are not kept either
            os.close(res_read)
            raise
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            os.close(req_read)
            os.close(res_write)
        self._send = os.fdopen(req_write, "wb")
        self._recv = os.fdopen(res_read, "rb")
        self._ready: bool | None = None
        self.used = False
        # Requests are written by a thread of their own: a request or a result larger
        # than a pipe's buffer would otherwise deadlock (this side blocked writing the
        # next request, the worker blocked writing the previous result).
        self._outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None

    @property
    def pid(self) -> int:
        return self._proc.pid

    def wait_ready(self) -> bool:
        """Block until the worker has imported its modules; False if it failed to start."""
        if self._ready is None:
            try:
                ok, _ = _read(self._recv)
                self._ready = bool(ok)
            except (EOFError, OSError, pickle.UnpicklingError):
                self._ready = False
        return self._ready

    def send(self, function: Callable[..., Any], blobs: tuple[bytes, ...]) -> None:
        """Queue a call of ``function(*arguments)``: ``function`` a module-level function
        (it pickles by reference), ``blobs`` the arguments, each pickled."""
        # Pickled here: a function that cannot be (not module-level) raises to the caller,
        # instead of ending the writer thread and leaving receive() waiting for ever.
        message = pickle.dumps((function, blobs), protocol=pickle.HIGHEST_PROTOCOL)
        self.used = True
        if self._writer is None:
            self._writer = threading.Thread(target=self._write_all, daemon=True)
            self._writer.start()
        self._outbox.put(message)

    def _write_all(self) -> None:
        while (message := self._outbox.get()) is not None:
            try:
                _write_pickled(self._send, message)
            except (OSError, ValueError):
                return  # the worker is gone: receive() reports it

    def receive(self) -> Any:
        """The result of the oldest unanswered call; its exception is raised here."""
        if not self.wait_ready():  # the first frame says whether the worker started
            raise WorkerCrashError(f"drift worker {self.pid} did not start")
        try:
            ok, value = _read(self._recv)
        except (EOFError, OSError) as exc:
            try:  # the pipe closes as the process ends: its status says why
                code: int | None = self._proc.wait(timeout=_EXIT_WAIT_SECONDS)
            except subprocess.TimeoutExpired:
                code = None
            raise WorkerCrashError(
                f"drift worker {self.pid} stopped (exit status {code}): {exc!r}", code
            ) from None
        if not ok:
            raise value
        return value

    def kill(self) -> None:
        """End the worker now, whatever it is doing (the run it works for was interrupted);
        :meth:`close` after it has nothing left to wait for."""
        with contextlib.suppress(OSError):
            self._proc.kill()
        self._proc.wait()

    def close(self) -> None:
        """End the worker: EOF tells a busy-free worker to exit; one that was never used
        (still starting, or idle) is killed so that nobody waits for its start-up."""
        if self._writer is not None:
            self._outbox.put(None)
            self._writer.join(timeout=10)
        with contextlib.suppress(OSError):
            self._send.close()
        if not self.used and self._proc.poll() is None:
            with contextlib.suppress(OSError):
                self._proc.kill()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        with contextlib.suppress(OSError):
            self._recv.close()


class DriftWorkers:
    """A set of started workers (a context manager that closes them)."""

    def __init__(self, n: int, warm: Sequence[str] = WARM_MODULES) -> None:
        self.workers = [DriftWorker(warm) for _ in range(max(0, n))]

    def close(self) -> None:
        for worker in self.workers:
            worker.close()

    def __enter__(self) -> DriftWorkers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def keep_freed_memory() -> None:
    """Keep freed large blocks in the heap instead of returning them to the kernel.

    Why: each column comparison allocates and frees arrays of several MB; glibc serves
    those with mmap and unmaps them on free, so every column pays fresh page faults
    (measured: about a third of the run). Raising the mmap and trim thresholds makes the
    allocator reuse the same pages. Called by the drift CLI and by every worker.
    Linux/glibc only; silently skipped elsewhere.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        libc.mallopt(m_mmap_threshold, 256 * 1024 * 1024)
        libc.mallopt(m_trim_threshold, 1024 * 1024 * 1024)
    except (OSError, AttributeError):
        return


_INPUTS: dict[bytes, Any] = {}


def _argument(blob: bytes) -> Any:
    """Unpickle an argument in a worker, once per distinct small one (see the cache's
    limits above: large arguments are used once and dropped)."""
    got = _INPUTS.get(blob)
    if got is None:
        got = pickle.loads(blob)
        if len(blob) <= _CACHE_MAX_BLOB:
            if len(_INPUTS) >= _CACHE_MAX_ENTRIES:
                _INPUTS.clear()
            _INPUTS[blob] = got
    return got


def serve(argv: Sequence[str]) -> None:
    """Worker main loop: ``argv`` = request fd, result fd, modules to import first.

    Ctrl-C reaches a worker too (it is in the terminal's process group): it ends it by the
    signal's default action, quietly, once its warm imports are done
    (:func:`_end_on_interrupt`; its parent reports the interruption). A worker whose
    parent died (its pipes broke) ends quietly too."""
    try:
        _serve(argv)
    except OSError:  # the parent is gone (its pipes broke): nobody to answer
        os._exit(1)


def _end_on_interrupt() -> None:
    """SIGINT to its default action (the kernel ends the process, whichever thread gets
    it) and unblocked: a Ctrl-C held since the fork ends the worker here.

    Why not a Python handler: importing polars installs its own native one, which keeps
    the signal for polars' next call to raise (a Ctrl-C during the warm imports was
    swallowed), restarts interrupted system calls (a worker idle in ``read`` outlived a
    Ctrl-C), and a KeyboardInterrupt raised inside polars' Rust start-up panics with a
    backtrace. Called once the warm imports are done, and after every request (which
    may import polars first)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT])


def _serve(argv: Sequence[str]) -> None:
    request_fd, result_fd, *warm = argv
    inp = os.fdopen(int(request_fd), "rb")
    out = os.fdopen(int(result_fd), "wb")
    keep_freed_memory()
    try:
        for name in warm:
            importlib.import_module(name)
        _end_on_interrupt()
        _write(out, (True, None))
    except BaseException as exc:  # report, then stop: the parent works alone
        _write(out, (False, repr(exc)))
        os._exit(1)
    while True:
        try:
            function, blobs = _read(inp)
        except EOFError:
            break
        try:
            reply: tuple[bool, Any] = (True, function(*[_argument(b) for b in blobs]))
        except Exception as exc:
            reply = (False, exc)
        _end_on_interrupt()
        try:
            _write(out, reply)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            _write(out, (False, RuntimeError(f"drift worker: unpicklable result: {exc!r}")))
        except BrokenPipeError:
            break
    out.flush()
    # Skip interpreter teardown (polars' thread pool, module cleanup): nothing to flush.
    os._exit(0)
