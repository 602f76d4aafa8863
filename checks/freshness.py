"""Freshness SLIs: is the data recent, and is the model recent?

- ``data_staleness_seconds``: evaluation time minus the newest event timestamp of the
  snapshot. A day's snapshot is evaluated as of ``day + 1 day + evaluation_delay_hours``
  (the schedule's contract), capped at the wall clock, so a backfill judges each day as
  the daily run would have.
- ``model_age_days``: evaluation time minus the newest training timestamp.

``now`` is always a parameter: nothing here reads the clock.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import polars as pl

from checks.contract import Contract
from checks.sli import SliRow, slo_row

__all__ = [
    "evaluation_time",
    "freshness_sli_rows",
    "newest_timestamp",
    "scheduled_evaluation_time",
]

SECONDS_PER_DAY = 86_400.0


def scheduled_evaluation_time(contract: Contract, day: dt.date) -> dt.datetime:
    """When the daily run judges partition ``day`` (UTC): the end of the day plus
    ``schedule.evaluation_delay_hours``, in the contract's timezone. This is the data time
    of the partition's evidence, whenever a backfill actually ran it."""
    zone = ZoneInfo(contract.schedule.timezone)
    day_end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    scheduled = day_end + dt.timedelta(hours=contract.schedule.evaluation_delay_hours)
    return scheduled.astimezone(dt.UTC)


def evaluation_time(contract: Contract, day: dt.date, now: dt.datetime) -> dt.datetime:
    """When the partition ``day`` is judged: :func:`scheduled_evaluation_time`, never
    later than ``now`` (timezone-aware)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return min(scheduled_evaluation_time(contract, day), now).astimezone(dt.UTC)


def newest_timestamp(frame: pl.DataFrame, column: str) -> dt.datetime | None:
    """Largest non-null timestamp of ``column`` as an aware UTC datetime (naive = UTC)."""
    if column not in frame.schema or not isinstance(frame.schema[column], pl.Datetime):
        return None
    value = frame.select(pl.col(column).max()).item()
    if value is None:
        return None
    assert isinstance(value, dt.datetime)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def freshness_sli_rows(
    contract: Contract,
    frame: pl.DataFrame,
    *,
    as_of: dt.datetime,
    trained_until: dt.datetime | None,
) -> list[SliRow]:
    """``data_staleness_seconds`` of the snapshot and ``model_age_days`` of the model."""
    column = contract.sources.timestamp_column
    newest = newest_timestamp(frame, column)
    staleness = (as_of - newest).total_seconds() if newest is not None else None
    age = (as_of - trained_until).total_seconds() / SECONDS_PER_DAY if trained_until else None
    return [
        slo_row(
            contract,
            "data_staleness_seconds",
            "freshness",
            staleness,
            frame.height,
            feature=column,
            status="ok" if newest is not None else "error",
            detail=None if newest is not None else f"no usable timestamps in column {column}",
        ),
        slo_row(
            contract,
            "model_age_days",
            "freshness",
            age,
            frame.height,
            status="ok" if trained_until is not None else "error",
            detail=None if trained_until is not None else "training timestamp unknown",
        ),
    ]
