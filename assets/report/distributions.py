"""Baseline vs current distribution of one feature, for the report's drift pictures.

Pure (no I/O): the baseline side comes from the stored profile
(:class:`checks.profile.BaselineProfile`), never from the training data again; the
current side from the partition's snapshot column. Two views per numeric feature:

- the **PSI bins** (the profile's right-closed quantile bins, ``len(cuts) + 1`` of them):
  the shares PSI itself compares, so the bars show why PSI fired;
- the **ECDF** at the profile's sketch-grid points (quantiles of the baseline): the
  baseline's curve is exact at those points (``cumsum(grid_counts) / n``) and the current
  one is evaluated at the same points, so the widest vertical gap is KS's statistic up to
  the grid's resolution. :data:`ECDF_POINTS` of the grid are kept (every k-th point, both
  ends included): a few hundred numbers per chart instead of 4,097.

Categorical features: each category's share of non-null values on both sides; a current
category the baseline never saw is flagged ``new`` (shown highlighted). Shares are
fractions in [0, 1].
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import polars as pl

from checks.profile import CategoricalProfile, NumericProfile, categorical_counts_and_missing
from checks.stats.psi import binned_counts

__all__ = [
    "ECDF_POINTS",
    "MAX_CATEGORIES",
    "TAIL",
    "CategoricalDistribution",
    "NumericDistribution",
    "categorical_distribution",
    "numeric_distribution",
]

FloatArray = npt.NDArray[np.float64]

#: Grid points kept for an ECDF chart (about; the ends are always kept).
ECDF_POINTS: Final = 129
#: Share of each tail left out of the ECDF chart's x range (the gap is over all points).
TAIL: Final = 0.005
#: Categories drawn per chart: the largest by baseline or current share; new categories
#: are always drawn. The rest are summed into one "(other N)" bar.
MAX_CATEGORIES: Final = 20


@dataclass(frozen=True)
class NumericDistribution:
    """A numeric feature on both sides: PSI-bin shares and ECDFs.

    ``bin_labels[i]`` names bin i (``"<= 1.2"``, ``"(1.2, 3.4]"``, ``"> 9.9"``);
    ``baseline_share``/``current_share`` are the fractions of non-null values in each bin
    (each sums to 1, or is all zero for an empty side). ``ecdf_x`` are baseline quantiles;
    ``baseline_ecdf``/``current_ecdf`` the fraction of values ``<= x``. ``n_*`` count the
    non-null values, ``missing_*`` the nulls and NaN dropped before.
    """

    feature: str
    bin_labels: tuple[str, ...]
    baseline_share: FloatArray
    current_share: FloatArray
    ecdf_x: FloatArray
    baseline_ecdf: FloatArray
    current_ecdf: FloatArray
    n_baseline: int
    n_current: int
    missing_baseline: int
    missing_current: int
    #: The ECDF chart's x range: from the lower to the upper :data:`TAIL` quantile of
    #: both sides, so one extreme value does not squash both curves into a corner.
    x_range: tuple[float, float] = (0.0, 1.0)

    @property
    def max_ecdf_gap(self) -> float:
        """Largest |baseline - current| ECDF difference at the kept grid points."""
        if self.ecdf_x.shape[0] == 0:
            return float("nan")
        return float(np.max(np.abs(self.baseline_ecdf - self.current_ecdf)))


@dataclass(frozen=True)
class CategoricalDistribution:
    """A categorical feature on both sides; ``new[i]``: category i is absent from the
    baseline. Shares are of non-null values; ``other_*`` sums the categories not drawn."""

    feature: str
    categories: tuple[str, ...]
    baseline_share: FloatArray
    current_share: FloatArray
    new: tuple[bool, ...]
    n_baseline: int
    n_current: int
    missing_baseline: int
    missing_current: int
    other_categories: int = 0
    other_baseline_share: float = 0.0
    other_current_share: float = 0.0


def _shares(counts: npt.NDArray[np.int64]) -> FloatArray:
    total = int(counts.sum())
    if total == 0:
        return np.zeros(counts.shape[0], dtype=np.float64)
    return np.asarray(counts, dtype=np.float64) / total


def _bin_labels(cuts: FloatArray) -> tuple[str, ...]:
    if cuts.shape[0] == 0:
        return ("all values",)
    text = [f"{c:.4g}" for c in cuts.tolist()]
    middle = [f"({lo}, {hi}]" for lo, hi in itertools.pairwise(text)]
    return (f"<= {text[0]}", *middle, f"> {text[-1]}")


def _thinned(n: int) -> npt.NDArray[np.int64]:
    """Indices of about :data:`ECDF_POINTS` of ``n`` grid points, both ends included."""
    if n <= ECDF_POINTS:
        return np.arange(n, dtype=np.int64)
    return np.unique(np.linspace(0, n - 1, ECDF_POINTS).round().astype(np.int64))


def numeric_distribution(
    feature: str, baseline: NumericProfile, current: FloatArray, missing_current: int
) -> NumericDistribution:
    """Compare a numeric feature's stored baseline with the current values.

    ``current`` are the non-null, non-NaN values of the partition (any order);
    ``missing_current`` how many nulls and NaN were dropped.
    """
    ordered = np.sort(np.asarray(current, dtype=np.float64))
    current_counts = binned_counts(ordered, baseline.cuts)
    grid = np.asarray(baseline.grid, dtype=np.float64)
    keep = _thinned(grid.shape[0])
    # grid_counts are right-closed bins of the grid: the first k + 1 of them hold the
    # baseline values <= grid[k].
    at_most = np.cumsum(np.asarray(baseline.grid_counts, dtype=np.int64))[: grid.shape[0]]
    baseline_ecdf = at_most / baseline.n if baseline.n else np.zeros(grid.shape[0])
    current_ecdf = (
        np.searchsorted(ordered, grid, side="right") / ordered.shape[0]
        if ordered.shape[0]
        else np.zeros(grid.shape[0])
    )
    ends = [float(grid[0]), float(grid[-1])] if grid.shape[0] else [0.0, 1.0]
    if grid.shape[0]:
        ends = [
            float(x)
            for x in grid[
                np.searchsorted(baseline_ecdf, [TAIL, 1 - TAIL]).clip(0, grid.shape[0] - 1)
            ]
        ]
    if ordered.shape[0]:
        low, high = (
            np.quantile(ordered[np.isfinite(ordered)], [TAIL, 1 - TAIL])
            if np.isfinite(ordered).any()
            else ends
        )
        ends = [min(ends[0], float(low)), max(ends[1], float(high))]
    return NumericDistribution(
        feature=feature,
        bin_labels=_bin_labels(np.asarray(baseline.cuts, dtype=np.float64)),
        baseline_share=_shares(np.asarray(baseline.counts, dtype=np.int64)),
        current_share=_shares(current_counts),
        ecdf_x=grid[keep],
        baseline_ecdf=np.asarray(baseline_ecdf, dtype=np.float64)[keep],
        current_ecdf=np.asarray(current_ecdf, dtype=np.float64)[keep],
        n_baseline=baseline.n,
        n_current=int(ordered.shape[0]),
        missing_baseline=baseline.n_missing,
        missing_current=missing_current,
        x_range=(ends[0], ends[1]),
    )


def categorical_distribution(
    feature: str, baseline: CategoricalProfile, current: pl.DataFrame | pl.LazyFrame
) -> CategoricalDistribution:
    """Compare a categorical feature's stored category counts with the current column
    ``feature`` of ``current`` (categories compared as strings, as drift does)."""
    counts, missing = categorical_counts_and_missing(current, feature)
    base = pl.DataFrame(
        {"category": list(baseline.categories), "baseline": baseline.counts},
        schema={"category": pl.String, "baseline": pl.Int64},
    )
    both = (
        base.join(counts.rename({"count": "current"}), on="category", how="full", coalesce=True)
        .with_columns(
            pl.col("baseline").is_null().alias("new"),
            pl.col("baseline").fill_null(0),
            pl.col("current").fill_null(0),
        )
        .with_columns(
            (pl.col("baseline") / pl.col("baseline").sum().clip(lower_bound=1)).alias("b_share"),
            (pl.col("current") / pl.col("current").sum().clip(lower_bound=1)).alias("c_share"),
        )
        .with_columns(pl.max_horizontal("b_share", "c_share").alias("weight"))
        .sort(["new", "weight", "category"], descending=[True, True, False])
    )
    drawn = both.with_row_index("rank").filter(pl.col("new") | (pl.col("rank") < MAX_CATEGORIES))
    rest = both.join(drawn.select("category"), on="category", how="anti")
    drawn = drawn.sort(["new", "b_share", "category"], descending=[False, True, False])
    return CategoricalDistribution(
        feature=feature,
        categories=tuple(drawn.get_column("category").to_list()),
        baseline_share=drawn.get_column("b_share").to_numpy().astype(np.float64),
        current_share=drawn.get_column("c_share").to_numpy().astype(np.float64),
        new=tuple(bool(x) for x in drawn.get_column("new").to_list()),
        n_baseline=baseline.n,
        n_current=int(counts.get_column("count").sum()),
        missing_baseline=baseline.n_missing,
        missing_current=missing,
        other_categories=rest.height,
        other_baseline_share=float(rest.get_column("b_share").sum()),
        other_current_share=float(rest.get_column("c_share").sum()),
    )
