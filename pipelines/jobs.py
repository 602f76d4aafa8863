"""The job every entry point runs: all assets of one (day, model) partition."""

from __future__ import annotations

import os
from typing import Any, Final

import dagster as dg

__all__ = [
    "EXECUTORS",
    "JOB_NAME",
    "build_validation_job",
    "celery_executor_config",
    "executor_by_name",
]

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

        configured: dg.ExecutorDefinition = celery_executor.configured(
            celery_executor_config(), name="celery"
        )
        return configured
    if name == "k8s":
        from dagster_k8s import k8s_job_executor

        return k8s_job_executor
    raise ValueError(f"DATASRE_EXECUTOR: unknown executor {name!r} (one of {', '.join(EXECUTORS)})")


JOB_NAME: Final = "datasre_job"

#: Retries of a failed step on the distributed executors (seconds between attempts).
STEP_RETRY_POLICY: Final = dg.RetryPolicy(max_retries=2, delay=2)

#: Environment of the ``celery`` executor and of every worker (``scripts/cluster``).
CELERY_BROKER_ENV: Final = "DATASRE_CELERY_BROKER"
CELERY_BACKEND_ENV: Final = "DATASRE_CELERY_BACKEND"
CELERY_VISIBILITY_ENV: Final = "DATASRE_CELERY_VISIBILITY_TIMEOUT_S"
_DEFAULT_VISIBILITY_TIMEOUT_S: Final = 3600


def celery_executor_config(visibility_timeout_s: int | None = None) -> dict[str, Any]:
    """Config of Dagster's Celery executor; the workers must be started with the same
    (``scripts/cluster/cluster.py`` writes it into their YAML from this function).

    A step's message is acknowledged when the step ends, not when it starts
    (``task_acks_late``), and a worker process that dies mid-step rejects it back to the
    queue (``task_reject_on_worker_lost``): a worker killed with SIGKILL loses no step.
    When the whole worker machine dies, Redis gives its unacknowledged message to another
    worker after ``$DATASRE_CELERY_VISIBILITY_TIMEOUT_S`` seconds (default 3600), which
    must exceed the longest step, or a slow step would also run twice. Running a step
    twice is safe: staging files are replaced atomically and the SLI store keeps a run's
    newest write only. ``visibility_timeout_s`` overrides the environment (the scripts
    writing a worker's config do not run in its environment).

    The broker must keep its queues across a restart (``scripts/cluster`` starts Redis
    with ``appendonly yes``): queued and unacknowledged steps are then delivered after it
    comes back, and the publishing and result retries below ride out the gap.
    """
    if visibility_timeout_s is None:
        visibility = os.environ.get(CELERY_VISIBILITY_ENV, "").strip()
        visibility_timeout_s = int(visibility or _DEFAULT_VISIBILITY_TIMEOUT_S)
    return {
        "broker": {"env": CELERY_BROKER_ENV},
        "backend": {"env": CELERY_BACKEND_ENV},
        "config_source": {
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "worker_prefetch_multiplier": 1,
            "broker_connection_retry_on_startup": True,
            # A broker restart (seconds) is waited out, not a failed run: publishing a
            # step retries for about a minute, and the run worker's polling of results
            # retries on a lost connection instead of failing the run.
            "task_publish_retry_policy": {
                "max_retries": 30,
                "interval_start": 0,
                "interval_step": 1,
                "interval_max": 2,
            },
            "result_backend_always_retry": True,
            "result_backend_max_retries": 30,
            "broker_transport_options": {
                "visibility_timeout": visibility_timeout_s,
                # Sweep for a dead worker's messages every 2 s, not every 100 s.
                "unacked_restore_interval": 2,
                "unacked_restore_throttle": 1,
                # A sweep holds a lock in Redis for milliseconds, but kombu lets it expire
                # only after 300 s: a worker killed (or cut off by a broker restart) while
                # holding it would stop every redelivery for five minutes.
                "unacked_mutex_expire": 30,
            },
        },
        "retries": {"enabled": {}},
    }


def build_validation_job(
    executor_def: dg.ExecutorDefinition | None = None,
) -> dg.UnresolvedAssetJobDefinition:
    """The job; ``executor_def`` None means Dagster's default (multiprocess when launched
    by the daemon or UI, in-process under ``execute_in_process``)."""
    distributed = executor_def is not None and executor_def.name in ("celery", "k8s")
    return dg.define_asset_job(
        JOB_NAME,
        # The HTML report is materialised on demand (UI, `dagster asset materialize`):
        # validating a day never waits for it or fails because of it.
        selection=dg.AssetSelection.all() - dg.AssetSelection.assets("model_report"),
        executor_def=executor_def,
        # On other machines a step can fail for the machine's sake (a lost connection to
        # the database, a full local disk): Dagster retries it, on any worker. The writer's
        # failures that are data (a breach) or the store's (nothing written) say
        # allow_retries=False and are not retried.
        op_retry_policy=STEP_RETRY_POLICY if distributed else None,
        description="Validate one model's day: ingest, schema, completeness, freshness, "
        "drift, quality; write every SLI row to DuckDB in one transaction.",
    )
