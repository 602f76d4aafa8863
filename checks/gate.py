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
   the newest partition's newest run did not crash before recording anything
   (``runs.status = 'crashed'``) nor fail to read an input (``'failed'``); and no
   partition's labels are overdue (``sources.max_label_delay_days`` after its
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
evidence itself, not about one SLO; nor can an SLO's ``no_evidence`` (a waiver accepts
an SLO's breaches, not that it goes unmeasured).

No clock and no I/O: ``now`` and every row are passed in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Final

import polars as pl

from checks.candidate_verdict import CANDIDATE_KIND, newest_evaluation
from checks.contract import Contract
from checks.error_budget import ErrorBudget, error_budgets
from checks.freshness import evaluation_time_under, scheduled_evaluation_time
from checks.gate_checks import (
    CRASHED_RUN_STATUS,
    NO_EVIDENCE_REASON,
    budget_reasons,
    check_contract,
    check_contract_unchanged,
    check_early_runs,
    check_evidence,
    check_labels,
    check_latest_run,
    check_missing_days,
    check_newest_run,
    check_recorded_rows,
    days_without_predictions,
    newest_runs,
)
from checks.gate_verdict import (
    CheckName,
    GateOptions,
    Reason,
    Severity,
    Verdict,
    Waiver,
    apply_waiver,
    check_result,
)
from checks.slo_evaluation import (
    SloDefinition,
    as_definitions,
    declared_definitions,
    evaluate_partitions,
)

__all__ = ["decide", "evaluation_times"]


#: Reasons about the evidence of one SLO, not its verdict: a waiver of the SLO (accepting
#: its breaches for a while) does not cover them. A waived drift SLO whose day was too
#: small to measure read READY.
_NOT_WAIVED_BY_AN_SLO_WAIVER: Final = frozenset({NO_EVIDENCE_REASON})


def _waived(
    reason: Reason, waivers: Sequence[Waiver], model: str, version: str, now: dt.datetime
) -> Reason:
    """:func:`apply_waiver`, except for a reason an SLO's waiver does not cover, which says
    so when a waiver names its SLO."""
    if reason.code not in _NOT_WAIVED_BY_AN_SLO_WAIVER:
        return apply_waiver(reason, waivers, model, version, now)
    if any(w.applies_to(model, version, reason.slo) for w in waivers):
        note = " (a waiver of the SLO covers its breaches, not missing evidence: not applied)"
        return replace(reason, message=reason.message + note)
    return reason


def _of_version(frame: pl.DataFrame, model: str, version: str) -> pl.DataFrame:
    if frame.height == 0:
        return frame
    return frame.filter((pl.col("model") == model) & (pl.col("model_version") == version))


def _recorded_schedules(runs: pl.DataFrame) -> dict[str, tuple[str, float]]:
    """Per partition, the schedule (timezone, evaluation delay in hours) its newest run
    that recorded one was judged under."""
    if runs.height == 0 or not {"timezone", "evaluation_delay_hours"} <= set(runs.columns):
        return {}
    recorded = runs.filter(
        pl.col("timezone").is_not_null() & pl.col("evaluation_delay_hours").is_not_null()
    )
    return {
        str(partition): (str(timezone), float(delay))
        for partition, timezone, delay in newest_runs(recorded)
        .select("partition", "timezone", "evaluation_delay_hours")
        .iter_rows()
    }


