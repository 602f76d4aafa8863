"""A run whose job crashes before its writer runs is recorded (``runs.status = 'crashed'``)
by ``datasre run`` and by the run-failure sensor, and the gate blocks on it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import pytest
import yaml

import assets.quality
from assets.partitions import partition_key
from assets.store import SliStore
from pipelines.cli import main
from pipelines.crashed_runs import build_crash_sensor, crash_line
from pipelines.partition_run import QUIET_LOGS, _job
from pipelines.settings import Settings
from tests.fixtures import FIRST_DAY

LAST_DAY = FIRST_DAY + dt.timedelta(days=2)
#: After the toy's last day was evaluated, within the gate's 36 h of the day before it.
AS_OF = "2026-03-05T06:00:00+00:00"


def run_cli(contract: Path, db: Path, *args: str) -> int:
    return main(["run", "--config", str(contract), "--db", str(db), "--quiet", *args])


def gate(contract: Path, db: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, Any]:
    capsys.readouterr()
    code = main(
        ["gate", "--model", "toy", "--config", str(contract), "--db", str(db),
         "--as-of", AS_OF, "--format", "json"]
    )  # fmt: skip
    return code, json.loads(capsys.readouterr().out)


def crash_quality(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: object, **__: object) -> pl.DataFrame:
        raise RuntimeError("injected: quality step blew up\nsecond line of the message")

    monkeypatch.setattr(assets.quality, "quality_slis", boom)


def codes(verdict: Any) -> list[str]:
    return [r["code"] for r in verdict["reasons"]]


def test_a_crashed_newest_day_is_recorded_and_blocks_the_gate_until_a_rerun(
    toy_contract_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = tmp_path / "s.duckdb"
    for day in (FIRST_DAY, FIRST_DAY + dt.timedelta(days=1)):
        assert run_cli(toy_contract_path, db, "--partition", day.isoformat()) == 0
    code, verdict = gate(toy_contract_path, db, capsys)
    assert code == 0, verdict["reasons"]  # the day before is young enough: ready

    with monkeypatch.context() as patch:
        crash_quality(patch)
        assert run_cli(toy_contract_path, db, "--partition", LAST_DAY.isoformat()) != 0
    err = capsys.readouterr().err
    assert "injected: quality step blew up" in err and "second line" not in err
    with monkeypatch.context() as patch:
        crash_quality(patch)
        assert run_cli(toy_contract_path, db, "--partition", LAST_DAY.isoformat(),
                       "--format", "json") == 1  # fmt: skip
    summary = json.loads(capsys.readouterr().out)
    assert [(r["run_status"], r["error"]) for r in summary["partitions"]] == [
        ("crashed", "step quality_slis: RuntimeError: injected: quality step blew up")
    ]

    store = SliStore(db)
    crashed = store.query("select * from runs where status = 'crashed'")
    assert crashed.height == 2
    row = crashed.row(0, named=True)
    assert row["partition"] == LAST_DAY.isoformat()
    assert row["error"] == "step quality_slis: RuntimeError: injected: quality step blew up"
    assert (row["n_slis"], row["kind"]) == (0, "manual")
    latest = store.query("select distinct partition from sli_latest order by 1")["partition"]
    assert LAST_DAY.isoformat() not in latest.to_list()

    code, verdict = gate(toy_contract_path, db, capsys)
    assert code == 1 and "run_crashed" in codes(verdict)
    reason = next(r for r in verdict["reasons"] if r["code"] == "run_crashed")
    assert reason["check"] == "evidence_fresh" and reason["days"] == [LAST_DAY.isoformat()]
    assert "injected: quality step blew up" in reason["message"]
    assert f"--partition {LAST_DAY.isoformat()}" in reason["message"]
    assert reason["runbook"].endswith("crashed_run.md")
    metrics = tmp_path / "datasre.prom"
    assert main(["export", "prometheus", "--config", str(toy_contract_path), "--db", str(db),
                 "--as-of", AS_OF, "--output", str(metrics)]) == 0  # fmt: skip
    assert 'datasre_newest_run_crashed{model="toy",version="' in metrics.read_text()
    crashed_gauge = [
        line for line in metrics.read_text().splitlines()
        if line.startswith("datasre_newest_run_crashed{")
    ]  # fmt: skip
    assert len(crashed_gauge) == 1 and crashed_gauge[0].endswith(" 1.0")
    # explain of the crashed day says it crashed, not only that it has no rows.
    capsys.readouterr()
    assert main(["explain", "--model", "toy", "--config", str(toy_contract_path),
                 "--db", str(db), "--partition", LAST_DAY.isoformat()]) == 2  # fmt: skip
    assert "its newest run crashed: step quality_slis: RuntimeError" in capsys.readouterr().err

    assert run_cli(toy_contract_path, db, "--partition", LAST_DAY.isoformat()) == 0
    code, verdict = gate(toy_contract_path, db, capsys)
    assert code == 0 and "run_crashed" not in codes(verdict), verdict["reasons"]


def test_a_crashed_rerun_keeps_the_days_earlier_rows_in_sli_latest(
    toy_contract_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "s.duckdb"
    assert run_cli(toy_contract_path, db, "--partition", FIRST_DAY.isoformat()) == 0
    store = SliStore(db)
    before = store.query("select run_id, count(*) n from sli_latest group by 1")
    with monkeypatch.context() as patch:
        crash_quality(patch)
        assert run_cli(toy_contract_path, db, "--partition", FIRST_DAY.isoformat()) != 0
    assert store.query("select run_id, count(*) n from sli_latest group by 1").equals(before)
    assert store.query("select count(*) n from sli_history")["n"].item() == 0
    assert store.query("select status from runs order by finished_at")["status"].to_list() == [
        "succeeded",
        "crashed",
    ]


def test_the_sensor_records_a_daemon_run_that_crashed_and_not_one_that_recorded(
    toy_contract_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "s.duckdb"
    settings = Settings.from_env(config_path=str(toy_contract_path), database=str(db))
    instance = dg.DagsterInstance.ephemeral()
    job = _job(settings)
    sensor = build_crash_sensor(job, settings)

    def run_and_sense(day: dt.date) -> dg.ExecuteInProcessResult:
        result: dg.ExecuteInProcessResult = job.execute_in_process(
            partition_key=partition_key("toy", day),
            instance=instance,
            raise_on_error=False,
            tags={"datasre/kind": "scheduled"},
            run_config=QUIET_LOGS,
        )
        assert not result.success
        context = dg.build_run_status_sensor_context(
            sensor_name=sensor.name,
            dagster_event=result.get_run_failure_event(),
            dagster_instance=instance,
            dagster_run=result.dagster_run,
        ).for_run_failure()
        sensor(context)
        return result

    with monkeypatch.context() as patch:
        crash_quality(patch)
        crashed = run_and_sense(FIRST_DAY)
    store = SliStore(db)
    row = store.query("select * from runs").row(0, named=True)
    assert (row["run_id"], row["status"], row["kind"]) == (
        crashed.run_id,
        "crashed",
        "scheduled",
    )
    assert row["error"] == "step quality_slis: RuntimeError: injected: quality step blew up"
    assert row["started_at"] <= row["finished_at"]

    # A run that recorded its rows and then failed (here: on a blocking breach, as the
    # writer ends a breached day) keeps its own record.
    breach = toy_contract_path.parent.parent / "toy" / "features"
    day = FIRST_DAY + dt.timedelta(days=1)
    (breach / f"{day.isoformat()}.parquet").write_bytes(b"not parquet")
    recorded = run_and_sense(day)
    statuses = store.query("select run_id, status from runs order by finished_at")
    assert statuses.row(1) == (recorded.run_id, "failed")
    assert statuses.height == 2


def test_a_late_sensor_tick_keeps_the_crash_older_than_the_rerun_that_fixed_it(
    toy_contract_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The daemon's run crashed; the day was re-run by hand before the sensor's tick. The
    crash is recorded with the run's own end time, so the re-run stays the newest: ready."""
    db = tmp_path / "s.duckdb"
    for day in (FIRST_DAY, FIRST_DAY + dt.timedelta(days=1)):
        assert run_cli(toy_contract_path, db, "--partition", day.isoformat()) == 0
    settings = Settings.from_env(config_path=str(toy_contract_path), database=str(db))
    instance = dg.DagsterInstance.ephemeral()
    job = _job(settings)
    sensor = build_crash_sensor(job, settings)
    with monkeypatch.context() as patch:
        crash_quality(patch)
        crashed: dg.ExecuteInProcessResult = job.execute_in_process(
            partition_key=partition_key("toy", LAST_DAY),
            instance=instance,
            raise_on_error=False,
            run_config=QUIET_LOGS,
        )
    assert run_cli(toy_contract_path, db, "--partition", LAST_DAY.isoformat()) == 0
    sensor(
        dg.build_run_status_sensor_context(
            sensor_name=sensor.name,
            dagster_event=crashed.get_run_failure_event(),
            dagster_instance=instance,
            dagster_run=crashed.dagster_run,
        ).for_run_failure()
    )
    runs = SliStore(db).query(
        "select status from runs where partition = ? order by finished_at", [LAST_DAY.isoformat()]
    )
    assert runs["status"].to_list() == ["crashed", "succeeded"]
    code, verdict = gate(toy_contract_path, db, capsys)
    assert code == 0 and "run_crashed" not in codes(verdict), verdict["reasons"]


