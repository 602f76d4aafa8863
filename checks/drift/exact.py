"""The exact engine for numeric features: whole columns (or a profile's stored sorted
values) in, PSI/JS/KS/Wasserstein rows out, every statistic equal to scipy's.

Infinite values (a deliberate choice, tested): ``±inf`` count as non-null values and are
kept as the most extreme values for KS (exactly as ``scipy.stats.ks_2samp`` orders them)
and for PSI/JS (they fall in the open end bins); they are excluded from the PSI cut points
(numpy's interpolation would make them NaN), from Wasserstein and from the baseline
standard deviation (moments of infinite values are undefined). Rows report how many were
excluded in ``detail``.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from checks.arrays import FloatArray
from checks.drift.binned import binned_rows
from checks.drift.methods import Binning
from checks.drift.rows import ColumnFacts, Row, Settings, measured, unmeasured
from checks.errors import InputError
from checks.profile import BaselineProfile, NumericProfile, numeric_values
from checks.stats.ecdf import BucketedPair, SortedBaselinePair, compare_ecdfs
from checks.stats.ks import ks_pvalue
from checks.stats.psi import binned_counts, psi_cut_points
from checks.stats.wasserstein import normalised_wasserstein

__all__ = ["exact_numeric_rows"]

Frame = pl.DataFrame | pl.LazyFrame


def exact_numeric_rows(
    baseline: Frame | BaselineProfile, current: Frame, name: str, settings: Settings
) -> list[Row]:
    """Rows of one numeric feature from the whole current column and the baseline's
    column or its profile's stored sorted values."""
    b_values, missing_b = numeric_values(current, name)
    profile: NumericProfile | None = None
    if isinstance(baseline, BaselineProfile):
        profile = baseline.numeric[name]
        a_sorted = profile.sorted_values()
        if a_sorted is None:
            raise InputError(
                f"baseline: column {name!r}: the profile is sketch-only; pass a CurrentSketch"
            )
        a_values: FloatArray = a_sorted
        missing_a = profile.n_missing
    else:
        a_values, missing_a = numeric_values(baseline, name)
    n1, n2 = a_values.shape[0], b_values.shape[0]
    facts = ColumnFacts(name, "numeric", n1, n2, missing_a, missing_b)
    methods = settings.methods
    if min(n1, n2) == 0:
        side = "baseline" if n1 == 0 else "current"
        return unmeasured(
            facts, settings, Binning(settings.bins, None), f"no non-null values on the {side} side"
        )
    rows: list[Row] = []
    pair: BucketedPair | SortedBaselinePair | None = None
    if profile is None:
        pair = BucketedPair(a_values, b_values)
    elif "ks" in methods:
        # Stored values are sorted: bucket counts by binary search, no pass over them.
        pair = SortedBaselinePair(a_values, b_values, anchor=profile.ks_anchor())
    if "psi" in methods or "js" in methods:
        if profile is not None:
            got = profile.cuts_for(settings.bins)
            assert got is not None  # exact profiles can always recompute cut points
            cuts, base_counts = got
        else:
            assert isinstance(pair, BucketedPair)
            finite_a = pair.fa
            cuts = (
                psi_cut_points(
                    finite_a, settings.bins, order_statistic=pair.finite_order_statistics
                )
                if finite_a.shape[0]
                else np.empty(0)
            )
            base_counts = binned_counts(a_values, cuts)
        cur_counts = binned_counts(b_values, cuts)
        rows += binned_rows(facts, settings, base_counts, cur_counts, categorical=False)
    exact = Binning(settings.bins, None)
    if "ks" in methods:
        assert pair is not None
        d, p, p_method = ks_pvalue(pair.ks_statistic(), n1, n2)
        rows.append(
            measured(facts, "ks", settings, exact, statistic=d, p_value=p, p_method=p_method)
        )
    if "wasserstein" in methods:
        rows.append(_wasserstein_row(facts, settings, a_values, b_values, profile))
    return rows


def _wasserstein_row(
    facts: ColumnFacts,
    settings: Settings,
    a_values: FloatArray,
    b_values: FloatArray,
    profile: NumericProfile | None,
) -> Row:
    """Wasserstein over the finite values, normalised by the baseline's standard
    deviation (ddof 0, floored); no statistic when a side has no finite value or a
    number overflows, with the reason in ``detail``."""
    cmp = compare_ecdfs(a_values, b_values, a_sorted=profile is not None)
    inf_note = None
    if cmp.n_inf_a or cmp.n_inf_b:
        inf_note = (
            f"{cmp.n_inf_a} baseline and {cmp.n_inf_b} current infinite values "
            "excluded from Wasserstein"
        )
    if profile is not None:
        std = profile.std
    else:
        finite_a = a_values[np.isfinite(a_values)]
        std = float(np.std(finite_a)) if finite_a.shape[0] else float("nan")
    w = (
        normalised_wasserstein(cmp.wasserstein, std)
        if math.isfinite(cmp.wasserstein) and math.isfinite(std)
        else None
    )
    return measured(
        facts,
        "wasserstein",
        settings,
        Binning(settings.bins, None),
        statistic=w,
        detail=inf_note if w is not None else _wasserstein_missing(cmp.wasserstein, std),
    )


def _wasserstein_missing(distance: float, std: float) -> str:
    """Why a Wasserstein row has no statistic: NaN means a side had no finite value,
    inf that the distance or the baseline's standard deviation overflowed float64."""
    if math.isnan(distance) or math.isnan(std):
        return "no finite values on one side (infinite values only)"
    return "the distance or the baseline standard deviation overflows float64"
