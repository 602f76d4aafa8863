"""The one place assets, resources, jobs, schedules and sensors meet.

``dagster dev -m pipelines.definitions``, ``dg check defs`` and ``datasre run`` all load
the same :func:`build_definitions`; the module-level ``defs`` reads its settings from the
environment (see :mod:`pipelines.settings`).
"""

from __future__ import annotations

import dagster as dg

from assets.contract_cache import contracts_at
from assets.drift import build_drift_asset
from assets.estimated_quality import build_estimated_quality_asset
from assets.model_report import build_model_report_asset
from assets.multivariate import build_multivariate_asset
from assets.partitions import model_day_partitions
from assets.publish import build_publish_asset
from assets.quality import build_quality_asset
from assets.resources import DatasreConfig, SliStagingIOManager, SliStoreResource
from assets.validation import build_validation_asset
from assets.weighted_drift import build_weighted_drift_asset
from assets.writer import build_writer_asset
from pipelines.jobs import build_validation_job, executor_by_name
from pipelines.schedules import build_schedules
from pipelines.sensors import build_snapshot_sensor
from pipelines.settings import Settings

__all__ = ["build_definitions", "defs"]


def build_definitions(settings: Settings) -> dg.Definitions:
    contracts = list(contracts_at(settings.config_path))
    partitions = model_day_partitions(contracts)
    compute = [
        build_validation_asset(partitions),
        build_drift_asset(partitions),
        build_quality_asset(partitions),
        build_multivariate_asset(partitions),
        build_estimated_quality_asset(partitions),
        build_weighted_drift_asset(partitions),
    ]
    upstream = [a.key.path[-1] for a in compute]
    job = build_validation_job(executor_by_name(settings.executor))
    return dg.Definitions(
        assets=[
            *compute,
            build_writer_asset(partitions, upstream),
            build_publish_asset(partitions),
            build_model_report_asset(partitions),
        ],
        jobs=[job],
        schedules=build_schedules(contracts, job),
        sensors=[build_snapshot_sensor(contracts, job)],
        resources={
            "datasre": DatasreConfig(
                config_path=settings.config_path, state_dir=settings.state_dir, now=settings.now
            ),
            "sli_store": SliStoreResource(database=settings.database, backend=settings.store),
            "sli_staging": SliStagingIOManager(base_dir=settings.staging_dir),
        },
    )


@dg.definitions
def defs() -> dg.Definitions:
    """Loaded lazily by Dagster's tools, with settings from the environment."""
    return build_definitions(Settings.from_env())


def job_from_environment() -> dg.JobDefinition:
    """The validation job built from the environment's settings, for
    ``dagster.reconstructable``: multiprocess step workers rebuild it by import."""
    from pipelines.jobs import JOB_NAME

    return build_definitions(Settings.from_env()).resolve_job_def(JOB_NAME)
