"""Freshness SLIs: is the data recent, and is the model recent?

- ``data_staleness_seconds``: evaluation time minus the newest event timestamp of the
  snapshot. A day's snapshot is evaluated as of ``day + 1 day + evaluation_delay_hours``
  (the schedule's contract), capped at the wall clock, so a backfill judges each day as
  the daily run would have.
- ``clock_skew_seconds``: how far the newest event timestamp lies after the evaluation
  time (0 when none does). An event from the future is not fresh data: it is a producer
  clock or time-zone error, so it is its own breach (a built-in blocking SLO with
  objective :data:`CLOCK_SKEW_TOLERANCE_SECONDS`, see :mod:`checks.slo_templates`), and staleness
  is measured from the newest event not beyond that tolerance, never negative.
- ``model_age_days``: evaluation time minus the newest training timestamp.

``now`` is always a parameter: nothing here reads the clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final
from zoneinfo import ZoneInfo

import polars as pl

from checks.contract import Contract
from checks.scalars import ROWS, collect_scalars
from checks.sli import SliRow, slo_row
from checks.slo_in_force import built_in_slos
from checks.slo_templates import CLOCK_SKEW_SLI, CLOCK_SKEW_TOLERANCE_SECONDS

__all__ = [
    "CLOCK_SKEW_TOLERANCE_SECONDS",
    "FRESHNESS_MAXIMA",
    "clock_skew_limit_seconds",
    "day_end",
    "evaluation_time",
    "freshness_exprs",
    "freshness_sli_rows",
    "rows_from_freshness",
    "scheduled_evaluation_time",
]

SECONDS_PER_DAY = 86_400.0


def _local_day_end(timezone: str, day: dt.date) -> dt.datetime:
    """Midnight after ``day`` in ``timezone`` (aware, in that zone)."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=ZoneInfo(timezone))


def day_end(contract: Contract, day: dt.date, timezone: str | None = None) -> dt.datetime:
    """When partition ``day`` ends (UTC): midnight after it in ``timezone`` (default the
    contract's)."""
    return _local_day_end(timezone or contract.schedule.timezone, day).astimezone(dt.UTC)


def scheduled_evaluation_time(contract: Contract, day: dt.date) -> dt.datetime:
    """When the daily run judges partition ``day`` (UTC): the end of the day plus
    ``schedule.evaluation_delay_hours``, in the contract's timezone (wall-clock hours: a
    6 h delay is 06:00 local on a daylight-saving day too). This is the data time of the
    partition's evidence, whenever a backfill actually ran it."""
    schedule = contract.schedule
    return evaluation_time_under(schedule.timezone, schedule.evaluation_delay_hours, day)


def evaluation_time_under(timezone: str, delay_hours: float, day: dt.date) -> dt.datetime:
    """:func:`scheduled_evaluation_time` under a given schedule (e.g. the one a run
    recorded): the end of ``day`` in ``timezone`` plus ``delay_hours``, in UTC."""
    local = _local_day_end(timezone, day)
    return (local + dt.timedelta(hours=delay_hours)).astimezone(dt.UTC)


