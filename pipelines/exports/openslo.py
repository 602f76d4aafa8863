"""OpenSLO v1 documents of every contract SLO, so a model's SLOs sit beside service SLOs
in existing SLO tooling.

Per contract: a ``Service`` (the model), an ``AlertNotificationTarget`` (its owner), two
``AlertPolicy`` objects (page and ticket, each with its burn-rate ``AlertCondition``
inline), and per SLO in force an ``SLI`` and an ``SLO``. The objects follow the published
OpenSLO v1 JSON schemas (tests/openslo_schemas validates every export against them):

- the SLI is a ``thresholdMetric`` over ``datasre_slo_day_good`` (1 when the SLO's day is
  good, :mod:`pipelines.exports.metrics`), and the SLO's objective asks ``gte 1`` of
  ``target`` of the occurrences (``budgetingMethod: Occurrences``) over a rolling window
  of the contract's ``window_days``: datasre's own budget, "a share of good days";
- an OpenSLO ``AlertCondition`` has one lookback window, so the policies carry the long
  window of :class:`checks.slo.AlertPolicy` and its thresholds; the exact two-window rule
  (both windows must burn) is what ``datasre export alerts`` writes for Prometheus;
- names are RFC 1123 (``fraud_detection`` becomes ``fraud-detection``); the OpenSLO schema
  forbids a ``target`` of 1, so an SLO with target 1 is refused with its contract field.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

import yaml

from checks.contract import Contract
from checks.errors import ContractError
from checks.runbooks import reason_runbook
from checks.slo import AlertPolicy, SloDefinition, as_definitions
from pipelines.escape import prometheus_label
from pipelines.exports import metrics
from pipelines.exports.names import rfc1123_name

__all__ = ["API_VERSION", "openslo_documents", "render_openslo"]

API_VERSION: Final = "openslo/v1"
#: OpenSLO's limit on a description (characters).
MAX_DESCRIPTION: Final = 1050
#: Label values OpenSLO accepts (metadata.schema.json).
_LABEL_VALUE: Final = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]*\Z")
_OPS: Final = {">=": "gte", "<=": "lte", ">": "gt", "<": "lt"}


def _document(kind: str, name: str, spec: dict[str, Any], **metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": kind,
        "metadata": {"name": name, **{k: v for k, v in metadata.items() if v}},
        "spec": spec,
    }


def _description(text: str) -> str:
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1] + "…"


def _labels(contract: Contract, **extra: str) -> dict[str, str]:
    """Labels of a contract's objects; a value OpenSLO cannot hold (a version with ``+``)
    is left out (the description names it)."""
    candidates = {"model": contract.model, "version": contract.version, **extra}
    return {k: v for k, v in candidates.items() if _LABEL_VALUE.match(v) and len(v) <= 63}


def _alert_policies(contract: Contract, policy: AlertPolicy) -> list[dict[str, Any]]:
    owner_target = rfc1123_name(contract.model, "owner")
    long_window = metrics.window_label(policy.long_window_days)
    documents = []
    for severity, threshold in (
        ("page", policy.page_burn_rate),
        ("ticket", policy.ticket_burn_rate),
    ):
        condition = _document(
            "AlertCondition",
            rfc1123_name(contract.model, severity, "burn"),
            {
                "description": _description(
                    f"Error budget burning at >= {threshold:g}x over {long_window} (datasre's "
                    f"Prometheus rules also require it over {policy.short_window_days}d)."
                ),
                "severity": severity,
                "condition": {
                    "kind": "burnrate",
                    "threshold": threshold,
                    "lookbackWindow": long_window,
                    # The burn rate changes once a day (one evaluation per partition), so
                    # the condition holds from the scrape that shows it.
                    "alertAfter": "1m",
                },
            },
        )
        condition.pop("apiVersion")
        documents.append(
            _document(
                "AlertPolicy",
                rfc1123_name(contract.model, severity),
                {
                    "description": _description(
                        f"{severity} when an SLO of {contract.model} burns its error budget "
                        f">= {threshold:g}x; runbook: {contract.runbook or 'none'}"
                    ),
                    "alertWhenNoData": False,
                    "alertWhenResolved": True,
                    "alertWhenBreaching": True,
                    "conditions": [condition],
                    "notificationTargets": [{"targetRef": owner_target}],
                },
                labels=_labels(contract, severity=severity),
            )
        )
    return documents


def _sli_and_slo(contract: Contract, definition: SloDefinition) -> list[dict[str, Any]]:
    if definition.target >= 1:
        raise ContractError(
            f"{contract.path}: slos.{definition.track}.{definition.sli}.target: OpenSLO "
            "needs a target below 1 (an SLO with no error budget cannot be exported)"
        )
    name = rfc1123_name(contract.model, definition.sli)
    query = (
        f'{metrics.SLO_DAY_GOOD.name}{{model="{prometheus_label(contract.model)}",'
        f'sli="{prometheus_label(definition.sli)}"}}'
    )
    rule = f"{definition.sli} {definition.comparator} {definition.objective:g}"
    blocks = ", blocks deployment" if definition.blocking else ""
    # The SLO's incident class's runbook (checks.runbooks), not the model's one page.
    runbook = reason_runbook(f"{definition.track}_budget", definition.sli, contract)
    labels = _labels(contract, track=definition.track, blocking=str(definition.blocking).lower())
    sli = _document(
        "SLI",
        name,
        {
            "description": _description(
                f"1 when every judged {definition.sli} row of the day meets {rule}, "
                "0 when one breaches it (datasre's daily evaluation)."
            ),
            "thresholdMetric": {
                "metricSource": {"type": "Prometheus", "spec": {"query": query}},
            },
        },
        displayName=f"{contract.model} {definition.sli}",
        labels=labels,
    )
    slo = _document(
        "SLO",
        name,
        {
            "description": _description(
                f"{contract.model} {contract.version}: {rule} on {definition.target:g} of "
                f"the days of a rolling {definition.window_days}-day window "
                f"({definition.track} track{blocks}). Runbook: {runbook or 'none'}"
            ),
            "service": rfc1123_name(contract.model),
            "indicatorRef": name,
            "timeWindow": [{"duration": f"{definition.window_days}d", "isRolling": True}],
            "budgetingMethod": "Occurrences",
            "objectives": [
                {
                    "displayName": f"{rule} on {definition.target:g} of days",
                    "op": _OPS[">="],
                    "value": 1,
                    "target": definition.target,
                }
            ],
            "alertPolicies": [
                rfc1123_name(contract.model, "page"),
                rfc1123_name(contract.model, "ticket"),
            ],
        },
        displayName=f"{contract.model} {rule}",
        labels=labels,
    )
    return [sli, slo]


def openslo_documents(
    contracts: Sequence[Contract], policy: AlertPolicy | None = None
) -> list[dict[str, Any]]:
    """Every OpenSLO object of every contract, in the contracts' order; the alert
    policies use ``policy`` (default :class:`checks.slo.AlertPolicy`)."""
    policy = policy or AlertPolicy()
    documents: list[dict[str, Any]] = []
    for contract in contracts:
        service = rfc1123_name(contract.model)
        documents.append(
            _document(
                "Service",
                service,
                {
                    "description": _description(
                        contract.description or f"ML model {contract.model} (datasre contract)"
                    )
                },
                displayName=contract.model,
                labels=_labels(contract),
            )
        )
        documents.append(
            _document(
                "AlertNotificationTarget",
                rfc1123_name(contract.model, "owner"),
                {
                    "description": _description(f"Owner of {contract.model} (its contract)"),
                    "target": contract.owner,
                },
                labels=_labels(contract),
            )
        )
        documents.extend(_alert_policies(contract, policy))
        for definition in as_definitions(contract):
            documents.extend(_sli_and_slo(contract, definition))
    return documents


def render_openslo(contracts: Sequence[Contract], policy: AlertPolicy | None = None) -> str:
    """The documents as one YAML stream (``---`` between documents)."""
    return "---\n".join(
        yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=10_000)
        for document in openslo_documents(contracts, policy)
    )
