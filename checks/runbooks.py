"""Incident classes and their runbooks: which kind of incident an SLI row or a gate reason
is, and which runbook an on-call engineer should open for it.

A breach of ``ks`` on one feature and a breach of ``ingest_ok`` need different first steps
(check the upstream producer vs. check whether a file landed), so one runbook URL per model
sends the on-call to the wrong page half the time. Each :class:`IncidentClass` has one
runbook shipped in the repository (``docs/runbooks/<class>.md``: what it means, how to
confirm it with SQL against the store, what to do); a contract may point a class at its
own page instead (``runbooks: {covariate_drift: https://...}``).

The mapping is by SLI name (the names of :data:`checks.contract.SLO_CATALOG`), with the
row's ``category`` separating prediction drift (the model's output moved) from covariate
drift (its inputs moved), which share the test names ``ks``/``psi``/``chi2``.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Final, Protocol

__all__ = [
    "RUNBOOK_DIR",
    "IncidentClass",
    "RunbookLinks",
    "catalog_runbook",
    "incident_class",
    "reason_incident_class",
    "reason_runbook",
    "runbook_for",
]


class RunbookLinks(Protocol):
    """What of a contract (:class:`checks.contract.Contract`) picks a runbook: its one
    ``runbook`` and its per-class ``runbooks``. A protocol, so that this module, which
    the contract imports, imports nothing of the contract back."""

    @property
    def runbook(self) -> str | None: ...

    @property
    def runbooks(self) -> Mapping[IncidentClass, str]: ...


class IncidentClass(StrEnum):
    """What kind of incident a failed SLI row is; each has one runbook."""

    SCHEMA_BREAK = "schema_break"
    MISSING_SNAPSHOT = "missing_snapshot"
    STALE_DATA = "stale_data"
    NULL_BURST = "null_burst"
    UNSEEN_CATEGORY = "unseen_category"
    COVARIATE_DRIFT = "covariate_drift"
    PREDICTION_DRIFT = "prediction_drift"
    QUALITY_REGRESSION = "quality_regression"
    SLICE_REGRESSION = "slice_regression"
    FAIRNESS_VIOLATION = "fairness_violation"
    LABELS_OVERDUE = "labels_overdue"
    LATENCY = "latency"
    AVAILABILITY = "availability"
    COST_SPIKE = "cost_spike"
    CRASHED_RUN = "crashed_run"


#: Where the shipped runbooks are, relative to the repository root: one Markdown file per
#: class, named after its value (``docs/runbooks/covariate_drift.md``).
RUNBOOK_DIR: Final = PurePosixPath("docs/runbooks")

#: The drift tests' SLI names (``checks.drift``): the row's category says whether the
#: inputs (``drift``) or the model's outputs (``prediction_drift``) were tested.
_DRIFT_TEST_SLIS: Final = frozenset({"ks", "psi", "chi2", "js", "wasserstein"})
_PREDICTION_DRIFT_CATEGORY: Final = "prediction_drift"
_SLICE_PREFIX: Final = "slice_"

_BY_SLI: Final[Mapping[str, IncidentClass]] = {
    "ingest_ok": IncidentClass.MISSING_SNAPSHOT,
    "schema_valid": IncidentClass.SCHEMA_BREAK,
    "schema_validity": IncidentClass.SCHEMA_BREAK,
    "duplicate_id_rate": IncidentClass.SCHEMA_BREAK,
    "unseen_category_rate": IncidentClass.UNSEEN_CATEGORY,
    "completeness": IncidentClass.NULL_BURST,
    "null_rate": IncidentClass.NULL_BURST,
    "data_staleness_seconds": IncidentClass.STALE_DATA,
    "clock_skew_seconds": IncidentClass.STALE_DATA,
    "model_age_days": IncidentClass.STALE_DATA,
    "drifted_feature_share": IncidentClass.COVARIATE_DRIFT,
    "importance_weighted_drift": IncidentClass.COVARIATE_DRIFT,
    "domain_classifier_auc": IncidentClass.COVARIATE_DRIFT,
    "pca_reconstruction_error": IncidentClass.COVARIATE_DRIFT,
    "confidence_p50": IncidentClass.PREDICTION_DRIFT,
    "accuracy": IncidentClass.QUALITY_REGRESSION,
    "precision": IncidentClass.QUALITY_REGRESSION,
    "recall": IncidentClass.QUALITY_REGRESSION,
    "f1": IncidentClass.QUALITY_REGRESSION,
    "roc_auc": IncidentClass.QUALITY_REGRESSION,
    "log_loss": IncidentClass.QUALITY_REGRESSION,
    "calibration_error": IncidentClass.QUALITY_REGRESSION,
    "rmse": IncidentClass.QUALITY_REGRESSION,
    "mae": IncidentClass.QUALITY_REGRESSION,
    "mape": IncidentClass.QUALITY_REGRESSION,
    "ndcg": IncidentClass.QUALITY_REGRESSION,
    "estimated_accuracy": IncidentClass.QUALITY_REGRESSION,
    "estimated_precision": IncidentClass.QUALITY_REGRESSION,
    "estimated_recall": IncidentClass.QUALITY_REGRESSION,
    "estimated_f1": IncidentClass.QUALITY_REGRESSION,
    "estimated_roc_auc": IncidentClass.QUALITY_REGRESSION,
    "demographic_parity_difference": IncidentClass.FAIRNESS_VIOLATION,
    "equal_opportunity_difference": IncidentClass.FAIRNESS_VIOLATION,
    "latency_p50_ms": IncidentClass.LATENCY,
    "latency_p99_ms": IncidentClass.LATENCY,
    "availability": IncidentClass.AVAILABILITY,
    "throughput_rows": IncidentClass.AVAILABILITY,
    "cost_per_prediction_p50": IncidentClass.COST_SPIKE,
    "cost_per_prediction_p99": IncidentClass.COST_SPIKE,
}

#: Gate reason codes (``checks.gate``) that name their incident without an SLO.
_BY_REASON_CODE: Final[Mapping[str, IncidentClass]] = {
    "labels_overdue": IncidentClass.LABELS_OVERDUE,
    "evidence_missing": IncidentClass.MISSING_SNAPSHOT,
    "evidence_stale": IncidentClass.STALE_DATA,
    "run_crashed": IncidentClass.CRASHED_RUN,
    "run_failed": IncidentClass.MISSING_SNAPSHOT,
    "days_missing": IncidentClass.MISSING_SNAPSHOT,
    "evidence_incomplete": IncidentClass.MISSING_SNAPSHOT,
}


def incident_class(category: str, sli: str, status: str = "ok") -> IncidentClass | None:
    """The incident class of an SLI row (its ``category``, ``sli`` and ``status``
    columns), or None for an SLI no runbook covers (none of the catalog's today).

    A row whose input could not be read (``status = 'error'``) is a missing snapshot
    whatever it measured: the first step is finding the file, not reading the metric.
    """
    if status == "error" or sli == "ingest_ok":
        return IncidentClass.MISSING_SNAPSHOT
    if sli in _DRIFT_TEST_SLIS:
        if category == _PREDICTION_DRIFT_CATEGORY:
            return IncidentClass.PREDICTION_DRIFT
        return IncidentClass.COVARIATE_DRIFT
    if sli.startswith(_SLICE_PREFIX) and sli.removeprefix(_SLICE_PREFIX) in _BY_SLI:
        return IncidentClass.SLICE_REGRESSION
    return _BY_SLI.get(sli)


def reason_incident_class(code: str, slo: str | None) -> IncidentClass | None:
    """The incident class of a gate reason: from its code when the code names one
    (``labels_overdue``), else from the SLO it is about; None for reasons about the
    contract itself (no owner, no runbook)."""
    if code in _BY_REASON_CODE:
        return _BY_REASON_CODE[code]
    if slo is None:
        return None
    category = _PREDICTION_DRIFT_CATEGORY if slo == "confidence_p50" else "drift"
    return incident_class(category, slo)


def catalog_runbook(incident: IncidentClass) -> str:
    """The shipped runbook of a class, as a path relative to the repository root."""
    return str(RUNBOOK_DIR / f"{incident.value}.md")


def runbook_for(incident: IncidentClass, contract: RunbookLinks | None = None) -> str:
    """The runbook to link for an incident of this class: the contract's own page for the
    class (``runbooks:`` in the contract) when it names one, else the shipped catalog's."""
    if contract is not None:
        override = contract.runbooks.get(incident)
        if override is not None:
            return override
    return catalog_runbook(incident)


def reason_runbook(code: str, slo: str | None, contract: RunbookLinks | None = None) -> str | None:
    """The runbook a gate reason links: its incident class's (:func:`runbook_for`), else,
    for a reason no class covers (the contract's own gaps: no owner, no SLO), the model's
    one runbook (``runbook:`` in the contract), None when it declares none."""
    incident = reason_incident_class(code, slo)
    if incident is not None:
        return runbook_for(incident, contract)
    if contract is None:
        return None
    return contract.runbook or None
