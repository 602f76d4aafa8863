"""The gate's vocabulary: checks, severities, waivers, options, reasons and the verdict.

Plain frozen dataclasses with their JSON shape (``as_dict``); :mod:`checks.gate` builds
them, the CLI prints them. A reason's ``severity`` decides: ``block`` fails its check
and the verdict, ``warn`` is shown, ``waived`` is a block an active waiver forgave.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Final

from checks.alert_policy import AlertPolicy
from checks.error_budget import ErrorBudget

__all__ = [
    "CHECK_TITLES",
    "DEFAULT_MAX_EVIDENCE_AGE_HOURS",
    "DEFAULT_MAX_EVIDENCE_ROWS",
    "MAX_WAIVER_DAYS",
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
]

DEFAULT_MAX_EVIDENCE_AGE_HOURS: Final = 36.0
#: Evidence rows attached to one reason at most (keeps a CI summary well under 1 MiB).
DEFAULT_MAX_EVIDENCE_ROWS: Final = 20
#: Days ahead a waiver may expire at most: a waiver is a temporary exception (renewed on
#: purpose, or the contract's SLO changed), never a way to switch an SLO off for good.
MAX_WAIVER_DAYS: Final = 90


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

    @property
    def honoured_until(self) -> dt.date:
        """The last day the gate honours it: ``expires``, but at most
        :data:`MAX_WAIVER_DAYS` after it was created (a waiver written with a longer
        expiry, before ``datasre waive`` refused one, or straight into the store)."""
        if self.created_at is None:
            return self.expires
        return min(self.expires, self.created_at.date() + dt.timedelta(days=MAX_WAIVER_DAYS))

    def created_after(self, now: dt.datetime) -> bool:
        """Whether it was written after ``now`` (a decision replayed with ``--as-of``)."""
        if self.created_at is None:
            return False
        created = self.created_at
        return (created if created.tzinfo else created.replace(tzinfo=dt.UTC)) > now

    def active_on(self, now: dt.datetime) -> bool:
        """Honoured by a decision at ``now``: written by then, and ``now``'s UTC day is at
        most :attr:`honoured_until`. Why the first: a waiver written today let a replay
        of an old day (``gate --as-of``) through, a verdict the gate never gave then."""
        return not self.created_after(now) and now.astimezone(dt.UTC).date() <= (
            self.honoured_until
        )

    def state_on(self, now: dt.datetime) -> str:
        """``active``, ``expired`` or ``not yet written`` at ``now``, as pages show it."""
        if self.active_on(now):
            return "active"
        return "not yet written" if self.created_after(now) else "expired"

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


def apply_waiver(
    reason: Reason, waivers: Sequence[Waiver], model: str, version: str, now: dt.datetime
) -> Reason:
    """The reason, downgraded to ``waived`` when a waiver active at ``now`` covers its
    SLO (:meth:`Waiver.active_on`)."""
    matching = [w for w in waivers if w.applies_to(model, version, reason.slo)]
    active = sorted((w for w in matching if w.active_on(now)), key=lambda w: w.honoured_until)
    if active:
        waiver = active[-1]
        note = f"; waived until {waiver.honoured_until.isoformat()} ({waiver.reason})"
        return replace(
            reason, severity=Severity.WAIVED, message=reason.message + note, waiver=waiver
        )
    expired = [w for w in matching if not w.created_after(now)]
    if expired:
        last = max(expired, key=lambda w: w.honoured_until)
        note = f" (waiver expired {last.honoured_until.isoformat()})"
        return replace(reason, message=reason.message + note)
    if matching:
        first = min(matching, key=lambda w: w.created_at or now)
        written = first.created_at.isoformat() if first.created_at else "later"
        note = f" (a waiver was written only at {written}: not applied to this earlier decision)"
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
