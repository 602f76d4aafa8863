"""The production-readiness gate: may this model version ship? A pure decision.

Everything is judged in *data time*: partition D's evidence exists as of its scheduled
evaluation time (D + 1 day + ``schedule.evaluation_delay_hours`` in the contract's
timezone, :func:`checks.freshness.scheduled_evaluation_time`), whenever a backfill really
ran it. A candidate validation (``runs.kind = 'candidate'``) has no schedule: its evidence
exists from when it finished. A decision at ``now`` (``gate --as-of``) sees only partitions
evaluated at or before ``now``, so a replay of old data gives the verdict the gate would
have given then.

``decide`` reviews that evidence in five readiness checks, each a JUnit test case in CI:

1. ``contract``: the contract declares infra *and* model SLOs with objectives, an owner
   and a runbook (the ML production-readiness checklist; without them nobody can act on
   a page).
2. ``evidence_fresh``: the newest partition with evidence (a run that read its inputs:
   status in :data:`EVIDENCE_RUN_STATUSES`) was evaluated within
   ``max_evidence_age_hours`` (default 36 h: a daily run plus a late morning) of ``now``;
   and no partition's labels are overdue (``sources.max_label_delay_days`` after its
   evaluation time).
3. ``latest_run``: the newest partition of this version has no breach of a blocking SLO.
4. ``model_budget``: no model-track SLO has exhausted its error budget (``checks.slo``),
   and every one has recent evidence (``no_evidence`` otherwise: a declared SLO without
   evaluations is never a silent pass).
5. ``infra_budget``: the same on the infra track, a *warning* by default: a deploy of a
   new model version rarely fixes or breaks serving infrastructure, so infra budget
   exhaustion is shown but only blocks with ``block_on_infra_budget``.

Waivers name an SLO of a model (and optionally one version) and are honoured through
their expiry day (inclusive, UTC date of ``now``): a waived breach is shown with severity
``waived`` and does not block. Checks 1 and 2 cannot be waived: they are about the
evidence itself, not about one SLO.

No clock and no I/O: ``now`` and every row are passed in.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Final

import polars as pl

from checks.contract import SLO_CATALOG, Contract
from checks.freshness import scheduled_evaluation_time
from checks.slo import (
    AlertLevel,
    AlertPolicy,
    DayStatus,
    ErrorBudget,
    SloDefinition,
    as_definitions,
    declared_definitions,
    error_budgets,
    evaluate_partitions,
)

__all__ = [
    "CHECK_TITLES",
    "DEFAULT_MAX_EVIDENCE_AGE_HOURS",
    "EVIDENCE_RUN_STATUSES",
    "CheckName",
    "CheckResult",
    "CheckStatus",
    "GateOptions",
    "Reason",
    "Severity",
    "Verdict",
    "Waiver",
    "apply_waiver",
    "check_result",
    "decide",
    "evidence_rows",
    "format_value",
    "runbook_text",
]

DEFAULT_MAX_EVIDENCE_AGE_HOURS: Final = 36.0
#: ``runs.status`` values of a run that read its inputs and recorded evidence (a breach is
#: evidence too); ``failed`` (an input could not be read) is not.
EVIDENCE_RUN_STATUSES: Final = ("succeeded", "breached")
#: Evidence rows attached to one reason at most (keeps a CI summary well under 1 MiB).
DEFAULT_MAX_EVIDENCE_ROWS: Final = 20

EVIDENCE_COLUMNS: Final = (
    "partition",
    "track",
    "sli",
    "feature",
    "slice",
    "value",
    "objective",
    "comparator",
    "ok",
    "status",
)


class CheckName(StrEnum):
    CONTRACT = "contract"
    EVIDENCE_FRESH = "evidence_fresh"
    LATEST_RUN = "latest_run"
    MODEL_BUDGET = "model_budget"
    INFRA_BUDGET = "infra_budget"


CHECK_TITLES: Final[dict[CheckName, str]] = {
    CheckName.CONTRACT: "contract declares infra and model SLOs, owner and runbook",
    CheckName.EVIDENCE_FRESH: "the newest evidence of this version is fresh, labels on time",
    CheckName.LATEST_RUN: "the latest run has no blocking breach",
    CheckName.MODEL_BUDGET: "model-track error budgets are not exhausted",
    CheckName.INFRA_BUDGET: "infra-track error budgets are not exhausted",
}


class Severity(StrEnum):
    BLOCK = "block"
    WARN = "warn"
    WAIVED = "waived"


class CheckStatus(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    WAIVED = "waived"


@dataclass(frozen=True)
class Waiver:
    """Permission to ship despite one SLO's breach, until ``expires`` (inclusive).

    ``model_version`` None waives that SLO for every version of the model.
    """

    model: str
    slo: str
    reason: str
    expires: dt.date
    model_version: str | None = None
    waiver_id: str | None = None
    created_at: dt.datetime | None = None
    created_by: str | None = None

    def applies_to(self, model: str, version: str, slo: str | None) -> bool:
        return (
            self.model == model
            and self.slo == slo
            and (self.model_version is None or self.model_version == version)
        )

    def active_on(self, day: dt.date) -> bool:
        return day <= self.expires

    def as_dict(self) -> dict[str, Any]:
        return {
            "waiver_id": self.waiver_id,
            "model": self.model,
            "model_version": self.model_version,
            "slo": self.slo,
            "reason": self.reason,
            "expires": self.expires.isoformat(),
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "created_by": self.created_by,
        }


@dataclass(frozen=True)
class GateOptions:
    """Knobs of the review. Hours and counts; see the module docstring for defaults."""

    max_evidence_age_hours: float = DEFAULT_MAX_EVIDENCE_AGE_HOURS
    block_on_infra_budget: bool = False
    max_evidence_rows: int = DEFAULT_MAX_EVIDENCE_ROWS
    window_days: int | None = None  # overrides the contract's error-budget window
    policy: AlertPolicy = field(default_factory=AlertPolicy)

    def as_dict(self) -> dict[str, Any]:
        return {
            "max_evidence_age_hours": self.max_evidence_age_hours,
            "block_on_infra_budget": self.block_on_infra_budget,
            "window_days": self.window_days,
        }


@dataclass(frozen=True)
class Reason:
    """Why a check failed or warned. ``days`` are the partitions concerned (the bad
    days, oldest first); ``evidence`` are SLI (or run) rows as plain JSON values."""

    code: str
    check: CheckName
    severity: Severity
    message: str
    slo: str | None = None
    track: str | None = None
    days: tuple[str, ...] = ()
    runbook: str | None = None
    evidence: tuple[dict[str, Any], ...] = ()
    evidence_truncated: bool = False
    waiver: Waiver | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "check": self.check.value,
            "severity": self.severity.value,
            "message": self.message,
            "slo": self.slo,
            "track": self.track,
            "days": list(self.days),
            "runbook": self.runbook,
            "evidence": [dict(row) for row in self.evidence],
            "evidence_truncated": self.evidence_truncated,
            "waiver": self.waiver.as_dict() if self.waiver else None,
        }


@dataclass(frozen=True)
class CheckResult:
    """One readiness check: ``fail`` if any reason blocks, ``warn`` if any warns,
    ``waived`` if its only problems are waived, else ``pass``."""

    name: CheckName
    title: str
    status: CheckStatus
    summary: str
    reasons: tuple[Reason, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name.value,
            "title": self.title,
            "status": self.status.value,
            "summary": self.summary,
            "reason_codes": [r.code for r in self.reasons],
        }


@dataclass(frozen=True)
class Verdict:
    """The decision: ``ready`` is true when no reason has severity ``block``."""

    ready: bool
    reasons: list[Reason]
    checks: list[CheckResult]
    model: str = ""
    model_version: str = ""
    decided_at: dt.datetime | None = None
    reference_day: dt.date | None = None
    owner: str | None = None
    runbook: str | None = None
    budgets: list[ErrorBudget] = field(default_factory=list)
    waivers: list[Waiver] = field(default_factory=list)
    options: GateOptions = field(default_factory=GateOptions)

    @property
    def blocking(self) -> list[Reason]:
        return [r for r in self.reasons if r.severity == Severity.BLOCK]


# --- helpers --------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def evidence_rows(rows: pl.DataFrame, limit: int) -> tuple[tuple[dict[str, Any], ...], bool]:
    columns = [c for c in EVIDENCE_COLUMNS if c in rows.columns]
    ordered = rows.sort(["partition", "sli", "feature", "slice"], nulls_last=False)
    picked = ordered.head(limit).select(columns)
    out = tuple({k: _json_value(v) for k, v in row.items()} for row in picked.iter_rows(named=True))
    return out, rows.height > limit


def runbook_text(runbook: str | None) -> str:
    return f"runbook: {runbook}" if runbook else "runbook: none declared in the contract"


def _days_text(days: Sequence[str]) -> str:
    if not days:
        return "no day"
    if len(days) <= 6:
        return ", ".join(days)
    return f"{', '.join(days[:3])}, ... {', '.join(days[-2:])} ({len(days)} days)"


def format_value(value: float | None, digits: int = 6) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "null"
    return f"{value:.{digits}g}"


def _pct(fraction: float | None) -> str:
    # round() then + 0.0: float noise like -2e-16 must print as 0%, not -0%.
    return "n/a" if fraction is None else f"{round(fraction, 4) + 0.0:.0%}"


def apply_waiver(
    reason: Reason, waivers: Sequence[Waiver], model: str, version: str, today: dt.date
) -> Reason:
    """The reason, downgraded to ``waived`` when an active waiver covers its SLO."""
    matching = [w for w in waivers if w.applies_to(model, version, reason.slo)]
    active = sorted((w for w in matching if w.active_on(today)), key=lambda w: w.expires)
    if active:
        waiver = active[-1]
        note = f"; waived until {waiver.expires.isoformat()} ({waiver.reason})"
        return replace(
            reason, severity=Severity.WAIVED, message=reason.message + note, waiver=waiver
        )
    if matching:
        last = max(matching, key=lambda w: w.expires)
        note = f" (waiver expired {last.expires.isoformat()})"
        return replace(reason, message=reason.message + note)
    return reason


def check_result(name: CheckName, reasons: list[Reason], ok_summary: str) -> CheckResult:
    severities = {r.severity for r in reasons}
    if Severity.BLOCK in severities:
        status = CheckStatus.FAIL
    elif Severity.WARN in severities:
        status = CheckStatus.WARN
    elif Severity.WAIVED in severities:
        status = CheckStatus.WAIVED
    else:
        status = CheckStatus.PASS
    if reasons:
        summary = "; ".join(f"{r.code}" + (f" ({r.slo})" if r.slo else "") for r in reasons)
        summary = f"{status.value}: {summary}"
    else:
        summary = ok_summary
    return CheckResult(name, CHECK_TITLES[name], status, summary, tuple(reasons))


# --- the five checks ------------------------------------------------------------------


def _check_contract(contract: Contract, definitions: Sequence[SloDefinition]) -> list[Reason]:
    runbook = contract.runbook
    tracks = {d.track for d in definitions if not math.isnan(d.objective)}
    reasons = [
        Reason(
            code=f"contract_no_{track}_slo",
            check=CheckName.CONTRACT,
            severity=Severity.BLOCK,
            message=f"contract {contract.path.name} declares no {track}-track SLO with "
            f"an objective (slos.{track}); `checks.slo.default_slos` has templates; "
            + runbook_text(runbook),
            track=track,
            runbook=runbook,
        )
        for track in ("infra", "model")
        if track not in tracks
    ]
    if not contract.owner.strip():
        reasons.append(
            Reason(
                code="contract_no_owner",
                check=CheckName.CONTRACT,
                severity=Severity.BLOCK,
                message=f"contract {contract.path.name} names no owner (key: owner)",
                runbook=runbook,
            )
        )
    if not (runbook or "").strip():
        reasons.append(
            Reason(
                code="contract_no_runbook",
                check=CheckName.CONTRACT,
                severity=Severity.BLOCK,
                message=f"contract {contract.path.name} names no runbook (key: runbook): "
                "whoever is paged for this model needs one",
            )
        )
    return reasons


def _hours(delta: dt.timedelta) -> str:
    hours = delta.total_seconds() / 3600.0
    return f"{hours:.1f} h" + (f" ({hours / 24:.1f} days)" if hours >= 48 else "")


def _check_evidence(
    runs: pl.DataFrame,
    evaluated_at: dict[str, dt.datetime],
    *,
    model: str,
    version: str,
    now: dt.datetime,
    options: GateOptions,
    runbook: str | None,
    later: int,
) -> list[Reason]:
    """Evidence age on data time: ``now`` minus the newest evidence partition's evaluation.

    ``runs`` holds this version's runs of partitions evaluated by ``now``; ``later`` counts
    the partitions recorded but evaluated after ``now`` (not visible to this decision).
    """
    limit = dt.timedelta(hours=options.max_evidence_age_hours)
    evidence = (
        runs.filter(pl.col("status").is_in(list(EVIDENCE_RUN_STATUSES))) if runs.height else runs
    )
    if evidence.height == 0:
        hidden = (
            f" ({later} partitions are evaluated after {now.isoformat()}, the decision time)"
            if later
            else ""
        )
        return [
            Reason(
                code="evidence_missing",
                check=CheckName.EVIDENCE_FRESH,
                severity=Severity.BLOCK,
                message=f"no validation run of {model} {version} that read its inputs is "
                f"recorded for a partition evaluated by {now.isoformat()}{hidden}; run "
                f"`datasre run --model {model}` (or validate-candidate) first; "
                + runbook_text(runbook),
                runbook=runbook,
            )
        ]
    newest = str(evidence["partition"].max())
    at = evaluated_at[newest]
    age = now - at
    if age <= limit:
        return []
    row = evidence.filter(pl.col("partition") == newest).row(0, named=True)
    row = {k: _json_value(row.get(k)) for k in ("run_id", "partition", "finished_at", "status")}
    return [
        Reason(
            code="evidence_stale",
            check=CheckName.EVIDENCE_FRESH,
            severity=Severity.BLOCK,
            message=f"the newest evidence of {model} {version} is partition {newest}, "
            f"evaluated at {at.isoformat()}: {_hours(age)} before the decision time "
            f"{now.isoformat()}, more than the {options.max_evidence_age_hours:g} h allowed; "
            f"stale since {(at + limit).isoformat()} (no newer partition validated: check "
            "the schedule and the snapshot sources); " + runbook_text(runbook),
            days=(newest,),
            runbook=runbook,
            evidence=(row,),
        )
    ]


def _check_labels(
    runs: pl.DataFrame,
    evaluated_at: dict[str, dt.datetime],
    defs: Sequence[SloDefinition],
    *,
    now: dt.datetime,
    runbook: str | None,
) -> list[Reason]:
    """Partitions whose labels should be in by ``now`` (evaluation time plus the SLOs'
    evidence delay) and are not: quality SLOs cannot be judged on them."""
    delayed = [d for d in defs if d.evidence_delay_days > 0]
    if not delayed or runs.height == 0 or "n_labels" not in runs.columns:
        return []
    delay = dt.timedelta(days=min(d.evidence_delay_days for d in delayed))
    window = max(d.window_days for d in delayed)
    newest_runs = runs.sort("finished_at", descending=True, nulls_last=True).unique(
        "partition", keep="first"
    )
    newest_day = dt.date.fromisoformat(str(runs["partition"].max()))
    unlabelled = sorted(
        p
        for p, n in zip(
            newest_runs["partition"].to_list(), newest_runs["n_labels"].to_list(), strict=True
        )
        if not n
        and evaluated_at[p] + delay <= now
        and (newest_day - dt.date.fromisoformat(p)).days < window
    )
    if not unlabelled:
        return []
    slos = ", ".join(sorted(d.sli for d in delayed))
    return [
        Reason(
            code="labels_overdue",
            check=CheckName.EVIDENCE_FRESH,
            severity=Severity.BLOCK,
            message=f"labels overdue for {len(unlabelled)} partition(s) "
            f"({_days_text(unlabelled)}): due {delay.total_seconds() / 86400:g} days after "
            "each partition's evaluation (sources.max_label_delay_days), the oldest since "
            f"{(evaluated_at[unlabelled[0]] + delay).isoformat()}; the label-fed SLOs "
            f"({slos}) are judged without them; check the label pipeline; " + runbook_text(runbook),
            days=tuple(unlabelled),
            runbook=runbook,
        )
    ]


def _serving_only(slo: str) -> bool:
    entry = SLO_CATALOG.get(slo)
    return entry is not None and entry.serving_only


def _bad_streak(statuses: list[tuple[str, str]]) -> list[str]:
    """The trailing run of consecutive bad days (partitions sorted), oldest first."""
    streak: list[str] = []
    for partition, status in reversed(statuses):
        if status == DayStatus.BAD:
            streak.append(partition)
        elif status == DayStatus.GOOD:
            break
    return sorted(streak)


def _check_latest_run(
    slis: pl.DataFrame,
    evaluations: pl.DataFrame,
    latest: str,
    runbook: str | None,
    limit: int,
) -> list[Reason]:
    rows = slis.filter(
        (pl.col("partition") == latest) & (pl.col("ok") == pl.lit(value=False)) & pl.col("blocking")
    )
    reasons: list[Reason] = []
    for sli in sorted(set(rows["sli"].to_list())):
        breached = rows.filter(pl.col("sli") == sli)
        track = str(breached["track"][0])
        history = evaluations.filter(pl.col("slo") == sli).sort("partition")
        streak = _bad_streak(
            list(zip(history["partition"].to_list(), history["status"].to_list(), strict=True))
        )
        days = tuple(streak) or (latest,)
        first = breached.sort("partition", "feature", "slice", nulls_last=False).row(0, named=True)
        what = (
            first["sli"]
            + (f"[{first['feature']}]" if first["feature"] else "")
            + (f"{{{first['slice']}}}" if first["slice"] else "")
        )
        since = (
            f"bad since {days[0]} ({len(days)} consecutive days)"
            if len(days) > 1
            else "first bad day"
        )
        evidence, truncated = evidence_rows(breached, limit)
        reasons.append(
            Reason(
                code="blocking_breach",
                check=CheckName.LATEST_RUN,
                severity=Severity.BLOCK,
                message=f"blocking SLO {sli} ({track} track) breached on {latest}, the newest "
                f"partition ({since}): {what} = {format_value(first['value'])}, objective "
                f"{first['comparator'] or ''} {format_value(first['objective'])}"
                + (f", {breached.height} rows breached" if breached.height > 1 else "")
                + "; "
                + runbook_text(runbook),
                slo=sli,
                track=track,
                days=days,
                runbook=runbook,
                evidence=evidence,
                evidence_truncated=truncated,
            )
        )
    return reasons


def _budget_reasons(
    budgets: Sequence[ErrorBudget],
    slis: pl.DataFrame,
    *,
    track: str,
    severity: Severity,
    runbook: str | None,
    limit: int,
    labels_overdue: bool = False,
    candidate_only: bool = False,
) -> list[Reason]:
    check = CheckName.MODEL_BUDGET if track == "model" else CheckName.INFRA_BUDGET
    reasons: list[Reason] = []
    for budget in budgets:
        if budget.track != track:
            continue
        # Overdue labels are already a reason of their own (evidence_fresh); a candidate
        # validation cannot measure what only a serving version produces.
        excused = (labels_overdue and budget.evidence_delay_days > 0) or (
            candidate_only and _serving_only(budget.slo)
        )
        if budget.evidence_missing and not excused:
            since = (
                f"its newest evaluation is {budget.last_evaluated_day}"
                if budget.last_evaluated_day
                else "it was never evaluated"
            )
            allowed = (
                f"{budget.evidence_delay_days:g} days of delay allowed"
                if budget.evidence_delay_days
                else "it is measured on every partition"
            )
            reasons.append(
                Reason(
                    code="no_evidence",
                    check=check,
                    severity=severity,
                    message=f"{track}-track SLO {budget.slo} has no recent evidence: {since}, "
                    f"the newest partition is {budget.reference_day} ({allowed});"
                    f" find out why it is not measured (a missing source, too "
                    "few rows) before trusting it; " + runbook_text(runbook),
                    slo=budget.slo,
                    track=track,
                    runbook=runbook,
                )
            )
        window = f"{budget.window_days}-day window {budget.window_start}..{budget.reference_day}"
        if budget.exhausted:
            bad_rows = slis.filter(
                (pl.col("sli") == budget.slo)
                & (pl.col("ok") == pl.lit(value=False))
                & pl.col("partition").is_in(list(budget.bad_days))
            )
            evidence, truncated = evidence_rows(bad_rows, limit)
            reasons.append(
                Reason(
                    code=f"{track}_budget_exhausted",
                    check=check,
                    severity=severity,
                    message=f"{track}-track error budget of SLO {budget.slo} exhausted: "
                    f"{budget.bad} bad days ({_days_text(budget.bad_days)}) of "
                    f"{budget.evaluations} evaluated in the {window}, budget "
                    f"{budget.budget:.2f} bad days at target {budget.target:g} "
                    f"(remaining {_pct(budget.remaining_fraction)}); " + runbook_text(runbook),
                    slo=budget.slo,
                    track=track,
                    days=budget.bad_days,
                    runbook=runbook,
                    evidence=evidence,
                    evidence_truncated=truncated,
                )
            )
        elif budget.alert_level != AlertLevel.NONE:
            reasons.append(
                Reason(
                    code=f"burn_rate_{budget.alert_level.value}",
                    check=check,
                    severity=Severity.WARN,
                    message=f"{track}-track SLO {budget.slo} burns its error budget fast "
                    f"({budget.alert_level.value}): burn rate "
                    f"{format_value(budget.burn_rate_short, 3)} over 1 day and "
                    f"{format_value(budget.burn_rate_long, 3)} over 7 days ending "
                    f"{budget.reference_day}, bad days {_days_text(budget.bad_days)}; "
                    f"remaining {_pct(budget.remaining_fraction)} of the {window}; "
                    + runbook_text(runbook),
                    slo=budget.slo,
                    track=track,
                    days=budget.bad_days,
                    runbook=runbook,
                )
            )
    return reasons


# --- the decision -----------------------------------------------------------------------


def _of_version(frame: pl.DataFrame, model: str, version: str) -> pl.DataFrame:
    if frame.height == 0:
        return frame
    return frame.filter((pl.col("model") == model) & (pl.col("model_version") == version))


#: ``runs.kind`` of a one-shot validation of a version before it serves (no schedule).
CANDIDATE_KIND: Final = "candidate"


def _evaluation_times(
    contract: Contract, slis: pl.DataFrame, runs: pl.DataFrame
) -> dict[str, dt.datetime]:
    """Data time of every ``YYYY-MM-DD`` partition in ``slis`` and ``runs``: its scheduled
    evaluation time; for a candidate validation (no schedule: its evidence exists once it
    ran) the time its newest run finished. A partition that is not a day has none and is
    never visible."""
    partitions: set[str] = set()
    for frame in (slis, runs):
        if frame.height:
            partitions.update(str(p) for p in frame["partition"].unique().to_list())
    candidates: dict[str, dt.datetime] = {}
    if runs.height and "kind" in runs.columns:
        newest = (
            runs.filter(pl.col("finished_at").is_not_null())
            .sort("finished_at", descending=True)
            .unique("partition", keep="first")
            .filter(pl.col("kind") == CANDIDATE_KIND)
        )
        for partition, finished in newest.select("partition", "finished_at").iter_rows():
            at = finished if finished.tzinfo else finished.replace(tzinfo=dt.UTC)
            candidates[str(partition)] = at.astimezone(dt.UTC)
    times: dict[str, dt.datetime] = {}
    for partition in partitions:
        try:
            day = dt.date.fromisoformat(partition)
        except ValueError:
            continue
        times[partition] = candidates.get(partition) or scheduled_evaluation_time(contract, day)
    return times


def decide(
    contract: Contract,
    slis: pl.DataFrame,
    runs: pl.DataFrame,
    *,
    now: dt.datetime,
    version: str | None = None,
    definitions: pl.DataFrame | Iterable[SloDefinition] | None = None,
    waivers: Sequence[Waiver] = (),
    options: GateOptions | None = None,
) -> Verdict:
    """Review the evidence for ``contract.model`` at ``version`` (default the contract's).

    Parameters
    ----------
    slis
        SLI rows as in the ``sli_latest`` view (at least model, model_version, partition,
        track, sli, feature, slice, value, objective, comparator, ok, blocking); other
        models and versions are ignored.
    runs
        Rows of the ``runs`` table (model, model_version, partition, finished_at, status,
        and ``n_labels`` for the overdue-labels check).
    now
        Timezone-aware time of the decision (``--as-of``): only partitions evaluated at or
        before it are judged; evidence age and waiver expiry use it.
    definitions
        The SLOs in force (``slo_definitions`` rows of this version); default the
        contract's SLOs.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    options = options or GateOptions()
    model = contract.model
    version = version or contract.version
    runbook = contract.runbook
    today = now.astimezone(dt.UTC).date()
    if definitions is None:
        # The contract's SLOs judge whichever version is asked about.
        defs = [replace(d, model_version=None) for d in as_definitions(contract)]
    else:
        defs = [
            d
            for d in as_definitions(definitions)
            if d.model in (None, model) and d.model_version in (None, version)
        ]
    mine = _of_version(slis, model, version)
    my_runs = _of_version(runs, model, version)
    evaluated_at = _evaluation_times(contract, mine, my_runs)
    visible = [p for p, at in evaluated_at.items() if at <= now]
    later = len(evaluated_at) - len(visible)
    mine = mine.filter(pl.col("partition").is_in(visible)) if mine.height else mine
    my_runs = my_runs.filter(pl.col("partition").is_in(visible)) if my_runs.height else my_runs
    limit = options.max_evidence_rows

    by_check: dict[CheckName, list[Reason]] = {name: [] for name in CheckName}
    by_check[CheckName.CONTRACT] = _check_contract(contract, declared_definitions(contract))
    labels = _check_labels(my_runs, evaluated_at, defs, now=now, runbook=runbook)
    by_check[CheckName.EVIDENCE_FRESH] = [
        *_check_evidence(
            my_runs,
            evaluated_at,
            model=model,
            version=version,
            now=now,
            options=options,
            runbook=runbook,
            later=later,
        ),
        *labels,
    ]

    budgets: list[ErrorBudget] = []
    latest: str | None = None
    candidate_only = (
        "kind" in my_runs.columns
        and my_runs.height > 0
        and set(my_runs["kind"].to_list()) == {CANDIDATE_KIND}
    )
    if mine.height and defs:
        latest = str(mine["partition"].max())
        evaluations = evaluate_partitions(mine, defs)
        budgets = error_budgets(mine, defs, window_days=options.window_days, policy=options.policy)
        by_check[CheckName.LATEST_RUN] = _check_latest_run(
            mine, evaluations, latest, runbook, limit
        )
        by_check[CheckName.MODEL_BUDGET] = _budget_reasons(
            budgets,
            mine,
            track="model",
            severity=Severity.BLOCK,
            runbook=runbook,
            limit=limit,
            labels_overdue=bool(labels),
            candidate_only=candidate_only,
        )
        infra_severity = Severity.BLOCK if options.block_on_infra_budget else Severity.WARN
        by_check[CheckName.INFRA_BUDGET] = _budget_reasons(
            budgets,
            mine,
            track="infra",
            severity=infra_severity,
            runbook=runbook,
            limit=limit,
            labels_overdue=bool(labels),
            candidate_only=candidate_only,
        )
    elif mine.height:
        latest = str(mine["partition"].max())
    reference = dt.date.fromisoformat(latest) if latest else None

    waivable = (CheckName.LATEST_RUN, CheckName.MODEL_BUDGET, CheckName.INFRA_BUDGET)
    for name in waivable:
        by_check[name] = [
            apply_waiver(r, waivers, model, version, today) if r.severity == Severity.BLOCK else r
            for r in by_check[name]
        ]

    no_data = "no SLI rows of this version to judge" if latest is None else None
    ok_summaries = {
        CheckName.CONTRACT: "owner, runbook, infra and model SLOs declared",
        CheckName.EVIDENCE_FRESH: f"the newest evidence was evaluated within "
        f"{options.max_evidence_age_hours:g} h; no labels overdue",
        CheckName.LATEST_RUN: no_data or f"no blocking breach on {latest}",
        CheckName.MODEL_BUDGET: no_data or "every model-track budget has room",
        CheckName.INFRA_BUDGET: no_data or "every infra-track budget has room",
    }
    checks = [check_result(name, by_check[name], ok_summaries[name]) for name in CheckName]
    reasons = [r for name in CheckName for r in by_check[name]]
    relevant = [w for w in waivers if w.model == model and w.model_version in (None, version)]
    return Verdict(
        ready=not any(r.severity == Severity.BLOCK for r in reasons),
        reasons=reasons,
        checks=checks,
        model=model,
        model_version=version,
        decided_at=now,
        reference_day=reference,
        owner=contract.owner or None,
        runbook=runbook,
        budgets=budgets,
        waivers=sorted(relevant, key=lambda w: (w.slo, w.expires)),
        options=options,
    )
