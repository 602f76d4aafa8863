"""The Prometheus text exposition of datasre's state, for node_exporter's textfile
collector (``--collector.textfile.directory``): pure text, no I/O.

What one model version shows (families and units in :mod:`pipelines.exports.metrics`):
the gate's readiness at export time, the newest completed run and partition, per SLO its
state, reference-day status, target, remaining error budget and burn rates over the alert
policy's two windows, and per SLI row its newest value, objective and verdict. The SLO
numbers are the gate's own (:func:`checks.gate.decide` computes them with
:func:`checks.slo.error_budgets`), so the alert rules page on exactly what the gate reads.

The textfile collector does not accept timestamps, so a sample carries none: each scrape
shows the state of the newest export. Label values are escaped by
:func:`pipelines.escape.prometheus_label` (backslash, double quote, newline); every other
character, tabs and control characters included, is legal inside the quotes.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import polars as pl

from checks.contract import Contract
from checks.freshness import scheduled_evaluation_time
from checks.gate_checks import (
    CONTRACT_CHANGED_REASON,
    CRASHED_REASON,
    EARLY_RUN_REASON,
    EVIDENCE_MISSING_REASON,
    EVIDENCE_RUN_STATUSES,
    FAILED_REASON,
    INCOMPLETE_EVIDENCE_REASON,
    LABELS_OVERDUE_REASON,
    MISSING_DAYS_REASON,
)
from checks.gate_verdict import Severity, Verdict
from checks.slo import AlertPolicy, DayStatus, ErrorBudget
from checks.slo_catalog import SLO_CATALOG
from pipelines.escape import prometheus_label
from pipelines.exports import metrics
from pipelines.exports.metrics import Family

__all__ = [
    "EVIDENCE_REASONS",
    "SLI_SERIES_KEY",
    "ModelState",
    "exposition",
    "model_state",
    "newest_sli_rows",
]

#: Columns that tell one SLI series from another within a model version.
SLI_SERIES_KEY: Final = ("track", "category", "sli", "feature", "slice", "method")


@dataclass(frozen=True)
class ModelState:
    """What the export shows of one model version (see the module docstring).

    ``slis`` holds the newest row with a value of each SLI series
    (:func:`newest_sli_rows`); ``budgets`` the gate's error budgets.
    """

    model: str
    version: str
    ready: bool
    blocking_reasons: int
    budgets: tuple[ErrorBudget, ...]
    slis: pl.DataFrame
    last_completed_run: dt.datetime | None
    newest_partition: dt.date | None
    #: When the newest partition a run read (not failed, not crashed) was due for
    #: evaluation: the gate's evidence age is measured from it.
    newest_evaluation: dt.datetime | None = None
    newest_run_crashed: bool = False
    #: The :data:`EVIDENCE_REASONS` the gate blocks on.
    evidence_blocked: frozenset[str] = frozenset()
    #: SLOs a waiver in force at the decision covers (their burn alerts are quiet).
    waived: frozenset[str] = frozenset()


#: Gate reasons about the evidence itself that :data:`metrics.GATE_EVIDENCE_BLOCKED` shows
#: (stale evidence and a crashed run have gauges and alerts of their own).
EVIDENCE_REASONS: Final = (
    FAILED_REASON,
    CONTRACT_CHANGED_REASON,
    EARLY_RUN_REASON,
    MISSING_DAYS_REASON,
    LABELS_OVERDUE_REASON,
    EVIDENCE_MISSING_REASON,
    INCOMPLETE_EVIDENCE_REASON,
)


def newest_sli_rows(slis: pl.DataFrame, newest: str | None = None) -> pl.DataFrame:
    """Each SLI series' row of the newest partition (``newest``, ``YYYY-MM-DD``; default
    the newest in ``slis``), where it has a value.

    Label-fed SLIs (accuracy...) have no value on the newest partitions while labels are
    on their way: their newest value is the one of their newest labelled day. Any other
    series the newest partition did not measure (its features could not be read, its run
    crashed) has no row: its last value, of an older day, read as today's "ok" on a day
    with no evidence (found by review).
    """
    measured = slis.filter(pl.col("value").is_not_null())
    if measured.height == 0:
        return measured
    newest = newest or str(slis.get_column("partition").max())
    label_fed = [name for name, entry in SLO_CATALOG.items() if entry.needs_labels]
    measured = measured.filter((pl.col("partition") == newest) | pl.col("sli").is_in(label_fed))
    return (
        measured.sort("partition")
        .group_by(list(SLI_SERIES_KEY), maintain_order=True)
        .last()
        .sort(list(SLI_SERIES_KEY), nulls_last=False)
    )


def model_state(
    verdict: Verdict, slis: pl.DataFrame, runs: pl.DataFrame, contract: Contract | None = None
) -> ModelState:
    """The export's view of one verdict and the evidence it judged.

    ``slis`` are the version's ``sli_latest`` rows and ``runs`` its ``runs`` rows; only
    partitions up to the verdict's reference day count (the gate's data time), so an
    export at an earlier ``--as-of`` shows nothing the gate could not see then.
    ``contract`` dates the reference day's evaluation (its schedule).
    """
    reference = verdict.reference_day
    visible = slis
    if reference is not None and slis.height:
        visible = slis.filter(pl.col("partition") <= reference.isoformat())
    elif reference is None:
        visible = slis.clear()
    completed = runs.filter(pl.col("status").is_in(list(EVIDENCE_RUN_STATUSES)))
    if reference is not None and completed.height:
        completed = completed.filter(pl.col("partition") <= reference.isoformat())
    last_run = completed["finished_at"].max() if completed.height else None
    # The gate's evidence age: the newest partition a run read (a day that failed to be
    # read, or crashed, is no evidence; it would hide days of failures from the alert).
    newest_read = (
        dt.date.fromisoformat(str(completed["partition"].max())) if completed.height else None
    )
    return ModelState(
        model=verdict.model,
        version=verdict.model_version,
        ready=verdict.ready,
        blocking_reasons=sum(r.severity == Severity.BLOCK for r in verdict.reasons),
        budgets=tuple(verdict.budgets),
        slis=newest_sli_rows(visible, reference.isoformat() if reference else None),
        last_completed_run=last_run if isinstance(last_run, dt.datetime) else None,
        newest_partition=reference,
        newest_evaluation=(
            scheduled_evaluation_time(contract, newest_read)
            if contract is not None and newest_read is not None
            else None
        ),
        newest_run_crashed=any(r.code == CRASHED_REASON for r in verdict.reasons),
        evidence_blocked=frozenset(
            r.code
            for r in verdict.reasons
            if r.severity == Severity.BLOCK and r.code in EVIDENCE_REASONS
        ),
        waived=_waived_slos(verdict),
    )


def _waived_slos(verdict: Verdict) -> frozenset[str]:
    """The SLOs of ``verdict``'s budgets that a waiver in force at its decision covers."""
    if verdict.decided_at is None:
        return frozenset()
    now = verdict.decided_at
    return frozenset(
        budget.slo
        for budget in verdict.budgets
        if any(
            w.applies_to(verdict.model, verdict.model_version, budget.slo) and w.active_on(now)
            for w in verdict.waivers
        )
    )


