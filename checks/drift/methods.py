"""What each drift method *is*: one registry entry per method, the single source from
which the engines, the rows, the defaults and the docs take their facts.

A method says which feature kinds it applies to, what its ``statistic`` column holds,
which effect size the drift rule judges (``effect``), the comparator under which the
effect *drifts* (the SLI objective is its negation), the default threshold (None: the
method reports and decides only when a contract gives one), whether it is a statistical
test (its p-value joins the run's Benjamini-Hochberg family), the log base of its
numbers, the fewest values on a side before it decides, and how its binning is described
(so numbers are comparable across tools).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

from checks.stats.psi import PSI_FLOOR
from checks.stats.wasserstein import STD_FLOOR

__all__ = [
    "ALPHA",
    "DEFAULT_METHODS",
    "DEFAULT_THRESHOLDS",
    "METHODS",
    "MIN_VALUES",
    "PSI_MIN_VALUES",
    "REGISTRY",
    "TESTS",
    "Binning",
    "DriftMethod",
    "Kind",
    "methods_for",
    "ok_comparator",
]

Kind = Literal["numeric", "categorical"]
Comparator = Literal[">", ">=", "<", "<="]

#: q-value below which a test counts as significant.
ALPHA: Final = 0.05
#: Fewer non-null values than this on either side: insufficient_data, no verdict.
MIN_VALUES: Final = 30
#: PSI decides only with at least this many values on both sides (below, it is noise:
#: with 10 bins its noise at 90 rows per side is about 0.2 by itself).
PSI_MIN_VALUES: Final = 1000


@dataclass(frozen=True)
class Binning:
    """What a row's binning description depends on: the B asked for, the cells it got
    (after ties, or categories; None when unknown), the feature kind and the engine."""

    bins: int
    cells: int | None
    categorical: bool = False
    sketch: bool = False


def _ties(b: Binning) -> str:
    return f" ({b.cells} after ties)" if b.cells is not None else ""


def _ecdf_source(b: Binning) -> str:
    return f"sketch grid of {b.cells} baseline quantiles" if b.sketch else "exact ECDFs"


_FLOOR = f"zero proportion -> {PSI_FLOOR:g}"


def _psi_binning(b: Binning) -> str:
    if b.categorical:
        return f"category union ({b.cells} categories); {_FLOOR}; ln"
    return f"quantile bins B={b.bins}{_ties(b)}, linear rule, right-closed; {_FLOOR}; ln"


def _js_binning(b: Binning) -> str:
    if b.categorical:
        return f"category union ({b.cells} categories); raw proportions; log2"
    return f"PSI bins B={b.bins}{_ties(b)}; raw proportions; log2"


def _chi2_binning(b: Binning) -> str:
    return f"2x{b.cells} contingency table, no continuity correction"


def _wasserstein_binning(b: Binning) -> str:
    return f"{_ecdf_source(b)}; / max(std(baseline), {STD_FLOOR:g}); finite values"


@dataclass(frozen=True)
class DriftMethod:
    """One drift method (see the module docstring for what each field decides)."""

    name: str
    kinds: frozenset[Kind]
    statistic: str
    effect: str
    default_threshold: float | None
    is_test: bool
    log_base: float | None
    binning: Callable[[Binning], str]
    default: bool
    comparator: Comparator = ">"
    min_decisive_values: int = MIN_VALUES


_NUMERIC: Final[frozenset[Kind]] = frozenset({"numeric"})
_CATEGORICAL: Final[frozenset[Kind]] = frozenset({"categorical"})
_BOTH: Final[frozenset[Kind]] = _NUMERIC | _CATEGORICAL

#: Every method the engine knows, in docs order.
REGISTRY: Final[Mapping[str, DriftMethod]] = {
    m.name: m
    for m in (
        DriftMethod(
            name="psi",
            kinds=_BOTH,
            statistic="population stability index",
            effect="psi",
            default_threshold=0.2,
            is_test=False,
            log_base=math.e,
            binning=_psi_binning,
            default=True,
            min_decisive_values=PSI_MIN_VALUES,
        ),
        DriftMethod(
            name="ks",
            kinds=_NUMERIC,
            statistic="two-sample Kolmogorov-Smirnov D",
            effect="ks_statistic",
            default_threshold=0.1,
            is_test=True,
            log_base=None,
            binning=_ecdf_source,
            default=True,
        ),
        DriftMethod(
            name="chi2",
            kinds=_CATEGORICAL,
            statistic="chi-square of the 2xK homogeneity table",
            effect="js_distance",
            default_threshold=0.1,
            is_test=True,
            log_base=None,
            binning=_chi2_binning,
            default=True,
        ),
        DriftMethod(
            name="js",
            kinds=_BOTH,
            statistic="Jensen-Shannon distance, base 2",
            effect="js_distance",
            default_threshold=None,
            is_test=False,
            log_base=2.0,
            binning=_js_binning,
            default=False,
        ),
        DriftMethod(
            name="wasserstein",
            kinds=_NUMERIC,
            statistic="Wasserstein distance / max(std(baseline), 0.001)",
            effect="wasserstein_normalised",
            default_threshold=None,
            is_test=False,
            log_base=None,
            binning=_wasserstein_binning,
            default=False,
        ),
    )
}

#: Every method the engine knows.
METHODS: Final = tuple(REGISTRY)
#: Methods docs/design.md runs by default.
DEFAULT_METHODS: Final = tuple(m.name for m in REGISTRY.values() if m.default)
#: Effect-size thresholds of the default rule (unitless); methods without one report.
DEFAULT_THRESHOLDS: Final[Mapping[str, float]] = {
    m.name: m.default_threshold for m in REGISTRY.values() if m.default_threshold is not None
}
#: Methods whose p-values join the Benjamini-Hochberg family.
TESTS: Final = frozenset(m.name for m in REGISTRY.values() if m.is_test)

_NEGATION: Final[Mapping[str, Comparator]] = {">": "<=", ">=": "<", "<": ">=", "<=": ">"}


def methods_for(kind: Kind) -> frozenset[str]:
    """Methods defined for a feature kind."""
    return frozenset(m.name for m in REGISTRY.values() if kind in m.kinds)


def ok_comparator(method: str) -> Comparator:
    """The SLI objective's comparator: a value is ok when it does not drift."""
    return _NEGATION[REGISTRY[method].comparator]
