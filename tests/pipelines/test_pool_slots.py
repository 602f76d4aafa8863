"""Pool slots held by runs whose process is gone are freed; a pool held by a live run is
waited for with a bound and a one-line reason (pipelines/pool_slots.py)."""

from __future__ import annotations

import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator

import dagster as dg
import pytest

from pipelines.pool_slots import (
    PROCESS_TAG,
    PoolBusyError,
    process_identity,
    process_is_gone,
    release_dead_runs,
    wait_for_pool_slot,
)

POOL = "duckdb"


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    """A persistent (sqlite, temporary) instance whose pools have one slot, as dagster.yaml."""
    with dg.instance_for_test(overrides={"concurrency": {"pools": {"default_limit": 1}}}) as i:
        yield i


def _gone_identity() -> str:
    """The identity of a process that has exited."""
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    return f"{socket.gethostname()}:{done.pid}:"


def _started_run_holding_the_slot(instance: dg.DagsterInstance, tags: dict[str, str]) -> str:
    run_id = str(uuid.uuid4())
    instance.add_run(
        dg.DagsterRun(
            job_name="datasre_job", run_id=run_id, status=dg.DagsterRunStatus.STARTED, tags=tags
        )
    )
    # As Dagster's executor does before its first claim on a pool.
    instance.event_log_storage.initialize_concurrency_limit_to_default(POOL)
    claim = instance.event_log_storage.claim_concurrency_slot(POOL, run_id, "sli_results")
    assert claim.is_claimed
    return run_id


def test_this_process_is_alive_and_an_exited_one_is_gone() -> None:
    assert not process_is_gone(process_identity())
    assert process_is_gone(_gone_identity())
    # Another host, or a tag this code did not write: never judged.
    assert not process_is_gone("elsewhere.example:1:1")
    assert not process_is_gone("garbage")


def test_a_dead_runs_slot_is_freed_and_the_run_marked_failed(
    instance: dg.DagsterInstance,
) -> None:
    run_id = _started_run_holding_the_slot(instance, {PROCESS_TAG: _gone_identity()})
    wait_for_pool_slot(instance, POOL, timeout_seconds=5)
    assert instance.event_log_storage.get_concurrency_info(POOL).claimed_slots == []
    run = instance.get_run_by_id(run_id)
    assert run is not None and run.status == dg.DagsterRunStatus.FAILURE


def test_a_live_runs_slot_is_kept_and_the_wait_ends_with_one_line_naming_it(
    instance: dg.DagsterInstance,
) -> None:
    run_id = _started_run_holding_the_slot(instance, {PROCESS_TAG: process_identity()})
    assert release_dead_runs(instance) == []
    with pytest.raises(PoolBusyError) as raised:
        wait_for_pool_slot(instance, POOL, timeout_seconds=0.2)
    message = str(raised.value)
    assert "\n" not in message and run_id in message and "'duckdb'" in message
    assert len(instance.event_log_storage.get_concurrency_info(POOL).claimed_slots) == 1


def test_a_finished_runs_leftover_slot_is_freed(instance: dg.DagsterInstance) -> None:
    run_id = _started_run_holding_the_slot(instance, {})
    run = instance.get_run_by_id(run_id)
    assert run is not None
    instance.report_run_failed(run)
    assert release_dead_runs(instance) == [run_id]
    assert instance.event_log_storage.get_concurrency_info(POOL).claimed_slots == []
