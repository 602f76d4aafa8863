"""assets.prefetch: the next item is produced while the caller holds the current one."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from assets.prefetch import prefetched


def test_same_items_in_order_none_included() -> None:
    items = [3, None, "x", 0, None]
    assert list(prefetched(items)) == items
    assert list(prefetched([])) == []


def test_the_next_item_is_produced_while_the_current_one_is_held() -> None:
    asked_for_second = threading.Event()

    def source() -> Iterator[int]:
        yield 1
        asked_for_second.set()
        yield 2

    items = prefetched(source())
    assert next(items) == 1
    # Without the prefetch, nothing asks for the second item until next() is called again.
    assert asked_for_second.wait(timeout=30)
    assert list(items) == [2]


def test_an_error_of_the_source_is_raised_in_its_place() -> None:
    def source() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("row group 3 is corrupt")

    items = prefetched(source())
    assert [next(items), next(items)] == [1, 2]
    with pytest.raises(ValueError, match="row group 3"):
        next(items)


def test_closing_early_leaves_nothing_running() -> None:
    produced: list[int] = []

    def source() -> Iterator[int]:
        for i in range(100):
            produced.append(i)
            yield i

    items = prefetched(source())
    assert next(items) == 0
    items.close()
    assert produced == [0, 1]  # the one in flight, no more
    assert not [t for t in threading.enumerate() if t.name.startswith("prefetch")]
