"""SLOs over batch SLIs: per-partition evaluations, error budgets and burn rates.

Pure arithmetic (polars in, dataclasses and frames out; no I/O, no clock). Every share
is a *fraction* in [0, 1], never a percentage; windows are counted in *days* of
partitions (``YYYY-MM-DD``), and a budget is counted in *evaluations* (partition-days).

How a day is judged
-------------------
For each SLO (an SLI name the contract holds an objective for) and each partition:

- ``good``: at least one SLI row of that ``sli`` was judged (``ok`` not null) and all
  judged rows are ``ok``;
- ``bad``: any judged row has ``ok = false`` (one breached feature makes the day bad);
- ``not_evaluated``: no judged row (labels not arrived, insufficient data...). Such days
  neither spend nor earn budget.

Evidence that arrives late (labels)
-----------------------------------
Quality SLIs need labels, which arrive days after the partition's evaluation, so the
newest partitions are ``not_evaluated`` for them. Such an SLO carries
``evidence_delay_days`` (the contract's ``sources.max_label_delay_days``; 0 for every
other SLO) and its windows end at its newest evaluated day while that is at most the
delay before the newest partition: its burn rates are those of the newest labelled days,
so a label-delayed SLO still pages. An SLO whose newest evaluation is older than that
(labels overdue, a source missing, too little data) has state ``no_evidence``: a
dashboard never says ``ok`` for an SLO whose recent evidence is missing.

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

Burn rates and alert levels (multiwindow, multi-burn-rate, adapted to daily batches)
----------------------------------------------------------------------------------------
``burn rate = (bad / evaluations in the window) / (1 - target)``: 1 spends the budget
exactly by the end of the SLO window, 2 spends it in half the window. The SRE workbook
(ch. 5, "Alerting on SLOs") pages when both a long and a short window burn above a
threshold: the long window proves the burn is significant, the short one (1/12 of the
long) proves it is still happening, so the alert resets soon after recovery. Its
thresholds (14.4 over 1 h, 6 over 6 h, 1 over 3 days, for a 30-day SLO) assume
minute-resolution SLIs. A daily batch has one evaluation per day, so:

- the short window is **1 day** (the newest partition: its burn is 0 or
  ``1 / (1 - target)``, i.e. "is it still bad today?"), the long window **7 days**;
- ``page`` when both burn rates are ``>= 2`` (:data:`PAGE_BURN_RATE`): at that pace
  a 28-day budget is gone in 14 days, and the last week already spent half of it. At
  target 0.9 that is two bad days in the last seven, today included; at 0.99, one;
- ``ticket`` when both are ``>= 1`` (:data:`TICKET_BURN_RATE`): the workbook's ticket
  threshold, a pace that exhausts the budget exactly at the end of the window. At target
  0.9 that is a bad day today (7-day burn 1/7/0.1 = 1.43);
- otherwise ``none``. A window with no evaluation has no burn rate (``None``) and never
  alerts. Hour-scale thresholds (14.4, 6) cannot be expressed on daily evaluations.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, Final

import polars as pl

from checks.contract import SLO_CATALOG, Contract, ModelType, Slos, SloSpec, Track

__all__ = [
    "BUILT_IN_TEMPLATES",
    "DEFAULT_LONG_WINDOW_DAYS",
    "DEFAULT_SHORT_WINDOW_DAYS",
    "EPSILON",
    "PAGE_BURN_RATE",
    "TICKET_BURN_RATE",
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

DEFAULT_SHORT_WINDOW_DAYS: Final = 1
DEFAULT_LONG_WINDOW_DAYS: Final = 7
PAGE_BURN_RATE: Final = 2.0
TICKET_BURN_RATE: Final = 1.0
#: Tolerance (in bad days) when comparing spent with allowed budget.
EPSILON: Final = 1e-9


class DayStatus(StrEnum):
    GOOD = "good"
    BAD = "bad"
    NOT_EVALUATED = "not_evaluated"


class AlertLevel(StrEnum):
    NONE = "none"
    TICKET = "ticket"
    PAGE = "page"


@dataclass(frozen=True)
class AlertPolicy:
    """The two burn-rate windows (days) and thresholds (dimensionless burn rates).

    The defaults are the daily-batch adaptation documented in the module docstring; the
    SQL views ``error_budget``/``slo_status`` hard-code the same numbers.
    """

    short_window_days: int = DEFAULT_SHORT_WINDOW_DAYS
    long_window_days: int = DEFAULT_LONG_WINDOW_DAYS
    page_burn_rate: float = PAGE_BURN_RATE
    ticket_burn_rate: float = TICKET_BURN_RATE

    def __post_init__(self) -> None:
        if not 1 <= self.short_window_days <= self.long_window_days:
            raise ValueError("need 1 <= short_window_days <= long_window_days")
        if not 0 < self.ticket_burn_rate <= self.page_burn_rate:
            raise ValueError("need 0 < ticket_burn_rate <= page_burn_rate")


@dataclass(frozen=True)
class SloDefinition:
    """One SLO as the budget arithmetic needs it (a row of ``slo_definitions``).

    ``objective`` is in the SLI's unit; ``target`` is the fraction of evaluated days that
    must be good; ``window_days`` is the error-budget window in days.
    """

    track: str
    sli: str
    objective: float
    comparator: str
    target: float
    blocking: bool
    window_days: int
    model: str | None = None
    model_version: str | None = None
    #: Days the SLI may arrive after its partition's evaluation (labels): 0 for the rest.
    evidence_delay_days: float = 0.0


def _definitions_from_contract(contract: Contract, slos: Slos) -> list[SloDefinition]:
    return [
        SloDefinition(
            track=track,
            sli=name,
            objective=spec.objective,
            comparator=spec.comparator or SLO_CATALOG[name].comparator,
            target=spec.target,
            blocking=spec.blocking,
            window_days=slos.window_days,
            model=contract.model,
            model_version=contract.version,
            evidence_delay_days=contract.evidence_delay_days(name),
        )
        for track, specs in (("infra", slos.infra), ("model", slos.model))
        for name, spec in specs.items()
    ]


def declared_definitions(contract: Contract) -> list[SloDefinition]:
    """Only the SLOs the contract declares itself (not the built-in ones): what the
    gate's contract check asks of a contract."""
    return _definitions_from_contract(contract, contract.slos)


