"""The SLI row shape (row contract v2): runbooks decided in one place for a whole run."""

from __future__ import annotations

import datetime as dt

import polars as pl

from checks.contract import Contract
from checks.runbooks import IncidentClass
from checks.sli import SLI_SCHEMA, SliRow, attach_runbooks, sli_frame


def _contract(runbook: str | None) -> Contract:
    return Contract.model_validate(
        {
            "model": "toy",
            "type": "classification",
            "version": "1",
            "owner": "sre",
            "runbook": runbook,
            "sources": {
                "training": "t.parquet",
                "features": "f_{date}.parquet",
                "id_column": "id",
                "timestamp_column": "ts",
                "start_date": dt.date(2026, 1, 1),
            },
            "features": {"age": {"dtype": "Int64"}},
        }
    )


def test_every_row_gets_the_runbook_of_its_class_unless_it_has_one() -> None:
    rows = sli_frame(
        [
            SliRow("model", "drift", "ks", 0.2, 100, feature="age"),
            SliRow("infra", "completeness", "null_rate", 0.0, 100, feature="age"),
            SliRow("model", "quality", "accuracy", 0.9, 50, runbook="https://wiki/quality"),
        ]
    )
    attached = attach_runbooks(rows, _contract("https://wiki/toy"))
    assert attached.schema == pl.Schema(dict(SLI_SCHEMA))
    # The class's shipped runbook, not the model's one page for everything.
    assert attached["runbook"].to_list() == [
        "docs/runbooks/covariate_drift.md",
        "docs/runbooks/null_burst.md",
        "https://wiki/quality",
    ]
    assert attach_runbooks(rows, _contract(None))["runbook"].to_list() == [
        "docs/runbooks/covariate_drift.md",
        "docs/runbooks/null_burst.md",
        "https://wiki/quality",
    ]


def test_a_contract_override_and_an_unreadable_input_choose_the_runbook() -> None:
    contract = _contract("https://wiki/toy").model_copy(
        update={"runbooks": {IncidentClass.COVARIATE_DRIFT: "https://wiki/drift"}}
    )
    rows = sli_frame(
        [
            SliRow("model", "drift", "psi", 0.3, 100, feature="age"),
            SliRow("model", "completeness", "null_rate", None, 0, feature="age", status="error"),
        ]
    )
    assert attach_runbooks(rows, contract)["runbook"].to_list() == [
        "https://wiki/drift",
        "docs/runbooks/missing_snapshot.md",
    ]
