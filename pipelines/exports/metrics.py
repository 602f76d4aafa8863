"""The Prometheus metric families datasre exports: names, help texts and label names.

One home for them: the exposition (:mod:`pipelines.exports.prometheus`), the alert rules
(:mod:`pipelines.exports.alert_rules`) and the OpenSLO indicators
(:mod:`pipelines.exports.openslo`) all name the series through these constants, so a
rule can never query a metric the export does not write.

Naming follows the Prometheus conventions: the ``datasre_`` prefix, base units in the
name (``_seconds``, ``_ratio`` for a fraction in [0, 1]), gauges only (every value is a
state of the newest evaluation, not a count since start). An SLI's own value keeps the
unit its name says (``data_staleness_seconds``, ``latency_p99_ms``, a fraction, an effect
size...), so ``datasre_sli_value`` is one family keyed by the ``sli`` label rather than one
family per unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = [
    "FAMILIES",
    "GATE_BLOCKING_REASONS",
    "GATE_EVIDENCE_BLOCKED",
    "GATE_READY",
    "LAST_COMPLETED_RUN",
    "MODEL_LABELS",
    "NEWEST_EVALUATION",
    "NEWEST_PARTITION",
    "SLI_LABELS",
    "SLI_OBJECTIVE",
    "SLI_OK",
    "SLI_VALUE",
    "SLO_BURN_RATE",
    "SLO_DAY_GOOD",
    "SLO_ERROR_BUDGET_REMAINING",
    "SLO_LABELS",
    "SLO_OK",
    "SLO_TARGET",
    "SLO_WAIVED",
    "WINDOW_LABEL",
    "Family",
    "window_label",
]


@dataclass(frozen=True)
class Family:
    """One metric family: its name, ``# HELP`` text and label names (in output order)."""

    name: str
    help: str
    labels: tuple[str, ...]


#: Labels of a model version's series.
MODEL_LABELS: Final = ("model", "version")
#: Labels of one SLI row (an empty value stands for "not applicable", e.g. no feature).
SLI_LABELS: Final = (*MODEL_LABELS, "track", "category", "sli", "feature", "slice", "method")
#: Labels of one SLO (named after the SLI it judges).
SLO_LABELS: Final = (*MODEL_LABELS, "track", "sli")
#: The burn-rate window, in days with a ``d`` suffix (``1d``, ``7d``).
WINDOW_LABEL: Final = "window"


def window_label(days: int) -> str:
    """The ``window`` label value of a burn-rate window of ``days`` days."""
    return f"{days}d"


SLI_VALUE: Final = Family(
    "datasre_sli_value",
    "Value of each SLI row of the newest partition (a label-fed SLI's: of its newest "
    "labelled day), in the unit its sli name says (a fraction, seconds, ms, an effect "
    "size...); no sample for a series that partition did not measure.",
    SLI_LABELS,
)
SLI_OBJECTIVE: Final = Family(
    "datasre_sli_objective",
    "Objective the SLI row is judged against, in the unit of datasre_sli_value.",
    SLI_LABELS,
)
SLI_OK: Final = Family(
    "datasre_sli_ok",
    "1 when the SLI row met its objective, 0 when it breached it (rows without an "
    "objective have no sample).",
    SLI_LABELS,
)
SLO_OK: Final = Family(
    "datasre_slo_ok",
    "1 when the SLO's state is ok; 0 when its budget is exhausted, its reference day is "
    "bad or its recent evidence is missing.",
    SLO_LABELS,
)
SLO_DAY_GOOD: Final = Family(
    "datasre_slo_day_good",
    "1 when the SLO's reference day (its newest evaluated partition) is good, 0 when it "
    "is bad; no sample when that day was not evaluated.",
    SLO_LABELS,
)
SLO_TARGET: Final = Family(
    "datasre_slo_target_ratio",
    "Share of evaluated days that must be good over the SLO window.",
    SLO_LABELS,
)
SLO_ERROR_BUDGET_REMAINING: Final = Family(
    "datasre_slo_error_budget_remaining_ratio",
    "Share of the error budget left over the SLO window (1 - bad days / allowed bad "
    "days); negative when overspent; no sample when the budget is 0.",
    SLO_LABELS,
)
SLO_BURN_RATE: Final = Family(
    "datasre_slo_burn_rate",
    "Error-budget burn rate over the window label's days: (bad / evaluated days) / "
    "(1 - target); 1 spends the budget exactly over the SLO window.",
    (*SLO_LABELS, WINDOW_LABEL),
)
SLO_WAIVED: Final = Family(
    "datasre_slo_waived",
    "1 while a waiver (datasre waive) in force at export time covers the SLO, else 0: "
    "its burn-rate alerts are quiet meanwhile.",
    SLO_LABELS,
)
GATE_READY: Final = Family(
    "datasre_gate_ready",
    "1 when the deployment gate finds the model version ready at export time, 0 when it blocks.",
    MODEL_LABELS,
)
GATE_BLOCKING_REASONS: Final = Family(
    "datasre_gate_blocking_reasons",
    "Number of reasons the deployment gate blocks the model version on (0 when ready).",
    MODEL_LABELS,
)
LAST_COMPLETED_RUN: Final = Family(
    "datasre_last_completed_run_timestamp_seconds",
    "Unix time the newest run that recorded evidence (succeeded or breached) finished.",
    MODEL_LABELS,
)
NEWEST_RUN_CRASHED: Final = Family(
    "datasre_newest_run_crashed",
    "1 when the newest run of the newest partition crashed before recording evidence "
    "(the deployment gate blocks on it: run_crashed), else 0.",
    MODEL_LABELS,
)
GATE_EVIDENCE_BLOCKED: Final = Family(
    "datasre_gate_evidence_blocked",
    "1 while the deployment gate blocks the model version on this reason about the "
    "evidence itself (reason: run_failed, contract_changed, run_before_day_end, "
    "days_missing, labels_overdue, evidence_missing, evidence_incomplete), else 0. Stale "
    "evidence and a crashed run have gauges of their own.",
    (*MODEL_LABELS, "reason"),
)
NEWEST_EVALUATION: Final = Family(
    "datasre_newest_evaluation_timestamp_seconds",
    "Unix time the newest partition whose inputs a run read was due for evaluation (its "
    "day's end plus the schedule's delay): time() minus it is the evidence's age, as the "
    "gate computes it; days that failed to be read or crashed, and backfills or "
    "restatements of older days, do not reset it.",
    MODEL_LABELS,
)
NEWEST_PARTITION: Final = Family(
    "datasre_newest_partition_timestamp_seconds",
    "Unix time of the start (00:00 UTC) of the newest partition with SLI rows.",
    MODEL_LABELS,
)

#: Every family, in exposition order.
FAMILIES: Final = (
    GATE_READY,
    GATE_BLOCKING_REASONS,
    LAST_COMPLETED_RUN,
    NEWEST_RUN_CRASHED,
    GATE_EVIDENCE_BLOCKED,
    NEWEST_EVALUATION,
    NEWEST_PARTITION,
    SLO_OK,
    SLO_DAY_GOOD,
    SLO_TARGET,
    SLO_ERROR_BUDGET_REMAINING,
    SLO_BURN_RATE,
    SLO_WAIVED,
    SLI_VALUE,
    SLI_OBJECTIVE,
    SLI_OK,
)
