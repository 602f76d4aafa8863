"""Due days: a day is expected once day + 1 + evaluation_delay_hours (contract timezone)
has passed."""

from __future__ import annotations

import datetime as dt

from checks.contract import Contract
from checks.expected_days import evaluated_at, expected_days, newest_expected_day
from tests.fixtures import minimal_contract

UTC = dt.UTC


def contract_with(**schedule: object) -> Contract:
    return minimal_contract(features={"x": {"dtype": "Float64"}}, schedule=schedule)


def test_a_day_is_due_at_end_of_day_plus_the_delay_in_the_contract_timezone() -> None:
    contract = contract_with(timezone="America/New_York", evaluation_delay_hours=6)
    # 2026-03-08 is the DST switch in New York: 2026-03-09 00:00 EDT is 04:00 UTC.
    assert evaluated_at(contract, dt.date(2026, 3, 8)) == dt.datetime(2026, 3, 9, 10, tzinfo=UTC)
    assert newest_expected_day(contract, dt.datetime(2026, 3, 9, 9, 59, tzinfo=UTC)) == dt.date(
        2026, 3, 7
    )
    assert newest_expected_day(contract, dt.datetime(2026, 3, 9, 10, tzinfo=UTC)) == dt.date(
        2026, 3, 8
    )


def test_nothing_is_due_before_the_first_evaluation_and_the_lookback_is_bounded() -> None:
    contract = contract_with(evaluation_delay_hours=30)  # start 2026-01-01
    assert newest_expected_day(contract, dt.datetime(2026, 1, 3, 5, tzinfo=UTC)) is None
    now = dt.datetime(2026, 1, 3, 6, tzinfo=UTC)
    assert newest_expected_day(contract, now) == dt.date(2026, 1, 1)
    later = dt.datetime(2026, 1, 20, 12, tzinfo=UTC)
    assert expected_days(contract, later, lookback_days=3) == [
        dt.date(2026, 1, 16),
        dt.date(2026, 1, 17),
        dt.date(2026, 1, 18),
    ]
    assert expected_days(contract, now, lookback_days=28) == [dt.date(2026, 1, 1)]
