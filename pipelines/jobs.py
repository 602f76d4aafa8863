"""The job every entry point runs: all assets of one (day, model) partition."""

from __future__ import annotations

from typing import Final

import dagster as dg

__all__ = ["EXECUTORS", "JOB_NAME", "build_validation_job", "executor_by_name"]

#: ``DATASRE_EXECUTOR`` values: how the daemon/UI execute a run's steps.
EXECUTORS: Final = ("default", "in_process", "multiprocess", "celery", "k8s")


def executor_by_name(name: str) -> dg.ExecutorDefinition | None:
    """The executor for a ``DATASRE_EXECUTOR`` value; ``k8s`` needs ``dagster-k8s``
    (the ``deploy`` extra): one pod per step, see ``deploy/k8s/``; ``celery`` needs
    ``dagster-celery`` (the ``cluster`` extra): one Celery task per step."""
    if name in ("", "default"):
        return None
    if name == "in_process":
        return dg.in_process_executor
    if name == "multiprocess":
        return dg.multiprocess_executor
    if name == "celery":
        # Steps become Celery tasks on a broker (the cluster extra; docs/deploy.md): any
        # number of `dagster-celery worker` machines run them.
        from dagster_celery import celery_executor

        return celery_executor  # type: ignore[no-any-return]
    if name == "k8s":
        from dagster_k8s import k8s_job_executor

        return k8s_job_executor
    raise ValueError(f"DATASRE_EXECUTOR: unknown executor {name!r} (one of {', '.join(EXECUTORS)})")


JOB_NAME: Final = "datasre_job"


def build_validation_job(
    executor_def: dg.ExecutorDefinition | None = None,
) -> dg.UnresolvedAssetJobDefinition:
    """The job; ``executor_def`` None means Dagster's default (multiprocess when launched
    by the daemon or UI, in-process under ``execute_in_process``)."""
    return dg.define_asset_job(
        JOB_NAME,
        selection=dg.AssetSelection.all(),
        executor_def=executor_def,
        description="Validate one model's day: ingest, schema, completeness, freshness, "
        "drift, quality; write every SLI row to DuckDB in one transaction.",
    )
