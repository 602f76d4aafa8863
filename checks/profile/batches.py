"""Building a sketch-only :class:`~checks.profile.BaselineProfile` from training data larger
than memory, batch by batch (parquet row groups), from mergeable parts.

Why: :func:`checks.profile.build_profile` reads one whole column at a time and keeps its
sorted values (what the exact engine compares against), so a training column must fit in
memory. Here no more than one column of one batch is ever held, plus a bounded sample:

* pass 1, per batch: the counts (values, nulls and NaN, ±inf), the sum and the sum of
  squared deviations of the finite values (merged with Chan et al.'s pairwise update),
  and a Bernoulli sample of the finite values at rate ``min(1, SAMPLE_VALUES / rows)``;
  categorical columns: their category counts (added up);
* the PSI cut points and the 4,097-point sketch grid are the quantiles of the sorted
  sample (:func:`checks.profile.build.grid_of`, :func:`checks.stats.psi.psi_cut_points`);
* pass 2, per batch: counts in the PSI bins, in the grid's cells and at its points,
  added up.

What it keeps: everything a profile holds except the sorted values and the KS anchor,
so it can serve the sketch engine only (``mode = "sketch"``). When a column has at most
:data:`SAMPLE_VALUES` finite values the sample is all of them and the profile equals the
whole build's (moments to float rounding); above that the cut points and the grid are
sample quantiles (each grid cell holds about 1/4,096 of the training data, give or take
the sampling noise), while every count stays exact over all rows. The sketch engine's
KS and Wasserstein bounds are computed from those exact cell counts, so they stay
guaranteed for any grid; PSI is exact on the sample's bins, which differ from the exact
quantile bins by the sampling noise (a bin's share is 1/B within about
``3 * sqrt(1/(B * SAMPLE_VALUES))``: 0.05 percentage points at B = 10).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import polars as pl

from checks.arrays import CountArray, FloatArray
from checks.profile.build import feature_section_hash, grid_of
from checks.profile.columns import (
    categorical_counts_and_missing,
    feature_columns,
    numeric_values,
)
from checks.profile.model import DEFAULT_BINS, BaselineProfile, CategoricalProfile, NumericProfile
from checks.profile.sketch import grid_bins
from checks.stats.psi import binned_counts, psi_cut_points

__all__ = ["SAMPLE_VALUES", "build_profile_in_batches"]

#: Finite values per numeric feature the quantiles (PSI cut points, sketch grid) come
#: from: 4M float64 values, 32 MB, sorted once per feature.
SAMPLE_VALUES: Final = 4_000_000

Batch = pl.DataFrame | pl.LazyFrame


@dataclass
class _Moments:
    """Counts and running moments of one numeric column over the batches seen so far."""

    n: int = 0
    n_missing: int = 0
    n_neg_inf: int = 0
    n_pos_inf: int = 0
    n_finite: int = 0
    mean: float = 0.0
    m2: float = 0.0  # sum of squared deviations from the mean

    def add(self, values: FloatArray, n_missing: int) -> None:
        """Merge one batch (Chan, Golub and LeVeque's pairwise update of mean and M2)."""
        self.n += values.shape[0]
        self.n_missing += n_missing
        self.n_neg_inf += int(np.count_nonzero(values == -np.inf))
        self.n_pos_inf += int(np.count_nonzero(values == np.inf))
        finite = values[np.isfinite(values)]
        k = finite.shape[0]
        if k == 0:
            return
        mean = float(np.mean(finite))
        m2 = float(np.sum(np.square(finite - mean)))
        total = self.n_finite + k
        delta = mean - self.mean
        self.mean += delta * k / total
        self.m2 += m2 + delta * delta * self.n_finite * k / total
        self.n_finite = total


def build_profile_in_batches(
    batches: Sequence[Batch],
    *,
    numeric: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    bins: int | Mapping[str, int] = DEFAULT_BINS,
    features: Mapping[str, Any] | None = None,
    sample_values: int = SAMPLE_VALUES,
    seed: int = 0,
) -> BaselineProfile:
    """A sketch-only profile of the training data stored as ``batches`` (disjoint parts,
    e.g. one lazy scan per row group), reading one column of one batch at a time.

    ``numeric``/``categorical``/``bins``/``features`` mean what they mean for
    :func:`checks.profile.build_profile`; ``sample_values`` bounds the quantile sample per
    numeric feature and ``seed`` makes it reproducible (the same batches give the same
    profile).
    """
    if not batches:
        raise ValueError("build_profile_in_batches needs at least one batch")
    numeric_cols, categorical_cols = feature_columns(batches[0], numeric, categorical)
    heights = [_height(batch) for batch in batches]
    rate = min(1.0, sample_values / max(1, sum(heights)))
    spec_hash = feature_section_hash(features or {})
    digest = hashlib.sha256(f"batches\0{spec_hash}".encode())
    nums: dict[str, NumericProfile] = {}
    for name in numeric_cols:
        b = bins.get(name, DEFAULT_BINS) if isinstance(bins, Mapping) else bins
        nums[name] = _numeric_profile(batches, name, b, rate, seed)
        p = nums[name]
        digest.update(f"\0numeric\0{name}\0{p.n}\0{p.n_missing}\0".encode())
        for array in (p.cuts, p.counts, p.grid, p.grid_counts, p.grid_atoms):
            digest.update(array.tobytes())
    cats: dict[str, CategoricalProfile] = {}
    for name in categorical_cols:
        counts, missing = _category_counts(batches, name)
        cats[name] = CategoricalProfile(
            n=int(counts.get_column("count").sum()),
            n_missing=missing,
            categories=tuple(counts.get_column("category").to_list()),
            counts=counts.get_column("count").to_numpy().astype(np.int64),
        )
        digest.update(f"\0categorical\0{name}\0{missing}\0".encode())
        digest.update(json.dumps(counts.rows()).encode())
    return BaselineProfile(
        numeric=nums,
        categorical=cats,
        content_hash=digest.hexdigest(),
        spec_hash=spec_hash,
        n_rows=sum(heights) if (numeric_cols or categorical_cols) else 0,
        mode="sketch",
    )


def _height(batch: Batch) -> int:
    if isinstance(batch, pl.DataFrame):
        return batch.height
    return int(batch.select(pl.len()).collect().item())


def _numeric_profile(
    batches: Sequence[Batch], name: str, bins: int, rate: float, seed: int
) -> NumericProfile:
    """Pass 1 (moments and sample), the quantiles of the sample, pass 2 (counts)."""
    moments = _Moments()
    samples: list[FloatArray] = []
    for index, batch in enumerate(batches):
        values, missing = numeric_values(batch, name)
        moments.add(values, missing)
        finite = values[np.isfinite(values)]
        if rate < 1.0:
            keep = np.random.default_rng([seed, index]).random(finite.shape[0]) < rate
            finite = finite[keep]
        samples.append(finite)
    sample = np.sort(np.concatenate(samples)) if samples else np.empty(0)
    del samples
    if sample.shape[0]:
        cuts = psi_cut_points(sample, bins, is_sorted=True)
        grid = grid_of(sample)
    else:
        cuts, grid = np.empty(0), np.empty(0)
    del sample
    counts: CountArray = np.zeros(cuts.shape[0] + 1, dtype=np.int64)
    grid_counts: CountArray = np.zeros(grid.shape[0] + 1, dtype=np.int64)
    grid_atoms: CountArray = np.zeros(grid.shape[0], dtype=np.int64)
    for batch in batches:
        values, _ = numeric_values(batch, name)
        counts += binned_counts(values, cuts)
        in_cells, at_points = grid_bins(values, grid)
        grid_counts += in_cells
        grid_atoms += at_points
    has_finite = moments.n_finite > 0
    return NumericProfile(
        n=moments.n,
        n_missing=moments.n_missing,
        n_neg_inf=moments.n_neg_inf,
        n_pos_inf=moments.n_pos_inf,
        mean=moments.mean if has_finite else float("nan"),
        std=float(np.sqrt(moments.m2 / moments.n_finite)) if has_finite else float("nan"),
        bins=bins,
        cuts=cuts,
        counts=counts,
        grid=grid,
        grid_counts=grid_counts,
        grid_atoms=grid_atoms,
    )


def _category_counts(batches: Sequence[Batch], name: str) -> tuple[pl.DataFrame, int]:
    """Category counts and nulls of one column, added up over the batches."""
    frames: list[pl.DataFrame] = []
    missing = 0
    for batch in batches:
        counts, nulls = categorical_counts_and_missing(batch, name)
        frames.append(counts)
        missing += nulls
    merged = (
        pl.concat(frames)
        .group_by("category")
        .agg(pl.col("count").sum().cast(pl.Int64))
        .sort("category")
    )
    return merged, missing