def evaluation_time(contract: Contract, day: dt.date, now: dt.datetime) -> dt.datetime:
    """When the partition ``day`` is judged: :func:`scheduled_evaluation_time`, never
    later than ``now`` (timezone-aware)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return min(scheduled_evaluation_time(contract, day), now).astimezone(dt.UTC)


def _utc(value: object) -> dt.datetime | None:
    if value is None:
        return None
    assert isinstance(value, dt.datetime)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _is_timestamp(schema: Mapping[str, pl.DataType], column: str) -> bool:
    return column in schema and isinstance(schema[column], pl.Datetime)


def _instant(schema: Mapping[str, pl.DataType], column: str, at: dt.datetime) -> pl.Expr:
    """``at`` as a literal comparable with the Datetime ``column`` (naive = UTC)."""
    dtype = schema[column]
    zone = dtype.time_zone if isinstance(dtype, pl.Datetime) else None
    utc = at.astimezone(dt.UTC)
    if zone is None:
        return pl.lit(utc.replace(tzinfo=None))
    return pl.lit(utc).dt.convert_time_zone(zone)


def _newest_expr(
    schema: Mapping[str, pl.DataType], column: str, not_after: dt.datetime | None
) -> pl.Expr:
    times = pl.col(column)
    if not_after is not None:
        times = times.filter(times <= _instant(schema, column, not_after))
    return times.max()


def clock_skew_limit_seconds(contract: Contract) -> float:
    """Seconds an event may lie after the evaluation time and still count as fresh: the
    ``clock_skew_seconds`` objective in force (declared, else the built-in one)."""
    spec = contract.slo(CLOCK_SKEW_SLI) or built_in_slos(contract).get(CLOCK_SKEW_SLI)
    return spec.objective if spec is not None else CLOCK_SKEW_TOLERANCE_SECONDS


_NEWEST_ANY: Final = "__fresh_newest_any"
_NEWEST: Final = "__fresh_newest"
_FUTURE: Final = "__fresh_future_rows"
#: The aggregates of :func:`freshness_exprs` that merge across batches by their maximum
#: (:func:`checks.scalars.merge_scalars`); the other one is a count.
FRESHNESS_MAXIMA: Final = frozenset({_NEWEST_ANY, _NEWEST})


def freshness_exprs(
    contract: Contract, schema: Mapping[str, pl.DataType], *, as_of: dt.datetime
) -> list[pl.Expr]:
    """Scalar aggregates (uniquely aliased) for the snapshot's one pass: the newest event
    timestamp, the newest one within the clock-skew limit, and the rows after ``as_of``.
    None when the timestamp column is missing or not a Datetime."""
    column = contract.sources.timestamp_column
    if not _is_timestamp(schema, column):
        return []
    limit = as_of + dt.timedelta(seconds=clock_skew_limit_seconds(contract))
    return [
        _newest_expr(schema, column, None).alias(_NEWEST_ANY),
        _newest_expr(schema, column, limit).alias(_NEWEST),
        (pl.col(column) > _instant(schema, column, as_of)).sum().alias(_FUTURE),
    ]


def freshness_sli_rows(
    contract: Contract,
    frame: pl.DataFrame | pl.LazyFrame,
    *,
    as_of: dt.datetime,
    trained_until: dt.datetime | None,
) -> list[SliRow]:
    """``data_staleness_seconds`` of the snapshot, ``model_age_days`` of the model and
    ``clock_skew_seconds`` of the snapshot, in that order (see the module docstring)."""
    lazy = frame.lazy()
    measured = collect_scalars(lazy, freshness_exprs(contract, lazy.collect_schema(), as_of=as_of))
    return rows_from_freshness(
        contract, int(measured[ROWS]), measured, as_of=as_of, trained_until=trained_until
    )


def rows_from_freshness(
    contract: Contract,
    n_rows: int,
    measured: Mapping[str, Any],
    *,
    as_of: dt.datetime,
    trained_until: dt.datetime | None,
) -> list[SliRow]:
    """The rows of :func:`freshness_sli_rows` from the values of :func:`freshness_exprs`
    (``measured``) over a snapshot of ``n_rows`` rows."""
    column = contract.sources.timestamp_column
    newest_any = _utc(measured.get(_NEWEST_ANY))
    limit = clock_skew_limit_seconds(contract)
    newest = _utc(measured.get(_NEWEST))
    staleness = max((as_of - newest).total_seconds(), 0.0) if newest is not None else None
    skew = max((newest_any - as_of).total_seconds(), 0.0) if newest_any is not None else None
    age = (as_of - trained_until).total_seconds() / SECONDS_PER_DAY if trained_until else None
    if newest is not None:
        stale_detail = None
    elif newest_any is not None:
        stale_detail = f"every timestamp in column {column} is after {as_of.isoformat()}"
    else:
        stale_detail = f"no usable timestamps in column {column}"
    skew_detail = None
    if skew is not None and skew > limit and newest_any is not None:
        skew_detail = (
            f"{int(measured[_FUTURE])} rows of column {column} are after the "
            f"evaluation time {as_of.isoformat()}, the newest {newest_any.isoformat()} "
            f"({skew / SECONDS_PER_DAY:.2f} days ahead): a producer clock or time-zone "
            "error; they are left out of data_staleness_seconds"
        )
    return [
        slo_row(
            contract,
            "data_staleness_seconds",
            "freshness",
            staleness,
            n_rows,
            feature=column,
            status="ok" if newest is not None else "error",
            detail=stale_detail,
        ),
        slo_row(
            contract,
            "model_age_days",
            "freshness",
            age,
            n_rows,
            status="ok" if trained_until is not None else "error",
            detail=None if trained_until is not None else "training timestamp unknown",
        ),
        slo_row(
            contract,
            CLOCK_SKEW_SLI,
            "freshness",
            skew,
            n_rows,
            feature=column,
            objective=limit,
            # No timestamps at all is data_staleness_seconds's error, not a second one.
            status="ok" if newest_any is not None else "skipped",
            detail=skew_detail if newest_any is not None else stale_detail,
        ),
    ]
