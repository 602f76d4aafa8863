"""The one place assets, resources, jobs, schedules and sensors meet.

``dagster dev -m pipelines.definitions``, ``dg check defs`` and ``datasre run`` all load
the same :func:`build_definitions`; the module-level ``defs`` reads its settings from the
environment (see :mod:`pipelines.settings`).
"""

from __future__ import annotations

from typing import Final

import dagster as dg

from assets.contract_cache import contracts_at
from assets.drift import DRIFT_ASSET
from assets.estimated_quality import ESTIMATED_QUALITY_ASSET
from assets.model_report import build_model_report_asset
from assets.multivariate import MULTIVARIATE_ASSET
from assets.partitions import model_day_partitions
from assets.publish import build_publish_asset
from assets.quality import QUALITY_ASSET
from assets.resources import DatasreConfig, SliStagingIOManager, SliStoreResource
from assets.sli_asset import build_sli_asset
from assets.validation import VALIDATION_ASSET
from assets.weighted_drift import WEIGHTED_DRIFT_ASSET
from assets.writer import build_writer_asset
from pipelines.crashed_runs import build_crash_sensor
from pipelines.jobs import build_validation_job, executor_by_name
from pipelines.schedules import build_schedules
from pipelines.sensors import build_snapshot_sensor
from pipelines.settings import Settings

__all__ = ["SLI_ASSETS", "build_definitions", "defs"]

#: A compute step running longer than this says so on stderr when progress is on.
SLOW_STEP_SECONDS: Final = 10.0

#: The compute assets of a partition, in the order the run page lists them; each stages
#: its SLI frame for the one writer.
SLI_ASSETS: Final = (
    VALIDATION_ASSET,
    DRIFT_ASSET,
    QUALITY_ASSET,
    MULTIVARIATE_ASSET,
    ESTIMATED_QUALITY_ASSET,
    WEIGHTED_DRIFT_ASSET,
)


def build_definitions(settings: Settings) -> dg.Definitions:
    contracts = list(contracts_at(settings.config_path))
    partitions = model_day_partitions(contracts)
    compute = [build_sli_asset(spec, partitions) for spec in SLI_ASSETS]
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
        sensors=[build_snapshot_sensor(contracts, job), build_crash_sensor(job, settings)],
        resources={
            "datasre": DatasreConfig(
                config_path=settings.config_path,
                state_dir=settings.state_dir,
                now=settings.now,
                slow_step_seconds=SLOW_STEP_SECONDS if settings.progress else 0.0,
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
