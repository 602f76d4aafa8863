"""The gate's five readiness checks, each turning evidence into :class:`Reason` s.

Called by :func:`checks.gate.decide` on the evidence of one model version visible at the
decision time (see :mod:`checks.gate` for data time and the order of the checks). Each
returns the reasons it found; none means the check passes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Final

import polars as pl

from checks.alert_policy import AlertLevel, AlertPolicy, days_text
from checks.candidate_verdict import CANDIDATE_KIND
from checks.contract import Contract
from checks.contract_model import OWNER_PLACEHOLDER
from checks.error_budget import ErrorBudget
from checks.freshness import day_end, scheduled_evaluation_time
from checks.gate_verdict import (
    DEFAULT_MAX_EVIDENCE_ROWS,
    CheckName,
    GateOptions,
    Reason,
    Severity,
)
from checks.gate_words import (
    days_list_text,
    evidence_rows,
    format_value,
    hours_text,
    json_value,
    pct,
    runbook_text,
)
from checks.measured_settings import JUDGED_UNDER, measured_changes
from checks.runbooks import reason_runbook
from checks.slo_catalog import SLO_CATALOG
from checks.slo_evaluation import DayStatus, SloDefinition

__all__ = [
    "CONTRACT_CHANGED_REASON",
    "CRASHED_REASON",
    "CRASHED_RUN_STATUS",
    "EARLY_RUN_REASON",
    "EVIDENCE_MISSING_REASON",
    "EVIDENCE_RUN_STATUSES",
    "FAILED_REASON",
    "FAILED_RUN_STATUS",
    "INCOMPLETE_EVIDENCE_REASON",
    "LABELS_OVERDUE_REASON",
    "MISSING_DAYS_REASON",
    "NO_EVIDENCE_REASON",
    "budget_reasons",
    "check_contract",
    "check_contract_unchanged",
    "check_early_runs",
    "check_evidence",
    "check_labels",
    "check_latest_run",
    "check_missing_days",
    "check_newest_run",
    "check_recorded_rows",
    "days_without_predictions",
    "newest_run",
    "newest_runs",
    "started_before_day_end",
]

#: ``runs.status`` values of a run that read its inputs and recorded evidence (a breach is
#: evidence too); ``failed`` (an input could not be read) is not.
EVIDENCE_RUN_STATUSES: Final = ("succeeded", "breached")
#: ``runs.status`` of a run whose job crashed before its writer ran: no SLI rows, the
#: one-line error in ``runs.error`` (recorded by the CLI and the run-failure sensor).
CRASHED_RUN_STATUS: Final = "crashed"
#: The gate's reason code while the newest partition's newest run is a crashed one.
CRASHED_REASON: Final = "run_crashed"
#: ``runs.status`` of a run that could not read one of its inputs (its rows say which).
FAILED_RUN_STATUS: Final = "failed"
#: The gate's reason code while the newest partition's newest run could not read an input.
FAILED_REASON: Final = "run_failed"
#: The gate's reason code when the contract's SLOs differ from those the evidence was
#: recorded under.
CONTRACT_CHANGED_REASON: Final = "contract_changed"
#: The gate's reason code for a partition whose newest run started before the day ended.
EARLY_RUN_REASON: Final = "run_before_day_end"
#: The gate's reason code for days inside the budget window that no run recorded.
MISSING_DAYS_REASON: Final = "days_missing"
#: The gate's reason code for days past their label delay with too few labels.
LABELS_OVERDUE_REASON: Final = "labels_overdue"
#: The gate's reason code when the version has no evaluated partition at all.
EVIDENCE_MISSING_REASON: Final = "evidence_missing"
#: The gate's reason code for an SLO with no recent evidence (a budget not judged).
NO_EVIDENCE_REASON: Final = "no_evidence"
#: The gate's reason code when the store holds fewer SLI rows of a day than its run wrote.
INCOMPLETE_EVIDENCE_REASON: Final = "evidence_incomplete"
#: What of an SLO changes its verdicts (the budget arithmetic's fields).
_JUDGED_FIELDS: Final = ("track", "objective", "comparator", "target", "blocking", "window_days")


def _reason(
    code: str,
    check: CheckName,
    message: str,
    runbook: str | None,
    *,
    severity: Severity = Severity.BLOCK,
    **fields: Any,
) -> Reason:
    """A reason whose message ends with where to look next (the runbook, or that there is
    none), as every gate reason about evidence and budgets does."""
    return Reason(
        code=code,
        check=check,
        severity=severity,
        message=f"{message}; {runbook_text(runbook)}",
        runbook=runbook,
        **fields,
    )


def _slo_changes(recorded: Sequence[SloDefinition], declared: Sequence[SloDefinition]) -> list[str]:
    """How the declared SLOs differ from the recorded ones, one phrase each."""
    old = {d.sli: d for d in recorded}
    new = {d.sli: d for d in declared}
    changes = [f"new SLO {name}" for name in sorted(new.keys() - old.keys())]
    changes += [f"SLO {name} no longer declared" for name in sorted(old.keys() - new.keys())]
    for name in sorted(old.keys() & new.keys()):
        for field in _JUDGED_FIELDS:
            before, after = getattr(old[name], field), getattr(new[name], field)
            if before != after and not (
                isinstance(before, float) and math.isnan(before) and math.isnan(after)
            ):
                changes.append(f"{name} {field} {before} -> {after}")
    return changes


def _schedule_changes(newest: Mapping[str, Any] | None, contract: Contract) -> list[str]:
    """How the contract's schedule differs from the one ``newest`` (the newest run that
    recorded evidence) was judged under (none when it did not record it: written before;
    an older run that did is no stand-in, since the newest day may have been judged
    otherwise)."""
    if newest is None or newest.get("evaluation_delay_hours") is None:
        return []
    changes = []
    delay = float(newest["evaluation_delay_hours"])
    if delay != contract.schedule.evaluation_delay_hours:
        changes.append(
            f"schedule evaluation_delay_hours {delay:g} -> "
            f"{contract.schedule.evaluation_delay_hours:g}"
        )
    if newest["timezone"] != contract.schedule.timezone:
        changes.append(f"schedule timezone {newest['timezone']} -> {contract.schedule.timezone}")
    return changes


def _run_row(run: Mapping[str, Any], *more: str) -> dict[str, Any]:
    """A run as a reason's evidence row: its id, day, finish, status (and ``more``)."""
    keys = ("run_id", "partition", *more, "finished_at", "status")
    return {k: json_value(run.get(k)) for k in dict.fromkeys(keys)}


