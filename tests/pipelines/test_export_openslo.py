"""``datasre export openslo``: every document validates against the published OpenSLO v1
JSON schemas (vendored in tests/openslo_schemas, see its README), every contract SLO has
its SLI and SLO, and every reference between the documents resolves."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator  # type: ignore[import-untyped]
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from checks.contract import load_contracts
from checks.slo import as_definitions
from pipelines.cli import main

CONTRACTS = "data/samples/contracts"
SCHEMAS = Path(__file__).resolve().parents[1] / "openslo_schemas" / "v1"
BASE = "https://openslo.com/schemas/v1/parts"


@cache
def _registry() -> Registry:
    resources = []
    for path in sorted(SCHEMAS.rglob("*.schema.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resource = Resource.from_contents(contents, default_specification=DRAFT7)
        resources.append((contents["$id"], resource))
    return Registry().with_resources(resources)


def _validator(schema_id: str) -> Draft7Validator:
    registry = _registry()
    return Draft7Validator(registry.contents(schema_id), registry=registry)


def validate(document: Any) -> list[str]:
    """Why ``document`` is not a valid OpenSLO v1 object (empty when it is): it must match
    the header schema, and its ``spec`` the spec schema of its ``kind``."""
    errors = [e.message for e in _validator(f"{BASE}/header.schema.json").iter_errors(document)]
    if errors:
        return errors
    spec_schema = f"{BASE}/specs/{document['kind'].lower()}-spec.schema.json"
    return [
        f"{document['kind']} {document['metadata']['name']}: {e.json_path}: {e.message}"
        for e in _validator(spec_schema).iter_errors(document["spec"])
    ]


def _export(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    capsys.readouterr()
    assert main(["export", "openslo", "--config", CONTRACTS, *args]) == 0
    return list(yaml.safe_load_all(capsys.readouterr().out))


@pytest.fixture
def documents(capsys: pytest.CaptureFixture[str]) -> Iterator[list[dict[str, Any]]]:
    yield _export(capsys)


def test_the_vendored_schemas_reject_what_openslo_forbids() -> None:
    # The validator is not vacuous: each of these breaks one rule of the published schema.
    good: dict[str, Any] = {
        "apiVersion": "openslo/v1",
        "kind": "SLO",
        "metadata": {"name": "m-accuracy"},
        "spec": {
            "service": "m",
            "indicatorRef": "m-accuracy",
            "budgetingMethod": "Occurrences",
            "timeWindow": [{"duration": "28d", "isRolling": True}],
            "objectives": [{"op": "gte", "value": 1, "target": 0.9}],
        },
    }
    assert validate(good) == []
    bad_name = {**good, "metadata": {"name": "M_Accuracy"}}
    bad_target = {**good, "spec": {**good["spec"], "objectives": [{"target": 1}]}}
    no_budgeting = {
        **good,
        "spec": {k: v for k, v in good["spec"].items() if k != "budgetingMethod"},
    }
    bad_window = {**good, "spec": {**good["spec"], "timeWindow": [{"duration": "28 days"}]}}
    bad_version = {**good, "apiVersion": "openslo/v2"}
    for broken in (bad_name, bad_target, no_budgeting, bad_window, bad_version):
        assert validate(broken), broken


def test_every_document_validates_against_the_openslo_v1_schemas(
    documents: list[dict[str, Any]],
) -> None:
    assert documents
    problems = [problem for document in documents for problem in validate(document)]
    assert problems == []


def test_every_contract_slo_has_its_sli_and_slo_and_every_reference_resolves(
    documents: list[dict[str, Any]],
) -> None:
    names: dict[str, set[str]] = {}
    for document in documents:
        names.setdefault(document["kind"], set()).add(document["metadata"]["name"])
    assert set(names) == {"Service", "AlertNotificationTarget", "AlertPolicy", "SLI", "SLO"}
    for contract in load_contracts(CONTRACTS):
        service = contract.model.replace("_", "-")
        assert service in names["Service"]
        for definition in as_definitions(contract):
            name = f"{service}-{definition.sli.replace('_', '-')}"
            assert name in names["SLI"] and name in names["SLO"], name
    for document in documents:
        spec = document["spec"]
        if document["kind"] == "SLO":
            assert spec["service"] in names["Service"]
            assert spec["indicatorRef"] in names["SLI"]
            assert set(spec["alertPolicies"]) <= names["AlertPolicy"]
        if document["kind"] == "AlertPolicy":
            targets = {t["targetRef"] for t in spec["notificationTargets"]}
            assert targets <= names["AlertNotificationTarget"]


def test_an_slo_carries_the_contracts_target_window_and_burn_thresholds(
    documents: list[dict[str, Any]],
) -> None:
    by_name = {(d["kind"], d["metadata"]["name"]): d for d in documents}
    slo = by_name[("SLO", "fraud-detection-accuracy")]["spec"]
    assert slo["timeWindow"] == [{"duration": "28d", "isRolling": True}]
    assert slo["budgetingMethod"] == "Occurrences"
    assert slo["objectives"][0]["target"] == 0.9
    # The SLO's incident class's runbook, not the model's one page.
    assert "Runbook: docs/runbooks/quality_regression.md" in slo["description"]
    sli = by_name[("SLI", "fraud-detection-accuracy")]["spec"]
    query = sli["thresholdMetric"]["metricSource"]["spec"]["query"]
    assert query == 'datasre_slo_day_good{model="fraud_detection",sli="accuracy"}'
    page = by_name[("AlertPolicy", "fraud-detection-page")]["spec"]["conditions"][0]["spec"]
    assert page["severity"] == "page"
    assert page["condition"] == {
        "kind": "burnrate",
        "threshold": 2.0,
        "lookbackWindow": "7d",
        "alertAfter": "1m",
    }


def test_a_target_of_one_is_refused_with_its_contract_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = Path(CONTRACTS) / "fraud_detection.yaml"
    text = source.read_text(encoding="utf-8").replace(
        "accuracy:               {objective: 0.94}",
        "accuracy:               {objective: 0.94, target: 1}",
    )
    contract = tmp_path / "fraud_detection.yaml"
    contract.write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert main(["export", "openslo", "--config", str(contract)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert f"{contract}: slos.model.accuracy.target: OpenSLO needs a target below 1" in err[0]