def _number(value: float) -> str:
    """A sample value as the exposition format spells it (Go's ParseFloat reads it)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def _sample(family: Family, labels: Mapping[str, str | None], value: float) -> str:
    pairs = ",".join(
        f'{name}="{prometheus_label(labels.get(name) or "")}"' for name in family.labels
    )
    return f"{family.name}{{{pairs}}} {_number(value)}"


def _unix_seconds(moment: dt.datetime) -> float:
    return moment.timestamp()


def _day_start_seconds(day: dt.date) -> float:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()


def _model_samples(state: ModelState) -> Iterable[tuple[Family, dict[str, str | None], float]]:
    labels: dict[str, str | None] = {"model": state.model, "version": state.version}
    yield metrics.GATE_READY, labels, float(state.ready)
    yield metrics.GATE_BLOCKING_REASONS, labels, float(state.blocking_reasons)
    if state.last_completed_run is not None:
        yield metrics.LAST_COMPLETED_RUN, labels, _unix_seconds(state.last_completed_run)
    yield metrics.NEWEST_RUN_CRASHED, labels, float(state.newest_run_crashed)
    for reason in EVIDENCE_REASONS:
        blocked = float(reason in state.evidence_blocked)
        yield metrics.GATE_EVIDENCE_BLOCKED, {**labels, "reason": reason}, blocked
    if state.newest_evaluation is not None:
        yield metrics.NEWEST_EVALUATION, labels, _unix_seconds(state.newest_evaluation)
    if state.newest_partition is not None:
        yield metrics.NEWEST_PARTITION, labels, _day_start_seconds(state.newest_partition)


def _slo_samples(
    state: ModelState, policy: AlertPolicy
) -> Iterable[tuple[Family, dict[str, str | None], float]]:
    for budget in state.budgets:
        labels: dict[str, str | None] = {
            "model": state.model,
            "version": state.version,
            "track": budget.track,
            "sli": budget.slo,
        }
        yield metrics.SLO_OK, labels, float(budget.state == "ok")
        if budget.latest_status != DayStatus.NOT_EVALUATED:
            yield metrics.SLO_DAY_GOOD, labels, float(budget.latest_status == DayStatus.GOOD)
        yield metrics.SLO_TARGET, labels, budget.target
        yield metrics.SLO_WAIVED, labels, float(budget.slo in state.waived)
        if budget.remaining_fraction is not None:
            yield metrics.SLO_ERROR_BUDGET_REMAINING, labels, budget.remaining_fraction
        windows = (
            (policy.short_window_days, budget.burn_rate_short),
            (policy.long_window_days, budget.burn_rate_long),
        )
        for days, burn in windows:
            if burn is not None:
                window = {**labels, metrics.WINDOW_LABEL: metrics.window_label(days)}
                yield metrics.SLO_BURN_RATE, window, burn


def _sli_samples(state: ModelState) -> Iterable[tuple[Family, dict[str, str | None], float]]:
    # Rendering, not computation: one text line per series of the newest partition.
    for row in state.slis.iter_rows(named=True):
        labels: dict[str, str | None] = {
            "model": state.model,
            "version": state.version,
            **{key: row[key] for key in SLI_SERIES_KEY},
        }
        yield metrics.SLI_VALUE, labels, float(row["value"])
        if row["objective"] is not None:
            yield metrics.SLI_OBJECTIVE, labels, float(row["objective"])
        if row["ok"] is not None:
            yield metrics.SLI_OK, labels, float(row["ok"])


def exposition(states: Sequence[ModelState], policy: AlertPolicy | None = None) -> str:
    """The text exposition (format 0.0.4) of every model version's state: per family a
    ``# HELP`` and ``# TYPE ... gauge`` line, then its samples; ends with a newline.

    ``policy`` names the burn-rate windows (the ``window`` label); it must be the policy
    the budgets were computed with (default :class:`checks.slo.AlertPolicy`).
    """
    policy = policy or AlertPolicy()
    lines_of: dict[str, list[str]] = {family.name: [] for family in metrics.FAMILIES}
    for state in states:
        for family, labels, value in (
            *_model_samples(state),
            *_slo_samples(state, policy),
            *_sli_samples(state),
        ):
            lines_of[family.name].append(_sample(family, labels, value))
    out: list[str] = []
    for family in metrics.FAMILIES:
        out.append(f"# HELP {family.name} {family.help}")
        out.append(f"# TYPE {family.name} gauge")
        out.extend(lines_of[family.name])
    return "\n".join(out) + "\n"