def as_definitions(
    source: Contract | pl.DataFrame | Iterable[SloDefinition],
) -> list[SloDefinition]:
    """SLO definitions from a contract (the SLOs in force: declared and built-in, see
    :func:`slos_in_force`), a frame shaped like ``slo_definitions`` (the
    ``model``/``model_version`` columns are optional: without them a definition applies
    to every model in the SLI rows), or definitions already."""
    if isinstance(source, Contract):
        return _definitions_from_contract(source, slos_in_force(source))
    if isinstance(source, pl.DataFrame):
        fields = SloDefinition.__dataclass_fields__
        return [
            SloDefinition(**{k: v for k, v in row.items() if k in fields})
            for row in source.iter_rows(named=True)
        ]
    return list(source)


def _definitions_frame(definitions: Sequence[SloDefinition]) -> pl.DataFrame:
    schema = {
        "def_model": pl.String(),
        "def_version": pl.String(),
        "track": pl.String(),
        "slo": pl.String(),
        "objective": pl.Float64(),
        "comparator": pl.String(),
        "target": pl.Float64(),
        "blocking": pl.Boolean(),
        "window_days": pl.Int64(),
        "evidence_delay_days": pl.Float64(),
    }
    records = [
        {
            "def_model": d.model,
            "def_version": d.model_version,
            "track": d.track,
            "slo": d.sli,
            "objective": d.objective,
            "comparator": d.comparator,
            "target": d.target,
            "blocking": d.blocking,
            "window_days": d.window_days,
            "evidence_delay_days": d.evidence_delay_days,
        }
        for d in definitions
    ]
    return pl.DataFrame(records, schema=schema)


_EVALUATION_SCHEMA: Final[Mapping[str, pl.DataType]] = {
    "model": pl.String(),
    "model_version": pl.String(),
    "track": pl.String(),
    "slo": pl.String(),
    "partition": pl.String(),
    "day": pl.Date(),
    "objective": pl.Float64(),
    "comparator": pl.String(),
    "target": pl.Float64(),
    "blocking": pl.Boolean(),
    "window_days": pl.Int64(),
    "evidence_delay_days": pl.Float64(),
    "judged_rows": pl.Int64(),
    "bad_rows": pl.Int64(),
    "status": pl.String(),
}


def evaluate_partitions(
    slis: pl.DataFrame, definitions: Contract | pl.DataFrame | Iterable[SloDefinition]
) -> pl.DataFrame:
    """One row per (model, version, partition present in ``slis``) and SLO: its status.

    ``slis`` needs the columns model, model_version, partition, sli and ok. Columns out:
    model, model_version, track, slo, partition, day, objective, comparator, target,
    blocking, window_days, evidence_delay_days, judged_rows, bad_rows, status (``good``/``bad``/
    ``not_evaluated``), sorted by model, version, track, slo, partition. Same as the
    ``slo_evaluations`` SQL view.
    """
    defs = _definitions_frame(as_definitions(definitions))
    if slis.height == 0 or defs.height == 0:
        return pl.DataFrame(schema=dict(_EVALUATION_SCHEMA))
    rows = slis.select(
        pl.col("model").cast(pl.String),
        pl.col("model_version").cast(pl.String),
        pl.col("partition").cast(pl.String),
        pl.col("sli").cast(pl.String),
        pl.col("ok").cast(pl.Boolean),
    )
    partitions = rows.select("model", "model_version", "partition").unique()
    judged = rows.group_by("model", "model_version", "partition", "sli").agg(
        pl.col("ok").is_not_null().sum().cast(pl.Int64).alias("judged_rows"),
        (pl.col("ok") == pl.lit(value=False)).sum().cast(pl.Int64).alias("bad_rows"),
    )
    pairs = partitions.join(defs, how="cross").filter(
        (pl.col("def_model").is_null() | (pl.col("def_model") == pl.col("model")))
        & (pl.col("def_version").is_null() | (pl.col("def_version") == pl.col("model_version")))
    )
    out = (
        pairs.join(
            judged,
            left_on=["model", "model_version", "partition", "slo"],
            right_on=["model", "model_version", "partition", "sli"],
            how="left",
        )
        .with_columns(
            pl.col("judged_rows").fill_null(0),
            pl.col("bad_rows").fill_null(0),
            pl.col("partition").str.to_date("%Y-%m-%d", strict=False).alias("day"),
        )
        .with_columns(
            pl.when(pl.col("judged_rows") == 0)
            .then(pl.lit(DayStatus.NOT_EVALUATED.value))
            .when(pl.col("bad_rows") > 0)
            .then(pl.lit(DayStatus.BAD.value))
            .otherwise(pl.lit(DayStatus.GOOD.value))
            .alias("status")
        )
    )
    return (
        out.select(list(_EVALUATION_SCHEMA))
        .cast(pl.Schema(_EVALUATION_SCHEMA))
        .sort("model", "model_version", "track", "slo", "partition")
    )


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


