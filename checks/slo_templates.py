"""Default SLOs: the templates by model type, the targets by tier, the built-in SLOs.

One home for every default objective datasre applies when a contract is silent: the
templates ``slo_templates: true`` fills in (:func:`with_default_slos`), the objective a
quality SLI row is judged against without a declared SLO (:func:`default_objective`), and
the built-in SLOs in force for every model (:data:`BUILT_IN_TEMPLATES`, applied by
:mod:`checks.slo_in_force`). Objectives are in the SLI's unit (:mod:`checks.slo_catalog`);
targets are fractions of evaluated days.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from checks.slo_catalog import SLO_CATALOG, ModelType, Track
from checks.slo_spec import Slos, SloSpec

__all__ = [
    "BUILT_IN_TEMPLATES",
    "CLOCK_SKEW_SLI",
    "CLOCK_SKEW_TOLERANCE_SECONDS",
    "DEFAULT_OBJECTIVES",
    "TIER_TARGETS",
    "SloTemplate",
    "default_objective",
    "default_slos",
    "with_default_slos",
]


@dataclass(frozen=True)
class SloTemplate:
    """A default SLO: objective in the SLI's unit; which tiers it blocks deployment on."""

    sli: str
    objective: float
    blocking_tiers: frozenset[int] = frozenset()


#: Share of evaluated days that must be good, by tier (1 = most critical). Over a 28-day
#: window: tier 1 may spend 1.4 bad days, tier 2 2.8, tier 3 5.6.
TIER_TARGETS: Final[Mapping[int, float]] = {1: 0.95, 2: 0.9, 3: 0.8}

_COMMON_TEMPLATES: Final = (
    SloTemplate("completeness", 0.99, frozenset({1, 2})),
    # One day late is tolerated: a day's data evaluated the next morning is ~6 h old.
    SloTemplate("data_staleness_seconds", 36 * 3600.0, frozenset({1})),
    SloTemplate("latency_p99_ms", 100.0),
)
#: The regression ``rmse`` objective is in the *target's unit*: 0.15 only makes sense for
#: a target on a unit scale (a probability, a normalised score); a contract whose target is
#: in dollars or seconds must declare its own ``rmse`` SLO, or every day is a breach.
_TYPE_TEMPLATES: Final[Mapping[ModelType, tuple[SloTemplate, ...]]] = {
    ModelType.CLASSIFICATION: (
        SloTemplate("accuracy", 0.94, frozenset({1})),
        SloTemplate("confidence_p50", 0.8),
    ),
    ModelType.REGRESSION: (SloTemplate("rmse", 0.15, frozenset({1})),),
    ModelType.RANKING: (SloTemplate("ndcg", 0.8, frozenset({1})),),
}

#: The model-type templates' objectives, by type and SLI: what a quality SLI row is judged
#: against when the contract declares no SLO of that name (the row says "default
#: objective" in ``detail``).
DEFAULT_OBJECTIVES: Final[Mapping[ModelType, Mapping[str, float]]] = {
    model_type: {template.sli: template.objective for template in templates}
    for model_type, templates in _TYPE_TEMPLATES.items()
}


def default_objective(model_type: ModelType | str, sli: str) -> float | None:
    """The template objective of ``sli`` for that model type, or None without one."""
    return DEFAULT_OBJECTIVES[ModelType(model_type)].get(sli)


def default_slos(model_type: ModelType | str, tier: int = 2, *, window_days: int = 28) -> Slos:
    """The default SLOs of a model type and tier (objectives: accuracy 0.94, RMSE 0.15 in
    the target's unit, NDCG 0.8, completeness 0.99, staleness 36 h, p50 confidence 0.8,
    p99 latency 100 ms; target by tier from :data:`TIER_TARGETS`)."""
    if tier not in TIER_TARGETS:
        raise ValueError(f"tier must be one of {sorted(TIER_TARGETS)}, not {tier}")
    target = TIER_TARGETS[tier]
    infra: dict[str, SloSpec] = {}
    model: dict[str, SloSpec] = {}
    for template in (*_COMMON_TEMPLATES, *_TYPE_TEMPLATES[ModelType(model_type)]):
        spec = SloSpec(
            objective=template.objective, target=target, blocking=tier in template.blocking_tiers
        )
        track = SLO_CATALOG[template.sli].track
        (infra if track == Track.INFRA else model)[template.sli] = spec
    return Slos(window_days=window_days, infra=infra, model=model)


def with_default_slos(
    declared: Slos,
    model_type: ModelType | str,
    tier: int,
    *,
    measurable: Callable[[str], bool],
) -> Slos:
    """``declared`` with the default SLOs of the type and tier filled in; a declared SLO
    wins over the template of the same name, as does the declared window. Templates the
    model cannot measure (``measurable(name)`` false: no latency column, no labels) are
    left out: they would never be evaluated, so they are not promised."""
    defaults = default_slos(model_type, tier, window_days=declared.window_days)

    def kept(templates: Mapping[str, SloSpec]) -> dict[str, SloSpec]:
        return {name: spec for name, spec in templates.items() if measurable(name)}

    return Slos(
        window_days=declared.window_days,
        infra={**kept(defaults.infra), **declared.infra},
        model={**kept(defaults.model), **declared.model},
    )


#: The SLI of events later than their evaluation time (``checks.freshness``).
CLOCK_SKEW_SLI: Final = "clock_skew_seconds"
#: Seconds an event timestamp may lie after the evaluation time (clocks of producer and
#: scheduler disagree a little): beyond it the event is from the future.
CLOCK_SKEW_TOLERANCE_SECONDS: Final = 300.0

#: SLOs in force for every model that can measure them, whether its contract declares
#: them or not (a declared SLO of the same name wins). Each judges a check datasre always
#: runs: ``unseen_category_rate`` at 0 flags a category the training data never had on
#: the first day it appears (``slos.model.unseen_category_rate`` may tolerate more).
#: ``clock_skew_seconds`` at :data:`CLOCK_SKEW_TOLERANCE_SECONDS` blocks on every tier:
#: events from the future mean the producer's clock or time zone is wrong, so no
#: freshness or data-time judgement of that day can be trusted.
BUILT_IN_TEMPLATES: Final = (
    SloTemplate("unseen_category_rate", 0.0),
    SloTemplate(CLOCK_SKEW_SLI, CLOCK_SKEW_TOLERANCE_SECONDS, frozenset(TIER_TARGETS)),
)
