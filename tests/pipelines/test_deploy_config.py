"""The scale-out example configs load and validate against the real schemas."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
import yaml

from pipelines.definitions import build_definitions
from pipelines.jobs import JOB_NAME, executor_by_name
from pipelines.settings import Settings


def settings(tmp_path: Path, executor: str) -> Settings:
    return Settings(
        config_path="data/samples/contracts",
        database=str(tmp_path / "s.duckdb"),
        staging_dir=str(tmp_path / "staging"),
        executor=executor,
    )


def test_the_k8s_run_config_validates_against_the_k8s_executor_job(tmp_path: Path) -> None:
    job = build_definitions(settings(tmp_path, "k8s")).resolve_job_def(JOB_NAME)
    assert job.executor_def.name == "k8s"
    run_config = yaml.safe_load(Path("deploy/k8s/run_config.yaml").read_text())
    assert dg.validate_run_config(job, run_config)
    broken = {"execution": {"config": {**run_config["execution"]["config"], "max_concurent": 8}}}
    with pytest.raises(dg.DagsterInvalidConfigError, match="max_concurent"):
        dg.validate_run_config(job, broken)


def test_an_unknown_executor_name_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="DATASRE_EXECUTOR: unknown executor 'spark'"):
        executor_by_name("spark")


def test_the_celery_executor_retries_steps_and_matches_the_workers_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DATASRE_EXECUTOR=celery: steps go to Celery with late acknowledgement (a killed
    worker's step is redelivered) and Dagster retries a failed step twice; the workers'
    YAML (scripts/cluster) made from the same function validates as dagster-celery's."""
    from dagster_celery.cli import get_validated_config

    from pipelines.jobs import STEP_RETRY_POLICY, celery_executor_config

    monkeypatch.setenv("DATASRE_CELERY_BROKER", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("DATASRE_CELERY_BACKEND", "redis://127.0.0.1:1/1")
    job = build_definitions(settings(tmp_path, "celery")).resolve_job_def(JOB_NAME)
    assert job.executor_def.name == "celery"
    assert job.op_retry_policy == STEP_RETRY_POLICY
    worker = celery_executor_config()
    worker.update(broker="redis://127.0.0.1:1/0", backend="redis://127.0.0.1:1/1")
    worker.pop("retries")
    path = tmp_path / "celery.yaml"
    path.write_text(yaml.safe_dump({"execution": {"config": worker}}))
    source = get_validated_config(str(path))["config_source"]
    assert source["task_acks_late"] and source["task_reject_on_worker_lost"]
    # The scripts write a worker's timeout from the cluster's setting, not their own env.
    options = celery_executor_config(60)["config_source"]["broker_transport_options"]
    assert options["visibility_timeout"] == 60


def test_the_local_executors_keep_no_step_retries(tmp_path: Path) -> None:
    job = build_definitions(settings(tmp_path, "default")).resolve_job_def(JOB_NAME)
    assert job.op_retry_policy is None


def test_the_job_writes_the_lake_store_when_told_to(tmp_path: Path) -> None:
    """DATASRE_STORE=lake reaches the writer asset: a partition run in-process lands as
    one commit in the lake, readable through the same views."""
    from assets.store.lake import LakeStore
    from tests.fixtures import write_model

    contract = write_model(tmp_path / "model", days=1)
    lake_settings = Settings(
        config_path=str(contract),
        database=str(tmp_path / "lake"),
        staging_dir=str(tmp_path / "staging"),
        state_dir=str(tmp_path / "state"),
        now="2026-04-01",
        store="lake",
    )
    job = build_definitions(lake_settings).resolve_job_def(JOB_NAME)
    assert job.execute_in_process(partition_key="2026-03-02|toy", raise_on_error=False).success
    lake = LakeStore(tmp_path / "lake")
    assert lake.query("select count(*) as n from runs")["n"].item() == 1
    assert lake.query("select count(*) as n from sli_latest")["n"].item() > 0
    assert not (tmp_path / "lake.duckdb").exists()


def test_the_store_backend_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipelines.cli import UsageError

    monkeypatch.setenv("DATASRE_STORE", "lake")
    lake = Settings.from_env()
    assert (lake.store, lake.database) == ("lake", "data/datasre.lake")
    monkeypatch.setenv("DATASRE_STORE", "postgres")
    with pytest.raises(UsageError, match=r"\$DATASRE_STORE: 'postgres' is not a store backend"):
        Settings.from_env()
