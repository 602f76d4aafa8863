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


@pytest.fixture(autouse=True)
def _nothing_left() -> Iterator[None]:
    yield
    started_early.discard("step")
