"""A computation started ahead of its step: taken once, for the same inputs, never a
failure's or another input's result."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from assets import started_early


def test_the_step_takes_the_result_once_waiting_for_it() -> None:
    release = threading.Event()

    def compute() -> int:
        release.wait(5)
        return 42

    started_early.start("step", ("a", 1), compute)
    threading.Timer(0.05, release.set).start()
    assert started_early.take("step", ("a", 1)) == 42
    assert started_early.take("step", ("a", 1)) is None  # taken once


def test_other_inputs_or_a_failure_leave_the_step_to_compute_itself() -> None:
    started_early.start("step", ("a", 1), lambda: 42)
    assert started_early.take("step", ("a", 2)) is None

    def broken() -> int:
        raise RuntimeError("boom")

    started_early.start("step", ("a", 1), broken)
    assert started_early.take("step", ("a", 1)) is None


def test_a_base_exception_in_the_thread_does_not_hang_take() -> None:
    def exits() -> int:
        raise SystemExit(3)

    started_early.start("step", (), exits)
    assert started_early.take("step", ()) is None


def test_discard_forgets_and_waits_for_the_thread() -> None:
    done = threading.Event()

    def compute() -> int:
        done.wait(0.1)
        done.set()
        return 1

    started_early.start("step", (), compute)
    started_early.discard("step")
    assert done.is_set()
    assert started_early.take("step", ()) is None
    started_early.discard("never started")  # nothing to do


def test_a_held_computation_waits_for_the_step_it_is_held_after() -> None:
    ran = threading.Event()

    def compute() -> int:
        ran.set()
        return 7

    started_early.start("step", (), compute, after="quality")
    started_early.ended("validation")  # another step's end does not release it
    assert not ran.wait(0.2)
    started_early.ended("quality")
    assert ran.wait(5)
    assert started_early.take("step", ()) == 7


def test_the_step_itself_releases_a_held_computation() -> None:
    # The step it was held after never ran (not in the run): take must not hang.
    started_early.start("step", (1,), lambda: 5, after="quality")
    assert started_early.take("step", (1,)) == 5


def test_a_held_computation_discarded_or_for_other_inputs_never_runs() -> None:
    ran = threading.Event()

    def compute() -> int:
        ran.set()
        return 1

    started_early.start("step", (1,), compute, after="quality")
    started_early.discard("step")
    started_early.start("step", (1,), compute, after="quality")
    assert started_early.take("step", (2,)) is None
    started_early.ended("quality")
    assert not ran.is_set()


@pytest.fixture(autouse=True)
def _nothing_left() -> Iterator[None]:
    yield
    started_early.discard("step")
