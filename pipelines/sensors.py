"""A sensor that starts one run per new or replaced snapshot file, exactly once.

Every source of every contract (features, predictions, labels) is listed; a file's
signature is ``mtime_ns:size``. The cursor (JSON ``{path: signature}``) remembers what was
already requested, and each run request's ``run_key`` is derived from the signatures of
the partition's files, so even a lost cursor or a restarted daemon never starts the same
run twice (Dagster drops a run key it has seen).

A file still being written is not picked up half-done: a file modified less than
``settle_seconds`` ago, or whose parquet footer cannot be read yet (within
``unreadable_grace_seconds``), waits for the next tick. After the grace period an
unreadable file is requested anyway, so the run records it as a failed ingest.

A label file arriving for a past day re-runs that day: the quality SLIs are restated and
the run is tagged ``datasre/kind = restatement``.

A day whose snapshot never arrives would never get a file event, so the sensor also
requests every *due* day (:mod:`checks.expected_days`: its evaluation time has passed) of
the contract's last ``slos.window_days`` that has no file of any source and no run yet
(:func:`plan_missing_runs`): the run records the missing snapshot as that day's failed
ingest. Its run key ``model|day|missing`` and a cursor entry make it once. The clock is
``DATASRE_NOW`` when set (a pinned replay), else the wall clock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import dagster as dg
import pyarrow.parquet as pq

from assets.io import snapshot_files
from assets.partitions import partition_key
from assets.writer import KIND_TAG
from checks.contract import Contract
from checks.expected_days import expected_days
from pipelines.settings import Settings

__all__ = [
    "MISSING_SNAPSHOT_TAG",
    "SETTLE_SECONDS",
    "UNREADABLE_GRACE_SECONDS",
    "PlannedRun",
    "build_snapshot_sensor",
    "plan_missing_runs",
    "plan_snapshot_runs",
]

SETTLE_SECONDS: Final = 30.0
UNREADABLE_GRACE_SECONDS: Final = 600.0
SOURCES: Final = ("features", "predictions", "labels")
#: Tag of a run requested for a due day that has no snapshot file.
MISSING_SNAPSHOT_TAG: Final = "datasre/missing_snapshot"
#: Cursor keys of due days already requested or found run (never a file path).
_MISSING_PREFIX: Final = "missing|"


@dataclass(frozen=True)
class PlannedRun:
    model: str
    day: str
    run_key: str
    kind: str
    changed_files: tuple[str, ...]
    missing_snapshot: bool = False


def _signature(path: str) -> tuple[str, float] | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return f"{stat.st_mtime_ns}:{stat.st_size}", stat.st_mtime


def _readable(path: str) -> bool:
    try:
        pq.read_metadata(path)
    except (OSError, ValueError):
        return False
    return True


def plan_snapshot_runs(
    contracts: Sequence[Contract],
    seen: dict[str, str],
    *,
    now: float,
    settle_seconds: float = SETTLE_SECONDS,
    unreadable_grace_seconds: float = UNREADABLE_GRACE_SECONDS,
) -> tuple[list[PlannedRun], dict[str, str]]:
    """Runs to request for files that are new or changed since ``seen``, and the new cursor.

    ``now`` is seconds since the epoch (a parameter, for tests). Files not yet settled are
    left out of both the runs and the cursor, so a later tick picks them up.
    """
    cursor: dict[str, str] = {}
    runs: list[PlannedRun] = []
    for contract in sorted(contracts, key=lambda c: c.model):
        by_day: dict[str, dict[str, list[tuple[str, str]]]] = {}
        for source in SOURCES:
            pattern = getattr(contract.sources, source)
            if pattern is None:
                continue
            for found_day, day_files in snapshot_files(contract, pattern).items():
                for path in day_files:
                    stat = _signature(path)
                    if stat is None:
                        continue
                    signature, mtime = stat
                    age = now - mtime
                    if age < settle_seconds:
                        continue
                    if age < unreadable_grace_seconds and not _readable(path):
                        continue
                    by_day.setdefault(found_day.isoformat(), {}).setdefault(source, []).append(
                        (path, signature)
                    )
        for day, sources in sorted(by_day.items()):
            files = [item for items in sources.values() for item in items]
            changed = tuple(sorted(p for p, s in files if seen.get(p) != s))
            cursor.update(dict(files))
            if not changed:
                continue
            digest = hashlib.sha256(
                json.dumps(sorted(files), separators=(",", ":")).encode()
            ).hexdigest()[:16]
            only_labels = all(
                p in {q for q, _ in sources.get("labels", [])} for p in changed
            ) and any(p in seen for p, _ in files)
            runs.append(
                PlannedRun(
                    model=contract.model,
                    day=day,
                    run_key=f"{contract.model}|{day}|{digest}",
                    kind="restatement" if only_labels else "sensor",
                    changed_files=changed,
                )
            )
    return runs, cursor


def plan_missing_runs(
    contracts: Sequence[Contract],
    seen: dict[str, str],
    *,
    now: dt.datetime,
    has_run: Callable[[str, dt.date], bool],
) -> tuple[list[PlannedRun], dict[str, str]]:
    """Runs to request for due days that have no file of any source, and their cursor.

    Looks back ``slos.window_days`` from the newest due day at ``now`` (older days no
    longer count in any budget). A day already in ``seen``, or for which ``has_run``
    (model, day) finds a run (the schedule's, a manual one), is not requested; both
    kinds are remembered in the returned cursor entries, so each day costs one lookup.
    """
    cursor: dict[str, str] = {}
    runs: list[PlannedRun] = []
    for contract in sorted(contracts, key=lambda c: c.model):
        with_files: set[dt.date] = set()
        for source in SOURCES:
            pattern = getattr(contract.sources, source)
            if pattern is not None:
                with_files.update(snapshot_files(contract, pattern))
        for day in expected_days(contract, now, lookback_days=contract.slos.window_days):
            if day in with_files:
                continue
            key = f"{_MISSING_PREFIX}{contract.model}|{day.isoformat()}"
            if key in seen:
                cursor[key] = seen[key]
                continue
            if has_run(contract.model, day):
                cursor[key] = "ran"
                continue
            cursor[key] = "requested"
            runs.append(
                PlannedRun(
                    model=contract.model,
                    day=day.isoformat(),
                    run_key=f"{contract.model}|{day.isoformat()}|missing",
                    kind="sensor",
                    changed_files=(),
                    missing_snapshot=True,
                )
            )
    return runs, cursor


def _clock() -> dt.datetime:
    """``DATASRE_NOW`` when set (a pinned replay), else the wall clock; aware, UTC."""
    pinned = Settings.from_env().now
    if not pinned:
        return dt.datetime.now(dt.UTC)
    moment = dt.datetime.fromisoformat(pinned)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def build_snapshot_sensor(
    contracts: Sequence[Contract], job: dg.UnresolvedAssetJobDefinition
) -> dg.SensorDefinition:

    @dg.sensor(
        name="new_snapshot_sensor",
        job=job,
        minimum_interval_seconds=60,
        description="One run per new or replaced snapshot or label file (settled, "
        "readable), exactly once; and one per due day whose snapshot never arrived.",
    )
    def new_snapshot_sensor(
        context: dg.SensorEvaluationContext,
    ) -> dg.SensorResult | dg.SkipReason:
        seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}

        def has_run(model: str, day: dt.date) -> bool:
            tags = {"dagster/partition": str(partition_key(model, day))}
            return bool(context.instance.get_run_records(dg.RunsFilter(tags=tags), limit=1))

        runs, cursor = plan_snapshot_runs(contracts, seen, now=time.time())
        missing, missing_cursor = plan_missing_runs(contracts, seen, now=_clock(), has_run=has_run)
        runs += missing
        cursor.update(missing_cursor)
        new_cursor = json.dumps(cursor, sort_keys=True, separators=(",", ":"))
        if not runs:
            if new_cursor != (context.cursor or "{}"):
                context.update_cursor(new_cursor)
            return dg.SkipReason("no new or replaced snapshot files, no due day without one")
        requests = [
            dg.RunRequest(
                run_key=run.run_key,
                partition_key=partition_key(run.model, dt.date.fromisoformat(run.day)),
                tags={
                    KIND_TAG: run.kind,
                    "datasre/changed_files": str(len(run.changed_files)),
                    **({MISSING_SNAPSHOT_TAG: "true"} if run.missing_snapshot else {}),
                },
            )
            for run in runs
        ]
        return dg.SensorResult(run_requests=requests, cursor=new_cursor)

    return new_snapshot_sensor