def _newest_evidence_run(runs: pl.DataFrame) -> dict[str, Any] | None:
    """The newest run that recorded evidence (newest partition, then newest finish), as a
    row dict; None when there is none."""
    if runs.height == 0:
        return None
    recorded = runs.filter(pl.col("status").is_in(list(EVIDENCE_RUN_STATUSES)))
    if recorded.height == 0:
        return None
    return recorded.sort("partition", "finished_at", nulls_last=False).row(-1, named=True)


def _measurement_changes(newest: Mapping[str, Any] | None, contract: Contract) -> list[str]:
    """How the contract's measuring settings differ from the ones ``newest`` (the newest
    run that recorded evidence) measured under (none when it did not record them)."""
    if newest is None or newest.get("measured_under") is None:
        return []
    candidate = newest.get("kind") == CANDIDATE_KIND
    return measured_changes(str(newest["measured_under"]), contract, candidate=candidate)


def _judged_otherwise(
    rows: pl.DataFrame, declared: Sequence[SloDefinition], window_days: int
) -> tuple[list[str], set[str]]:
    """The SLO verdicts in ``rows`` recorded under another objective or comparator (rows
    of the whole model) or blocking flag (every row) than ``declared`` says, on days an
    SLO's budget window may hold (the ``window_days`` up to its newest judged day: a
    window never starts earlier): one phrase per SLO and recorded setting, and the days.

    Why per row: every SLI row keeps what it was judged under, and the gate counts its
    ``ok`` and ``blocking`` as recorded. Comparing the contract only with the newest run's
    ``slo_definitions`` missed older days: tightening an objective and re-running any one
    day (even an old one) cleared the change while the newest day and the budget window
    kept their old passes (READY on a blocking breach of the contract in force)."""
    if rows.height == 0 or not declared:
        return [], set()
    defs = pl.DataFrame(
        {
            "sli": [d.sli for d in declared],
            "in_force_objective": [d.objective for d in declared],
            "in_force_comparator": [d.comparator for d in declared],
            "in_force_blocking": [d.blocking for d in declared],
        },
        schema={
            "sli": pl.String(),
            "in_force_objective": pl.Float64(),
            "in_force_comparator": pl.String(),
            "in_force_blocking": pl.Boolean(),
        },
    ).with_columns(pl.col("in_force_objective").fill_nan(None))
    day = pl.col("partition").cast(pl.String).str.to_date("%Y-%m-%d", strict=False)
    judged = rows.filter(pl.col("ok").is_not_null()).with_columns(day.alias("__day"))
    newest = pl.col("__day").max().over(pl.col("sli").cast(pl.String))
    judged = judged.filter(pl.col("__day") > newest - pl.duration(days=window_days))
    # A row of one feature or slice may carry its own objective (a feature's
    # max_null_rate, a clock-skew limit, a slice's), so only model-wide rows are held to
    # the SLO's objective and comparator; every row to its blocking flag.
    model_wide = pl.col("feature").is_null() & pl.col("slice").is_null()
    differ = (
        judged.select(
            pl.col("partition").cast(pl.String),
            pl.col("sli").cast(pl.String),
            pl.col("objective").cast(pl.Float64).fill_nan(None),
            pl.col("comparator").cast(pl.String),
            pl.col("blocking").cast(pl.Boolean),
            model_wide.alias("__model_wide"),
        )
        .join(defs, on="sli", how="inner")
        .filter(
            (
                pl.col("__model_wide")
                & (
                    pl.col("objective").ne_missing(pl.col("in_force_objective"))
                    | pl.col("comparator").ne_missing(pl.col("in_force_comparator"))
                )
            )
            | pl.col("blocking").ne_missing(pl.col("in_force_blocking"))
        )
        .with_columns(
            # A per-feature row's own objective is not what differs: say the blocking.
            pl.when(pl.col("__model_wide"))
            .then(pl.col("objective"))
            .otherwise(pl.col("in_force_objective")),
            pl.when(pl.col("__model_wide"))
            .then(pl.col("comparator"))
            .otherwise(pl.col("in_force_comparator")),
        )
        .drop("__model_wide")
    )
    if differ.height == 0:
        return [], set()
    grouped = (
        differ.group_by(
            "sli",
            "objective",
            "comparator",
            "blocking",
            "in_force_objective",
            "in_force_comparator",
            "in_force_blocking",
        )
        .agg(pl.col("partition").unique().sort())
        .sort("sli", "objective", "comparator", "blocking", nulls_last=True)
    )
    phrases = [
        f"{g['sli']} judged {_judged_as(g['comparator'], g['objective'], g['blocking'])} on "
        f"{days_list_text(g['partition'])}, the contract says "
        f"{_judged_as(g['in_force_comparator'], g['in_force_objective'], g['in_force_blocking'])}"
        for g in grouped.iter_rows(named=True)
    ]
    return phrases, set(differ["partition"].to_list())


