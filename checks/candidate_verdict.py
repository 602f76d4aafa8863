"""The gate's verdict on a candidate: a one-shot evaluation, judged as such.

A version validated with ``datasre validate-candidate`` serves no traffic: its evidence is
one evaluation set, recorded as a run of kind ``candidate``. An error budget over a
28-day window, burn rates and alert levels mean nothing for it ("remaining -900%, alert
page" after one bad evaluation). So when every run of the version is a candidate run,
:func:`as_candidate_verdict` rewrites the budget-based parts of a verdict:

- each model-track SLO the candidate misses on its newest evaluation is a reason
  ``candidate_breach`` naming the SLO, the value and the objective (blocking SLOs under
  the ``latest_run`` check, the others under ``model_budget``); both block, as one bad
  evaluation exhausted the budget before, and waivers still apply;
- infra-track SLOs are not measured for a candidate, and no budget table is reported.

Other reasons of those checks (not about budgets or the latest partition) are kept.
Pure: no clock, no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Final

import polars as pl

from checks.breach_rank import rank_breaches
from checks.gate_verdict import (
    CheckName,
    CheckResult,
    Reason,
    Severity,
    Verdict,
    apply_waiver,
    check_result,
)
from checks.gate_words import evidence_rows, format_value, runbook_text
from checks.runbooks import reason_runbook
from checks.slo import DayStatus, SloDefinition, as_definitions, evaluate_partitions

if TYPE_CHECKING:
    from checks.contract import Contract
    from checks.gate_verdict import Waiver

__all__ = [
    "CANDIDATE_KIND",
    "CANDIDATE_TITLES",
    "as_candidate_verdict",
    "is_candidate_only",
    "newest_evaluation",
]

CANDIDATE_KIND: Final = "candidate"

CANDIDATE_TITLES: Final[dict[CheckName, str]] = {
    CheckName.LATEST_RUN: "the candidate meets its blocking SLOs on the evaluation set",
    CheckName.MODEL_BUDGET: "the candidate meets its other model-track SLOs on the evaluation set",
    CheckName.INFRA_BUDGET: "infra-track SLOs (not measured for a candidate)",
}

#: Reason codes replaced for a candidate: they speak of budgets or of the newest partition.
_REPLACED_CODES: Final = ("blocking_breach", "model_budget_exhausted", "infra_budget_exhausted")


def is_candidate_only(runs: pl.DataFrame, model: str, version: str) -> bool:
    """True when ``version`` of ``model`` has runs and every one is a candidate run."""
    if runs.height == 0 or "kind" not in runs.columns:
        return False
    mine = runs.filter((pl.col("model") == model) & (pl.col("model_version") == version))
    return mine.height > 0 and bool((mine["kind"] == CANDIDATE_KIND).all())


def _replaced(reason: Reason) -> bool:
    return reason.code in _REPLACED_CODES or reason.code.startswith("burn_rate_")


def _candidate_reasons(
    verdict: Verdict,
    mine: pl.DataFrame,
    definitions: Sequence[SloDefinition],
    *,
    partition: str,
    limit: int,
    contract: Contract | None,
) -> list[Reason]:
    evaluations = evaluate_partitions(mine.filter(pl.col("partition") == partition), definitions)
    bad = evaluations.filter(
        (pl.col("track") == "model") & (pl.col("status") == DayStatus.BAD.value)
    ).sort("blocking", "slo", descending=[True, False])
    reasons: list[Reason] = []
    for slo, blocking in bad.select("slo", "blocking").iter_rows():
        runbook = reason_runbook("candidate_breach", slo, contract)
        rows = mine.filter((pl.col("partition") == partition) & (pl.col("sli") == slo))
        ranked = rank_breaches(rows.sort("feature", "slice", nulls_last=False))
        model_wide = ranked.filter(pl.col("feature").is_null() & pl.col("slice").is_null())
        head = (model_wide if model_wide.height else ranked).row(0, named=True)
        where = (f"[{head['feature']}]" if head["feature"] else "") + (
            f"{{{head['slice']}}}" if head["slice"] else ""
        )
        others = ranked.height - 1
        evidence, truncated = evidence_rows(ranked.drop("miss"), limit)
        reasons.append(
            Reason(
                code="candidate_breach",
                check=CheckName.LATEST_RUN if blocking else CheckName.MODEL_BUDGET,
                severity=Severity.BLOCK,
                message=f"candidate {verdict.model} {verdict.model_version} breaches "
                + ("blocking " if blocking else "")
                + f"SLO {slo} on its evaluation set (recorded as {partition}): "
                f"{slo}{where} = {format_value(head['value'])} vs objective "
                f"{head['comparator'] or ''} {format_value(head['objective'])}"
                + (f"; {others} more {slo} rows breached" if others > 0 else "")
                + "; "
                + runbook_text(runbook),
                slo=slo,
                track="model",
                days=(partition,),
                runbook=runbook,
                evidence=evidence,
                evidence_truncated=truncated,
            )
        )
    return reasons


def newest_evaluation(runs: pl.DataFrame, model: str, version: str, now: dt.datetime) -> str | None:
    """The partition (``--day``) of the candidate evaluation of ``version`` that finished
    last at or before ``now``; None when there is none.

    Why by finish, not by day: ``--day`` is a label the user chooses (default today), so a
    later evaluation may carry an earlier day. Judging the highest day let a good
    evaluation recorded as tomorrow hide a bad one run after it (READY, found by review);
    and an evaluation that finished after ``now`` did not exist then (``gate --as-of``)."""
    if runs.height == 0 or "kind" not in runs.columns:
        return None
    mine = runs.filter(
        (pl.col("model") == model)
        & (pl.col("model_version") == version)
        & (pl.col("kind") == CANDIDATE_KIND)
        & pl.col("finished_at").is_not_null()
    )
    newest: tuple[dt.datetime, str] | None = None
    for partition, finished in mine.select("partition", "finished_at").iter_rows():
        at = finished if finished.tzinfo else finished.replace(tzinfo=dt.UTC)
        if at <= now and (newest is None or at >= newest[0]):
            newest = (at, str(partition))
    return newest[1] if newest else None


def as_candidate_verdict(
    verdict: Verdict,
    slis: pl.DataFrame,
    *,
    runs: pl.DataFrame,
    definitions: pl.DataFrame | Iterable[SloDefinition],
    waivers: Sequence[Waiver] = (),
    now: dt.datetime,
    contract: Contract | None = None,
) -> Verdict:
    """``verdict`` (from :func:`checks.gate.decide`) reworded for a one-shot candidate,
    judged on its newest evaluation at ``now`` (:func:`newest_evaluation`).

    ``slis`` and ``runs`` are the version's ``sli_latest`` and ``runs`` rows (as given to
    ``decide``); ``now`` is the decision time, for which evaluations exist and waiver
    expiry; ``contract`` (the model's) gives each reason its incident class's runbook
    override (without it, the shipped catalog's).
    """
    partition = newest_evaluation(runs, verdict.model, verdict.model_version, now)
    if partition is None:
        return verdict
    mine = slis.filter(
        (pl.col("model") == verdict.model)
        & (pl.col("model_version") == verdict.model_version)
        & (pl.col("partition") == partition)
    )
    if mine.height == 0:
        return verdict
    defs = [
        d
        for d in as_definitions(definitions)
        if d.model in (None, verdict.model) and d.model_version in (None, verdict.model_version)
    ]
    fresh = _candidate_reasons(
        verdict,
        mine,
        defs,
        partition=partition,
        limit=verdict.options.max_evidence_rows,
        contract=contract,
    )
    fresh = [apply_waiver(r, waivers, verdict.model, verdict.model_version, now) for r in fresh]
    ok_summaries = {
        CheckName.LATEST_RUN: f"no blocking SLO breached on the evaluation set ({partition})",
        CheckName.MODEL_BUDGET: "every other model-track SLO met on the evaluation set",
        CheckName.INFRA_BUDGET: "not measured: a candidate serves no traffic yet",
    }
    checks: list[CheckResult] = []
    for check in verdict.checks:
        if check.name not in CANDIDATE_TITLES:
            checks.append(check)
            continue
        kept = [r for r in check.reasons if not _replaced(r)]
        reasons = kept + [r for r in fresh if r.check == check.name]
        rewritten = check_result(check.name, reasons, ok_summaries[check.name])
        checks.append(replace(rewritten, title=CANDIDATE_TITLES[check.name]))
    reasons = [r for c in checks for r in c.reasons]
    return replace(
        verdict,
        ready=not any(r.severity == Severity.BLOCK for r in reasons),
        reasons=reasons,
        checks=checks,
        budgets=[],
        reference_day=dt.date.fromisoformat(partition),
    )
