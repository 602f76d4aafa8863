"""A spy on the quality join: which snapshots each bucket's join was told have distinct
ids (and so skipped de-duplicating), for tests of :func:`checks.quality._count_day`."""

from __future__ import annotations

from typing import Any

import pytest

import checks.quality
import checks.quality_join

__all__ = ["distinct_ids_per_join"]


def distinct_ids_per_join(monkeypatch: pytest.MonkeyPatch) -> list[frozenset[str]]:
    """The ``distinct_ids`` of every :func:`checks.quality_join.join_day` call that
    :mod:`checks.quality` makes from now on (the test's monkeypatch undoes it), in order."""
    seen: list[frozenset[str]] = []
    join = checks.quality_join.join_day

    def recording_join(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("distinct_ids", frozenset()))
        return join(*args, **kwargs)

    monkeypatch.setattr(checks.quality, "join_day", recording_join)
    return seen
