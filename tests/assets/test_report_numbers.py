"""How the HTML report writes numbers and times (found by a new user: a staleness
objective of 129600 s read ``1.296e+05``, and times carried microseconds)."""

from __future__ import annotations

import datetime as dt

import pytest

from assets.report.html import _moment, _num


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (129600.0, "129,600"),
        (0.94, "0.94"),
        (0.123456, "0.1235"),
        (2500.0, "2500"),
        (1.5e-7, "1.5e-07"),
        (float("nan"), "NaN"),
        (None, "–"),
    ],
)
def test_numbers_read_in_full_not_in_exponent_form(value: float | None, shown: str) -> None:
    assert _num(value) == shown


def test_times_read_to_the_second_in_utc() -> None:
    moment = dt.datetime(2026, 11, 15, 13, 4, 5, 123456, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert _moment(moment) == "2026-11-15T12:04:05Z"
