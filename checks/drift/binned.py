"""PSI and JS rows from aligned counts (numeric bins or the category union), shared by
the exact and the sketch engines and by categorical features."""

from __future__ import annotations

from checks.arrays import CountArray
from checks.drift.methods import PSI_MIN_VALUES, Binning
from checks.drift.rows import ColumnFacts, Row, Settings, measured
from checks.stats.js import js_distance
from checks.stats.psi import psi_from_counts

__all__ = ["binned_rows"]


def binned_rows(
    facts: ColumnFacts,
    settings: Settings,
    base_counts: CountArray,
    cur_counts: CountArray,
    *,
    categorical: bool,
) -> list[Row]:
    """The PSI and JS rows ``settings`` asks for, from counts aligned cell by cell."""
    rows: list[Row] = []
    binning = Binning(settings.bins, base_counts.shape[0], categorical=categorical)
    if "psi" in settings.methods:
        small = min(facts.n_baseline, facts.n_current) < PSI_MIN_VALUES
        note = (
            f"fewer than {PSI_MIN_VALUES} values on a side: reported, not decided"
            if small and facts.status == "ok"
            else None
        )
        psi = psi_from_counts(base_counts, cur_counts).statistic
        rows.append(measured(facts, "psi", settings, binning, statistic=psi, detail=note))
    if "js" in settings.methods:
        js = js_distance(base_counts, cur_counts)
        rows.append(measured(facts, "js", settings, binning, statistic=js))
    return rows
