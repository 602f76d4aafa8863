"""The one writer: all SLI frames of a partition go to DuckDB in one transaction.

Compute assets stage their frames as parquet; this fan-in asset runs in the ``duckdb``
pool (``dagster.yaml`` limits the pool to one step at a time), so parallel partitions
never fight over DuckDB's single-writer lock, and a run's rows appear all at once or not
at all. Re-running a partition replaces its rows; its history stays in ``runs``.

``runs.status`` and the Dagster run mean the same thing by "failed":

- ``succeeded``: no blocking SLO breached; the Dagster run succeeds.
- ``breached``: a blocking SLO breached; the rows are evidence all the same, and the
  Dagster run fails on its blocking checks (``validated_snapshot`` is skipped).
- ``failed``: an input could not be read, so there is no evidence for the day; the
  Dagster run fails the same way.

When the store itself cannot be used (full disk, read-only file or mount, a lock held
past the timeout, a damaged or foreign file) nothing is written: the step fails with the
store's one line and ``store_error`` metadata, which the CLI turns into exit 2.

A run that ends ``breached`` or ``failed`` commits its rows and reports its check results
first, then ends the step with :class:`dagster.Failure` carrying one line of reason
(:func:`assets.checks.blocking_reason`), so the run page says why instead of showing
Dagster's ``DagsterAssetCheckFailedError`` stack trace.
"""

import datetime as dt
from collections.abc import Iterator

import dagster as dg
import polars as pl

from assets.checks import UNREADABLE, blocking_reason, category_check_results, category_check_specs
from assets.partitions import Partition
from assets.publish import manifest_path
from assets.resources import DatasreConfig, SliStoreResource
from assets.store import RunRecord, StoreError
from checks.gate_checks import FAILED_RUN_STATUS
from checks.ingest_rows import one_ingest_row_per_source
from checks.measured_settings import measured_settings
from checks.run_summary import summarise_run
from checks.sli import SLI_SCHEMA, attach_runbooks, slo_definitions_frame

__all__ = [
    "DUCKDB_POOL",
    "KIND_TAG",
    "RUN_SUMMARY_KEY",
    "STORE_ERROR_KEY",
    "build_writer_asset",
    "run_status",
]

#: Run tag saying why a run happened (scheduled, backfill, manual, candidate, ...).
KIND_TAG = "datasre/kind"
#: Metadata key of the writer's failure when the store could not be used (nothing written).
STORE_ERROR_KEY = "store_error"

#: Metadata key of the partition's :class:`checks.run_summary.RunSummary` (JSON), on the
#: ``sli_results`` materialization and on the writer's own failure when the partition
#: breached or an input was unreadable: its presence on a failure says "rows committed,
#: the step ended on the data's verdict", not a crash.
RUN_SUMMARY_KEY = "datasre/run_summary"

#: The Dagster pool of every DuckDB writer step (``dagster.yaml`` gives it one slot).
DUCKDB_POOL = "duckdb"


def run_status(slis: pl.DataFrame) -> tuple[str, str | None]:
    """``failed`` with the reasons when any source could not be read, ``breached`` when a
    blocking SLO breached, else ``succeeded`` (see the module docstring)."""
    unreadable = slis.filter(UNREADABLE)
    if unreadable.height:
        return FAILED_RUN_STATUS, "; ".join(d for d in unreadable["detail"].to_list() if d)
    if slis.filter((pl.col("ok") == pl.lit(value=False)) & pl.col("blocking")).height:
        return "breached", None
    return "succeeded", None


def _started_at(context: dg.AssetExecutionContext) -> dt.datetime:
    record = context.instance.get_run_record_by_id(context.run.run_id)
    if record is not None and record.start_time is not None:
        return dt.datetime.fromtimestamp(record.start_time, tz=dt.UTC)
    return dt.datetime.now(dt.UTC)


def build_writer_asset(
    partitions_def: dg.PartitionsDefinition, upstream: list[str]
) -> dg.AssetsDefinition:
    """The ``sli_results`` asset, fed by the staged SLI frames of ``upstream`` assets.

    Before writing, it withdraws the partition's ``validated_snapshot`` manifest: only a
    run whose blocking checks pass publishes it again, so a day that breaks a blocking SLO
    on a re-run never stays "validated" from an earlier run.
    """

    @dg.asset(
        name="sli_results",
        partitions_def=partitions_def,
        ins={name: dg.AssetIn(name) for name in upstream},
        pool=DUCKDB_POOL,
        check_specs=category_check_specs(partitions_def),
        group_name="store",
        kinds={"duckdb"},
        description="Writes the partition's SLI rows and its run to DuckDB in one "
        "transaction (tables runs, sli_results).",
    )
    def writer_asset(
        context: dg.AssetExecutionContext,
        datasre: DatasreConfig,
        sli_store: SliStoreResource,
        **frames: pl.DataFrame,
    ) -> Iterator[dg.MaterializeResult]:  # type: ignore[type-arg]
        model, day = Partition.of(context.partition_key)
        contract = datasre.contract(model)
        manifest_path(datasre.published_dir(), model, day).unlink(missing_ok=True)
        staged = pl.concat([frame.select(list(SLI_SCHEMA)) for frame in frames.values()])
        slis = attach_runbooks(one_ingest_row_per_source(staged), contract)
        status, error = run_status(slis)
        n_labels = slis.filter(pl.col("category") == "quality").select(pl.col("n_rows").max())
        run = RunRecord(
            run_id=context.run.run_id,
            model=model,
            model_version=contract.version,
            partition=day.isoformat(),
            started_at=_started_at(context),
            finished_at=dt.datetime.now(dt.UTC),
            status=status,
            error=error,
            kind=context.run.tags.get(KIND_TAG, "scheduled"),
            n_labels=n_labels.item(),
            evaluation_delay_hours=contract.schedule.evaluation_delay_hours,
            timezone=contract.schedule.timezone,
            measured_under=measured_settings(contract),
        )
        try:
            written = sli_store.store().write_run(
                run, slis, slo_definitions=slo_definitions_frame(contract)
            )
        except StoreError as exc:
            # One line naming the file and the OS error, on the run page and for the CLI
            # (exit 2), instead of Dagster's "Error occurred while executing op".
            raise dg.Failure(
                description=str(exc), metadata={STORE_ERROR_KEY: str(exc)}, allow_retries=False
            ) from None
        outcome = summarise_run(slis, status, error)
        summary: dict[str, dg.RawMetadataValue] = {
            "run_status": status,
            "sli_rows": written,
            "breaches": outcome.breaches,
            "blocking_breaches": outcome.blocking,
            "database": sli_store.database,
            **({"error": error} if error else {}),
            RUN_SUMMARY_KEY: dg.MetadataValue.json(outcome.as_dict()),
        }
        yield dg.MaterializeResult(check_results=category_check_results(slis), metadata=summary)
        reason = blocking_reason(slis)
        if reason is not None:
            # Rows and check results are recorded; end the step with the reason only.
            raise dg.Failure(description=reason, metadata=summary, allow_retries=False)

    return writer_asset
