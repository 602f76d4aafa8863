"""A step's computation started ahead of its step, on a thread of its own, so that it
runs beside the steps before it.

Why: Dagster's in-process executor (``datasre run``) runs a partition's steps one after
another, and they keep only ~1.2 of this machine's 2 cores busy (polars' readers and
joins wait on each other's output). The multivariate step needs nothing from the other
steps and fits its models on one native thread by design
(:func:`assets.multivariate_day.multivariate_slis`), so started with the run it is done on
the core the others leave idle by the time its step comes (benchmarks/README.md has the
measurements).

The step takes the result (:func:`take`), waiting for it if needed. A computation that
failed, or that was started for other inputs, is not used: the step computes again
itself, so a failure is the step's own, with its usual error, and the rows are the
ones the step would have computed. Whoever starts one calls :func:`discard` once the run
is over, so that a result no step took is not kept.

A computation may be held until another step has ended (``after``; the steps say so with
:func:`ended`), so that it does not run beside that step's memory peak; its own step's
:func:`take` releases it too, so a step that never runs cannot hold it for ever.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["discard", "ended", "start", "take"]


@dataclass(frozen=True)
class _Started:
    """One computation started early: what it was started for, its outcome, and what
    holds it (``after``: the step whose end sets ``released``)."""

    inputs: tuple[object, ...]
    outcome: Future[Any]
    thread: threading.Thread
    after: str | None
    released: threading.Event


_STARTED: Final[dict[str, _Started]] = {}
_LOCK: Final = threading.Lock()


def start(
    step: str,
    inputs: tuple[object, ...],
    compute: Callable[[], Any],
    *,
    after: str | None = None,
) -> None:
    """Run ``compute`` on a thread of its own, for ``step``'s :func:`take` with the same
    ``inputs`` (compared with ``==``); replaces what ``step`` had started before. Now, or
    with ``after`` once that step has :func:`ended` (or ``step`` takes it, whichever comes
    first)."""
    outcome: Future[Any] = Future()
    released = threading.Event()
    if after is None:
        released.set()

    def run() -> None:
        released.wait()
        if not outcome.set_running_or_notify_cancel():
            return  # discarded before it was released
        try:
            outcome.set_result(compute())
        except BaseException as exc:  # take recomputes; an unset outcome would hang it
            outcome.set_exception(exc)

    thread = threading.Thread(target=run, name=f"early-{step}", daemon=True)
    discard(step)
    with _LOCK:
        _STARTED[step] = _Started(inputs, outcome, thread, after, released)
    thread.start()


def ended(step: str) -> None:
    """``step`` has ended (done or failed): release the computations held until then."""
    with _LOCK:
        held = [s.released for s in _STARTED.values() if s.after == step]
    for released in held:
        released.set()


def take(step: str, inputs: tuple[object, ...]) -> Any | None:
    """The result ``step``'s early computation for ``inputs`` gave (waiting for it), or
    None when there is none, it was for other inputs, or it failed: the caller computes
    it then. Taken once."""
    with _LOCK:
        started = _STARTED.pop(step, None)
    if started is None:
        return None
    if started.inputs != inputs:
        started.outcome.cancel()  # one still held never runs
    started.released.set()  # the step needs it now, whatever it was held for
    started.thread.join()
    outcome = started.outcome
    if started.inputs != inputs or outcome.cancelled() or outcome.exception() is not None:
        return None
    return outcome.result()


def discard(step: str, *, wait: bool = True) -> None:
    """Forget ``step``'s early computation; ``wait``: for its thread to end, so that it
    does not run on into the next run (not when the process is being interrupted: the
    thread is a daemon)."""
    with _LOCK:
        started = _STARTED.pop(step, None)
    if started is None:
        return
    started.outcome.cancel()  # one still held never runs
    started.released.set()
    if wait:
        started.thread.join()
