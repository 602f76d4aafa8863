"""The sketch engine for numeric features: a profile and a :class:`CurrentSketch`
(mergeable per-file counts) in, rows out.

PSI and JS are exact (the same bins); KS and Wasserstein come from the profile's quantile
grid (4,096 levels) and every such row carries a guaranteed ``error_bound``: the true KS
statistic lies in ``[statistic, statistic + error_bound]`` (at most the baseline share
plus the current share of one grid cell, ~2.5e-4 for continuous data), and the true
normalised Wasserstein distance within ``statistic ± error_bound``
(:func:`checks.stats.sketch_ecdf.sketch_ecdf_bounds`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import polars as pl

from checks.drift.binned import binned_rows
from checks.drift.methods import Binning
from checks.drift.rows import ColumnFacts, Row, Settings, measured, unmeasured
from checks.errors import InputError
from checks.profile import (
    BaselineProfile,
    CurrentSketch,
    NumericProfile,
    merge_sketches,
    sketch_current,
)
from checks.stats.ks import ks_pvalue
from checks.stats.sketch_ecdf import GridSide, sketch_ecdf_bounds
from checks.stats.wasserstein import STD_FLOOR, normalised_wasserstein

__all__ = ["sketch_feature", "sketch_numeric_rows"]


def sketch_numeric_rows(
    profile: NumericProfile, sketch: CurrentSketch, name: str, settings: Settings
) -> list[Row]:
    """Rows of one numeric feature in sketch mode."""
    n1, n2 = profile.n, sketch.n[name]
    facts = ColumnFacts(name, "numeric", n1, n2, profile.n_missing, sketch.n_missing[name])
    methods = settings.methods
    if min(n1, n2) == 0:
        binning = Binning(settings.bins, None, sketch=True)
        return unmeasured(facts, settings, binning, "no non-null values on one side")
    if settings.bins != profile.bins and ("psi" in methods or "js" in methods):
        raise InputError(
            f"baseline: column {name!r}: sketch profile was built for bins={profile.bins}, "
            f"not {settings.bins}"
        )
    rows = binned_rows(facts, settings, profile.counts, sketch.psi_counts[name], categorical=False)
    if "ks" not in methods and "wasserstein" not in methods:
        return rows
    base = GridSide(
        n1, profile.grid_counts, profile.grid_atoms, profile.n_neg_inf, profile.n_pos_inf
    )
    cur = GridSide(
        n2,
        sketch.grid_counts[name],
        sketch.grid_atoms[name],
        sketch.n_neg_inf[name],
        sketch.n_pos_inf[name],
        sketch.below_sum[name] + sketch.above_sum[name],
    )
    bounds = sketch_ecdf_bounds(profile.grid, base, cur)
    grid = Binning(settings.bins, len(profile.grid), sketch=True)
    if "ks" in methods:
        d, p, p_method = ks_pvalue(bounds.ks_lower, n1, n2)
        rows.append(
            measured(
                facts,
                "ks",
                settings,
                grid,
                statistic=d,
                p_value=p,
                p_method=p_method,
                error_bound=bounds.ks_width,
                detail=f"sketch: the exact statistic lies in [{d:.6g}, {d + bounds.ks_width:.6g}]",
            )
        )
    if "wasserstein" in methods:
        std = profile.std
        ok = math.isfinite(bounds.wasserstein) and math.isfinite(std)
        w = normalised_wasserstein(bounds.wasserstein, std) if ok else None
        half = bounds.wasserstein_half_width / max(std, STD_FLOOR) if ok else None
        detail = (
            f"sketch: the exact distance lies in [{w - half:.6g}, {w + half:.6g}]"
            if w is not None and half is not None
            else None
        )
        rows.append(
            measured(
                facts, "wasserstein", settings, grid, statistic=w, error_bound=half, detail=detail
            )
        )
    return rows


def sketch_feature(
    profile: BaselineProfile, parts: Sequence[pl.LazyFrame], name: str
) -> CurrentSketch:
    """One feature's sketch over every part of a snapshot, merged in order (so no more
    than one column of one part is in memory)."""
    return merge_sketches(sketch_current(profile, part, [name]) for part in parts)
