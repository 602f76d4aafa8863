"""Building a :class:`~checks.profile.BaselineProfile` from training data, one column at a
time, with the content hashes that key a stored profile."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import polars as pl

from checks.arrays import FloatArray
from checks.profile.columns import (
    categorical_counts_and_missing,
    column_height,
    feature_columns,
    numeric_values,
)
from checks.profile.model import (
    DEFAULT_BINS,
    SKETCH_LEVELS,
    BaselineProfile,
    CategoricalProfile,
    NumericProfile,
    sorted_counts,
)
from checks.stats.ecdf import ks_anchor
from checks.stats.psi import linear_quantiles, psi_cut_points

__all__ = ["build_profile", "feature_section_hash", "grid_of", "numeric_profile"]


def grid_of(finite_sorted: FloatArray) -> FloatArray:
    levels = np.linspace(0.0, 1.0, SKETCH_LEVELS + 1)
    return np.unique(linear_quantiles(lambda k: finite_sorted[k], finite_sorted.shape[0], levels))


def numeric_profile(
    values: FloatArray, n_missing: int, bins: int, *, keep_values: bool = True
) -> NumericProfile:
    """Profile of one numeric column from its non-null, non-NaN values (any order)."""
    ordered = np.sort(values)
    n = ordered.shape[0]
    neg = int(np.searchsorted(ordered, -np.inf, side="right"))
    pos = n - int(np.searchsorted(ordered, np.inf, side="left"))
    finite = ordered[neg : n - pos]
    if finite.shape[0]:
        mean, std = float(np.mean(finite)), float(np.std(finite))
        cuts = psi_cut_points(finite, bins, is_sorted=True)
        grid = grid_of(finite)
    else:
        mean, std = float("nan"), float("nan")
        cuts = np.empty(0)
        grid = np.empty(0)
    return NumericProfile(
        n=n,
        n_missing=n_missing,
        n_neg_inf=neg,
        n_pos_inf=pos,
        mean=mean,
        std=std,
        bins=bins,
        cuts=cuts,
        counts=sorted_counts(ordered, cuts),
        grid=grid,
        grid_counts=sorted_counts(ordered, grid),
        grid_atoms=(
            np.searchsorted(ordered, grid, side="right")
            - np.searchsorted(ordered, grid, side="left")
        ).astype(np.int64),
        values=ordered if keep_values else None,
        anchor=ks_anchor(finite) if keep_values else None,
    )


def feature_section_hash(features: Mapping[str, Any]) -> str:
    """sha256 of a contract's feature section (pydantic models or plain mappings)."""
    plain = {
        name: (spec.model_dump(mode="json") if hasattr(spec, "model_dump") else spec)
        for name, spec in sorted(features.items())
    }
    return hashlib.sha256(json.dumps(plain, sort_keys=True, default=str).encode()).hexdigest()


def build_profile(
    baseline: pl.DataFrame | pl.LazyFrame,
    *,
    numeric: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    bins: int | Mapping[str, int] = DEFAULT_BINS,
    features: Mapping[str, Any] | None = None,
    keep_values: bool = True,
) -> BaselineProfile:
    """Build a baseline profile from training data, one column at a time.

    Parameters
    ----------
    baseline : DataFrame or LazyFrame
        The training data (a ``scan_parquet`` LazyFrame reads one column at a time).
    numeric, categorical : sequence of str, optional
        Feature columns; when both are None they are detected from the dtypes.
    bins : int or mapping
        PSI bins, one B for all or per feature (missing features get DEFAULT_BINS).
    features : mapping, optional
        The contract's feature section, hashed into ``content_hash``.
    keep_values : bool
        Keep the sorted values (exact mode); False gives a small sketch-only profile.
    """
    numeric_cols, categorical_cols = feature_columns(baseline, numeric, categorical)
    spec_hash = feature_section_hash(features or {})
    digest = hashlib.sha256(spec_hash.encode())
    nums: dict[str, NumericProfile] = {}
    for name in numeric_cols:
        values, missing = numeric_values(baseline, name)
        b = bins.get(name, DEFAULT_BINS) if isinstance(bins, Mapping) else bins
        prof = numeric_profile(values, missing, b, keep_values=True)
        digest.update(f"\0numeric\0{name}\0{missing}\0".encode())
        assert prof.values is not None
        digest.update(prof.values.tobytes())
        nums[name] = prof if keep_values else replace(prof, values=None)
    cats: dict[str, CategoricalProfile] = {}
    for name in categorical_cols:
        counts, missing = categorical_counts_and_missing(baseline, name)
        total = int(counts.get_column("count").sum())
        cats[name] = CategoricalProfile(
            n=total,
            n_missing=missing,
            categories=tuple(counts.get_column("category").to_list()),
            counts=counts.get_column("count").to_numpy().astype(np.int64),
        )
        digest.update(f"\0categorical\0{name}\0{missing}\0".encode())
        digest.update(json.dumps(counts.rows()).encode())
    n_rows = (
        column_height(baseline, (numeric_cols + categorical_cols)[0])
        if (numeric_cols or categorical_cols)
        else 0
    )
    return BaselineProfile(
        numeric=nums,
        categorical=cats,
        content_hash=digest.hexdigest(),
        spec_hash=spec_hash,
        n_rows=n_rows,
        mode="exact" if keep_values else "sketch",
    )
