"""The drift result row: one builder, the drift rule with Benjamini-Hochberg, the frame.

Every engine describes a measurement with :func:`measured` (or :func:`unmeasured` when a
side has no values); the method's registry entry (:mod:`checks.drift.methods`) supplies
the threshold, the binning text, the effect name, the comparator and the log base, so no
engine repeats them. :func:`decide` then applies the rule to all rows of a call at once:

* the p-values of the tests (KS, chi2) with data form one BH family;
* a row drifts when its effect exceeds its threshold and, for a test, q < :data:`ALPHA`;
* no verdict (``drifted`` null) without data, without a threshold, or below the method's
  fewest decisive values (PSI: 1,000 per side).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

import polars as pl

from checks.drift.methods import ALPHA, MIN_VALUES, REGISTRY, TESTS, Binning, Kind
from checks.stats.multitest import bh_qvalues

__all__ = [
    "DRIFT_SCHEMA",
    "ColumnFacts",
    "Row",
    "Settings",
    "decide",
    "is_significant",
    "measured",
    "rows_frame",
    "unmeasured",
]

#: Output columns of :func:`checks.drift.compute_drift`, in order.
DRIFT_SCHEMA: Final[Mapping[str, pl.DataType]] = {
    "feature": pl.String(),
    "kind": pl.String(),
    "method": pl.String(),
    "statistic": pl.Float64(),
    "p_value": pl.Float64(),
    "q_value": pl.Float64(),
    "significant": pl.Boolean(),
    "effect": pl.Float64(),
    "effect_name": pl.String(),
    "threshold": pl.Float64(),
    "comparator": pl.String(),
    "alpha": pl.Float64(),
    "drifted": pl.Boolean(),
    "status": pl.String(),
    "n_baseline": pl.Int64(),
    "n_current": pl.Int64(),
    "n_missing_baseline": pl.Int64(),
    "n_missing_current": pl.Int64(),
    "p_method": pl.String(),
    "binning": pl.String(),
    "log_base": pl.Float64(),
    "error_bound": pl.Float64(),
    "detail": pl.String(),
}

_COMPARE: Final[Mapping[str, Callable[[float, float], bool]]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


@dataclass(frozen=True)
class Settings:
    """One feature's drift settings: methods, effect thresholds by method, PSI bins B."""

    methods: tuple[str, ...]
    thresholds: Mapping[str, float]
    bins: int


@dataclass(frozen=True)
class ColumnFacts:
    """What every row of one feature shares: its name and kind, the non-null values on
    each side and the nulls (and NaN) dropped from each."""

    feature: str
    kind: Kind
    n_baseline: int
    n_current: int
    n_missing_baseline: int
    n_missing_current: int

    @property
    def status(self) -> str:
        """``ok``, or ``insufficient_data`` below :data:`MIN_VALUES` on a side."""
        return "ok" if min(self.n_baseline, self.n_current) >= MIN_VALUES else "insufficient_data"


@dataclass
class Row:
    """One feature and method; ``q_value`` and ``drifted`` are set by :func:`decide`."""

    facts: ColumnFacts
    method: str
    statistic: float | None
    effect: float | None
    binning: str
    threshold: float | None
    status: str
    p_value: float | None = None
    p_method: str | None = None
    error_bound: float | None = None
    detail: str | None = None
    q_value: float | None = None
    drifted: bool | None = None
    significant: bool | None = field(default=None)


def measured(
    facts: ColumnFacts,
    method: str,
    settings: Settings,
    binning: Binning,
    *,
    statistic: float | None,
    effect: float | None = None,
    p_value: float | None = None,
    p_method: str | None = None,
    error_bound: float | None = None,
    detail: str | None = None,
) -> Row:
    """A row for a measurement; ``effect`` defaults to ``statistic`` (methods whose
    statistic is their effect size). Below the method's fewest decisive values the row
    reports without deciding (:func:`decide`), and says so when it has data."""
    return Row(
        facts=facts,
        method=method,
        statistic=statistic,
        effect=statistic if effect is None else effect,
        binning=REGISTRY[method].binning(binning),
        threshold=_threshold(method, settings),
        status=facts.status,
        p_value=p_value,
        p_method=p_method,
        error_bound=error_bound,
        detail=detail,
    )


def unmeasured(facts: ColumnFacts, settings: Settings, binning: Binning, detail: str) -> list[Row]:
    """One ``insufficient_data`` row per method when a side has no value at all."""
    return [
        Row(
            facts=facts,
            method=m,
            statistic=None,
            effect=None,
            binning=REGISTRY[m].binning(binning),
            threshold=_threshold(m, settings),
            status="insufficient_data",
            detail=detail,
        )
        for m in settings.methods
    ]


def _threshold(method: str, settings: Settings) -> float | None:
    value = settings.thresholds.get(method)
    return None if value is None else float(value)


def _decides(row: Row) -> bool:
    facts = row.facts
    return min(facts.n_baseline, facts.n_current) >= REGISTRY[row.method].min_decisive_values


def is_significant(q_value: float | None, alpha: float = ALPHA) -> bool:
    """Whether a test's q-value rejects "no change" at ``alpha`` (a missing q does not)."""
    return q_value is not None and q_value < alpha


def decide(rows: Sequence[Row]) -> None:
    """BH q-values over the KS and chi2 rows with data, then each row's rule."""
    family = [r for r in rows if r.method in TESTS and r.status == "ok" and r.p_value is not None]
    q = bh_qvalues([r.p_value for r in family if r.p_value is not None])
    for row, qv in zip(family, q, strict=True):
        row.q_value = float(qv)
    for row in rows:
        if row.method in TESTS and row.status == "ok":
            row.significant = is_significant(row.q_value)
        if row.status != "ok" or row.effect is None or row.threshold is None or not _decides(row):
            row.drifted = None
            continue
        fired = _COMPARE[REGISTRY[row.method].comparator](row.effect, row.threshold)
        if row.method in TESTS:
            fired = fired and bool(row.significant)
        row.drifted = bool(fired)


def rows_frame(rows: Sequence[Row]) -> pl.DataFrame:
    """Rows as a frame with :data:`DRIFT_SCHEMA`, sorted by feature then method."""
    records = [
        {
            "feature": r.facts.feature,
            "kind": r.facts.kind,
            "method": r.method,
            "statistic": r.statistic,
            "p_value": r.p_value,
            "q_value": r.q_value,
            "significant": r.significant,
            "effect": r.effect,
            "effect_name": REGISTRY[r.method].effect,
            "threshold": r.threshold,
            "comparator": REGISTRY[r.method].comparator,
            "alpha": ALPHA if r.method in TESTS else None,
            "drifted": r.drifted,
            "status": r.status,
            "n_baseline": r.facts.n_baseline,
            "n_current": r.facts.n_current,
            "n_missing_baseline": r.facts.n_missing_baseline,
            "n_missing_current": r.facts.n_missing_current,
            "p_method": r.p_method,
            "binning": r.binning,
            "log_base": REGISTRY[r.method].log_base,
            "error_bound": r.error_bound,
            "detail": r.detail,
        }
        for r in rows
    ]
    frame = pl.DataFrame(records, schema=dict(DRIFT_SCHEMA))
    return frame.sort(["feature", "method"])
