"""Multi-window, multi-burn-rate alert rules over the exported SLO metrics: a plain
Prometheus rule file and a PrometheusRule (``monitoring.coreos.com/v1``) per contract.

The rules read the burn rates datasre exports (``datasre_slo_burn_rate{window=...}``,
:mod:`pipelines.exports.prometheus`) instead of recomputing them in PromQL: a daily batch
has one evaluation per day, so a range query over scrapes would count scrapes, not days,
and label-delayed SLOs would be judged on days whose labels have not arrived. The windows
and thresholds are :class:`checks.slo.AlertPolicy`'s, the policy the gate and the SQL
views use; docs/alerting.md says how the SRE workbook's hour-scale windows map to it.

Per SLO in force (declared and built-in) two rules: ``DatasreErrorBudgetBurnPage``
(severity ``page``) when both windows burn at or above the page threshold, and
``DatasreErrorBudgetBurnTicket`` (severity ``ticket``) when both burn at or above the
ticket threshold but not the page one, the same levels as ``checks.slo.alert_level``.
Per contract two more: ``DatasreEvidenceStale`` (``ticket``) when no run recorded evidence
for longer than the gate tolerates, because a dead pipeline freezes every gauge above; and
``DatasreRunCrashed`` (``ticket``) while the newest partition's newest run crashed; and
one ``DatasreEvidenceBlocked`` (``ticket``) per gate reason about the evidence itself,
while the gate blocks on it.
Each rule carries, as ``runbook_url``, the runbook of its incident class (the SLO's, or
stale data for ``DatasreEvidenceStale``; ``checks.runbooks``): the contract's own page for
the class when it names one, else the shipped catalog's path (``docs/runbooks/<class>.md``,
relative to the repository root).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final
from urllib.parse import urljoin, urlsplit

import yaml

from checks.contract import Contract
from checks.gate_checks import (
    CONTRACT_CHANGED_REASON,
    CRASHED_REASON,
    EARLY_RUN_REASON,
    EVIDENCE_MISSING_REASON,
    FAILED_REASON,
    INCOMPLETE_EVIDENCE_REASON,
    LABELS_OVERDUE_REASON,
    MISSING_DAYS_REASON,
)
from checks.gate_verdict import DEFAULT_MAX_EVIDENCE_AGE_HOURS
from checks.runbooks import reason_runbook
from checks.slo import AlertPolicy, SloDefinition, as_definitions
from pipelines.escape import prometheus_label
from pipelines.exports import metrics
from pipelines.exports.names import rfc1123_name
from pipelines.exports.prometheus import EVIDENCE_REASONS
from pipelines.exports.rule_formats import RULE_FORMATS

__all__ = [
    "CRASH_ALERT",
    "EVIDENCE_BLOCKED_ALERT",
    "PAGE_ALERT",
    "STALE_ALERT",
    "TICKET_ALERT",
    "prometheus_rule_documents",
    "render_rules",
    "rule_groups",
]

PAGE_ALERT: Final = "DatasreErrorBudgetBurnPage"
TICKET_ALERT: Final = "DatasreErrorBudgetBurnTicket"
STALE_ALERT: Final = "DatasreEvidenceStale"
CRASH_ALERT: Final = "DatasreRunCrashed"
EVIDENCE_BLOCKED_ALERT: Final = "DatasreEvidenceBlocked"


def _selector(family: metrics.Family, matchers: Mapping[str, str]) -> str:
    inner = ",".join(f'{name}="{prometheus_label(value)}"' for name, value in matchers.items())
    return f"{family.name}{{{inner}}}"


def _both_windows_at_least(slo: Mapping[str, str], threshold: float, policy: AlertPolicy) -> str:
    """PromQL: both burn-rate windows of one SLO at or above ``threshold``."""
    short = _selector(
        metrics.SLO_BURN_RATE,
        {**slo, metrics.WINDOW_LABEL: metrics.window_label(policy.short_window_days)},
    )
    long = _selector(
        metrics.SLO_BURN_RATE,
        {**slo, metrics.WINDOW_LABEL: metrics.window_label(policy.long_window_days)},
    )
    both = f"ignoring({metrics.WINDOW_LABEL})"
    return f"({short} >= {threshold:g} and {both} {long} >= {threshold:g})"


def _comparator_words(definition: SloDefinition) -> str:
    return f"{definition.sli} {definition.comparator} {definition.objective:g}"


def _burn_rules(
    contract: Contract, definition: SloDefinition, policy: AlertPolicy
) -> list[dict[str, Any]]:
    # No version matcher: the rules stay valid when the contract's version changes.
    slo = {"model": contract.model, "sli": definition.sli}
    page = _both_windows_at_least(slo, policy.page_burn_rate, policy)
    ticket = _both_windows_at_least(slo, policy.ticket_burn_rate, policy)
    # A waiver in force (datasre waive) quiets the SLO's alerts as it forgives its block.
    waived = f"unless on(model, sli) {_selector(metrics.SLO_WAIVED, slo)} == 1"
    windows = f"{policy.short_window_days} and {policy.long_window_days} days"
    objective = (
        f"SLO {_comparator_words(definition)} on {definition.target:.4g} of the days of a "
        f"{definition.window_days}-day window ({definition.track} track"
        f"{', blocks deployment' if definition.blocking else ''})."
    )
    runbook = reason_runbook(f"{definition.track}_budget", definition.sli, contract)
    rules: list[dict[str, Any]] = []
    for alert, expr, severity, threshold in (
        (PAGE_ALERT, f"{page} {waived}", "page", policy.page_burn_rate),
        (TICKET_ALERT, f"({ticket} unless {page}) {waived}", "ticket", policy.ticket_burn_rate),
    ):
        annotations = {
            "summary": f"{contract.model}: {definition.sli} burns its error budget at "
            f">= {threshold:g}x over {windows}",
            "description": f"{objective} At this pace the budget lasts "
            f"{definition.window_days / threshold:g} days or less.",
        }
        if runbook:
            annotations["runbook_url"] = runbook
        rules.append(
            {
                "alert": alert,
                "expr": expr,
                # model and sli repeat the series' labels: they make each rule's label
                # set unique (promtool rejects duplicates) and route without the expr.
                "labels": {
                    "severity": severity,
                    "model": contract.model,
                    "track": definition.track,
                    "sli": definition.sli,
                },
                "annotations": annotations,
            }
        )
    return rules


def _evidence_rule(
    contract: Contract,
    alert: str,
    expr: str,
    *,
    reason_code: str | None,
    summary: str,
    description: str,
) -> dict[str, Any]:
    """A per-model ``ticket`` rule about the evidence itself (not one SLO), linking the
    runbook of the gate reason ``reason_code`` (None: the model's own runbook)."""
    annotations = {"summary": f"{contract.model}: {summary}", "description": description}
    runbook = (
        reason_runbook(reason_code, None, contract) if reason_code else contract.runbook or None
    )
    if runbook:
        annotations["runbook_url"] = runbook
    return {
        "alert": alert,
        "expr": expr,
        "labels": {"severity": "ticket", "model": contract.model},
        "annotations": annotations,
    }


def _stale_rule(contract: Contract) -> dict[str, Any]:
    """Evidence older than the gate accepts, by the newest partition's evaluation time (the
    gate's own rule): the time the last run finished said "fresh" after any backfill or
    restatement of old days while no new day was validated (found by review)."""
    hours = DEFAULT_MAX_EVIDENCE_AGE_HOURS
    newest = _selector(metrics.NEWEST_EVALUATION, {"model": contract.model})
    return _evidence_rule(
        contract,
        STALE_ALERT,
        f"time() - {newest} > {hours * 3600:g}",
        reason_code="evidence_stale",
        summary=f"the newest validated day was due more than {hours:g} h ago",
        description="No newer day was validated: every datasre gauge of this model shows "
        "old evidence (a backfill or restatement of older days does not count), and the "
        "deployment gate blocks on it.",
    )


def _crash_rule(contract: Contract) -> dict[str, Any]:
    crashed = _selector(metrics.NEWEST_RUN_CRASHED, {"model": contract.model})
    return _evidence_rule(
        contract,
        CRASH_ALERT,
        f"{crashed} == 1",
        reason_code=CRASHED_REASON,
        summary="the newest validation run crashed before recording evidence",
        description="runs.status = 'crashed' for the newest partition: nothing was measured "
        "that day, and the deployment gate blocks (run_crashed) until a run of it records "
        "evidence. runs.error holds the failed step and its error.",
    )


def _evidence_blocked_rules(contract: Contract) -> list[dict[str, Any]]:
    """One rule per gate reason about the evidence itself (the metric's ``reason`` label),
    each linking that reason's runbook (a day that could not be read: the missing-snapshot
    one; overdue labels: the labels one; ...), as the gate's own reasons do."""
    rules = []
    for reason in EVIDENCE_REASONS:
        blocked = _selector(
            metrics.GATE_EVIDENCE_BLOCKED, {"model": contract.model, "reason": reason}
        )
        rule = _evidence_rule(
            contract,
            EVIDENCE_BLOCKED_ALERT,
            f"{blocked} == 1",
            reason_code=reason,
            summary=f"the deployment gate blocks on the evidence itself ({reason})",
            description=f"{_EVIDENCE_REASON_TEXT[reason]} `datasre gate --model "
            f"{contract.model}` says which days and what to run.",
        )
        rule["labels"]["reason"] = reason
        rules.append(rule)
    return rules


#: What each evidence reason means, for its alert's description.
_EVIDENCE_REASON_TEXT: Final[Mapping[str, str]] = {
    FAILED_REASON: "The newest run of a day could not read an input (runs.status = "
    "'failed'): there is no evidence for that day.",
    CONTRACT_CHANGED_REASON: "The contract changed since the evidence was recorded: days "
    "measured under the old settings must be run again.",
    EARLY_RUN_REASON: "A day's newest run started before the day ended: it saw part of "
    "the day at most.",
    MISSING_DAYS_REASON: "Days of the budget window were never run.",
    LABELS_OVERDUE_REASON: "Labels of days past the contract's max_label_delay_days have "
    "not arrived: quality is unmeasured.",
    EVIDENCE_MISSING_REASON: "No run that read its inputs is recorded for this version.",
    INCOMPLETE_EVIDENCE_REASON: "Rows the newest runs recorded are gone from the store.",
}


def _linked(rules: list[dict[str, Any]], runbook_base: str) -> list[dict[str, Any]]:
    """``rules`` with every relative ``runbook_url`` (a shipped runbook's path) joined to
    ``runbook_base`` (e.g. where the repository's docs are browsable): Alertmanager and
    the pages it sends need a URL, not a path (new-user walkthrough). Absolute links (a
    contract's own ``runbooks:`` pages) stay as they are."""
    for rule in rules:
        url = rule["annotations"].get("runbook_url")
        if url and not urlsplit(url).scheme:
            rule["annotations"]["runbook_url"] = urljoin(runbook_base.rstrip("/") + "/", url)
    return rules


def rule_groups(
    contracts: Sequence[Contract], policy: AlertPolicy | None = None, runbook_base: str = ""
) -> list[dict[str, Any]]:
    """One rule group per contract (``datasre-<model>``), in the contracts' order; the
    windows and thresholds of ``policy`` (default :class:`checks.slo.AlertPolicy`);
    shipped runbooks linked under ``runbook_base`` when given (:func:`_linked`)."""
    policy = policy or AlertPolicy()
    groups: list[dict[str, Any]] = []
    for contract in contracts:
        rules = [
            rule
            for definition in as_definitions(contract)
            for rule in _burn_rules(contract, definition, policy)
        ]
        rules += [_stale_rule(contract), _crash_rule(contract), *_evidence_blocked_rules(contract)]
        if runbook_base:
            rules = _linked(rules, runbook_base)
        groups.append({"name": f"datasre-{contract.model}", "rules": rules})
    return groups


def prometheus_rule_documents(
    contracts: Sequence[Contract], policy: AlertPolicy | None = None, runbook_base: str = ""
) -> list[dict[str, Any]]:
    """One PrometheusRule resource per contract, holding that contract's rule group."""
    return [
        {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PrometheusRule",
            "metadata": {
                "name": rfc1123_name("datasre", contract.model),
                "labels": {"app.kubernetes.io/name": "datasre"},
            },
            "spec": {"groups": [group]},
        }
        for contract, group in zip(
            contracts, rule_groups(contracts, policy, runbook_base), strict=True
        )
    ]


def render_rules(
    contracts: Sequence[Contract],
    rule_format: str,
    policy: AlertPolicy | None = None,
    runbook_base: str = "",
) -> str:
    """YAML of the rules: ``rules`` is one Prometheus rule file (``groups:``), the input of
    ``promtool check rules``; ``prometheus-rule`` is a stream of PrometheusRule resources
    for ``kubectl apply -f``. ``runbook_base``: see :func:`rule_groups`."""
    if rule_format == "rules":
        return _yaml({"groups": rule_groups(contracts, policy, runbook_base)})
    if rule_format == "prometheus-rule":
        documents = prometheus_rule_documents(contracts, policy, runbook_base)
        return "---\n".join(_yaml(document) for document in documents)
    raise ValueError(f"rule format must be one of {RULE_FORMATS}, not {rule_format!r}")


def _yaml(document: Mapping[str, Any]) -> str:
    return yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True, width=10_000)
