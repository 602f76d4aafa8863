"""The sampling rule that bounds the multivariate SLIs' time and memory on big days.

A frame larger than the cap is replaced by a uniform random sample of ``cap`` rows drawn
without replacement with a fixed seed, so the same day gives the same rows (and the same
SLI value) on every re-run. The SLI row's ``n_rows`` is the sample size and its detail
says how many rows the day had.
"""

from __future__ import annotations

import polars as pl

__all__ = ["SAMPLE_SEED", "capped_sample"]

#: The seed of every multivariate sample: reproducible values on a re-run.
SAMPLE_SEED = 0


def capped_sample(frame: pl.DataFrame, cap: int, seed: int = SAMPLE_SEED) -> pl.DataFrame:
    """``frame`` itself when it has at most ``cap`` rows, else ``cap`` rows drawn uniformly
    without replacement (seeded). Row order of the sample is the frame's order."""
    if frame.height <= cap:
        return frame
    return (
        frame.with_row_index("__row")
        .sample(n=cap, seed=seed, shuffle=False)
        .sort("__row")
        .drop("__row")
    )
