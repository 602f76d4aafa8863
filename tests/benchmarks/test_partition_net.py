"""The partition benchmark's cost net of a run's fixed cost, by hand."""

from __future__ import annotations

import pytest

from benchmarks.partition import FIXED_ROWS, net_of_fixed


def test_net_of_fixed_takes_off_the_fixed_run_and_its_rows() -> None:
    net_s, net_us = net_of_fixed(9.8, 3.5, 5_000_000 + FIXED_ROWS)
    assert net_s == pytest.approx(6.3)
    assert net_us == pytest.approx(6.3 / 5_000_000 * 1e6)  # 1.26 µs a row


def test_a_job_quicker_than_the_fixed_run_has_no_net_cost() -> None:
    assert net_of_fixed(3.4, 3.5, 1_000_000) == (0.0, 0.0)
