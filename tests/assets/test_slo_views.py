"""The SQL views agree with checks.slo; the gate store; a fixture database per gate reason.

Every database here is written with SliStore.write_run, exactly as the pipeline does.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from assets.store import SliStore
from assets.store.gate_store import GateStore
from assets.store.store import RunRecord
from assets.validation import ingest_row
from checks.contract import Contract
from checks.gate import decide
from checks.gate_verdict import GateOptions, Severity, Verdict, Waiver
from checks.sli import sli_frame
from checks.slo import error_budget_frame, error_budgets, evaluate_partitions
from tests.gate_fixtures import (
    DAY0,
    FINISHED,
    day_rows,
    days,
    gate_contract,
    gate_contract_dict,
    write_history,
)

# Histories start on DAY0; a four-day history's newest partition (2026-11-04) is evaluated
# at 2026-11-05 06:00 UTC (data time), so NOW sees fresh evidence.
NOW = dt.datetime(2026, 11, 5, 8, 0, tzinfo=dt.UTC)
RERUN_DELAY = dt.timedelta(hours=2)


def _d(day: int) -> dt.date:
    return DAY0 + dt.timedelta(days=day - 1)


def _same(sql: pl.DataFrame, python: pl.DataFrame, keys: list[str]) -> None:
    """Equal frames up to float rounding (1e-12 relative), row order and None/NaN."""
    assert sql.height == python.height
    left = sql.sort(keys).to_dicts()
    right = python.select(sql.columns).sort(keys).to_dicts()
    for a, b in zip(left, right, strict=True):
        for column, value in a.items():
            other = b[column]
            if isinstance(value, float) and isinstance(other, float):
                if math.isinf(value) or math.isinf(other):
                    assert value == other, (column, a, b)
                else:
                    assert value == pytest.approx(other, rel=1e-12, abs=1e-12), (column, a, b)
            else:
                assert value == other, (column, a, b)


def _python_budgets(store: SliStore) -> pl.DataFrame:
    slis = store.query("select * from sli_latest")
    definitions = store.query("select * from slo_definitions")
    return error_budget_frame(error_budgets(slis, definitions))


@pytest.fixture(scope="module")
def mixed_store(tmp_path_factory: pytest.TempPathFactory) -> SliStore:
    """Two models, two versions, a strict target, a target of 1, unjudged days, a rerun."""
    store = SliStore(tmp_path_factory.mktemp("mixed") / "mixed.duckdb")
    toy = gate_contract()
    write_history(
        store,
        toy,
        12,
        bad={"accuracy": [_d(4), _d(10), _d(12)], "latency_p99_ms": [_d(11)]},
        unjudged={"accuracy": [_d(6), _d(7)]},
    )
    write_history(store, toy, 5, version="2.0.0", bad={"completeness": [_d(5)]})
    strict = gate_contract(
        model="strict",
        slos={
            "window_days": 7,
            "infra": {"availability": {"objective": 0.995, "target": 1.0}},
            "model": {
                "completeness": {"objective": 0.99, "target": 0.8, "blocking": True},
                "accuracy": {"objective": 0.9, "target": 0.5},
            },
        },
    )
    write_history(
        store,
        strict,
        10,
        bad={"availability": [_d(10)], "completeness": [_d(10)], "accuracy": [_d(2), _d(3)]},
    )
    # A rerun of day 12 that fixed accuracy replaces that day's rows.
    write_history(
        store, toy, 1, start=_d(12), run_prefix="rerun", finished_at=FINISHED + RERUN_DELAY
    )
    return store


def test_error_budget_view_agrees_with_checks_slo(mixed_store: SliStore) -> None:
    sql = mixed_store.query("select * from error_budget")
    python = _python_budgets(mixed_store)
    # declared + the built-in unseen_category_rate + clock_skew_seconds of each version
    assert sql.height == 5 + 5 + 4 + 3
    _same(sql, python, ["model", "model_version", "slo"])


def test_slo_evaluations_view_agrees_with_checks_slo(mixed_store: SliStore) -> None:
    sql = mixed_store.query("select * from slo_evaluations")
    python = evaluate_partitions(
        mixed_store.query("select * from sli_latest"),
        mixed_store.query("select * from slo_definitions"),
    )
    _same(sql, python, ["model", "model_version", "slo", "partition"])


def test_slo_status_is_the_dashboard_projection(mixed_store: SliStore) -> None:
    status = mixed_store.query("select * from slo_status")
    python = _python_budgets(mixed_store)
    _same(status, python, ["model", "model_version", "slo"])
    states = {(r["model"], r["model_version"], r["slo"]): r["state"] for r in status.to_dicts()}
    # toy 1.0.0: day 12 was rerun clean, so accuracy has 2 bad of 10 evaluations (budget
    # 1.0): exhausted. latency was bad on day 11 only: 1 of 12, budget 1.2, newest good.
    assert states[("toy", "1.0.0", "accuracy")] == "exhausted"
    assert states[("toy", "1.0.0", "latency_p99_ms")] == "ok"
    assert states[("toy", "2.0.0", "completeness")] == "exhausted"  # 1 bad > 0.5
    assert states[("strict", "1.0.0", "completeness")] == "breached"  # 1 bad <= 1.4
    assert states[("strict", "1.0.0", "availability")] == "exhausted"  # target 1
    assert states[("strict", "1.0.0", "accuracy")] == "ok"  # 7-day window forgets days 2, 3
    row = mixed_store.query(
        "select * from error_budget where model = 'strict' and slo = 'availability'"
    ).row(0, named=True)
    assert row["burn_rate_short"] == math.inf and row["remaining_fraction"] is None


def test_views_agree_on_random_histories(tmp_path: Path) -> None:
    rng = random.Random(7)
    store = SliStore(tmp_path / "random.duckdb")
    for index, target in enumerate((0.5, 0.8, 0.9, 0.95)):
        contract = gate_contract(
            model=f"m{index}",
            slos={
                "window_days": rng.choice([3, 7, 28]),
                "infra": {"latency_p99_ms": {"objective": 100, "target": target}},
                "model": {
                    "accuracy": {"objective": 0.9, "target": target},
                    "completeness": {"objective": 0.99, "target": target, "blocking": True},
                },
            },
        )
        n = rng.randint(1, 6)
        history = days(n)
        bad = {s: [d for d in history if rng.random() < 0.3] for s in ("accuracy", "completeness")}
        unjudged = {"accuracy": [d for d in history if rng.random() < 0.2]}
        write_history(store, contract, n, bad=bad, unjudged=unjudged)
    _same(
        store.query("select * from error_budget"),
        _python_budgets(store),
        ["model", "model_version", "slo"],
    )


def test_burn_rate_thresholds_in_sql_match_the_alert_policy(tmp_path: Path) -> None:
    # At target 0.9: two bad days in the last seven, today included, page; one, ticket.
    store = SliStore(tmp_path / "alerts.duckdb")
    contract = gate_contract()
    write_history(store, contract, 7, bad={"accuracy": [_d(3), _d(7)]})
    write_history(store, contract, 7, version="2.0.0", bad={"accuracy": [_d(7)]})
    levels = dict(
        store.fetchall("select model_version, alert_level from error_budget where slo = 'accuracy'")
    )
    assert levels == {"1.0.0": "page", "2.0.0": "ticket"}
    _same(
        store.query("select * from error_budget"),
        _python_budgets(store),
        ["model", "model_version", "slo"],
    )


def test_sql_views_are_generated_from_a_non_default_alert_policy(tmp_path: Path) -> None:
    # Two bad days in the last seven pages under the default policy (1.0.0 above); with
    # a 3-day long window and a page threshold of 4 the same history is only a ticket
    # (3-day burn 1/3/0.1 = 3.33 < 4), and the views say what checks.slo says.
    from assets.store.slo_views import slo_views
    from checks.alert_policy import AlertPolicy

    policy = AlertPolicy(long_window_days=3, page_burn_rate=4.0, ticket_burn_rate=3.0)
    store = SliStore(tmp_path / "policy.duckdb")
    contract = gate_contract()
    write_history(store, contract, 7, bad={"accuracy": [_d(3), _d(7)]})
    with store.transaction() as connection:
        for statement in slo_views(policy):
            connection.execute(statement)
    level = store.fetchall("select alert_level from error_budget where slo = 'accuracy'")
    assert level == [("ticket",)]
    slis = store.query("select * from sli_latest")
    definitions = store.query("select * from slo_definitions")
    _same(
        store.query("select * from error_budget"),
        error_budget_frame(error_budgets(slis, definitions, policy=policy)),
        ["model", "model_version", "slo"],
    )


# --- the gate store ----------------------------------------------------------------------


def _decide(store: SliStore, contract: Contract, **kwargs: Any) -> Verdict:
    gate_store = GateStore(store)
    gate_store.ensure_schema()
    version = kwargs.pop("version", contract.version)
    evidence = gate_store.load_evidence(contract.model, version)
    return decide(
        contract,
        evidence.slis,
        evidence.runs,
        now=kwargs.pop("now", NOW),
        version=version,
        definitions=evidence.definitions if evidence.definitions.height else None,
        waivers=evidence.waivers,
        **kwargs,
    )


# (name, contract overrides, history kwargs, gate kwargs, expected blocking codes); four
# days each, so at target 0.9 the budget is 0.4 bad days and one bad day exhausts it.
SCENARIOS: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any], list[str]]] = [
    ("a clean history is ready", {}, {}, {}, []),
    (
        "a contract without infra SLOs blocks",
        {"slos": {"model": {"accuracy": {"objective": 0.9}}}},
        {},
        {},
        ["contract_no_infra_slo"],
    ),
    (
        "only another version's runs is missing evidence",
        {},
        {"version": "0.9.0"},
        {},
        ["evidence_missing"],
    ),
    (
        "evidence evaluated 40 hours before the decision is stale, however late it ran",
        {},
        {"finished_at": NOW + dt.timedelta(hours=38)},
        {"now": NOW + dt.timedelta(hours=38)},
        ["evidence_stale"],
    ),
    (
        "a blocking breach on the newest day blocks",
        {"slos": {"infra": {"latency_p99_ms": {"objective": 100}},
                  "model": {"completeness": {"objective": 0.99, "target": 0.5,
                                             "blocking": True}}}},
        {"bad": {"completeness": [_d(4)]}},
        {},
        ["blocking_breach"],
    ),
    (
        "a blocking label-fed SLO breached on its newest labelled day blocks",
        {"slos": {"infra": {"latency_p99_ms": {"objective": 100}},
                  "model": {"accuracy": {"objective": 0.94, "target": 0.5,
                                         "blocking": True}}}},
        {"bad": {"accuracy": [_d(3)]}, "unjudged": {"accuracy": [_d(4)]}},
        {},
        ["blocking_breach"],
    ),
    (
        "an old bad accuracy day exhausts the model budget",
        {},
        {"bad": {"accuracy": [_d(2)]}},
        {},
        ["model_budget_exhausted"],
    ),
    (
        "an exhausted infra budget blocks only when asked",
        {},
        {"bad": {"latency_p99_ms": [_d(2)]}},
        {"options": GateOptions(block_on_infra_budget=True)},
        ["infra_budget_exhausted"],
    ),
]  # fmt: skip


@pytest.fixture(scope="module")
def scenario_store(tmp_path_factory: pytest.TempPathFactory) -> SliStore:
    """One database, one model per scenario (``s0``, ``s1``...)."""
    store = SliStore(tmp_path_factory.mktemp("scenarios") / "gate.duckdb")
    for index, (_, overrides, history, _, _) in enumerate(SCENARIOS):
        write_history(store, gate_contract(model=f"s{index}", **overrides), 4, **history)
    return store


@pytest.mark.parametrize(
    ("index", "scenario"), list(enumerate(SCENARIOS)), ids=[s[0] for s in SCENARIOS]
)
def test_every_blocking_reason_from_a_fixture_database(
    scenario_store: SliStore,
    index: int,
    scenario: tuple[str, dict[str, Any], dict[str, Any], dict[str, Any], list[str]],
) -> None:
    _, overrides, _, gate, codes = scenario
    contract = gate_contract(model=f"s{index}", **overrides)
    verdict = _decide(scenario_store, contract, **dict(gate))
    assert [r.code for r in verdict.blocking] == codes
    assert verdict.ready is (not codes)


def test_sli_rows_deleted_by_hand_block_until_their_days_are_rerun(tmp_path: Path) -> None:
    """The runs still said succeeded: with every row of the version gone the gate said
    READY ("no SLI rows to judge"), with the newest day's gone it judged the day before
    (found by review)."""
    store = SliStore(tmp_path / "deleted.duckdb")
    contract = gate_contract()
    late = dt.datetime(2026, 11, 15, 12, 0, tzinfo=dt.UTC)  # day 14 evaluated 6 h before
    write_history(store, contract, 14)
    assert _decide(store, contract, now=late).ready
    newest = (DAY0 + dt.timedelta(days=13)).isoformat()
    with store.transaction() as con:
        con.execute("delete from sli_results where partition = ? and sli = 'accuracy'", [newest])
    verdict = _decide(store, contract, now=late)
    assert [r.code for r in verdict.blocking] == ["evidence_incomplete"]
    reason = verdict.blocking[0]
    assert reason.days == (newest,)
    assert f"datasre run --model toy --partition {newest}" in reason.message
    assert reason.evidence[0]["held"] < reason.evidence[0]["n_slis"]
    with store.transaction() as con:
        con.execute("delete from sli_results")
    everything = _decide(store, contract, now=late)
    assert not everything.ready
    assert len(next(r for r in everything.blocking if r.code == "evidence_incomplete").days) == 14


def test_rows_a_failed_rerun_superseded_are_not_called_deleted(tmp_path: Path) -> None:
    """A re-run that could not read its input replaces the day's rows with its own (its
    ingest row): the gate says the run failed, not that the good run's rows were deleted
    (found by a new user: `evidence_incomplete ... (0 of 61)`)."""
    store = SliStore(tmp_path / "failed_rerun.duckdb")
    contract = gate_contract()
    late = dt.datetime(2026, 11, 15, 12, 0, tzinfo=dt.UTC)
    write_history(store, contract, 14)
    newest = DAY0 + dt.timedelta(days=13)
    failed = RunRecord(
        run_id="rerun-failed",
        model=contract.model,
        model_version=contract.version,
        partition=newest.isoformat(),
        started_at=late - dt.timedelta(minutes=2),
        finished_at=late - dt.timedelta(minutes=1),
        status="failed",
        error="features: file not found",
    )
    store.write_run(failed, sli_frame(day_rows(contract)[:2]))
    verdict = _decide(store, contract, now=late)
    codes = [r.code for r in verdict.blocking]
    # (and no_evidence for the SLOs the failed run's two rows do not measure)
    assert codes[0] == "run_failed" and "evidence_incomplete" not in codes


@pytest.mark.parametrize("source", ["predictions", "labels"])
def test_a_day_without_predictions_has_no_labels_to_wait_for(tmp_path: Path, source: str) -> None:
    """A day recorded as missing (its predictions unreadable) counted as labels overdue
    for the whole window, and no waiver lifts that reason (found by a new user); a day
    whose labels file is the one missing still does."""
    store = SliStore(tmp_path / "missing_day.duckdb")
    contract = gate_contract()
    write_history(store, contract, 14)
    missing = DAY0 + dt.timedelta(days=6)
    failed = RunRecord(
        run_id=f"missing-{missing}",
        model=contract.model,
        model_version=contract.version,
        partition=missing.isoformat(),
        started_at=FINISHED,
        finished_at=FINISHED + dt.timedelta(minutes=1),
        status="failed",
        error=f"{source}: file not found",
    )
    read: dict[str, str | None] = {"features": None, "predictions": None, "labels": None}
    read[source] = f"{source}: file not found"
    store.write_run(
        failed, sli_frame([ingest_row(contract, name, 0, why) for name, why in read.items()])
    )
    late = dt.datetime(2026, 11, 15, 12, 0, tzinfo=dt.UTC)
    codes = [r.code for r in _decide(store, contract, now=late).blocking]
    assert ("labels_overdue" in codes) is (source == "labels")


def test_the_label_delay_is_the_contract_in_forces(tmp_path: Path) -> None:
    """Recorded under a 3-day label delay, judged under a contract that now says 1 day:
    the labels of 11-12 and 11-13 are overdue (the recorded delay said READY; found by
    review)."""
    store = SliStore(tmp_path / "delay.duckdb")
    recorded = gate_contract()
    assert recorded.sources.max_label_delay_days == 3
    unlabelled = [DAY0 + dt.timedelta(days=11), DAY0 + dt.timedelta(days=12)]
    write_history(store, recorded, 14, unjudged={"accuracy": unlabelled})
    late = dt.datetime(2026, 11, 15, 12, 0, tzinfo=dt.UTC)
    assert "labels_overdue" not in [r.code for r in _decide(store, recorded, now=late).blocking]
    sources = {**gate_contract_dict()["sources"], "max_label_delay_days": 1}
    shortened = gate_contract(sources=sources)
    overdue = [
        r for r in _decide(store, shortened, now=late).blocking if r.code == "labels_overdue"
    ]
    assert [list(r.days) for r in overdue] == [[d.isoformat() for d in unlabelled]]


def test_a_stored_waiver_is_honoured_shown_and_expires(tmp_path: Path) -> None:
    store = SliStore(tmp_path / "waiver.duckdb")
    contract = gate_contract()
    write_history(store, contract, 3, bad={"accuracy": [_d(2)]})
    gate_store = GateStore(store)
    stored = gate_store.add_waiver(
        Waiver(
            model="toy",
            model_version="1.0.0",
            slo="accuracy",
            reason="labels delayed",
            expires=dt.date(2026, 11, 16),
            created_at=NOW - dt.timedelta(days=1),
            created_by="sre",
        )
    )
    assert stored.waiver_id and stored.waiver_id.startswith("w-")
    assert gate_store.waivers("toy", "1.0.0") == [stored]
    assert gate_store.waivers("toy", "2.0.0") == []
    verdict = _decide(store, contract)
    assert verdict.ready
    assert [r.severity for r in verdict.reasons] == [Severity.WAIVED]
    assert verdict.waivers == [stored]
    later = _decide(store, contract, now=dt.datetime(2026, 11, 17, tzinfo=dt.UTC),
                    options=GateOptions(max_evidence_age_hours=400))  # fmt: skip
    assert not later.ready
    assert "waiver expired 2026-11-16" in later.reasons[0].message


def test_every_decision_is_appended_for_audit(scenario_store: SliStore) -> None:
    index = next(i for i, s in enumerate(SCENARIOS) if s[4] == ["model_budget_exhausted"])
    contract = gate_contract(model=f"s{index}")
    gate_store = GateStore(scenario_store)
    verdict = _decide(scenario_store, contract)
    first = gate_store.append_decision(verdict, json.dumps({"ready": False}), actor="ci")
    second = gate_store.append_decision(verdict, json.dumps({"ready": False}), actor="ci")
    assert first != second
    trail = gate_store.decisions(contract.model)
    assert trail.height == 2
    row = trail.row(0, named=True)
    assert row["ready"] is False and row["n_blocking"] == 1
    assert row["reason_codes"] == ["model_budget_exhausted"]
    assert row["reference_day"] == _d(4) and row["actor"] == "ci"
    stored = scenario_store.fetchall(
        "select verdict_json from gate_decisions where decision_id = ?", [first]
    )
    assert json.loads(stored[0][0]) == {"ready": False}


def test_the_gate_store_refuses_a_missing_database(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no SLI database"):
        GateStore(SliStore(tmp_path / "absent.duckdb")).ensure_schema()
    assert not (tmp_path / "absent.duckdb").exists()
