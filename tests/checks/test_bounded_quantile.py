"""Quantiles found by narrowing (checks.bounded_quantile) equal a whole sort's: numpy's
default quantile, and polars' "linear" quantile bit for bit, whatever ``max_rows`` forces
(many narrowing passes down to a handful of values)."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checks.bounded_quantile import bounded_quantiles

QS = [0.0, 0.01, 0.5, 0.95, 0.99, 1.0]
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _same(got: list[float | None], want: list[float | None]) -> bool:
    """Equal value by value, a NaN equal to a NaN (-inf + inf, as polars also gives)."""
    return len(got) == len(want) and all(
        g == w or (g is not None and w is not None and math.isnan(g) and math.isnan(w))
        for g, w in zip(got, want, strict=True)
    )


def _polars(values: np.ndarray) -> list[float | None]:
    series = pl.Series(values, dtype=pl.Float64).fill_nan(None).drop_nulls()
    return [series.quantile(q, interpolation="linear") for q in QS]


@FAST
@given(
    st.lists(
        st.one_of(
            st.floats(allow_nan=True, allow_infinity=True),
            st.sampled_from([0.0, 1.0, 2.5, -3.0]),  # ties
        ),
        min_size=0,
        max_size=200,
    ),
    st.sampled_from([1, 3, 10, 10**9]),
)
def test_equal_polars_linear_quantile_bit_for_bit(values: list[float], max_rows: int) -> None:
    array = np.array(values, dtype=np.float64)
    n, got = bounded_quantiles(pl.LazyFrame({"v": array}), pl.col("v"), QS, max_rows)
    assert n == int(np.count_nonzero(~np.isnan(array)))
    assert _same(got, _polars(array))


@pytest.mark.parametrize(
    "values",
    [
        np.random.default_rng(1).lognormal(0.0, 3.0, 50_000),  # heavy tail: deep narrowing
        np.random.default_rng(2).integers(0, 7, 20_000).astype(np.float64),
        np.array([1.0] * 600 + [float(np.nextafter(1.0, 2.0))] * 500),  # neighbouring floats
        np.array([-1.7e308, 1.7e308, 0.0, 5.0] * 50),  # a range wider than the largest float
        np.array([0.0] * 150 + [2.2250738585072014e-308] * 150),  # a subnormal bucket width
    ],
    ids=["lognormal", "ties", "neighbours", "huge range", "tiny range"],
)
def test_equal_numpy_with_at_most_100_values_collected(values: np.ndarray) -> None:
    n, got = bounded_quantiles(pl.LazyFrame({"v": values}), pl.col("v"), QS, 100)
    assert n == values.size
    want = np.quantile(values, QS)
    assert None not in got
    assert np.allclose(np.array(got, dtype=np.float64), want, rtol=1e-12, atol=0)
    assert _same(got, _polars(values))


def test_no_values_give_none() -> None:
    frame = pl.LazyFrame({"v": [None, math.nan]}, schema={"v": pl.Float64})
    assert bounded_quantiles(frame, pl.col("v"), [0.5], 10) == (0, [None])
