"""``datasre run`` computes a partition's multivariate SLIs beside its other steps, in a
worker process started with the command (or, without one, on a thread); the step takes
them, or computes them itself when that did not work."""

from __future__ import annotations

import threading
from pathlib import Path

import polars as pl
import pytest

import assets.multivariate
import pipelines.commands.run
import pipelines.partition_run
from assets.drift_workers import MULTIVARIATE_WARM_MODULES, DriftWorker
from assets.store import SliStore
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