def test_a_first_run_into_an_empty_lake_that_crashes_is_recorded(
    toy_contract_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    lake = tmp_path / "lake"
    lake.mkdir()  # a mounted directory, no commit yet
    monkeypatch.setenv("DATASRE_STORE", "lake")
    crash_quality(monkeypatch)
    assert run_cli(toy_contract_path, lake, "--partition", FIRST_DAY.isoformat()) == 1
    assert "injected: quality step blew up" in capsys.readouterr().err
    from assets.store.backends import open_store

    runs = open_store(lake, "lake").query("select status from runs")
    assert runs["status"].to_list() == ["crashed"]


def test_a_fan_out_step_process_that_died_is_recorded_unless_its_day_was_since(
    toy_contract_path: Path, tmp_path: Path
) -> None:
    """--parallel: a partition's step process killed (memory) loses its run id; the crash
    is recorded under a new one, unless a run of the day was recorded since the fan-out
    started (it died after its writer committed)."""
    from checks.contract import load_contract
    from pipelines.partition_fanout import FanoutRequest, _crashed_step

    db = tmp_path / "s.duckdb"
    settings = Settings.from_env(config_path=str(toy_contract_path), database=str(db))
    contract = load_contract(toy_contract_path)
    request = FanoutRequest([(contract, FIRST_DAY)], settings, "backfill", False, False, 2)
    started = dt.datetime.now(dt.UTC)
    outcome = _crashed_step(request, "toy", FIRST_DAY, "process exited with code -9", started)
    assert outcome.status == "crashed" and outcome.job_failed
    store = SliStore(db)
    row = store.query("select run_id, status, kind, error from runs").row(0, named=True)
    assert row["run_id"].startswith("fanout-") and row["status"] == "crashed"
    assert (row["kind"], row["error"]) == ("backfill", "step process: process exited with code -9")

    assert run_cli(toy_contract_path, db, "--partition", LAST_DAY.isoformat()) == 0
    later = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    again = _crashed_step(request, "toy", LAST_DAY, "process exited with code -9", later)
    assert again.status == "error" and "recorded by its writer" in str(again.message)
    assert store.query("select count(*) n from runs where partition = ?",
                       [LAST_DAY.isoformat()])["n"].item() == 1  # fmt: skip


def test_a_gate_blocked_on_the_evidence_shows_its_reason_in_the_prometheus_export(
    toy_contract_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``datasre_gate_evidence_blocked{reason}`` is 1 for the reason the gate blocks on
    (here: the contract's SLOs changed since the evidence), 0 for the others."""
    db = tmp_path / "s.duckdb"
    assert run_cli(toy_contract_path, db, "--all") == 0
    body = yaml.safe_load(toy_contract_path.read_text())
    body["slos"]["model"]["null_rate"]["objective"] = 0.01
    toy_contract_path.write_text(yaml.safe_dump(body, sort_keys=False))
    code, verdict = gate(toy_contract_path, db, capsys)
    assert code == 1 and "contract_changed" in codes(verdict)
    metrics = tmp_path / "datasre.prom"
    assert main(["export", "prometheus", "--config", str(toy_contract_path), "--db", str(db),
                 "--as-of", AS_OF, "--output", str(metrics)]) == 0  # fmt: skip
    gauges = {
        line.split('reason="')[1].split('"')[0]: line.rsplit(" ", 1)[1]
        for line in metrics.read_text().splitlines()
        if line.startswith("datasre_gate_evidence_blocked{")
    }
    assert gauges["contract_changed"] == "1.0"
    assert {reason for reason, value in gauges.items() if value != "0.0"} == {"contract_changed"}


def _failure(step: str, cls_name: str, message: str, cause: Any = None) -> Any:
    from types import SimpleNamespace

    error = SimpleNamespace(cls_name=cls_name, message=message, cause=cause)
    return SimpleNamespace(step_key=step, step_failure_data=SimpleNamespace(error=error))


def test_the_crash_line_is_the_innermost_cause_without_datasres_class_path() -> None:
    """A contract typo read `checks.errors.InputError: ...` in runs.error (new-user
    walkthrough): datasre's own errors are one line already; others keep their class."""
    ours = _failure(
        "drift_slis",
        "DagsterExecutionStepExecutionError",
        "Error occurred while executing op",
        cause=_failure(
            "", "InputError", "checks.errors.InputError: t.parquet: no\nmore"
        ).step_failure_data.error,
    )
    assert crash_line([ours]) == "step drift_slis: t.parquet: no"
    theirs = _failure("quality_slis", "MemoryError", "MemoryError: out of memory")
    assert crash_line([theirs]) == "step quality_slis: MemoryError: out of memory"
    assert crash_line([]) == "job failed"
