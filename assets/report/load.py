"""Reading what a report shows, and writing it: the report's only I/O.

Reads, for one model version: its ``sli_latest`` rows, ``runs``, ``slo_definitions`` and
waivers (through :class:`assets.store.gate_store.GateStore`, the gate's own reader, so
the banner judges the same evidence); the stored baseline profiles
(``<state_dir>/profiles/<model>/<version>/`` and its ``predictions/``, never the training
data); and the partition's feature and prediction snapshots (only the profiled columns).
A snapshot or profile that cannot be read is not an error: the report says so where the
distributions would be (the partition's run already recorded the failure).

Writes the HTML (and the optional PNG) atomically: a temporary file in the target
directory renamed over the target, so a reader (a browser, a CI upload) never sees half
a report.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from assets.atomic_file import write_atomically
from assets.baseline_store import is_profile_dir, load_profile
from assets.io import read_snapshot
from assets.report.model import ReportInputs
from assets.state import inside, profiles_dir
from assets.store import SliStore
from assets.store.gate_store import GateStore
from assets.weighted_drift import rank_day_drift
from checks.contract import Contract
from checks.errors import InputError
from checks.gate import evaluation_times
from checks.gate_checks import CRASHED_RUN_STATUS, newest_run
from checks.profile import BaselineProfile

__all__ = [
    "REPORTS",
    "ReportRequest",
    "default_report_path",
    "load_inputs",
    "newest_partition",
    "write_report_file",
]


@dataclass(frozen=True)
class ReportRequest:
    """Which report: ``partition`` None means the newest partition of the version;
    ``as_of`` None means the partition's scheduled evaluation time (data time)."""

    contract: Contract
    database: Path
    state_dir: Path
    version: str | None = None
    partition: dt.date | None = None
    window_days: int | None = None
    as_of: dt.datetime | None = None


def newest_partition(slis: pl.DataFrame) -> dt.date | None:
    """The newest ``YYYY-MM-DD`` partition of ``slis``; None when there is none."""
    days = slis.get_column("partition").str.to_date("%Y-%m-%d", strict=False).drop_nulls()
    return days.max() if days.len() else None  # type: ignore[return-value]


def _profile(directory: Path, notes: list[str], what: str) -> BaselineProfile | None:
    if not is_profile_dir(directory):
        notes.append(f"{directory}: no stored {what} profile (drawn once a run has built it)")
        return None
    try:
        return load_profile(directory)
    except InputError as exc:
        notes.append(f"{what} profile: {exc}")
        return None


def _snapshot(
    contract: Contract,
    pattern: str | None,
    day: dt.date,
    profile: BaselineProfile | None,
    notes: list[str],
) -> pl.DataFrame | None:
    if pattern is None or profile is None:
        return None
    try:
        return read_snapshot(contract.resolve(pattern, day), columns=profile.features)
    except InputError as exc:
        notes.append(f"current distributions not drawn: {exc}")
        return None


def _crash_note(runs: pl.DataFrame, day: dt.date) -> str:
    """``; its newest run crashed: <error>`` when ``day``'s newest run crashed, else ``""``."""
    newest = newest_run(runs, day.isoformat())
    if newest is None or newest["status"] != CRASHED_RUN_STATUS:
        return ""
    return f"; its newest run crashed: {newest['error']}"


def _newest_evaluated(
    request: ReportRequest, slis: pl.DataFrame, runs: pl.DataFrame
) -> dt.date | None:
    """The report's default partition: the newest one, or with ``as_of`` the newest one
    evaluated by then (as the gate sees it), so that the page and its verdict are of the
    same day. Before, ``--as-of`` showed and counted a partition the verdict at that time
    did not know yet."""
    if request.as_of is None:
        return newest_partition(slis)
    other_version = (request.version or request.contract.version) != request.contract.version
    times = evaluation_times(request.contract, slis, runs, as_recorded=other_version)
    shown = set(slis.get_column("partition").to_list())  # a crashed day has no page
    visible = [p for p, at in times.items() if at <= request.as_of and p in shown]
    return dt.date.fromisoformat(max(visible)) if visible else None


def load_inputs(request: ReportRequest) -> ReportInputs:
    """Read everything the report of ``request`` shows.

    Raises
    ------
    FileNotFoundError
        The store does not exist yet.
    InputError
        The version has no SLI rows, or none for the requested partition.
    """
    contract = request.contract
    version = request.version or contract.version
    evidence = GateStore(SliStore(request.database)).load_evidence(contract.model, version)
    if evidence.slis.height == 0:
        raise InputError(
            f"{request.database}: no SLI rows for model {contract.model!r} version "
            f"{version!r} (run `datasre run --model {contract.model}` first)"
        )
    partition = request.partition or _newest_evaluated(request, evidence.slis, evidence.runs)
    if partition is None:
        by = f" evaluated by {request.as_of.isoformat()}" if request.as_of else ""
        raise InputError(f"{request.database}: no dated partition{by} for {contract.model!r}")
    if evidence.slis.filter(pl.col("partition") == partition.isoformat()).height == 0:
        raise InputError(
            f"--partition: {partition}: no SLI rows for {contract.model!r} {version!r} in "
            f"{request.database} (newest: {newest_partition(evidence.slis)})"
            + _crash_note(evidence.runs, partition)
        )
    notes: list[str] = []
    profiles = inside(profiles_dir(request.state_dir), contract.model, version)
    profile = _profile(profiles, notes, "baseline")
    prediction_profile = (
        _profile(profiles / "predictions", notes, "prediction baseline")
        if contract.sources.prediction_baseline
        else None
    )
    return ReportInputs(
        contract=contract,
        version=version,
        partition=partition,
        slis=evidence.slis,
        runs=evidence.runs,
        definitions=evidence.definitions,
        waivers=tuple(evidence.waivers),
        window_days=request.window_days,
        as_of=request.as_of,
        profile=profile,
        prediction_profile=prediction_profile,
        features=_snapshot(contract, contract.sources.features, partition, profile, notes),
        predictions=_snapshot(
            contract, contract.sources.predictions, partition, prediction_profile, notes
        ),
        snapshot_notes=tuple(notes),
        drift_ranking=rank_day_drift(contract, partition),
    )


def write_report_file(path: Path, data: str | bytes) -> Path:
    """Write a report file atomically (:func:`assets.atomic_file.write_atomically`).

    Raises
    ------
    InputError
        Naming the file and the OS error when it cannot be written.
    """
    try:
        return write_atomically(path, data)
    except OSError as exc:
        raise InputError(f"{path}: cannot write the report ({exc.strerror or exc})") from None


#: Subdirectory of the state directory holding reports: ``reports/<model>/<version>/``.
REPORTS = "reports"


def default_report_path(state_dir: Path, model: str, version: str, partition: dt.date) -> Path:
    """``<state_dir>/reports/<model>/<version>/<partition>.html``, where both
    ``datasre report`` and the ``model_report`` asset write by default."""
    return inside(state_dir, REPORTS, model, version, f"{partition.isoformat()}.html")