def _judged_as(comparator: str | None, objective: float | None, blocking: bool | None) -> str:
    """How a verdict was (or is to be) judged, e.g. ``<= 4.5, not blocking``."""
    threshold = (
        f"{comparator or '?'} {format_value(objective)}"
        if objective is not None
        else "without an objective"
    )
    return f"{threshold}, {'blocking' if blocking else 'not blocking'}"


def _measured_otherwise(
    runs: pl.DataFrame, contract: Contract, declared: Sequence[SloDefinition], window_days: int
) -> set[str]:
    """Days whose newest evidence run measured under other settings than the contract's
    (:func:`_measurement_changes`), from the oldest day a budget may count (the
    ``window_days`` before the newest partition, widened by the longest evidence delay):
    their recorded verdicts count like the newest day's."""
    recorded = runs.filter(pl.col("status").is_in(list(EVIDENCE_RUN_STATUSES)))
    if recorded.height == 0:
        return set()
    newest = dt.date.fromisoformat(str(runs["partition"].max()))
    delay = max((d.evidence_delay_days for d in declared), default=0.0)
    since = newest - dt.timedelta(days=window_days - 1 + math.ceil(max(delay, 0.0)))
    recorded = recorded.filter(pl.col("partition").cast(pl.String) >= since.isoformat())
    return {
        str(run["partition"])
        for run in newest_runs(recorded).iter_rows(named=True)
        if _measurement_changes(run, contract)
    }


def _rerun_text(days: Sequence[str], model: str, version: str, *, candidate_only: bool) -> str:
    """What to run so that the contract in force judges ``days`` (oldest first)."""
    if candidate_only:
        # A served run of its day would replace the evaluation set's evidence.
        return (
            f"evaluate the candidate again, `datasre validate-candidate --model {model} "
            f"--version {version} --predictions ...`"
        )
    if len(days) == 1:
        return f"re-run {days[0]}, `datasre run --model {model} --partition {days[0]}`"
    return (
        f"re-run {days_list_text(days)}: `datasre run --model {model} --partition DAY` "
        f"for each, or `datasre run --model {model} --all`"
    )


