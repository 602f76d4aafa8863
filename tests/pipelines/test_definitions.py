"""Dagster wiring: definitions load, asset/check names are stable, schedules and the
sensor request the right partitions exactly once, blocking checks stop downstream."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from assets.checks import CHECKED_CATEGORIES, blocking_reason, evaluate_categories
from assets.store import SliStore
from assets.writer import run_status
from checks.contract import load_contract, load_contracts
from checks.sli import SliRow, sli_frame
from pipelines.definitions import SLOW_STEP_SECONDS, build_definitions, defs
from pipelines.jobs import JOB_NAME
from pipelines.schedules import partition_day_for_tick
from pipelines.sensors import MISSING_SNAPSHOT_TAG, plan_missing_runs, plan_snapshot_runs
from pipelines.settings import Settings
from tests.fixtures import FIRST_DAY, contract_dict, write_model

SAMPLES = "data/samples/contracts"


def settings_for(tmp_path: Path, config: str = SAMPLES, now: str = "") -> Settings:
    return Settings(
        config_path=config,
        database=str(tmp_path / "s.duckdb"),
        staging_dir=str(tmp_path / "staging"),
        state_dir=str(tmp_path / "state"),
        now=now,
    )


def test_the_module_level_definitions_load_from_the_environment() -> None:
    loaded = defs()
    assert isinstance(loaded, dg.Definitions)
    loaded.validate_loadable(loaded)
    assert loaded.resolve_job_def(JOB_NAME).name == JOB_NAME


def test_asset_keys_and_check_names_are_stable(tmp_path: Path) -> None:
    loaded = build_definitions(settings_for(tmp_path))
    graph = loaded.resolve_asset_graph()
    keys = sorted(key.to_user_string() for key in graph.get_all_asset_keys())
    assert keys == [
        "drift_slis",
        "estimated_quality_slis",
        "model_report",
        "multivariate_drift_slis",
        "quality_slis",
        "sli_results",
        "validated_snapshot",
        "validation_slis",
        "weighted_drift_slis",
    ]
    checks = sorted(
        f"{key.asset_key.to_user_string()}:{key.name}" for key in graph.asset_check_keys
    )
    assert checks == sorted(f"sli_results:{name}" for name in CHECKED_CATEGORIES)
    assert sorted(s.name for s in loaded.schedules or []) == [
        "delivery_eta_daily",
        "fraud_detection_daily",
    ]
    assert [s.name for s in loaded.sensors or []] == ["new_snapshot_sensor", "crashed_run_sensor"]


def test_a_schedule_tick_runs_yesterday_in_the_contract_timezone(tmp_path: Path) -> None:
    body = contract_dict(schedule={"cron": "30 1 * * *", "timezone": "America/New_York"})
    contract = write_model(tmp_path, days=1, contract=body)
    loaded = build_definitions(settings_for(tmp_path, str(contract)))
    schedule = loaded.resolve_schedule_def("toy_daily")
    assert schedule.cron_schedule == "30 1 * * *"
    assert schedule.execution_timezone == "America/New_York"
    # 01:30 in New York on 2026-03-10 is 05:30 UTC: the tick validates 2026-03-09.
    tick = dt.datetime(2026, 3, 10, 5, 30, tzinfo=dt.UTC)
    assert partition_day_for_tick(load_contract(contract), tick) == dt.date(2026, 3, 9)
    with dg.build_schedule_context(
        scheduled_execution_time=tick, repository_def=loaded.get_repository_def()
    ) as context:
        request = schedule.evaluate_tick(context).run_requests
    assert request is not None and len(request) == 1
    assert request[0].partition_key == "2026-03-09|toy"
    assert request[0].tags["datasre/kind"] == "scheduled"


def test_the_sensor_requests_each_new_or_replaced_file_once(tmp_path: Path) -> None:
    contract_path = write_model(tmp_path, days=2)
    contracts = load_contracts(contract_path)
    later = time.time() + 3600
    runs, cursor = plan_snapshot_runs(contracts, {}, now=later)
    first_keys = {r.day: r.run_key for r in runs}
    assert [(r.model, r.day, r.kind) for r in runs] == [
        ("toy", "2026-03-02", "sensor"),
        ("toy", "2026-03-03", "sensor"),
    ]
    again, same_cursor = plan_snapshot_runs(contracts, cursor, now=later)
    assert again == [] and same_cursor == cursor  # a restarted daemon starts nothing twice

    replaced = tmp_path / "toy" / "features" / "2026-03-03.parquet"
    frame = pl.read_parquet(replaced)
    frame.head(10).write_parquet(replaced)
    os.utime(replaced, (later - 100, later - 100))
    runs, _ = plan_snapshot_runs(contracts, cursor, now=later)
    assert [(r.day, r.changed_files) for r in runs] == [("2026-03-03", (str(replaced),))]
    assert runs[0].run_key != first_keys["2026-03-03"]  # a replaced file: a new run key


def test_a_file_still_being_written_waits_and_labels_restate_a_past_day(
    tmp_path: Path,
) -> None:
    contract_path = write_model(tmp_path, days=1)
    body = contract_dict()
    body["sources"]["labels"] = "toy/labels/{date}.parquet"
    contract_path = write_model(tmp_path, days=1, contract=body)
    contracts = load_contracts(contract_path)
    now = time.time()
    runs, cursor = plan_snapshot_runs(contracts, {}, now=now + 3600)
    assert len(runs) == 1

    labels = tmp_path / "toy" / "labels" / f"{FIRST_DAY.isoformat()}.parquet"
    labels.parent.mkdir(parents=True)
    labels.write_bytes(b"PAR1 half written")  # fresh and unreadable: not yet
    os.utime(labels, (now, now))
    assert plan_snapshot_runs(contracts, cursor, now=now + 5)[0] == []
    assert plan_snapshot_runs(contracts, cursor, now=now + 60)[0] == []  # settled, unreadable
    pl.DataFrame({"id": ["x"], "is_fraud": [1]}).write_parquet(labels)
    os.utime(labels, (now, now))
    runs, _ = plan_snapshot_runs(contracts, cursor, now=now + 60)
    assert [(r.day, r.kind) for r in runs] == [(FIRST_DAY.isoformat(), "restatement")]


def test_the_sensor_definition_emits_run_requests_and_a_cursor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATASRE_NOW", "2026-03-03T07:00:00+00:00")  # only 2026-03-02 is due
    contract_path = write_model(tmp_path, days=1)
    for path in (tmp_path / "toy").rglob("*.parquet"):
        os.utime(path, (time.time() - 120, time.time() - 120))
    loaded = build_definitions(settings_for(tmp_path, str(contract_path)))
    sensor = loaded.resolve_sensor_def("new_snapshot_sensor")
    with dg.build_sensor_context(
        instance=dg.DagsterInstance.ephemeral(), definitions=loaded
    ) as context:
        result = sensor.evaluate_tick(context)
    assert [r.partition_key for r in result.run_requests or []] == ["2026-03-02|toy"]
    assert result.cursor is not None and len(json.loads(result.cursor)) == 2  # its 2 files
    with dg.build_sensor_context(
        cursor=result.cursor, instance=dg.DagsterInstance.ephemeral(), definitions=loaded
    ) as context:
        assert not sensor.evaluate_tick(context).run_requests


def test_a_failed_blocking_check_skips_downstream_and_fails_the_dagster_run(
    tmp_path: Path,
) -> None:
    contract_path = write_model(tmp_path, days=2)
    broken = tmp_path / "toy" / "features" / "2026-03-03.parquet"
    pl.read_parquet(broken).drop("k").write_parquet(broken)  # schema_valid is blocking
    loaded = build_definitions(settings_for(tmp_path, str(contract_path), now="2026-04-01"))
    job = loaded.resolve_job_def(JOB_NAME)
    good = job.execute_in_process(partition_key="2026-03-02|toy", raise_on_error=False)
    bad = job.execute_in_process(partition_key="2026-03-03|toy", raise_on_error=False)
    assert good.success
    assert (tmp_path / "state" / "validated" / "toy" / "2026-03-02.json").exists()
    assert not bad.success
    skipped = {e.step_key for e in bad.all_events if e.event_type_value == "STEP_SKIPPED"}
    failed = {e.step_key for e in bad.all_events if e.is_step_failure}
    # The checks run in the writer's step, after its transaction committed: the rows are
    # recorded (a breach is data), then the step ends with one line saying why.
    assert failed == {"sli_results"}
    [failure] = [e.step_failure_data for e in bad.all_events if e.is_step_failure]
    assert failure.error is not None and failure.error.cls_name == "Failure"
    assert failure.user_failure_data is not None
    assert str(failure.user_failure_data.description).startswith("1 blocking SLO breached: ")
    rows = SliStore(tmp_path / "s.duckdb").fetchall(
        "select count(*) from sli_results where partition = '2026-03-03'"
    )
    assert rows[0][0] > 0
    assert "validated_snapshot" not in {e.step_key for e in bad.all_events if e.is_step_success}
    assert skipped <= {"validated_snapshot"}
    assert not (tmp_path / "state" / "validated" / "toy" / "2026-03-03.json").exists()
    # A day validated earlier and broken on a re-run is withdrawn, not left "validated".
    published = tmp_path / "state" / "validated" / "toy" / "2026-03-02.json"
    assert published.exists()
    first_day = tmp_path / "toy" / "features" / "2026-03-02.parquet"
    pl.read_parquet(first_day).drop("k").write_parquet(first_day)
    assert not job.execute_in_process(partition_key="2026-03-02|toy", raise_on_error=False).success
    assert not published.exists()
    evaluations = {
        e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data
        for e in bad.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }
    assert {e.partition for e in evaluations.values()} == {"2026-03-03|toy"}
    schema = evaluations["schema_valid"]
    assert not schema.passed and schema.severity == dg.AssetCheckSeverity.ERROR
    assert "column k: missing" in str(schema.metadata["breached"].value)
    complete = evaluations["complete"]  # null_rate of k is 1.0, not blocking: WARN
    assert not complete.passed and complete.severity == dg.AssetCheckSeverity.WARN


def test_check_severity_follows_the_contract_blocking_flag() -> None:
    def row(ok: bool, blocking: bool) -> SliRow:
        return SliRow("model", "completeness", "null_rate", 0.5, 10, feature="x",
                      objective=0.1, comparator="<=", ok=ok, blocking=blocking)  # fmt: skip

    passed = evaluate_categories(sli_frame([row(True, True)]), ("completeness",))
    assert passed.passed
    warn = evaluate_categories(sli_frame([row(False, False)]), ("completeness",))
    assert (warn.passed, warn.severity) == (False, dg.AssetCheckSeverity.WARN)
    error = evaluate_categories(sli_frame([row(False, True), row(False, False)]), ("completeness",))
    assert (error.passed, error.severity) == (False, dg.AssetCheckSeverity.ERROR)
    assert error.metadata["blocking_breaches"].value == 1


def test_the_sensor_plans_each_due_day_without_a_file_once(tmp_path: Path) -> None:
    contracts = load_contracts(write_model(tmp_path, days=2))  # files for 03-02 and 03-03
    now = dt.datetime(2026, 3, 6, 7, tzinfo=dt.UTC)  # due: 03-02 .. 03-05
    ran = {("toy", dt.date(2026, 3, 4))}  # the schedule already ran 03-04

    def has_run(model: str, day: dt.date) -> bool:
        return (model, day) in ran

    runs, cursor = plan_missing_runs(contracts, {}, now=now, has_run=has_run)
    assert [(r.day, r.run_key, r.missing_snapshot) for r in runs] == [
        ("2026-03-05", "toy|2026-03-05|missing", True)
    ]
    assert sorted(cursor) == ["missing|toy|2026-03-04", "missing|toy|2026-03-05"]
    assert plan_missing_runs(contracts, cursor, now=now, has_run=has_run)[0] == []
    # Not before its evaluation time (end of day + 6 h): 03-06 is due at 03-07 06:00.
    before = dt.datetime(2026, 3, 7, 5, 59, tzinfo=dt.UTC)
    assert [
        r.day for r in plan_missing_runs(contracts, cursor, now=before, has_run=has_run)[0]
    ] == []
    after = dt.datetime(2026, 3, 7, 6, tzinfo=dt.UTC)
    assert [r.day for r in plan_missing_runs(contracts, cursor, now=after, has_run=has_run)[0]] == [
        "2026-03-06"
    ]


def test_a_missing_snapshot_becomes_a_recorded_breach_by_schedule_and_by_sensor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    contract_path = write_model(tmp_path, days=1)  # a file for 2026-03-02 only
    for path in (tmp_path / "toy").rglob("*.parquet"):
        os.utime(path, (time.time() - 120, time.time() - 120))
    loaded = build_definitions(
        settings_for(tmp_path, str(contract_path), now="2026-03-05T07:00:00+00:00")
    )
    instance = dg.DagsterInstance.ephemeral()
    # The schedule's tick for 2026-03-03 runs 2026-03-03, though no file arrived.
    schedule = loaded.resolve_schedule_def("toy_daily")
    tick = dt.datetime(2026, 3, 4, 6, tzinfo=dt.UTC)
    with dg.build_schedule_context(
        scheduled_execution_time=tick, repository_def=loaded.get_repository_def()
    ) as context:
        (request,) = schedule.evaluate_tick(context).run_requests or []
    assert request.partition_key == "2026-03-03|toy"
    job = loaded.resolve_job_def(JOB_NAME)
    result = job.execute_in_process(
        partition_key=request.partition_key, instance=instance, raise_on_error=False
    )
    assert not result.success  # ingest_ok is blocking
    store = SliStore(tmp_path / "s.duckdb")
    assert store.fetchall("select partition, status from runs") == [("2026-03-03", "failed")]
    assert store.fetchall(
        "select value, ok, detail from sli_results where sli = 'ingest_ok' "
        "and feature = 'features'"
    ) == [(0.0, False, f"{tmp_path / 'toy' / 'features' / '2026-03-03.parquet'}: "
           "snapshot file not found")]  # fmt: skip

    # The sensor requests the due days that never got a file and never ran: 03-04 only
    # (03-02 has its file, 03-03 ran above, 03-05 is due at 03-06 06:00).
    monkeypatch.setenv("DATASRE_NOW", "2026-03-05T07:00:00+00:00")
    sensor = loaded.resolve_sensor_def("new_snapshot_sensor")
    with dg.build_sensor_context(instance=instance, definitions=loaded) as context:
        first = sensor.evaluate_tick(context)
    missing = [r for r in first.run_requests or [] if MISSING_SNAPSHOT_TAG in r.tags]
    assert [(r.partition_key, r.run_key) for r in missing] == [
        ("2026-03-04|toy", "toy|2026-03-04|missing")
    ]
    assert missing[0].tags["datasre/kind"] == "sensor"
    with dg.build_sensor_context(
        cursor=first.cursor, instance=instance, definitions=loaded
    ) as context:
        assert not sensor.evaluate_tick(context).run_requests  # once


def test_an_unreadable_input_fails_its_check_with_error_even_when_not_blocking() -> None:
    unreadable = SliRow("model", "ingest", "ingest_ok", 0.0, 0, feature="features", objective=1,
                        comparator=">=", ok=False, blocking=False, status="error",
                        detail="f.parquet: not a readable parquet file")  # fmt: skip
    result = evaluate_categories(sli_frame([unreadable]), CHECKED_CATEGORIES["schema_valid"])
    assert (result.passed, result.severity) == (False, dg.AssetCheckSeverity.ERROR)
    assert run_status(sli_frame([unreadable])) == (
        "failed",
        "f.parquet: not a readable parquet file",
    )
    assert blocking_reason(sli_frame([unreadable])) == (
        "input unreadable: f.parquet: not a readable parquet file"
    )


def test_run_status_and_reason_say_breached_only_for_a_blocking_breach() -> None:
    def row(sli: str, value: float, ok: bool, blocking: bool, feature: str | None) -> SliRow:
        return SliRow("model", "schema", sli, value, 10, feature=feature, objective=1,
                      comparator=">=", ok=ok, blocking=blocking)  # fmt: skip

    warned = sli_frame([row("schema_validity", 0.5, False, False, None)])
    assert run_status(warned) == ("succeeded", None) and blocking_reason(warned) is None
    breached = sli_frame(
        [row("schema_valid", 0.0, False, True, "k"), row("schema_valid", 1.0, True, True, "x")]
        + [row("ingest_ok", 0.0, False, True, f"f{i}") for i in range(4)]
    )
    assert run_status(breached) == ("breached", None)
    assert blocking_reason(breached) == (
        "5 blocking SLOs breached: schema_valid[k] = 0 (objective >= 1), "
        "ingest_ok[f0] = 0 (objective >= 1), ingest_ok[f1] = 0 (objective >= 1) and 2 more"
    )


@pytest.mark.parametrize(("progress", "seconds"), [(True, SLOW_STEP_SECONDS), (False, 0.0)])
def test_progress_in_the_settings_sets_the_threshold(progress: bool, seconds: float) -> None:
    settings = Settings(
        config_path="data/samples/contracts",
        database="unused.duckdb",
        staging_dir="unused",
        progress=progress,
    )
    resources = build_definitions(settings).resources
    assert resources is not None and resources["datasre"].slow_step_seconds == seconds
