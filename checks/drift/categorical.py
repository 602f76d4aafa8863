"""Categorical features (both engines): category counts joined over the union of
categories, then PSI, JS and the chi-square homogeneity test with JS as its effect."""

from __future__ import annotations

import numpy as np
import polars as pl

from checks.drift.binned import binned_rows
from checks.drift.methods import Binning
from checks.drift.rows import ColumnFacts, Row, Settings, measured, unmeasured
from checks.profile import BaselineProfile, CurrentSketch, categorical_counts_and_missing
from checks.stats.chi2 import chi2_homogeneity
from checks.stats.js import js_distance

__all__ = ["categorical_rows"]

Frame = pl.DataFrame | pl.LazyFrame


def categorical_rows(
    baseline: Frame | BaselineProfile,
    current: Frame | CurrentSketch,
    name: str,
    settings: Settings,
) -> list[Row]:
    """Rows of one categorical feature; categories compare as strings."""
    if isinstance(baseline, BaselineProfile):
        prof = baseline.categorical[name]
        base_frame = prof.frame()
        missing_a = prof.n_missing
    else:
        base_frame, missing_a = categorical_counts_and_missing(baseline, name)
    if isinstance(current, CurrentSketch):
        cur_frame = current.categories[name]
        missing_b = current.n_missing[name]
    else:
        cur_frame, missing_b = categorical_counts_and_missing(current, name)
    joined = (
        base_frame.join(cur_frame, on="category", how="full", coalesce=True, suffix="_current")
        .fill_null(0)
        .sort("category")
    )
    bc = joined.get_column("count").to_numpy().astype(np.int64)
    cc = joined.get_column("count_current").to_numpy().astype(np.int64)
    n1, n2 = int(bc.sum()), int(cc.sum())
    facts = ColumnFacts(name, "categorical", n1, n2, missing_a, missing_b)
    if min(n1, n2) == 0:
        side = "baseline" if n1 == 0 else "current"
        binning = Binning(settings.bins, None, categorical=True)
        return unmeasured(facts, settings, binning, f"no non-null values on the {side} side")
    unseen = int(np.count_nonzero(bc == 0))
    note = f"{unseen} categories unseen in the baseline" if unseen else None
    rows = binned_rows(facts, settings, bc, cc, categorical=True)
    if "chi2" in settings.methods:
        res = chi2_homogeneity(bc, cc)
        rows.append(
            measured(
                facts,
                "chi2",
                settings,
                Binning(settings.bins, bc.shape[0], categorical=True),
                statistic=res.statistic,
                effect=js_distance(bc, cc),
                p_value=res.pvalue,
                p_method=f"chi2 dof={res.dof}",
                detail=note,
            )
        )
    elif note:
        for row in rows:
            row.detail = note if row.detail is None else f"{row.detail}; {note}"
    return rows
