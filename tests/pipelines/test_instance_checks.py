"""After `datasre run --all` with a persistent instance (as `make run` sets DAGSTER_HOME to
the repository), Dagster's own API holds what the UI shows: every asset-check evaluation
keyed to its (day, model) partition, a failed ERROR check for a day with a blocking breach
or an unreadable input, one line of reason on the failed step, and a run status in DuckDB
that means what the Dagster run means."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from assets.checks import CHECKED_CATEGORIES
from assets.store import SliStore
from tests.fixtures import write_model

NOW = "2026-04-01T00:00:00+00:00"
GOOD, BREACHED, UNREADABLE = "2026-03-02|toy", "2026-03-03|toy", "2026-03-04|toy"


@dataclass(frozen=True)
class Backfill:
    home: Path
    database: Path
    stderr: str
    exit_code: int


@pytest.fixture(scope="module")
def backfill(tmp_path_factory: pytest.TempPathFactory) -> Backfill:
    """Three days of the toy model through `datasre run --all --parallel 2` on a fresh
    persistent instance, in a process of its own as `make run` does (so its stderr is
    all of it, worker processes and Dagster's threads included): a clean day, a day
    without ``k`` (a blocking schema breach), and a day whose features file is not parquet."""
    root = tmp_path_factory.mktemp("instance")
    home = root / "home"
    home.mkdir()
    shutil.copy("dagster.yaml", home / "dagster.yaml")
    contract = write_model(root / "model", days=3)
    features = root / "model" / "toy" / "features"
    breached = features / "2026-03-03.parquet"
    pl.read_parquet(breached).drop("k").write_parquet(breached)
    (features / "2026-03-04.parquet").write_bytes(b"not parquet at all")
    database = root / "s.duckdb"
    command = [
        sys.executable,
        "-c",
        "import sys; from pipelines.cli import main; sys.exit(main(sys.argv[1:]))",
        *("run", "--all", "--config", str(contract), "--db", str(database)),
        *("--now", NOW, "--quiet", "--parallel", "2"),
    ]
    # dagster.yaml keeps its storage under ./.dagster: run from DAGSTER_HOME.
    environment = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONPATH": str(Path.cwd())}
    done = subprocess.run(
        command, cwd=home, env=environment, capture_output=True, text=True, check=False
    )
    return Backfill(home, database, done.stderr, done.returncode)


@contextlib.contextmanager
def _instance(backfill: Backfill) -> Iterator[dg.DagsterInstance]:
    """The backfill's instance; its dagster.yaml storage paths are relative to its home."""
    with contextlib.chdir(backfill.home), dg.DagsterInstance.from_config(str(backfill.home)) as i:
        yield i


def _evaluations(
    instance: dg.DagsterInstance,
) -> dict[tuple[str, str | None], dg.AssetCheckEvaluation]:
    found = {}
    for name in CHECKED_CATEGORIES:
        key = dg.AssetCheckKey(dg.AssetKey("sli_results"), name)
        for record in instance.event_log_storage.get_asset_check_execution_history(key, limit=10):
            assert record.evaluation is not None
            found[(name, record.partition)] = record.evaluation
    return found


def test_a_breach_is_data_the_command_exits_0_with_no_traceback(backfill: Backfill) -> None:
    assert backfill.exit_code == 0, backfill.stderr
    assert (backfill.home / ".dagster" / "storage").is_dir()
    # Fresh instance, worker processes: no sqlite race on creating the instance's schema
    # and no sqlite objects used across threads.
    assert "Traceback" not in backfill.stderr
    assert "ProgrammingError" not in backfill.stderr
    assert "OperationalError" not in backfill.stderr


def test_every_check_evaluation_is_keyed_to_its_partition(backfill: Backfill) -> None:
    with _instance(backfill) as instance:
        evaluations = _evaluations(instance)
    assert set(evaluations) == {
        (name, partition)
        for name in CHECKED_CATEGORIES
        for partition in (GOOD, BREACHED, UNREADABLE)
    }
    assert all(e.partition == partition for (_, partition), e in evaluations.items())


def test_a_blocking_breach_and_an_unreadable_input_fail_their_check_with_error(
    backfill: Backfill,
) -> None:
    with _instance(backfill) as instance:
        evaluations = _evaluations(instance)
    assert all(evaluations[(name, GOOD)].passed for name in CHECKED_CATEGORIES)
    for partition in (BREACHED, UNREADABLE):
        schema = evaluations[("schema_valid", partition)]
        assert (schema.passed, schema.severity) == (False, dg.AssetCheckSeverity.ERROR)
    unreadable = str(evaluations[("schema_valid", UNREADABLE)].metadata["breached"].value)
    assert "ingest_ok" in unreadable and "not a readable parquet file" in unreadable


def test_the_failed_step_says_why_in_one_line_without_a_stack_trace_class(
    backfill: Backfill,
) -> None:
    reasons: dict[str, str] = {}
    with _instance(backfill) as instance:
        for run in instance.get_runs():
            failures = [
                record.event_log_entry.dagster_event
                for record in instance.get_records_for_run(
                    run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE
                ).records
            ]
            if run.tags["dagster/partition"] == GOOD:
                assert run.status == dg.DagsterRunStatus.SUCCESS and not failures
                continue
            assert run.status == dg.DagsterRunStatus.FAILURE
            [failure] = failures
            assert failure is not None and failure.step_key == "sli_results"
            data = failure.step_failure_data
            assert data.error is not None and data.user_failure_data is not None
            assert data.error.cls_name == "Failure"
            message = data.error.message.strip()
            assert "\n" not in message and "Traceback" not in message
            assert "DagsterAssetCheckFailedError" not in message
            description = data.user_failure_data.description
            assert description is not None
            reasons[run.tags["dagster/partition"]] = description
            materialized = instance.get_records_for_run(
                run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
            ).records
            # The rows are recorded; the blocking check kept the day from being published.
            steps = {r.event_log_entry.step_key for r in materialized}
            assert "sli_results" in steps and "validated_snapshot" not in steps
    assert reasons[BREACHED].startswith("1 blocking SLO breached: schema_valid = 0 ")
    assert reasons[UNREADABLE].startswith("input unreadable: ")
    assert "not a readable parquet file" in reasons[UNREADABLE]
    assert all("\n" not in reason for reason in reasons.values())


def test_runs_status_means_what_the_dagster_run_means(backfill: Backfill) -> None:
    runs = SliStore(backfill.database).query(
        "select partition, status, error from runs order by partition"
    )
    assert runs["status"].to_list() == ["succeeded", "breached", "failed"]
    assert runs["error"].is_null().to_list() == [True, True, False]