def check_contract_unchanged(
    recorded: Sequence[SloDefinition],
    declared: Sequence[SloDefinition],
    runs: pl.DataFrame,
    *,
    rows: pl.DataFrame,
    window_days: int,
    model: str,
    version: str,
    contract: Contract,
) -> list[Reason]:
    """The contract's SLOs are the ones the newest run recorded (``slo_definitions``) and
    the ones every judged day's verdicts were recorded under (the SLI rows of the budget
    window, ``window_days``), its schedule the one the newest run was judged
    under, and its measuring settings (:mod:`checks.measured_settings`) the ones every
    judged day's newest run measured under (``runs``).

    Why: the gate judges a version's evidence by the verdicts recorded with it, so an SLO
    added to the contract since (never measured), a tightened target or objective, or a
    blocking flag set, changed nothing: the gate said READY on evidence the contract in
    force was never applied to. And it dates evidence by the contract's schedule: a longer
    ``evaluation_delay_hours`` made 16-day-old evidence "fresh"; and a feature's bounds
    or ``min_labelled_rows`` tightened since left the recorded passes standing. Re-running
    the days named records all of it. ``runs`` and ``rows``: this version's visible runs
    and SLI rows."""
    newest_day = str(runs["partition"].max()) if runs.height else None
    newest = _newest_evidence_run(runs)  # what the schedule is compared with
    verdicts, verdict_days = _judged_otherwise(rows, declared, window_days)
    measured_days = (
        _measured_otherwise(runs, contract, declared, window_days) if runs.height else set()
    )
    # What re-running the newest day records (its run replaces slo_definitions). The SLOs
    # it judged under are said once: by slo_definitions when they differ too.
    slo_changes = _slo_changes(recorded, declared)
    measured = _measurement_changes(newest, contract)
    judged = [c for c in measured if c.startswith(f"{JUDGED_UNDER}.")]
    newest_changes = [
        *slo_changes,
        *_schedule_changes(newest, contract),
        *[c for c in measured if c not in judged],
        *([] if slo_changes else judged),
    ]
    changes = [*newest_changes, *verdicts]
    if measured_days - {newest_day}:
        older = sorted(measured_days - {newest_day})
        changes.append(f"{days_list_text(older)} measured under other settings")
    if not changes or newest_day is None:
        return []
    days = sorted({*([newest_day] if newest_changes else []), *verdict_days, *measured_days})
    candidate_only = "kind" in runs.columns and set(runs["kind"].to_list()) == {CANDIDATE_KIND}
    rerun = _rerun_text(days, model, version, candidate_only=candidate_only)
    shown = "; ".join(changes[:8]) + (f"; and {len(changes) - 8} more" if len(changes) > 8 else "")
    return [
        _reason(
            CONTRACT_CHANGED_REASON,
            CheckName.EVIDENCE_FRESH,
            f"the contract of {model} {version} (its SLOs, its schedule, what it measures) "
            f"is not the one its evidence was recorded under ({shown}); {rerun}, so that the "
            "contract in force judges it",
            contract.runbook or None,
            days=tuple(days),
            evidence=(_run_row(newest),) if newest is not None else (),
        )
    ]


