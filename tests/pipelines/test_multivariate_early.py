"""``datasre run`` computes a partition's multivariate SLIs beside its other steps, in a
worker process started with the command (or, without one, on a thread); the step takes
them, or computes them itself when that did not work."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import polars as pl
import pytest

import assets.multivariate
import pipelines.commands.run
import pipelines.partition_run
from assets.drift_workers import MULTIVARIATE_WARM_MODULES, DriftWorker
from assets.store import SliStore
from benchmarks.process_meter import child_pids
from pipelines.cli import main
from tests.fixtures import FIRST_DAY


def _recorded(db: Path) -> pl.DataFrame:
    return SliStore(db).query(
        "select sli, value, status, detail from sli_latest "
        "where sli in ('domain_classifier_auc', 'pca_reconstruction_error') order by sli"
    )


def _run(contract: Path, db: Path, *more: str) -> int:
    return main(
        ["run", "--config", str(contract), "--db", str(db), "--quiet",
         "--partition", FIRST_DAY.isoformat(), *more]
    )  # fmt: skip


def _count_in_process(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The threads that computed the rows in this process (the worker's are not seen)."""
    computed = assets.multivariate.multivariate_slis  # type: ignore[attr-defined]
    threads: list[str] = []

    def counted(*args: object, **kwargs: object) -> pl.DataFrame:
        threads.append(threading.current_thread().name)
        return computed(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(assets.multivariate, "multivariate_slis", counted)
    return threads


def _started_workers(monkeypatch: pytest.MonkeyPatch, warm: tuple[str, ...]) -> list[DriftWorker]:
    started: list[DriftWorker] = []

    def start() -> DriftWorker:
        started.append(DriftWorker(warm))
        return started[-1]

    monkeypatch.setattr(pipelines.partition_run, "start_multivariate_worker", start)
    monkeypatch.setattr(pipelines.commands.run, "start_multivariate_worker", start)
    return started


def test_the_worker_computes_the_rows_the_step_would_and_is_closed(
    toy_contract_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads = _count_in_process(monkeypatch)
    started = _started_workers(monkeypatch, MULTIVARIATE_WARM_MODULES)
    assert _run(toy_contract_path, tmp_path / "worker.duckdb") == 0
    assert threads == []  # not here: in the worker, and not again by the step
    assert len(started) == 1 and started[0].used
    assert started[0]._proc.poll() == 0  # closed (EOF), not killed
    by_worker = _recorded(tmp_path / "worker.duckdb")
    assert by_worker.height > 0

    # The same rows as the step computing them itself.
    monkeypatch.setattr(assets.multivariate, "start_multivariate_early", lambda *_, **__: None)
    assert _run(toy_contract_path, tmp_path / "inline.duckdb") == 0
    assert threads == ["MainThread"]
    assert _recorded(tmp_path / "inline.duckdb").equals(by_worker)


def test_without_a_worker_a_thread_computes_them(
    toy_contract_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As ``--parallel`` step processes and other callers of ``execute_partition`` do."""
    threads = _count_in_process(monkeypatch)
    monkeypatch.setattr(pipelines.commands.run, "start_multivariate_worker", lambda: None)
    assert _run(toy_contract_path, tmp_path / "thread.duckdb") == 0
    assert threads == [f"early-{assets.multivariate.STEP}"]  # once, not again in the step
    assert _recorded(tmp_path / "thread.duckdb").height > 0


def test_a_worker_that_failed_to_start_leaves_the_rows_to_the_step(
    toy_contract_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads = _count_in_process(monkeypatch)
    started = _started_workers(monkeypatch, ("assets.no_such_module",))
    assert _run(toy_contract_path, tmp_path / "s.duckdb") == 0
    assert threads == ["MainThread"]
    assert len(started) == 1
    assert started[0]._proc.poll() is not None  # gone, nothing left behind
    assert _recorded(tmp_path / "s.duckdb").height > 0


def test_an_early_failure_on_the_thread_is_computed_again_by_the_step(
    toy_contract_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    computed = assets.multivariate.multivariate_slis  # type: ignore[attr-defined]

    def fails_early(*args: object, **kwargs: object) -> pl.DataFrame:
        if threading.current_thread().name.startswith("early-"):
            raise MemoryError("injected on the early thread")
        return computed(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(assets.multivariate, "multivariate_slis", fails_early)
    monkeypatch.setattr(pipelines.commands.run, "start_multivariate_worker", lambda: None)
    assert _run(toy_contract_path, tmp_path / "s.duckdb") == 0
    assert _recorded(tmp_path / "s.duckdb").height > 0


def test_one_worker_serves_every_partition_of_a_run(
    toy_contract_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads = _count_in_process(monkeypatch)
    started = _started_workers(monkeypatch, MULTIVARIATE_WARM_MODULES)
    assert main(["run", "--config", str(toy_contract_path), "--db", str(tmp_path / "a.duckdb"),
                 "--quiet", "--all"]) == 0  # fmt: skip
    assert threads == [] and len(started) == 1
    assert started[0]._proc.poll() == 0
    days = SliStore(tmp_path / "a.duckdb").query(
        "select count(distinct partition) as n from sli_latest where sli = 'domain_classifier_auc'"
    )
    assert int(days["n"][0]) > 1


def test_ctrl_c_ends_the_run_and_its_worker_quietly(
    toy_contract_path: Path, tmp_path: Path
) -> None:
    """SIGINT to the terminal's process group (Ctrl-C) while the worker is starting: exit
    130 with one line, no traceback from either process, nothing left running (a worker
    interrupted in a call: tests/assets/test_drift_runner.py)."""
    datasre = Path(sys.executable).with_name("datasre")
    victim = subprocess.Popen(
        [str(datasre), "run", "--config", str(toy_contract_path), "--db",
         str(tmp_path / "s.duckdb"), "--partition", FIRST_DAY.isoformat()],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not _workers_of(victim.pid) and victim.poll() is None:
        assert time.monotonic() < deadline, "no worker process appeared"
        time.sleep(0.05)
    time.sleep(0.5)  # inside the worker's imports
    os.killpg(victim.pid, signal.SIGINT)
    _, stderr = victim.communicate(timeout=60)
    error = stderr.decode()
    assert victim.returncode == 130, error
    assert "interrupted" in error and "Traceback" not in error, error
    deadline = time.monotonic() + 10
    while _group_alive(victim.pid):
        assert time.monotonic() < deadline, "a process of the run outlived it"
        time.sleep(0.1)


def _workers_of(pid: int) -> list[int]:
    """Child processes of ``pid`` running a worker (``assets.drift_workers.serve``)."""
    found = []
    for child in child_pids(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"assets.drift_workers" in command:
            found.append(child)
    return found


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def test_no_worker_when_no_process_can_be_started(
    toy_contract_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads = _count_in_process(monkeypatch)

    def cannot_start() -> DriftWorker:
        raise BlockingIOError(11, "Resource temporarily unavailable")  # fork's EAGAIN

    monkeypatch.setattr(pipelines.commands.run, "start_multivariate_worker", cannot_start)
    assert _run(toy_contract_path, tmp_path / "s.duckdb") == 0
    assert threads == [f"early-{assets.multivariate.STEP}"]
    assert _recorded(tmp_path / "s.duckdb").height > 0


def test_on_a_day_the_quality_step_splits_the_rows_wait_for_its_end(
    toy_contract_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not beside the split, the run's largest memory (assets.quality.splits_on_disk)."""
    import assets.quality

    events: list[str] = []
    quality = assets.quality.quality_slis
    computed = assets.multivariate.multivariate_slis  # type: ignore[attr-defined]

    def quality_then_note(*args: object, **kwargs: object) -> pl.DataFrame:
        time.sleep(0.5)  # time enough for an unheld thread to start first
        try:
            return quality(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            events.append("quality ended")

    def noted(*args: object, **kwargs: object) -> pl.DataFrame:
        events.append(f"multivariate on {threading.current_thread().name}")
        return computed(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(assets.quality, "quality_slis", quality_then_note)
    monkeypatch.setattr(assets.multivariate, "multivariate_slis", noted)
    monkeypatch.setattr(assets.multivariate, "splits_on_disk", lambda *_, **__: True)
    monkeypatch.setattr(pipelines.commands.run, "start_multivariate_worker", lambda: None)
    assert _run(toy_contract_path, tmp_path / "held.duckdb") == 0
    assert events == ["quality ended", f"multivariate on early-{assets.multivariate.STEP}"]
    assert _recorded(tmp_path / "held.duckdb").height > 0


def test_the_worker_is_started_sharing_the_runs_samples_directory(
    toy_contract_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It inherits the directory, so that a large day is sampled once for both processes
    (assets.shared_samples); the directory is gone with the run."""
    from assets.shared_samples import SHARED_DIR_ENV

    seen: list[str | None] = []

    def start() -> None:
        seen.append(os.environ.get(SHARED_DIR_ENV))

    monkeypatch.delenv(SHARED_DIR_ENV, raising=False)
    monkeypatch.setattr(pipelines.commands.run, "start_multivariate_worker", start)
    assert _run(toy_contract_path, tmp_path / "s.duckdb") == 0
    (directory,) = seen
    assert directory is not None and not Path(directory).exists()
    assert SHARED_DIR_ENV not in os.environ
