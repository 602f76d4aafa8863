"""Which days' snapshots are due: a day is *expected* once its evaluation time has passed.

A partition (day D) is evaluated at D + 1 day + ``schedule.evaluation_delay_hours`` in the
contract's timezone (:func:`checks.freshness.evaluation_time`, the one home of that
rule). From then on its snapshot should be there; if it is not, that is an incident of
day D (a failed ingest), not a reason to quietly judge the day before. ``datasre run
--latest`` runs the newest expected day and the sensor requests expected days that never
got a file, so a missing snapshot is recorded as a breach of its own day.

``now`` is always a parameter: nothing here reads the clock.
"""

from __future__ import annotations

import datetime as dt
from typing import Final
from zoneinfo import ZoneInfo

from checks.contract import Contract
from checks.freshness import evaluation_time

__all__ = ["evaluated_at", "expected_days", "newest_expected_day"]

#: A clock beyond any evaluation time: :func:`evaluation_time` caps at ``now``.
_END_OF_TIME: Final = dt.datetime.max.replace(tzinfo=dt.UTC)


def evaluated_at(contract: Contract, day: dt.date) -> dt.datetime:
    """When ``day`` is due (UTC): end of the day plus the evaluation delay, uncapped."""
    return evaluation_time(contract, day, _END_OF_TIME)


def newest_expected_day(contract: Contract, now: dt.datetime) -> dt.date | None:
    """The newest day whose evaluation time is at or before ``now`` (timezone-aware), or
    None when no day since ``sources.start_date`` is due yet."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    day = now.astimezone(ZoneInfo(contract.schedule.timezone)).date()
    # The delay is at most 30 days: this steps back at most ~32 days, never per row.
    while day >= contract.sources.start_date and evaluated_at(contract, day) > now:
        day -= dt.timedelta(days=1)
    return day if day >= contract.sources.start_date else None


def expected_days(contract: Contract, now: dt.datetime, *, lookback_days: int) -> list[dt.date]:
    """Due days (oldest first) among the ``lookback_days`` ending at the newest due day,
    none before ``sources.start_date``."""
    newest = newest_expected_day(contract, now)
    if newest is None or lookback_days < 1:
        return []
    first = max(contract.sources.start_date, newest - dt.timedelta(days=lookback_days - 1))
    return [first + dt.timedelta(days=i) for i in range((newest - first).days + 1)]
