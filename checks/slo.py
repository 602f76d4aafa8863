"""SLOs over batch SLIs: the public face of the SLO arithmetic, one module per idea.

- :mod:`checks.slo_catalog`: the vocabulary (every SLO name, its track, comparator, unit);
- :mod:`checks.slo_templates`: default objectives, tier targets and the built-in SLOs;
- :mod:`checks.slo_in_force`: which SLOs judge a model (declared plus built-in);
- :mod:`checks.slo_evaluation`: each SLO's status per partition (good, bad, not evaluated);
- :mod:`checks.error_budget`: occurrence-based error budgets over rolling day windows;
- :mod:`checks.alert_policy`: burn-rate windows, thresholds and alert levels (the SQL
  views and the gate read the same policy).

Every share is a *fraction* in [0, 1], windows are counted in *days* of partitions and a
budget in *evaluations* (partition-days). Import from here or from the module itself.
"""

from __future__ import annotations

from checks.alert_policy import (
    DEFAULT_LONG_WINDOW_DAYS,
    DEFAULT_SHORT_WINDOW_DAYS,
    EPSILON,
    PAGE_BURN_RATE,
    TICKET_BURN_RATE,
    AlertLevel,
    AlertPolicy,
    alert_level,
    burn_rate,
)
from checks.contract import apply_slo_defaults
from checks.error_budget import (
    BudgetArithmetic,
    ErrorBudget,
    budget_arithmetic,
    error_budget_frame,
    error_budgets,
)
from checks.slo_evaluation import (
    DayStatus,
    SloDefinition,
    as_definitions,
    declared_definitions,
    evaluate_partitions,
)
from checks.slo_in_force import built_in_slos, slos_in_force
from checks.slo_templates import (
    BUILT_IN_TEMPLATES,
    CLOCK_SKEW_SLI,
    CLOCK_SKEW_TOLERANCE_SECONDS,
    TIER_TARGETS,
    SloTemplate,
    default_slos,
)

__all__ = [
    "BUILT_IN_TEMPLATES",
    "CLOCK_SKEW_SLI",
    "CLOCK_SKEW_TOLERANCE_SECONDS",
    "DEFAULT_LONG_WINDOW_DAYS",
    "DEFAULT_SHORT_WINDOW_DAYS",
    "EPSILON",
    "PAGE_BURN_RATE",
    "TICKET_BURN_RATE",
    "TIER_TARGETS",
    "AlertLevel",
    "AlertPolicy",
    "BudgetArithmetic",
    "DayStatus",
    "ErrorBudget",
    "SloDefinition",
    "SloTemplate",
    "alert_level",
    "apply_slo_defaults",
    "as_definitions",
    "budget_arithmetic",
    "built_in_slos",
    "burn_rate",
    "declared_definitions",
    "default_slos",
    "error_budget_frame",
    "error_budgets",
    "evaluate_partitions",
    "slos_in_force",
]
