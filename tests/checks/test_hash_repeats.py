"""HashRepeats counts distinct 64-bit hashes exactly, kept whole or through its bitmap and
second pass; numpy's ``unique`` over all the hashes is the reference."""

from __future__ import annotations

import numpy as np
import pytest

from checks.hash_repeats import HashRepeats


def _hashes(n: int, n_repeats: int, seed: int) -> np.ndarray:
    """``n`` random 64-bit hashes, ``n_repeats`` of them copies of earlier or later ones
    (some repeated several times, some inside one batch)."""
    rng = np.random.default_rng(seed)
    hashes = rng.integers(0, np.iinfo(np.uint64).max, n, dtype=np.uint64, endpoint=True)
    targets = rng.integers(0, n, n_repeats)
    sources = rng.integers(0, n, n_repeats)
    hashes[targets] = hashes[sources]
    return hashes


def _count(hashes: np.ndarray, batch: int, **memory: int) -> tuple[int, bool]:
    counter = HashRepeats(hashes.shape[0], **memory)
    for start in range(0, hashes.shape[0], batch):
        counter.add(hashes[start : start + batch])
    second = counter.needs_second_pass
    if second:
        for start in range(0, hashes.shape[0], batch):
            counter.recount(hashes[start : start + batch])
    return counter.n_distinct(), second


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n_repeats", [0, 1, 37, 5_000])
@pytest.mark.parametrize(
    ("memory", "second_pass"),
    [
        ({}, False),  # small: the hashes are kept
        ({"keep_max_rows": 0}, True),  # the bitmap, ~1/10 false candidates
        ({"keep_max_rows": 0, "bits_per_row": 1}, True),  # a crowded bitmap
    ],
)
def test_the_distinct_count_equals_numpy_unique(
    seed: int, n_repeats: int, memory: dict[str, int], second_pass: bool
) -> None:
    hashes = _hashes(50_000, n_repeats, seed)
    assert _count(hashes, 4_096, **memory) == (np.unique(hashes).shape[0], second_pass)


def test_a_repeat_inside_one_batch_is_found_by_the_bitmap() -> None:
    hashes = np.arange(1, 1_001, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    hashes[500] = hashes[499]
    assert _count(hashes, 1_000, keep_max_rows=0)[0] == 999


def test_without_the_second_pass_there_is_no_count() -> None:
    hashes = _hashes(10_000, 10, seed=0)
    counter = HashRepeats(hashes.shape[0], keep_max_rows=0)
    counter.add(hashes)
    assert counter.needs_second_pass
    with pytest.raises(ValueError, match="second pass"):
        counter.n_distinct()


def test_fewer_hashes_than_announced_is_an_error() -> None:
    counter = HashRepeats(10)
    counter.add(np.arange(9, dtype=np.uint64))
    with pytest.raises(ValueError, match="saw 9"):
        counter.n_distinct()
