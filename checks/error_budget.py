"""Error budgets and burn rates of SLOs over rolling windows of daily evaluations.

Pure arithmetic (polars in, dataclasses and frames out; no I/O, no clock). Every share
is a *fraction* in [0, 1], never a percentage; windows are counted in *days* of
partitions, and a budget is counted in *evaluations* (partition-days). The burn-rate
windows and thresholds are the :class:`~checks.alert_policy.AlertPolicy`'s.

Error budget (occurrence-based, as OpenSLO's ``budgetingMethod: Occurrences``)
-----------------------------------------------------------------------------------
Over the rolling window of ``window_days`` days ending at the reference day (inclusive):
``budget = (1 - target) × evaluations`` bad days may be spent. ``consumed_fraction =
bad / budget`` and ``remaining_fraction = 1 - consumed_fraction`` (negative when
overspent; undefined, ``None``, when the budget is 0). The budget is **exhausted** when
more bad days were spent than allowed, ``bad > budget``, i.e. the SLO itself is missed
over the window (``good / evaluations < target``). Spending exactly the budget still
meets the SLO, so it is not exhaustion (Google SRE's error-budget policy also acts on
budgets *exceeded*). A tolerance of :data:`EPSILON` absorbs float error:
``(1 - 0.9) × 10`` is ``0.9999999999999998`` in IEEE doubles, and one bad day out of ten
at target 0.9 must not count as exhausted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Final

import polars as pl

from checks.alert_policy import (
    DEFAULT_POLICY,
    EPSILON,
    AlertLevel,
    AlertPolicy,
    alert_level,
    burn_rate,
)
from checks.contract import Contract
from checks.slo_evaluation import DayStatus, SloDefinition, evaluate_partitions

__all__ = [
    "BudgetArithmetic",
    "ErrorBudget",
    "budget_arithmetic",
    "error_budget_frame",
    "error_budgets",
]


@dataclass(frozen=True)
class BudgetArithmetic:
    """The budget of one SLO over one window, in bad days (evaluations) and fractions."""

    evaluations: int
    good: int
    bad: int
    target: float
    budget: float  # bad days allowed: (1 - target) × evaluations
    consumed_fraction: float | None  # bad / budget; None when the budget is 0
    remaining: float  # budget - bad, in bad days (negative when overspent)
    remaining_fraction: float | None  # 1 - consumed_fraction; None when the budget is 0
    exhausted: bool  # bad > budget (beyond EPSILON): the SLO is missed over the window


def budget_arithmetic(good: int, bad: int, target: float) -> BudgetArithmetic:
    """Error budget of ``good`` + ``bad`` evaluations at ``target`` (see module doc)."""
    if good < 0 or bad < 0:
        raise ValueError("good and bad must be non-negative counts")
    if not 0 < target <= 1:
        raise ValueError("target must be in (0, 1]")
    evaluations = good + bad
    budget = (1.0 - target) * evaluations
    consumed = bad / budget if budget > 0 else None
    return BudgetArithmetic(
        evaluations=evaluations,
        good=good,
        bad=bad,
        target=target,
        budget=budget,
        consumed_fraction=consumed,
        remaining=budget - bad,
        remaining_fraction=(1.0 - consumed) if consumed is not None else None,
        exhausted=bad > budget + EPSILON,
    )


@dataclass(frozen=True)
class ErrorBudget:
    """One SLO's error budget for one model version, as the ``error_budget`` view shows it.

    Days are ``YYYY-MM-DD`` partitions; the window is ``window_start..reference_day``
    inclusive. ``bad_days`` lists the bad partitions of the window, oldest first.
    """

    model: str
    model_version: str
    track: str
    slo: str
    blocking: bool
    objective: float
    comparator: str
    target: float
    window_days: int
    reference_day: dt.date
    window_start: dt.date
    evaluations: int
    good: int
    bad: int
    budget: float
    consumed_fraction: float | None
    remaining: float
    remaining_fraction: float | None
    exhausted: bool
    burn_rate_short: float | None
    burn_rate_long: float | None
    alert_level: AlertLevel
    latest_status: DayStatus
    bad_days: tuple[str, ...]
    breach_started: dt.date | None = None
    last_evaluated_day: dt.date | None = None
    evidence_delay_days: float = 0.0
    #: No evaluation as recent as the newest partition allows (less its evidence delay).
    evidence_missing: bool = False

    @property
    def state(self) -> str:
        """One word for dashboards (the ``slo_status`` view): ``exhausted``, ``breached``
        (the reference day is bad), ``no_evidence`` (no evaluation as recent as the
        newest partition less the SLO's evidence delay: labels overdue, a source missing,
        too little data) or ``ok``. Never ``ok`` without recent evidence."""
        if self.exhausted:
            return "exhausted"
        if self.latest_status == DayStatus.BAD:
            return "breached"
        if self.evidence_missing:
            return "no_evidence"
        return "ok"

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["reference_day"] = self.reference_day.isoformat()
        out["window_start"] = self.window_start.isoformat()
        out["alert_level"] = self.alert_level.value
        out["latest_status"] = self.latest_status.value
        out["bad_days"] = list(self.bad_days)
        out["breach_started"] = self.breach_started.isoformat() if self.breach_started else None
        out["last_evaluated_day"] = (
            self.last_evaluated_day.isoformat() if self.last_evaluated_day else None
        )
        out["state"] = self.state
        return out


def _window_counts(
    days: Sequence[tuple[dt.date, str]], ref: dt.date, width: int
) -> tuple[int, int]:
    """(good, bad) among evaluations whose day is in ``(ref - width, ref]``."""
    good = bad = 0
    for day, status in days:
        age = (ref - day).days
        if 0 <= age < width:
            good += status == DayStatus.GOOD
            bad += status == DayStatus.BAD
    return good, bad


def _breach_started(days: Sequence[tuple[dt.date, str]], ref: dt.date) -> dt.date | None:
    """First bad day after the last good day up to ``ref`` (not-evaluated days neither
    start nor end a breach): when the current breach began, or None when none is open."""
    last_good = max((d for d, s in days if s == DayStatus.GOOD and d <= ref), default=None)
    open_bad = [
        d
        for d, s in days
        if s == DayStatus.BAD and d <= ref and (last_good is None or d > last_good)
    ]
    return min(open_bad, default=None)


def _evidence_day(
    days: Sequence[tuple[dt.date, str]], newest: dt.date, delay_days: float
) -> tuple[dt.date | None, bool]:
    """(newest evaluated day up to ``newest``, whether it is recent enough).

    Recent enough: at most ``delay_days`` before the newest partition. An SLO fed by
    labels (delay > 0) then has its windows end at its newest labelled day, so its burn
    rates can page although the newest partitions have no labels yet.
    """
    evaluated = [d for d, s in days if s != DayStatus.NOT_EVALUATED and d <= newest]
    last = max(evaluated, default=None)
    return last, last is not None and (newest - last).days <= delay_days


def error_budgets(
    slis: pl.DataFrame,
    definitions: Contract | pl.DataFrame | Iterable[SloDefinition],
    *,
    reference_day: dt.date | None = None,
    window_days: int | None = None,
    policy: AlertPolicy = DEFAULT_POLICY,
) -> list[ErrorBudget]:
    """Error budget, burn rates and alert level of every SLO of every model version.

    ``reference_day`` is the newest day considered; by default the newest partition of
    that model version in ``slis`` (as the SQL views do), so a backfill of old days is
    judged on its own days. Each SLO's windows end (inclusive) at that day, except for an
    SLO whose evidence may arrive late (labels, ``evidence_delay_days``): its windows end
    at its newest evaluated day while that is within the delay. ``window_days`` overrides
    each definition's window. Sorted by model, version, track, slo.
    """
    evaluations = evaluate_partitions(slis, definitions).filter(pl.col("day").is_not_null())
    budgets: list[ErrorBudget] = []
    if evaluations.height == 0:
        return budgets
    newest = {
        (m, v): d
        for m, v, d in evaluations.group_by("model", "model_version")
        .agg(pl.col("day").max())
        .iter_rows()
    }
    keys = ["model", "model_version", "track", "slo"]
    for key, group in evaluations.group_by(keys, maintain_order=True):
        model, version, track, slo = (str(k) for k in key)
        first = group.row(0, named=True)
        newest_day = reference_day or newest[(model, version)]
        width = window_days or int(first["window_days"])
        target = float(first["target"])
        days: list[tuple[dt.date, str]] = list(
            zip(group["day"].to_list(), group["status"].to_list(), strict=True)
        )
        delay = float(first["evidence_delay_days"])
        last_evaluated, fresh = _evidence_day(days, newest_day, delay)
        ref = last_evaluated if fresh and last_evaluated is not None else newest_day
        good, bad = _window_counts(days, ref, width)
        arithmetic = budget_arithmetic(good, bad, target)
        short = _window_counts(days, ref, policy.short_window_days)
        long = _window_counts(days, ref, policy.long_window_days)
        burn_short = burn_rate(short[1], sum(short), target)
        burn_long = burn_rate(long[1], sum(long), target)
        on_ref = [status for day, status in days if day == ref]
        bad_days = sorted(
            day.isoformat()
            for day, status in days
            if status == DayStatus.BAD and 0 <= (ref - day).days < width
        )
        budgets.append(
            ErrorBudget(
                model=model,
                model_version=version,
                track=track,
                slo=slo,
                blocking=bool(first["blocking"]),
                objective=float(first["objective"]),
                comparator=str(first["comparator"]),
                target=target,
                window_days=width,
                reference_day=ref,
                window_start=ref - dt.timedelta(days=width - 1),
                evaluations=arithmetic.evaluations,
                good=good,
                bad=bad,
                budget=arithmetic.budget,
                consumed_fraction=arithmetic.consumed_fraction,
                remaining=arithmetic.remaining,
                remaining_fraction=arithmetic.remaining_fraction,
                exhausted=arithmetic.exhausted,
                burn_rate_short=burn_short,
                burn_rate_long=burn_long,
                alert_level=alert_level(burn_short, burn_long, policy),
                latest_status=DayStatus(on_ref[0]) if on_ref else DayStatus.NOT_EVALUATED,
                bad_days=tuple(bad_days),
                breach_started=_breach_started(days, ref),
                last_evaluated_day=last_evaluated,
                evidence_delay_days=delay,
                evidence_missing=not fresh,
            )
        )
    return sorted(budgets, key=lambda b: (b.model, b.model_version, b.track, b.slo))


_BUDGET_SCHEMA: Final[Mapping[str, pl.DataType]] = {
    "model": pl.String(),
    "model_version": pl.String(),
    "track": pl.String(),
    "slo": pl.String(),
    "blocking": pl.Boolean(),
    "objective": pl.Float64(),
    "comparator": pl.String(),
    "target": pl.Float64(),
    "window_days": pl.Int64(),
    "reference_day": pl.Date(),
    "window_start": pl.Date(),
    "evaluations": pl.Int64(),
    "good": pl.Int64(),
    "bad": pl.Int64(),
    "budget": pl.Float64(),
    "consumed_fraction": pl.Float64(),
    "remaining": pl.Float64(),
    "remaining_fraction": pl.Float64(),
    "exhausted": pl.Boolean(),
    "burn_rate_short": pl.Float64(),
    "burn_rate_long": pl.Float64(),
    "alert_level": pl.String(),
    "latest_status": pl.String(),
    "bad_days": pl.List(pl.String()),
    "breach_started": pl.Date(),
    "last_evaluated_day": pl.Date(),
    "evidence_delay_days": pl.Float64(),
    "evidence_missing": pl.Boolean(),
    "state": pl.String(),
}


def error_budget_frame(budgets: Sequence[ErrorBudget]) -> pl.DataFrame:
    """Budgets as a frame with the columns of the ``error_budget`` SQL view."""
    records = [
        {k: getattr(b, k) for k in _BUDGET_SCHEMA}
        | {
            "alert_level": b.alert_level.value,
            "latest_status": b.latest_status.value,
            "bad_days": list(b.bad_days),
        }
        for b in budgets
    ]
    return pl.DataFrame(records, schema=dict(_BUDGET_SCHEMA))
