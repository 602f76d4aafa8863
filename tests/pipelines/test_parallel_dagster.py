"""``datasre run --parallel N`` hands its partitions to Dagster's multiprocess executor
(pipelines/partition_fanout.py): every partition is a step of one fan-out run, executed in
a process of its own, at most N at once, and recorded as its own run of the validation
job in the instance of ``$DAGSTER_HOME``, as a sequential run records it."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import dagster as dg
import pytest

from pipelines.cli import main
from pipelines.jobs import JOB_NAME
from pipelines.partition_fanout import FANOUT_JOB_NAME
from pipelines.pool_slots import PROCESS_TAG, process_identity
from tests.fixtures import write_model

NOW = "2026-04-01T00:00:00+00:00"
REPO = Path(__file__).resolve().parents[2]


def test_each_partition_runs_in_a_dagster_step_process_of_its_own_at_most_n_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.chdir(home)  # dagster.yaml's storage paths are relative to it
    contract = write_model(tmp_path / "model", days=5, rows=200)
    args = ["run", "--all", "--config", str(contract), "--db", str(tmp_path / "s.duckdb")]
    assert main([*args, "--now", NOW, "--quiet", "--parallel", "2"]) == 0

    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs()
        stats = [instance.get_run_stats(run.run_id) for run in runs]
    # Only the partitions' runs are in the instance the UI shows; the fan-out run that
    # scheduled them lived in a temporary one.
    assert {run.job_name for run in runs} == {JOB_NAME} != {FANOUT_JOB_NAME}
    assert sorted(run.tags["dagster/partition"] for run in runs) == [
        f"2026-03-0{day}|toy" for day in range(2, 7)
    ]
    assert all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs)
    # One process per partition (the executor's step processes), not a pool's two
    # workers taking partition after partition.
    assert len({run.tags[PROCESS_TAG] for run in runs}) == len(runs)
    # Never more than --parallel at once.
    edges = sorted(
        [(s.start_time, 1) for s in stats if s.start_time]
        + [(s.end_time, -1) for s in stats if s.end_time]
    )
    running = peak = 0
    for _, change in edges:
        running += change
        peak = max(peak, running)
    assert len(edges) == 2 * len(runs)
    assert 1 <= peak <= 2


def test_a_busy_pool_ends_a_parallel_run_with_exit_2_as_a_sequential_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DATASRE_POOL_WAIT_SECONDS", "0.5")
    monkeypatch.chdir(home)
    # A live run (this test's process) holds the duckdb pool's one slot.
    with dg.DagsterInstance.from_config(str(home)) as instance:
        run_id = str(uuid.uuid4())
        instance.add_run(
            dg.DagsterRun(
                job_name=JOB_NAME,
                run_id=run_id,
                status=dg.DagsterRunStatus.STARTED,
                tags={PROCESS_TAG: process_identity()},
            )
        )
        instance.event_log_storage.initialize_concurrency_limit_to_default("duckdb")
        assert instance.event_log_storage.claim_concurrency_slot(
            "duckdb", run_id, "sli_results"
        ).is_claimed
    contract = write_model(tmp_path / "model", days=2, rows=50)
    args = ["run", "--all", "--config", str(contract), "--db", str(tmp_path / "s.duckdb")]
    for parallel in ([], ["--parallel", "2"]):
        assert main([*args, "--now", NOW, "--quiet", *parallel]) == 2
        error = capsys.readouterr().err.strip().splitlines()
        assert "'duckdb'" in error[-1] and run_id in error[-1] and "still busy" in error[-1]
