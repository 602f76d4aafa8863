"""Incident classes, their shipped runbooks and the contract's per-class override."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assets.store import SliStore
from checks.contract import SLO_CATALOG, Contract, ContractError, load_contract
from checks.runbooks import (
    IncidentClass,
    catalog_runbook,
    incident_class,
    reason_incident_class,
    runbook_for,
)

REPO = Path(__file__).resolve().parents[2]
SQL_BLOCK = re.compile(r"```sql\n(.*?)```", re.DOTALL)


@pytest.mark.parametrize("incident", list(IncidentClass))
def test_every_incident_class_has_a_runbook_that_says_what_confirm_and_do(
    incident: IncidentClass,
) -> None:
    text = (REPO / catalog_runbook(incident)).read_text(encoding="utf-8")
    assert f"(`{incident.value}`)" in text.splitlines()[0]
    for section in ("## What it means", "## Confirm", "## What to do"):
        assert section in text, f"{incident}: no {section!r}"
    assert SQL_BLOCK.search(text), f"{incident}: no SQL to confirm it with"


@pytest.mark.parametrize("incident", list(IncidentClass))
def test_every_runbook_query_runs_against_a_real_store(
    incident: IncidentClass, tmp_path: Path
) -> None:
    """The queries name real tables, views and columns (an empty store answers them)."""
    store = SliStore(tmp_path / "store.duckdb")
    store.ensure_schema()
    text = (REPO / catalog_runbook(incident)).read_text(encoding="utf-8")
    for block in SQL_BLOCK.findall(text):
        for statement in filter(str.strip, block.split(";")):
            store.query(statement)


def test_every_slo_of_the_catalog_has_an_incident_class() -> None:
    unmapped = [name for name in SLO_CATALOG if incident_class("x", name) is None]
    assert unmapped == []


@pytest.mark.parametrize(
    ("category", "sli", "status", "expected"),
    [
        ("ingest", "ingest_ok", "error", IncidentClass.MISSING_SNAPSHOT),
        ("schema", "schema_valid", "ok", IncidentClass.SCHEMA_BREAK),
        ("schema", "schema_validity", "ok", IncidentClass.SCHEMA_BREAK),
        ("schema", "duplicate_id_rate", "ok", IncidentClass.SCHEMA_BREAK),
        ("schema", "unseen_category_rate", "ok", IncidentClass.UNSEEN_CATEGORY),
        ("completeness", "null_rate", "ok", IncidentClass.NULL_BURST),
        ("completeness", "completeness", "ok", IncidentClass.NULL_BURST),
        ("freshness", "data_staleness_seconds", "ok", IncidentClass.STALE_DATA),
        ("freshness", "clock_skew_seconds", "ok", IncidentClass.STALE_DATA),
        ("drift", "ks", "ok", IncidentClass.COVARIATE_DRIFT),
        ("drift", "chi2", "ok", IncidentClass.COVARIATE_DRIFT),
        ("drift", "drifted_feature_share", "ok", IncidentClass.COVARIATE_DRIFT),
        ("prediction_drift", "ks", "ok", IncidentClass.PREDICTION_DRIFT),
        ("prediction_drift", "psi", "ok", IncidentClass.PREDICTION_DRIFT),
        ("prediction", "confidence_p50", "ok", IncidentClass.PREDICTION_DRIFT),
        ("quality", "accuracy", "ok", IncidentClass.QUALITY_REGRESSION),
        ("quality", "rmse", "ok", IncidentClass.QUALITY_REGRESSION),
        ("quality", "slice_accuracy", "ok", IncidentClass.SLICE_REGRESSION),
        ("quality", "slice_rmse", "ok", IncidentClass.SLICE_REGRESSION),
        ("fairness", "demographic_parity_difference", "ok", IncidentClass.FAIRNESS_VIOLATION),
        ("latency", "latency_p99_ms", "ok", IncidentClass.LATENCY),
        ("availability", "availability", "ok", IncidentClass.AVAILABILITY),
        ("throughput", "throughput_rows", "ok", IncidentClass.AVAILABILITY),
        ("cost", "cost_per_prediction_p99", "ok", IncidentClass.COST_SPIKE),
        # an unreadable input is a missing snapshot whatever the row measures
        ("quality", "accuracy", "error", IncidentClass.MISSING_SNAPSHOT),
    ],
)
def test_an_sli_row_maps_to_its_incident_class(
    category: str, sli: str, status: str, expected: IncidentClass
) -> None:
    assert incident_class(category, sli, status) == expected


def test_a_gate_reason_maps_by_its_code_or_its_slo() -> None:
    assert reason_incident_class("labels_overdue", "accuracy") == IncidentClass.LABELS_OVERDUE
    assert reason_incident_class("evidence_missing", None) == IncidentClass.MISSING_SNAPSHOT
    assert reason_incident_class("blocking_breach", "completeness") == IncidentClass.NULL_BURST
    assert reason_incident_class("no_evidence", "slice_accuracy") == (
        IncidentClass.SLICE_REGRESSION
    )
    assert reason_incident_class("contract_no_owner", None) is None


def _with_runbooks(path: Path, block: str) -> Path:
    path.write_text(path.read_text(encoding="utf-8") + block, encoding="utf-8")
    return path


def test_the_contract_overrides_one_class_and_keeps_the_catalog_for_the_others(
    toy_contract_path: Path,
) -> None:
    url = "https://wiki.example.com/toy/drift"
    contract = load_contract(
        _with_runbooks(toy_contract_path, f"runbooks:\n  covariate_drift: {url}\n")
    )
    assert runbook_for(IncidentClass.COVARIATE_DRIFT, contract) == url
    assert runbook_for(IncidentClass.NULL_BURST, contract) == "docs/runbooks/null_burst.md"
    assert runbook_for(IncidentClass.NULL_BURST) == "docs/runbooks/null_burst.md"


def test_a_runbook_key_that_is_no_incident_class_is_a_contract_error(
    toy_contract_path: Path,
) -> None:
    path = _with_runbooks(toy_contract_path, "runbooks:\n  covariate_drfit: https://x\n")
    with pytest.raises(ContractError, match=r"runbooks\.covariate_drfit"):
        load_contract(path)


def test_a_contract_without_runbooks_uses_the_catalog(toy_contract_path: Path) -> None:
    contract: Contract = load_contract(toy_contract_path)
    assert contract.runbooks == {}
    assert runbook_for(IncidentClass.LATENCY, contract) == "docs/runbooks/latency.md"


def test_a_gate_reason_links_its_class_runbook_else_the_models_one(
    toy_contract_path: Path,
) -> None:
    from checks.runbooks import reason_runbook

    url = "https://wiki.example.com/toy/quality"
    contract = load_contract(
        _with_runbooks(toy_contract_path, f"runbooks:\n  quality_regression: {url}\n")
    )
    assert reason_runbook("model_budget_exhausted", "accuracy", contract) == url
    assert reason_runbook("blocking_breach", "completeness", contract) == (
        "docs/runbooks/null_burst.md"
    )
    assert reason_runbook("labels_overdue", None, contract) == "docs/runbooks/labels_overdue.md"
    # The contract's own gaps have no class: the model's one runbook (or none at all).
    assert reason_runbook("contract_no_infra_slo", None, contract) == contract.runbook
    assert reason_runbook("contract_no_owner", None) is None