def burn_rate(bad: int, evaluations: int, target: float) -> float | None:
    """``(bad / evaluations) / (1 - target)``; None without evaluations. At target 1 the
    budget is empty, so any bad day burns infinitely fast (``inf``) and none burns 0."""
    if evaluations <= 0:
        return None
    share = bad / evaluations
    if target >= 1.0:
        return math.inf if bad > 0 else 0.0
    return share / (1.0 - target)


def alert_level(
    burn_short: float | None, burn_long: float | None, policy: AlertPolicy = AlertPolicy()
) -> AlertLevel:
    """``page`` / ``ticket`` when *both* windows burn at or above that level's threshold."""
    if burn_short is None or burn_long is None:
        return AlertLevel.NONE
    if burn_short >= policy.page_burn_rate and burn_long >= policy.page_burn_rate:
        return AlertLevel.PAGE
    if burn_short >= policy.ticket_burn_rate and burn_long >= policy.ticket_burn_rate:
        return AlertLevel.TICKET
    return AlertLevel.NONE


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
    policy: AlertPolicy = AlertPolicy(),
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


# --- default SLO templates ------------------------------------------------------------


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
_TYPE_TEMPLATES: Final[Mapping[ModelType, tuple[SloTemplate, ...]]] = {
    ModelType.CLASSIFICATION: (
        SloTemplate("accuracy", 0.94, frozenset({1})),
        SloTemplate("confidence_p50", 0.8),
    ),
    ModelType.REGRESSION: (SloTemplate("rmse", 0.15, frozenset({1})),),
    ModelType.RANKING: (SloTemplate("ndcg", 0.8, frozenset({1})),),
}


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


def _measurable(contract: Contract, sli: str) -> bool:
    """Whether a built-in SLO has anything to judge in this model."""
    if sli == "unseen_category_rate":
        return bool(contract.categorical_features)
    return True


def built_in_slos(contract: Contract) -> dict[str, SloSpec]:
    """The built-in SLOs (:data:`BUILT_IN_TEMPLATES`) the contract does not declare and can
    measure, at the target of its tier (:data:`TIER_TARGETS`) and blocking on the tiers
    the template names, so they spend an error budget like any declared SLO."""
    target = TIER_TARGETS[contract.tier]
    return {
        template.sli: SloSpec(
            objective=template.objective,
            target=target,
            blocking=contract.tier in template.blocking_tiers,
        )
        for template in BUILT_IN_TEMPLATES
        if contract.slo(template.sli) is None and _measurable(contract, template.sli)
    }


def slos_in_force(contract: Contract) -> Slos:
    """The contract's SLOs plus the built-in ones it does not declare (all model track)."""
    built_in = built_in_slos(contract)
    if not built_in:
        return contract.slos
    return contract.slos.model_copy(update={"model": {**contract.slos.model, **built_in}})


def apply_slo_defaults(contract: Contract) -> Contract:
    """The contract with the default SLOs of its type and tier filled in; an SLO the
    contract declares wins over the template of the same name, as does its window.
    Templates the contract cannot measure (``Contract.why_unmeasurable``) are left out."""
    defaults = default_slos(contract.type, contract.tier, window_days=contract.slos.window_days)

    def measurable(templates: Mapping[str, SloSpec]) -> dict[str, SloSpec]:
        # A template the contract's sources cannot feed (no latency column, no labels)
        # would never be evaluated: leave it out rather than promise it.
        return {k: v for k, v in templates.items() if contract.why_unmeasurable(k) is None}

    merged = Slos(
        window_days=contract.slos.window_days,
        infra={**measurable(defaults.infra), **contract.slos.infra},
        model={**measurable(defaults.model), **contract.slos.model},
    )
    return contract.model_copy(update={"slos": merged})