def check_contract(contract: Contract, definitions: Sequence[SloDefinition]) -> list[Reason]:
    runbook = contract.runbook
    tracks = {d.track for d in definitions if not math.isnan(d.objective)}
    reasons = [
        _reason(
            f"contract_no_{track}_slo",
            CheckName.CONTRACT,
            f"contract {contract.path.name} declares no {track}-track SLO with "
            f"an objective (slos.{track}); `checks.slo.default_slos` has templates",
            runbook,
            track=track,
        )
        for track in ("infra", "model")
        if track not in tracks
    ]
    if not contract.owner.strip() or contract.owner.strip() == OWNER_PLACEHOLDER:
        named = (
            f"'s owner is datasre init's placeholder {OWNER_PLACEHOLDER}"
            if contract.owner.strip()
            else " names no owner"
        )
        reasons.append(
            Reason(
                code="contract_no_owner",
                check=CheckName.CONTRACT,
                severity=Severity.BLOCK,
                message=f"contract {contract.path.name}{named} (key: owner)",
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


def check_evidence(
    runs: pl.DataFrame,
    evaluated_at: dict[str, dt.datetime],
    *,
    model: str,
    version: str,
    now: dt.datetime,
    options: GateOptions,
    contract: Contract,
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
        runbook = reason_runbook(EVIDENCE_MISSING_REASON, None, contract)
        hidden = (
            f" ({later} partitions are evaluated after {now.isoformat()}, the decision time)"
            if later
            else ""
        )
        return [
            _reason(
                EVIDENCE_MISSING_REASON,
                CheckName.EVIDENCE_FRESH,
                f"no validation run of {model} {version} that read its inputs is "
                f"recorded for a partition evaluated by {now.isoformat()}{hidden}; run "
                f"`datasre run --model {model}` (or validate-candidate) first",
                runbook,
            )
        ]
    newest = str(evidence["partition"].max())
    at = evaluated_at[newest]
    age = now - at
    if age <= limit:
        return []
    row = _run_row(evidence.filter(pl.col("partition") == newest).row(0, named=True))
    runbook = reason_runbook("evidence_stale", None, contract)
    return [
        _reason(
            "evidence_stale",
            CheckName.EVIDENCE_FRESH,
            f"the newest evidence of {model} {version} is partition {newest}, "
            f"evaluated at {at.isoformat()}: {hours_text(age)} before the decision time "
            f"{now.isoformat()}, more than the {options.max_evidence_age_hours:g} h allowed; "
            f"stale since {(at + limit).isoformat()} (no newer partition validated: check "
            "the schedule and the snapshot sources)",
            runbook,
            days=(newest,),
            evidence=(row,),
        )
    ]


def newest_runs(runs: pl.DataFrame) -> pl.DataFrame:
    """Each partition's newest run, one row per partition: by ``finished_at``, or
    ``started_at`` for a run with no finish (as the ``sli_latest`` view orders them: a
    crash record without a finish time sorted oldest and was never seen); one with
    neither counts as oldest."""
    if runs.height == 0:
        return runs
    when = pl.col("finished_at")
    if "started_at" in runs.columns:
        when = pl.coalesce(when, pl.col("started_at").cast(runs.schema["finished_at"]))
    return runs.sort(when, nulls_last=False).unique("partition", keep="last", maintain_order=True)


def newest_run(runs: pl.DataFrame, partition: str) -> dict[str, Any] | None:
    """The newest run of ``partition`` (:func:`newest_runs`), as a row dict; None when it
    has none."""
    mine = runs.filter(pl.col("partition") == partition) if runs.height else runs
    if mine.height == 0:
        return None
    return newest_runs(mine).row(0, named=True)


def check_newest_run(
    runs: pl.DataFrame, *, model: str, version: str, contract: Contract
) -> list[Reason]:
    """The newest partition's newest run crashed before it recorded evidence
    (``run_crashed``), or could not read one of its inputs (``run_failed``).

    Why: the gate would otherwise judge the partition before it (or, for a re-run, the
    partition's earlier rows) as if nothing had happened, for as long as that evidence is
    young enough: a validation that is known to have failed is not evidence of health.
    A failed run's ``ingest_ok = 0`` row blocks through ``latest_run`` only when the
    contract declares that SLO blocking; the missing evidence blocks whatever it declares.
    ``runs`` holds this version's runs of partitions evaluated by the decision time."""
    if runs.height == 0:
        return []
    newest_day = str(runs["partition"].max())
    newest = newest_run(runs, newest_day)
    if newest is None or newest["status"] not in (CRASHED_RUN_STATUS, FAILED_RUN_STATUS):
        return []
    row = _run_row(newest)
    finished = newest["finished_at"]
    # Wall-clock time, unlike the decision's data time: said as such.
    when = (
        f" (the run ended {finished.isoformat()}, wall clock)"
        if isinstance(finished, dt.datetime)
        else ""
    )
    rerun = f"`datasre run --model {model} --partition {newest_day}`"
    error = newest.get("error") or "no error line recorded"
    run = f"the newest run of {model} {version} (partition {newest_day}, run {newest['run_id']})"
    if newest["status"] == CRASHED_RUN_STATUS:
        code = CRASHED_REASON
        message = (
            f"{run} crashed before it recorded any SLI{when}: {error}; fix the cause and "
            f"re-run {rerun} (--debug shows the traceback)"
        )
    else:
        code = FAILED_REASON
        message = (
            f"{run} could not read its inputs{when}, so the day has no evidence: {error}; "
            f"restore the snapshot and re-run {rerun}"
        )
    return [
        _reason(
            code,
            CheckName.EVIDENCE_FRESH,
            message,
            reason_runbook(code, None, contract),
            days=(newest_day,),
            evidence=(row,),
        )
    ]


def _served_runs(runs: pl.DataFrame) -> pl.DataFrame:
    """The runs of served days that recorded something: crashes (no rows) and candidate
    evaluations (no day of their own) left out."""
    served = runs.filter(pl.col("status") != CRASHED_RUN_STATUS)
    if "kind" in served.columns:
        served = served.filter(pl.col("kind").fill_null("") != CANDIDATE_KIND)
    return served


def _days_of(runs: pl.DataFrame) -> set[dt.date]:
    """The days (``YYYY-MM-DD`` partitions) ``runs`` are of."""
    days: set[dt.date] = set()
    for partition in runs["partition"].unique().to_list():
        with contextlib.suppress(ValueError):
            days.add(dt.date.fromisoformat(str(partition)))
    return days


def started_before_day_end(
    run: Mapping[str, Any], contract: Contract, day: dt.date
) -> tuple[dt.datetime, dt.datetime] | None:
    """(started, day end), both UTC, when ``run`` of ``day`` started before the day ended
    in the timezone the run recorded it was judged under (else the contract's); None when
    it did not, or its start is not known. A start without a timezone is UTC."""
    started = run.get("started_at")
    if not isinstance(started, dt.datetime):
        return None
    started = started if started.tzinfo else started.replace(tzinfo=dt.UTC)
    ended = day_end(contract, day, run.get("timezone"))
    return (started.astimezone(dt.UTC), ended) if started < ended else None


def check_early_runs(
    runs: pl.DataFrame,
    *,
    model: str,
    version: str,
    contract: Contract,
    window_days: int,
    max_rows: int = DEFAULT_MAX_EVIDENCE_ROWS,
) -> list[Reason]:
    """Partitions of the budget window (ending at the newest partition) whose newest run
    (crashes and candidate evaluations aside) started before the day ended: it saw part
    of the day at most, yet its rows stood for the whole day (a ``run`` of today, a sensor
    on a file still being written). The day ends in the timezone the run recorded it was
    judged under, else the contract's (a timezone changed since is ``contract_changed``,
    not every old day partial). Days older than the window no longer count, so a snapshot
    deleted since can never block for good.

    ``runs`` holds this version's runs of partitions evaluated by the decision time; the
    reason's evidence is their runs, at most ``max_rows`` of them."""
    if runs.height == 0 or "started_at" not in runs.columns:
        return []
    served = _served_runs(runs)
    days = _days_of(served)
    if not days:
        return []
    newest_day = max(days)
    first = newest_day - dt.timedelta(days=window_days - 1)
    early: list[tuple[str, dt.datetime, dt.datetime]] = []
    runs_of_early_days: list[dict[str, Any]] = []
    for day in sorted(d for d in days if d >= first):
        newest = newest_run(served, day.isoformat())
        times = started_before_day_end(newest, contract, day) if newest else None
        if newest is not None and times is not None:
            early.append((day.isoformat(), *times))
            runs_of_early_days.append(_run_row(newest, "started_at"))
    if not early:
        return []
    shown = "; ".join(
        f"{day} (run started {started.isoformat()}, the day ended {ended.isoformat()})"
        for day, started, ended in early[:5]
    ) + (f"; and {len(early) - 5} more" if len(early) > 5 else "")
    return [
        _reason(
            EARLY_RUN_REASON,
            CheckName.EVIDENCE_FRESH,
            f"the newest run of {len(early)} partition(s) of {model} {version} in the "
            f"{window_days}-day budget window started before the day ended, so it saw part "
            f"of the day at most: {shown}; re-run each once its snapshots are complete, e.g. "
            f"`datasre run --model {model} --partition {early[-1][0]}`",
            contract.runbook or None,
            days=tuple(day for day, _, _ in early),
            evidence=tuple(runs_of_early_days[:max_rows]),
            evidence_truncated=len(runs_of_early_days) > max_rows,
        )
    ]


def check_recorded_rows(
    slis: pl.DataFrame, runs: pl.DataFrame, *, model: str, version: str, contract: Contract
) -> list[Reason]:
    """Every day's SLI rows are all there: the store holds as many rows of each day's
    newest evidence run as it wrote (``runs.n_slis``).

    Why: the gate judges the rows it can see. Rows deleted since (an SRE's hand-written
    ``delete``, a partial restore) left the day's run saying ``succeeded`` and nothing, or
    only the good rows, to judge: READY with "no SLI rows of this version to judge", or on
    the day before when the newest day's rows were gone (found by review). ``slis`` and
    ``runs``: this version's visible rows and runs (``slis`` with ``run_id``)."""
    wanted = {"run_id", "n_slis", "partition", "finished_at", "status"}
    if runs.height == 0 or not wanted <= set(runs.columns) or "run_id" not in slis.columns:
        return []
    # A failed run writes rows too (its ingest rows) and replaces the day's earlier ones:
    # the newest of either kind holds the day's rows (its failure is run_failed's reason).
    recorded = runs.filter(
        pl.col("status").is_in([*EVIDENCE_RUN_STATUSES, FAILED_RUN_STATUS])
        & pl.col("n_slis").is_not_null()
    )
    newest = newest_runs(recorded)
    held = slis.group_by(pl.col("run_id").cast(pl.String)).agg(pl.len().alias("held"))
    short = (
        newest.with_columns(pl.col("run_id").cast(pl.String))
        .join(held, on="run_id", how="left")
        .with_columns(pl.col("held").fill_null(0))
        .filter(pl.col("held") < pl.col("n_slis"))
        .sort("partition")
    )
    if short.height == 0:
        return []
    days = [str(d) for d in short["partition"].to_list()]
    first = short.row(0, named=True)
    rerun = (
        f"`datasre run --model {model} --partition {days[0]}`"
        if len(days) == 1
        else f"`datasre run --model {model} --partition DAY` for each"
    )
    return [
        _reason(
            INCOMPLETE_EVIDENCE_REASON,
            CheckName.EVIDENCE_FRESH,
            f"the store holds fewer SLI rows of {model} {version} than its runs wrote, on "
            f"{days_list_text(days)} ({first['held']} of {first['n_slis']} on {days[0]}): "
            f"rows were deleted or lost since, and evidence that cannot be seen is not "
            f"judged; re-run {'it' if len(days) == 1 else 'them'}, {rerun}",
            reason_runbook(INCOMPLETE_EVIDENCE_REASON, None, contract),
            days=tuple(days),
            evidence=tuple(_run_row(r, "n_slis", "held") for r in short.iter_rows(named=True)),
        )
    ]


def check_missing_days(
    runs: pl.DataFrame, *, model: str, version: str, contract: Contract, window_days: int
) -> list[Reason]:
    """Days of the error-budget window (ending at the newest partition, from the version's
    first) that no run recorded: no evidence, not even a failed ingest.

    Why: budgets count the days that were run; a scheduler down for three bad days, then
    back, left a window of good days only and the gate said READY. ``datasre run
    --latest`` and the sensor record a missing snapshot as its day's failed ingest; a day
    nothing ran for at all is only seen here. Candidate evaluations have no days and
    crashed runs recorded nothing: neither counts."""
    if runs.height == 0:
        return []
    days = _days_of(_served_runs(runs))
    if not days:
        return []
    newest = max(days)
    first = max(min(days), newest - dt.timedelta(days=window_days - 1))
    missing = [
        first + dt.timedelta(days=i)
        for i in range((newest - first).days + 1)
        if first + dt.timedelta(days=i) not in days
    ]
    if not missing:
        return []
    named = [d.isoformat() for d in missing]
    due = scheduled_evaluation_time(contract, missing[0]).isoformat()
    # A day whose runs all crashed was run, but recorded nothing: say so, or "no run
    # recorded" reads as if it never ran (found by a new user).
    crashed = sorted(_days_of(runs.filter(pl.col("status") == CRASHED_RUN_STATUS)) & set(missing))
    crashes = (
        f" ({days_list_text([d.isoformat() for d in crashed])} only crashed: runs.error "
        "says why; fix that first)"
        if crashed
        else ""
    )
    return [
        _reason(
            MISSING_DAYS_REASON,
            CheckName.EVIDENCE_FRESH,
            f"no run of {model} {version} recorded evidence for {days_list_text(named)} "
            f"inside the {window_days}-day budget window "
            f"{first.isoformat()}..{newest.isoformat()}{crashes}: the "
            "budgets would count only the days that were run; run each, e.g. `datasre run "
            f"--model {model} --partition {named[0]}` (a day whose snapshot never came is "
            f"recorded as its failed ingest by `datasre run --model {model} --latest --now "
            f"{due}`)",
            reason_runbook(MISSING_DAYS_REASON, None, contract),
            days=tuple(named),
        )
    ]


def check_labels(
    runs: pl.DataFrame,
    evaluated_at: dict[str, dt.datetime],
    defs: Sequence[SloDefinition],
    *,
    now: dt.datetime,
    contract: Contract,
    without_predictions: Collection[str] = (),
) -> list[Reason]:
    """Partitions whose labels should be in by ``now`` (evaluation time plus the SLOs'
    evidence delay) and are not, or are fewer than ``contract.min_labelled_rows`` (the
    model-wide quality metrics judge none of them: 20 labels after the delay were as
    unjudged as none, yet only none blocked): quality SLOs cannot be judged on them.

    ``without_predictions`` (:func:`days_without_predictions`) are left out: a day whose
    predictions could not be read has nothing to label, and its failed ingest is already
    its own breach (``ingest_ok``). Counted here too, one missing day blocked the gate for
    the whole window, with no waiver to lift it (found by a new user)."""
    delayed = [d for d in defs if d.evidence_delay_days > 0]
    if not delayed or runs.height == 0 or "n_labels" not in runs.columns:
        return []
    delay = dt.timedelta(days=min(d.evidence_delay_days for d in delayed))
    window = max(d.window_days for d in delayed)
    latest = newest_runs(runs)
    newest_day = dt.date.fromisoformat(str(runs["partition"].max()))
    unlabelled = sorted(
        p
        for p, n in zip(latest["partition"].to_list(), latest["n_labels"].to_list(), strict=True)
        if (not n or n < contract.min_labelled_rows)
        and p not in without_predictions
        and evaluated_at[p] + delay <= now
        and (newest_day - dt.date.fromisoformat(p)).days < window
    )
    if not unlabelled:
        return []
    slos = ", ".join(sorted(d.sli for d in delayed))
    runbook = reason_runbook(LABELS_OVERDUE_REASON, None, contract)
    return [
        _reason(
            LABELS_OVERDUE_REASON,
            CheckName.EVIDENCE_FRESH,
            f"labels overdue for {len(unlabelled)} partition(s) "
            f"({days_list_text(unlabelled)}; fewer than min_labelled_rows "
            f"{contract.min_labelled_rows} labelled rows counts as none): due "
            f"{delay.total_seconds() / 86400:g} days after "
            "each partition's evaluation (sources.max_label_delay_days), the oldest since "
            f"{(evaluated_at[unlabelled[0]] + delay).isoformat()}; the label-fed SLOs "
            f"({slos}) are judged without them; check the label pipeline",
            runbook,
            days=tuple(unlabelled),
        )
    ]


def days_without_predictions(slis: pl.DataFrame) -> set[str]:
    """Partitions whose (newest run's) predictions could not be read: an ``ingest_ok`` row
    of the ``predictions`` source that failed."""
    if slis.height == 0:
        return set()
    failed = slis.filter(
        (pl.col("sli") == "ingest_ok")
        & (pl.col("feature") == "predictions")
        & (pl.col("value") == 0.0)
    )
    return {str(p) for p in failed["partition"].to_list()}


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


def check_latest_run(
    slis: pl.DataFrame,
    evaluations: pl.DataFrame,
    latest: str,
    contract: Contract,
    limit: int,
) -> list[Reason]:
    """A blocking SLO breached on its newest verdict: the newest partition, or, for an SLO
    with no verdict there yet (labels land days later), the newest partition that judged
    it. Why the latter: a blocking ``rmse`` breached on its newest labelled day never
    blocked, as the newest partition never has labels when the gate runs (found by
    review); only an exhausted budget did."""
    judged = slis.filter(pl.col("ok").is_not_null() & pl.col("blocking"))
    newest_verdict = judged.group_by("sli").agg(pl.col("partition").max().alias("judged_day"))
    rows = judged.join(newest_verdict, on="sli").filter(
        (pl.col("partition") == pl.col("judged_day")) & (pl.col("ok") == pl.lit(value=False))
    )
    reasons: list[Reason] = []
    for sli in sorted(set(rows["sli"].to_list())):
        breached = rows.filter(pl.col("sli") == sli)
        day = str(breached["partition"][0])
        track = str(breached["track"][0])
        history = evaluations.filter((pl.col("slo") == sli) & (pl.col("partition") <= day)).sort(
            "partition"
        )
        streak = _bad_streak(
            list(zip(history["partition"].to_list(), history["status"].to_list(), strict=True))
        )
        days = tuple(streak) or (day,)
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
        runbook = reason_runbook("blocking_breach", sli, contract)
        reasons.append(
            _reason(
                "blocking_breach",
                CheckName.LATEST_RUN,
                f"blocking SLO {sli} ({track} track) breached on {day}, "
                + (
                    "the newest partition"
                    if day == latest
                    else f"its newest verdict (the newest partition, {latest}, has none yet)"
                )
                + f" ({since}): {what} = {format_value(first['value'])}, objective "
                f"{first['comparator'] or ''} {format_value(first['objective'])}"
                + (f", {breached.height} rows breached" if breached.height > 1 else ""),
                runbook,
                slo=sli,
                track=track,
                days=days,
                evidence=evidence,
                evidence_truncated=truncated,
            )
        )
    return reasons


def budget_reasons(
    budgets: Sequence[ErrorBudget],
    slis: pl.DataFrame,
    *,
    track: str,
    severity: Severity,
    contract: Contract,
    limit: int,
    policy: AlertPolicy,
    labels_overdue: bool = False,
    candidate_only: bool = False,
) -> list[Reason]:
    """Budget reasons of one track: no recent evidence, exhausted, or burning fast (in
    the words of ``policy``, the windows the burn rates were computed over)."""
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
        runbook = reason_runbook(f"{track}_budget", budget.slo, contract)
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
                _reason(
                    NO_EVIDENCE_REASON,
                    check,
                    f"{track}-track SLO {budget.slo} has no recent evidence: {since}, "
                    f"the newest partition is {budget.reference_day} ({allowed});"
                    f" find out why it is not measured (a missing source, too "
                    "few rows) before trusting it",
                    runbook,
                    severity=severity,
                    slo=budget.slo,
                    track=track,
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
                _reason(
                    f"{track}_budget_exhausted",
                    check,
                    f"{track}-track error budget of SLO {budget.slo} exhausted: "
                    f"{budget.bad} bad days ({days_list_text(budget.bad_days)}) of "
                    f"{budget.evaluations} evaluated in the {window}, budget "
                    f"{budget.budget:.2f} bad days at target {budget.target:g} "
                    f"(remaining {pct(budget.remaining_fraction)})",
                    runbook,
                    severity=severity,
                    slo=budget.slo,
                    track=track,
                    days=budget.bad_days,
                    evidence=evidence,
                    evidence_truncated=truncated,
                )
            )
        elif budget.alert_level != AlertLevel.NONE:
            reasons.append(
                _reason(
                    f"burn_rate_{budget.alert_level.value}",
                    check,
                    f"{track}-track SLO {budget.slo} burns its error budget fast "
                    f"({budget.alert_level.value}): burn rate "
                    f"{format_value(budget.burn_rate_short, 3)} over "
                    f"{days_text(policy.short_window_days)} and "
                    f"{format_value(budget.burn_rate_long, 3)} over "
                    f"{days_text(policy.long_window_days)} ending "
                    f"{budget.reference_day}, bad days {days_list_text(budget.bad_days)}; "
                    f"remaining {pct(budget.remaining_fraction)} of the {window}",
                    runbook,
                    severity=Severity.WARN,
                    slo=budget.slo,
                    track=track,
                    days=budget.bad_days,
                )
            )
    return reasons
