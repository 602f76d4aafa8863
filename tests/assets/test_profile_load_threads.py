"""A stored profile's sorted values load from many threads at once without error.

numpy parses each ``.npy`` header with ``ast.literal_eval``; on Python 3.11 two threads
building AST objects at once can raise ``SystemError: AST constructor recursion depth
mismatch`` (a drift step failed so on a loaded machine). Here four threads load the
values 4,000 times each while cyclic garbage with a finaliser that yields the GIL makes
thread switches inside the parse likely: without the store's lock this raised on every
one of three tries (1-4 errors in 16,000 loads); with it, never.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from assets.baseline_store import load_profile, save_profile
from checks.profile import build_profile

LOADS_PER_THREAD = 4_000


class _YieldsWhenCollected:
    """Garbage whose finaliser lets another thread run (as a collected memmap may)."""

    me: object

    def __del__(self) -> None:
        time.sleep(0)


@pytest.fixture
def frequent_collection() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(50)
    yield
    gc.set_threshold(*before)


def test_four_threads_load_sorted_values_16000_times_without_error(
    tmp_path: Path, frequent_collection: None
) -> None:
    rng = np.random.default_rng(3)
    frame = pl.DataFrame({f"x{i}": rng.normal(size=500) for i in range(4)})
    save_profile(build_profile(frame.lazy()), tmp_path / "profile")
    profile = load_profile(tmp_path / "profile")
    errors: list[str] = []

    def load_many(name: str) -> None:
        for _ in range(LOADS_PER_THREAD):
            garbage = _YieldsWhenCollected()
            garbage.me = garbage
            del garbage
            try:
                values = profile.numeric[name].sorted_values()
            except SystemError as exc:
                errors.append(str(exc))
                continue
            assert values is not None and values.shape == (500,)

    threads = [threading.Thread(target=load_many, args=(name,)) for name in frame.columns]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
