"""Submit one queued Dagster run per partition key, as ``dagster job backfill`` would,
but as plain runs the daemon retries.

Why not ``dagster job backfill``: that command records its backfill as COMPLETED the
moment it has submitted the runs, and the daemon's run retries skip every failed run of a
backfill in a terminal state ("Not retrying run since it is part of a backfill that is
in a terminal state"). A run lost to a dead machine (its engine failed, not its data)
would then stay failed and ``cluster.py wait`` would wait for a retry that never comes.
The runs made here carry the partition's tags exactly as the backfill's runs do (the code
server's partition set supplies them) plus ``datasre/batch`` naming this submission, so
``dagster run list`` and the UI filter them by tag.

Run by ``cluster.py backfill`` as the control machine (its ``DAGSTER_HOME`` and
environment)::

    python scripts/cluster/submit_runs.py -w <dir>/control/workspace.yaml -j JOB \
        --tags '{"datasre/kind": "backfill"}' KEY [KEY ...]

Prints the batch id. Uses the same Dagster internals as ``dagster job launch``.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from typing import Final

#: Tag naming one submission of runs (the backfill id's stand-in).
BATCH_TAG: Final = "datasre/batch"


def submit(workspace_file: str, job_name: str, keys: list[str], tags: dict[str, str]) -> str:
    """Create and submit one run per partition key; returns the batch id."""
    import dagster as dg
    from dagster._cli.job import _create_run
    from dagster._cli.workspace.cli_target import (
        get_code_location_from_workspace,
        get_remote_job_from_remote_repo,
        get_remote_repository_from_code_location,
        get_workspace_from_cli_opts,
    )
    from dagster._core.remote_representation.external_data import PartitionSetExecutionParamSnap
    from dagster_shared.cli import WorkspaceOpts

    batch = f"backfill-{uuid.uuid4().hex[:12]}"
    with (
        dg.DagsterInstance.get() as instance,
        get_workspace_from_cli_opts(
            instance,
            version=dg.__version__,
            workspace_opts=WorkspaceOpts(workspace=[workspace_file]),
        ) as workspace,
    ):
        location = get_code_location_from_workspace(workspace, None)
        repository = get_remote_repository_from_code_location(location, None)
        job = get_remote_job_from_remote_repo(repository, job_name)
        partition_set = next(
            (p for p in repository.get_partition_sets() if p.job_name == job.name), None
        )
        if partition_set is None:
            raise SystemExit(f"submit_runs: job {job.name!r} is not partitioned")
        params = location.get_partition_set_execution_params(
            repository_handle=repository.handle,
            partition_set_name=partition_set.name,
            partition_names=keys,
            instance=instance,
        )
        if not isinstance(params, PartitionSetExecutionParamSnap):
            raise SystemExit(f"submit_runs: the code server refused the partitions: {params}")
        for partition in params.partition_data:
            run = _create_run(
                instance=instance,
                code_location=location,
                remote_repo=repository,
                remote_job=job,
                run_config=partition.run_config or {},
                # _create_run adds the job's own tags.
                tags={**(partition.tags or {}), **tags, BATCH_TAG: batch},
                op_selection=None,
                run_id=None,
            )
            instance.submit_run(run.run_id, workspace)
    return batch


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("-w", "--workspace", required=True, help="workspace.yaml")
    parser.add_argument("-j", "--job", required=True)
    parser.add_argument("--tags", default="{}", help="JSON object of extra run tags")
    parser.add_argument("keys", nargs="+", help="partition keys")
    args = parser.parse_args(argv)
    print(submit(args.workspace, args.job, args.keys, json.loads(args.tags)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
