"""Future event timestamps: staleness is never negative, clock skew is its own breach."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from checks.contract import Contract
from checks.freshness import freshness_sli_rows
from checks.sli import SliRow
from checks.slo import slos_in_force
from tests.fixtures import FIRST_DAY, contract_dict, make_features

#: checks.slo.TOLERANCE_SECONDS (written out: the tests must run, and fail, on
#: code that lacks it).
TOLERANCE_SECONDS = 300.0
AS_OF = dt.datetime.combine(FIRST_DAY + dt.timedelta(days=1), dt.time(6), tzinfo=dt.UTC)


@pytest.fixture
def contract() -> Contract:
    return Contract.model_validate(contract_dict())


def by_sli(rows: list[SliRow]) -> dict[str, SliRow]:
    return {row.sli: row for row in rows}


def shifted(frame: pl.DataFrame, delta: dt.timedelta) -> pl.DataFrame:
    return frame.with_columns(pl.col("event_ts") + delta)


def test_events_thirty_days_ahead_are_a_blocking_clock_skew_breach_not_fresh_data(
    contract: Contract,
) -> None:
    # The case: every event 30 days after the evaluation time.
    frame = shifted(make_features(200, FIRST_DAY), dt.timedelta(days=30))
    rows = by_sli(freshness_sli_rows(contract, frame, as_of=AS_OF, trained_until=None))
    skew, staleness = rows["clock_skew_seconds"], rows["data_staleness_seconds"]
    assert skew.value is not None and skew.value > 29 * 86_400
    assert (skew.objective, skew.comparator, skew.ok, skew.blocking) == (
        TOLERANCE_SECONDS,
        "<=",
        False,
        True,
    )
    assert skew.detail is not None
    assert "200 rows of column event_ts are after the evaluation time" in skew.detail
    assert "clock or time-zone error" in skew.detail
    # No event is at or before the evaluation time: staleness cannot be measured, and
    # is never the negative number it used to be (-2,570,116 s, judged ok).
    assert (staleness.value, staleness.status, staleness.ok) == (None, "error", False)
    assert staleness.detail == f"every timestamp in column event_ts is after {AS_OF.isoformat()}"


def test_a_few_future_rows_are_left_out_of_staleness_and_breach_clock_skew(
    contract: Contract,
) -> None:
    frame = make_features(300, FIRST_DAY)
    newest_real = frame["event_ts"].max()
    assert isinstance(newest_real, dt.datetime)
    future = shifted(frame.head(3), dt.timedelta(days=40))
    rows = by_sli(
        freshness_sli_rows(contract, pl.concat([frame, future]), as_of=AS_OF, trained_until=None)
    )
    assert rows["data_staleness_seconds"].value == (AS_OF - newest_real).total_seconds()
    assert rows["data_staleness_seconds"].ok is True
    assert rows["clock_skew_seconds"].ok is False
    assert "3 rows" in (rows["clock_skew_seconds"].detail or "")


def test_events_within_the_tolerance_are_fresh_with_staleness_zero_never_negative(
    contract: Contract,
) -> None:
    ahead = dt.timedelta(seconds=TOLERANCE_SECONDS - 60)
    frame = pl.DataFrame({"event_ts": [AS_OF - dt.timedelta(hours=1), AS_OF + ahead]})
    rows = by_sli(freshness_sli_rows(contract, frame, as_of=AS_OF, trained_until=None))
    assert (rows["data_staleness_seconds"].value, rows["data_staleness_seconds"].ok) == (0.0, True)
    skew = rows["clock_skew_seconds"]
    assert (skew.value, skew.ok, skew.detail) == (ahead.total_seconds(), True, None)


def test_naive_timestamps_are_utc_and_past_data_has_no_skew(contract: Contract) -> None:
    naive = pl.DataFrame({"event_ts": [dt.datetime(2026, 3, 2, 23, 0)]})
    rows = by_sli(freshness_sli_rows(contract, naive, as_of=AS_OF, trained_until=None))
    assert rows["data_staleness_seconds"].value == 7 * 3600.0
    assert (rows["clock_skew_seconds"].value, rows["clock_skew_seconds"].ok) == (0.0, True)


def test_a_declared_clock_skew_slo_wins_over_the_built_in_one() -> None:
    body = contract_dict()
    body["slos"]["model"]["clock_skew_seconds"] = {"objective": 7200, "blocking": False}
    contract = Contract.model_validate(body)
    assert slos_in_force(contract).model["clock_skew_seconds"].objective == 7200
    frame = pl.DataFrame({"event_ts": [AS_OF + dt.timedelta(hours=1)]}).with_columns(
        pl.col("event_ts").dt.replace_time_zone("UTC")
    )
    rows = by_sli(freshness_sli_rows(contract, frame, as_of=AS_OF, trained_until=None))
    assert (rows["clock_skew_seconds"].ok, rows["clock_skew_seconds"].blocking) == (True, False)
    # Within the declared tolerance the hour-ahead event counts as fresh.
    assert rows["data_staleness_seconds"].value == 0.0


def test_the_built_in_clock_skew_slo_blocks_on_every_tier(contract: Contract) -> None:
    from checks.slo import CLOCK_SKEW_TOLERANCE_SECONDS

    assert CLOCK_SKEW_TOLERANCE_SECONDS == TOLERANCE_SECONDS
    for tier in (1, 2, 3):
        spec = slos_in_force(contract.model_copy(update={"tier": tier})).model
        assert spec["clock_skew_seconds"].blocking is True
        assert spec["clock_skew_seconds"].objective == TOLERANCE_SECONDS
