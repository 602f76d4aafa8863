"""The SLI row shape (row contract v2): runbooks decided in one place for a whole run."""

from __future__ import annotations

import datetime as dt

import polars as pl

from checks.contract import Contract
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
    assert attached["runbook"].to_list() == [
        "https://wiki/toy",
        "https://wiki/toy",
        "https://wiki/quality",
    ]
    assert attach_runbooks(rows, _contract(None))["runbook"].to_list() == [
        None,
        None,
        "https://wiki/quality",
    ]