def _served_only(slis: pl.DataFrame, runs: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A served version's evidence without its candidate evaluations (kept when every run
    is one: then it is judged as a candidate). Why: an evaluation recorded as a later day
    (``validate-candidate --day``) became the served version's newest partition, hiding
    its stale evidence and the breaches and crashes of its served days (review)."""
    if runs.height == 0 or "kind" not in runs.columns:
        return slis, runs
    candidate = pl.col("kind") == CANDIDATE_KIND
    evaluations = runs.filter(candidate)
    if evaluations.height in (0, runs.height):
        return slis, runs
    # The rows of a day are its newest run's: a day last written by an evaluation holds
    # the evaluation's rows.
    evaluated_days = newest_runs(runs).filter(candidate)["partition"].cast(pl.String).to_list()
    if slis.height and evaluated_days:
        slis = slis.filter(~pl.col("partition").cast(pl.String).is_in(evaluated_days))
    return slis, runs.filter(~candidate)


def evaluation_times(
    contract: Contract, slis: pl.DataFrame, runs: pl.DataFrame, *, as_recorded: bool = False
) -> dict[str, dt.datetime]:
    """Data time of every ``YYYY-MM-DD`` partition in ``slis`` and ``runs``: its scheduled
    evaluation time; for a candidate validation (no schedule: its evidence exists once it
    ran) the time its newest run finished. A partition that is not a day has none and is
    never visible. ``as_recorded``: under the schedule each partition's runs recorded
    (``runs.timezone``, ``runs.evaluation_delay_hours``) where they did, not the
    contract's: for a version the contract does not describe (its schedule may be
    another's: a 30 h delay made 38-hour-old evidence of the previous version fresh)."""
    partitions: set[str] = set()
    for frame in (slis, runs):
        if frame.height:
            partitions.update(str(p) for p in frame["partition"].unique().to_list())
    candidates: dict[str, dt.datetime] = {}
    if runs.height and "kind" in runs.columns:
        finished = runs.filter(pl.col("finished_at").is_not_null())
        newest = newest_runs(finished).filter(pl.col("kind") == CANDIDATE_KIND)
        for partition, finished in newest.select("partition", "finished_at").iter_rows():
            at = finished if finished.tzinfo else finished.replace(tzinfo=dt.UTC)
            candidates[str(partition)] = at.astimezone(dt.UTC)
    schedules = _recorded_schedules(runs) if as_recorded else {}
    times: dict[str, dt.datetime] = {}
    for partition in partitions:
        try:
            day = dt.date.fromisoformat(partition)
        except ValueError:
            continue
        recorded = schedules.get(partition)
        scheduled = (
            evaluation_time_under(*recorded, day)
            if recorded
            else scheduled_evaluation_time(contract, day)
        )
        times[partition] = candidates.get(partition) or scheduled
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
    if definitions is None:
        # The contract's SLOs judge whichever version is asked about.
        defs = [replace(d, model_version=None) for d in as_definitions(contract)]
    else:
        defs = [
            d
            for d in as_definitions(definitions)
            if d.model in (None, model) and d.model_version in (None, version)
        ]
        if version == contract.version:
            # How long labels may take is the contract in force's: waited for, not
            # measured, so no re-run is needed. The recorded delay outlived a contract
            # that shortened it (3 -> 1 day: READY on overdue labels; found by review).
            delays = {d.sli: d.evidence_delay_days for d in as_definitions(contract)}
            defs = [
                replace(d, evidence_delay_days=delays.get(d.sli, d.evidence_delay_days))
                for d in defs
            ]
    mine = _of_version(slis, model, version)
    my_runs = _of_version(runs, model, version)
    # The contract's schedule dates its own version's evidence (a change since blocks:
    # contract_changed); another version's is dated as its runs were judged.
    evaluated_at = evaluation_times(
        contract, mine, my_runs, as_recorded=version != contract.version
    )
    visible = [p for p, at in evaluated_at.items() if at <= now]
    later = len(evaluated_at) - len(visible)
    mine = mine.filter(pl.col("partition").is_in(visible)) if mine.height else mine
    my_runs = my_runs.filter(pl.col("partition").is_in(visible)) if my_runs.height else my_runs
    mine, my_runs = _served_only(mine, my_runs)
    candidate_only = (
        "kind" in my_runs.columns
        and my_runs.height > 0
        and set(my_runs["kind"].to_list()) == {CANDIDATE_KIND}
    )
    if candidate_only:
        # A candidate is judged on its newest evaluation alone: its budgets, evidence and
        # latest run too. Judged rows alone were not enough: the budgets still counted an
        # older evaluation as recent evidence for an SLO the newest one could not judge
        # (10 labels: READY, found by review).
        newest = newest_evaluation(my_runs, model, version, now)
        mine = mine.filter(pl.col("partition") == newest) if mine.height else mine
        my_runs = my_runs.filter(pl.col("partition") == newest)
    limit = options.max_evidence_rows

    by_check: dict[CheckName, list[Reason]] = {name: [] for name in CheckName}
    by_check[CheckName.CONTRACT] = check_contract(contract, declared_definitions(contract))
    # A crashed run recorded nothing: it says neither how many labels there were nor
    # anything about the data, only that the newest validation did not happen.
    recorded = my_runs.filter(pl.col("status") != CRASHED_RUN_STATUS) if my_runs.height else my_runs
    labels = check_labels(
        recorded, evaluated_at, defs, now=now, contract=contract,
        without_predictions=days_without_predictions(mine),
    )  # fmt: skip
    window_days = options.window_days or contract.slos.window_days
    # The contract describes its own version: its SLOs and schedule must be the ones
    # recorded with its evidence, on every day the budgets count. A candidate is judged
    # under the contract in force too (it was evaluated under it, whatever version the
    # file names): a contract tightened since its evaluation passed it on the old
    # objectives (found by review).
    changed = (
        check_contract_unchanged(
            defs if definitions is not None else as_definitions(contract),
            as_definitions(contract),
            my_runs,
            rows=mine,
            window_days=window_days,
            model=model,
            version=version,
            contract=contract,
        )
        if version == contract.version or candidate_only
        else []
    )
    by_check[CheckName.EVIDENCE_FRESH] = [
        *changed,
        *check_newest_run(my_runs, model=model, version=version, contract=contract),
        *check_recorded_rows(mine, my_runs, model=model, version=version, contract=contract),
        *check_early_runs(
            my_runs,
            model=model,
            version=version,
            contract=contract,
            window_days=window_days,
            max_rows=limit,
        ),
        *check_missing_days(
            my_runs, model=model, version=version, contract=contract, window_days=window_days
        ),
        *check_evidence(
            my_runs,
            evaluated_at,
            model=model,
            version=version,
            now=now,
            options=options,
            contract=contract,
            later=later,
        ),
        *labels,
    ]

    budgets: list[ErrorBudget] = []
    latest: str | None = None
    if mine.height and defs:
        latest = str(mine["partition"].max())
        evaluations = evaluate_partitions(mine, defs)
        budgets = error_budgets(mine, defs, window_days=options.window_days, policy=options.policy)
        by_check[CheckName.LATEST_RUN] = check_latest_run(
            mine, evaluations, latest, contract, limit
        )
        by_check[CheckName.MODEL_BUDGET] = budget_reasons(
            budgets,
            mine,
            track="model",
            severity=Severity.BLOCK,
            contract=contract,
            limit=limit,
            policy=options.policy,
            labels_overdue=bool(labels),
            candidate_only=candidate_only,
        )
        infra_severity = Severity.BLOCK if options.block_on_infra_budget else Severity.WARN
        by_check[CheckName.INFRA_BUDGET] = budget_reasons(
            budgets,
            mine,
            track="infra",
            severity=infra_severity,
            contract=contract,
            limit=limit,
            policy=options.policy,
            labels_overdue=bool(labels),
            candidate_only=candidate_only,
        )
    elif mine.height:
        latest = str(mine["partition"].max())
    reference = dt.date.fromisoformat(latest) if latest else None

    waivable = (CheckName.LATEST_RUN, CheckName.MODEL_BUDGET, CheckName.INFRA_BUDGET)
    for name in waivable:
        by_check[name] = [
            _waived(r, waivers, model, version, now) if r.severity == Severity.BLOCK else r
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
        waivers=sorted(relevant, key=lambda w: (w.slo, w.honoured_until)),
        options=options,
    )
