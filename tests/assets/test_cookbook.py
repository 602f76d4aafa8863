"""Every ```sql block of docs/cookbook.md runs on a fixture database, with sane answers."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import polars as pl
import pytest

from assets.store import RunRecord, SliStore
from assets.store.gate_store import GateStore
from checks.gate_verdict import Waiver
from checks.sli import SLI_SCHEMA, SliRow, sli_frame, slo_definitions_frame
from tests.gate_fixtures import DAY0, FINISHED, gate_contract, write_history

COOKBOOK = Path(__file__).resolve().parents[2] / "docs" / "cookbook.md"
QUERIES = re.findall(r"```sql\n(.*?)```", COOKBOOK.read_text(encoding="utf-8"), re.DOTALL)


def _d(day: int) -> dt.date:
    return DAY0 + dt.timedelta(days=day - 1)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``toy``: infra green, accuracy red since day 4; ``eta``: all green, one drift day."""
    store = SliStore(tmp_path_factory.mktemp("cookbook") / "sli.duckdb")
    toy = gate_contract()
    write_history(store, toy, 5, bad={"accuracy": [_d(2), _d(4), _d(5)]})
    eta = gate_contract(model="eta")
    write_history(store, eta, 4)
    drift = [
        SliRow(
            "model",
            "drift",
            "psi",
            value,
            1000,
            feature=feature,
            method="psi",
            objective=0.2,
            comparator="<=",
            ok=value <= 0.2,
        )
        for feature, value in (("x", 0.45), ("k", 0.05))
    ]
    run = RunRecord(
        run_id="eta-day-5",
        model="eta",
        model_version=eta.version,
        partition=_d(5).isoformat(),
        started_at=FINISHED,
        finished_at=FINISHED,
        status="succeeded",
    )
    store.write_run(run, sli_frame(drift), slo_definitions=slo_definitions_frame(eta))
    # Day 5 of toy restated (its labels landed late): accuracy moved, stayed bad.
    day5 = _d(5).isoformat()
    rows = store.query("select * from sli_latest where model = 'toy' and partition = ?", [day5])
    restated = rows.select(list(SLI_SCHEMA)).with_columns(
        pl.when(pl.col("sli") == "accuracy")
        .then(pl.col("value") - 0.01)
        .otherwise(pl.col("value"))
        .alias("value")
    )
    restatement = RunRecord(
        run_id="toy-day-5-restated",
        model="toy",
        model_version=toy.version,
        partition=day5,
        started_at=FINISHED + dt.timedelta(days=2),
        finished_at=FINISHED + dt.timedelta(days=2, minutes=1),
        status="succeeded",
        kind="restatement",
    )
    store.write_run(restatement, restated, slo_definitions=slo_definitions_frame(toy))
    gate_store = GateStore(store)
    gate_store.add_waiver(
        Waiver(model="toy", slo="accuracy", reason="r", expires=dt.date(2999, 1, 1))
    )
    return store.path


def _run(database: Path, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(database), read_only=True) as con:
        frame: pl.DataFrame = con.sql(sql).pl()
        return frame


def test_the_cookbook_has_its_queries() -> None:
    assert len(QUERIES) == 9


@pytest.mark.parametrize("index", range(len(QUERIES)))
def test_every_cookbook_query_runs(database: Path, index: int) -> None:
    _run(database, QUERIES[index])


def test_the_cookbook_answers_are_right(database: Path) -> None:
    budget, drift, started, episodes, split, _, waivers, restated, values = (
        _run(database, q) for q in QUERIES
    )
    toy_model = budget.filter((pl.col("model") == "toy") & (pl.col("track") == "model"))
    assert toy_model["exhausted_slos"].item() == 1
    assert toy_model["tightest_slo"].item() == "accuracy"
    assert drift.row(0, named=True)["feature"] == "x"
    assert drift.row(0, named=True)["max_psi"] == pytest.approx(0.45)
    assert started.filter(pl.col("slo") == "accuracy")["breach_started"].item() == _d(4)
    accuracy = episodes.filter(pl.col("slo") == "accuracy")
    assert accuracy["started"].to_list() == [_d(2), _d(4)]
    assert accuracy["bad_days"].to_list() == [1, 2]
    assert split["model"].to_list() == ["toy"]
    assert split["red_model_slos"].to_list() == [["accuracy"]]
    assert waivers["slo"].to_list() == ["accuracy"]
    # The restatement of toy's day 5: only accuracy changed, both values are there.
    change = restated.row(0, named=True)
    assert restated.height == 1
    assert (change["model"], change["partition"], change["sli"]) == (
        "toy",
        _d(5).isoformat(),
        "accuracy",
    )
    assert change["value_after"] == pytest.approx(change["value_before"] - 0.01)
    assert (change["run_after"], change["kind"]) == ("toy-day-5-restated", "restatement")
    assert values["state"].to_list() == ["replaced", "current"]
    assert values["run_id"].to_list()[1] == "toy-day-5-restated"
