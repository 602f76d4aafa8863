"""The lake SLI store: the embedded store's answers, atomic commits, many writers."""

from __future__ import annotations

import datetime as dt
import errno
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from assets.store import RunRecord, SliStore, StoreError
from assets.store import lake as lake_module
from assets.store.backends import STORE_BACKENDS, open_store
from assets.store.lake import COMMITTED, STAGING, LakeStore
from checks.sli import SliRow, sli_frame, slo_definitions_frame
from tests.gate_fixtures import FINISHED, gate_contract, write_history

REPO = Path(__file__).resolve().parents[2]
TABLES = ("runs", "sli_results", "sli_history", "slo_definitions", "sli_latest", "slo_status")
ORDER = {
    "runs": ["run_id"],
    "sli_results": ["partition", "run_id", "sli", "feature"],
    "sli_history": ["partition", "run_id", "sli", "feature"],
    "slo_definitions": ["model", "sli"],
    "sli_latest": ["partition", "sli", "feature"],
    "slo_status": ["model", "slo"],
}


def _run(run_id: str, day: str, *, finished: dt.datetime = FINISHED) -> RunRecord:
    return RunRecord(
        run_id=run_id,
        model="toy",
        model_version="1.0.0",
        partition=day,
        started_at=finished - dt.timedelta(minutes=1),
        finished_at=finished,
        status="succeeded",
    )


def _crashed(run_id: str) -> RunRecord:
    """A crash record of 2026-03-02, a minute after the runs of :func:`_run`."""
    return RunRecord(
        run_id=run_id,
        model="toy",
        model_version="1.0.0",
        partition="2026-03-02",
        started_at=FINISHED,
        finished_at=FINISHED + dt.timedelta(minutes=1),
        status="crashed",
        error="step quality_slis: RuntimeError: boom",
    )


def _slis(value: float, n: int = 3) -> pl.DataFrame:
    return sli_frame(
        [
            SliRow(
                track="model", category="drift", sli="psi", feature=f"f{i}", value=value, n_rows=10
            )
            for i in range(n)
        ]
    )


def _sli_rows(store: SliStore) -> int:
    return int(store.query("select count(*) as n from sli_results")["n"].item())


def _history_with_reruns(store: SliStore) -> None:
    """Five days, two of them re-run later (a restatement), one run's writer retried."""
    write_history(store, gate_contract(), 5, bad={"accuracy": [dt.date(2026, 11, 3)]})
    later = FINISHED + dt.timedelta(hours=2)
    write_history(store, gate_contract(), 2, run_prefix="rerun", finished_at=later)
    retried = _run("rerun-toy-1.0.0-2026-11-01", "2026-11-01", finished=later)
    store.write_run(retried, _slis(0.5))  # the same Dagster run's writer, again


@pytest.mark.parametrize("table", TABLES)
def test_the_lake_answers_like_the_embedded_store(tmp_path: Path, table: str) -> None:
    stores = [open_store(tmp_path / backend, backend) for backend in STORE_BACKENDS]
    for store in stores:
        _history_with_reruns(store)
    embedded, lake = (
        s.query(f"select * from {table}").sort(ORDER[table], nulls_last=True) for s in stores
    )
    assert embedded.height > 0
    assert_frame_equal(embedded, lake)


def test_a_retried_write_of_the_same_run_counts_once(tmp_path: Path) -> None:
    store = LakeStore(tmp_path / "lake")
    store.write_run(_run("r1", "2026-11-01"), _slis(0.1))
    store.write_run(_run("r1", "2026-11-01"), _slis(0.2))
    assert store.query("select count(*) as n from runs")["n"].item() == 1
    values = store.query("select distinct value from sli_results")["value"].to_list()
    assert values == [0.2] and _sli_rows(store) == 3
    assert store.query("select count(*) as n from sli_history")["n"].item() == 0


def test_a_failure_inside_the_transaction_writes_nothing(tmp_path: Path) -> None:
    store = LakeStore(tmp_path / "lake")
    store.write_run(_run("r1", "2026-11-01"), _slis(0.1))

    def fail(_: object) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        store.write_run(_run("r2", "2026-11-01", finished=FINISHED + dt.timedelta(hours=1)),
                        _slis(0.9), before_commit=fail)  # fmt: skip
    assert store.query("select run_id from runs")["run_id"].to_list() == ["r1"]
    assert store.query("select distinct value from sli_results")["value"].to_list() == [0.1]


def test_a_disk_failure_mid_commit_leaves_no_partial_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second file of a commit cannot be flushed (ENOSPC): the runs row already
    written to staging must not appear, nor any SLI row, and staging is cleaned up."""
    store = LakeStore(tmp_path / "lake")
    store.write_run(_run("r1", "2026-11-01"), _slis(0.1))
    real_fsync = lake_module._fsync
    flushed: list[Path] = []

    def full_disk(path: Path) -> None:
        if path.suffix == ".parquet":
            flushed.append(path)
            if len(flushed) == 2:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real_fsync(path)

    monkeypatch.setattr(lake_module, "_fsync", full_disk)
    with pytest.raises(StoreError, match="No space left on device"):
        store.write_run(_run("r2", "2026-11-02"), _slis(0.9), slo_definitions=None)
    assert store.query("select run_id from runs")["run_id"].to_list() == ["r1"]
    assert _sli_rows(store) == 3
    assert list((store.path / STAGING).glob("*/*")) == []


def test_a_writer_killed_before_its_commit_leaves_nothing_visible(tmp_path: Path) -> None:
    """A writer process SIGKILLed after writing every file but before the rename."""
    root = tmp_path / "lake"
    LakeStore(root).write_run(_run("r1", "2026-11-01"), _slis(0.1))
    script = textwrap.dedent(
        f"""
        import os, signal
        from assets.store import lake
        from tests.assets.test_lake_store import _run, _slis
        lake._publish = lambda staging, committed: os.kill(os.getpid(), signal.SIGKILL)
        lake.LakeStore({str(root)!r}).write_run(_run("r2", "2026-11-02"), _slis(0.9))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, check=False)
    assert done.returncode == -signal.SIGKILL
    assert list((root / STAGING).glob("*/sli_results.parquet")), "the files were written"
    store = LakeStore(root)
    assert store.query("select run_id from runs")["run_id"].to_list() == ["r1"]
    assert _sli_rows(store) == 3


def _write_day(root: str, index: int) -> None:
    LakeStore(root).write_run(_run(f"r{index}", f"2026-11-{index + 1:02d}"), _slis(float(index)))


def test_many_processes_write_at_once(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    LakeStore(root).ensure_schema()
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        pool.starmap(_write_day, [(str(root), i) for i in range(12)])
    store = LakeStore(root)
    assert store.query("select count(*) as n from runs")["n"].item() == 12
    assert _sli_rows(store) == 36


def test_duckdb_cli_reads_the_catalog(tmp_path: Path) -> None:
    """Data SREs open catalog.duckdb with PyPI's duckdb-cli 1.5 and see the same rows."""
    store = LakeStore(tmp_path / "lake")
    write_history(store, gate_contract(), 3)
    cli = Path(sys.executable).parent / "duckdb"
    done = subprocess.run(
        [
            str(cli),
            "-readonly",
            "-csv",
            str(store.catalog_path),
            "-c",
            "select count(*) from sli_latest; select count(*) from slo_status",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    counts = [line for line in done.stdout.splitlines() if line.isdigit()]
    expected = [
        store.query(f"select count(*) as n from {t}")["n"].item()
        for t in ("sli_latest", "slo_status")
    ]
    assert counts == [str(n) for n in expected] and expected[0] > 0


def test_snapshot_is_a_duckdb_file_with_the_same_rows(tmp_path: Path) -> None:
    store = LakeStore(tmp_path / "lake")
    write_history(store, gate_contract(), 3)
    copy = SliStore(store.snapshot(tmp_path / "copy.duckdb"))
    for table in ("sli_results", "runs", "slo_status"):
        order = ORDER[table]
        assert_frame_equal(
            store.query(f"select * from {table}").sort(order, nulls_last=True),
            copy.query(f"select * from {table}").sort(order, nulls_last=True),
        )


def test_reading_a_missing_lake_says_so(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no SLI store yet"):
        LakeStore(tmp_path / "none").query("select 1")
    assert not (tmp_path / "none").exists()


def test_a_root_with_glob_characters_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="glob character"):
        LakeStore(tmp_path / "lake[1]")


def test_definitions_come_from_the_last_finished_run(tmp_path: Path) -> None:
    store = LakeStore(tmp_path / "lake")
    contract = gate_contract()
    definitions = slo_definitions_frame(contract)
    store.write_run(_run("late", "2026-11-02", finished=FINISHED + dt.timedelta(hours=1)),
                    _slis(0.1), slo_definitions=definitions)  # fmt: skip
    store.write_run(_run("early", "2026-11-01"), _slis(0.1),
                    slo_definitions=definitions.with_columns(target=pl.lit(0.5)))  # fmt: skip
    assert set(store.query("select target from slo_definitions")["target"]) != {0.5}
    assert (store.path / COMMITTED).is_dir()


@pytest.mark.parametrize("backend", STORE_BACKENDS)
def test_a_crashed_run_is_one_runs_row_that_leaves_the_days_rows_and_a_writers_record(
    backend: str, tmp_path: Path
) -> None:
    store = open_store(tmp_path / "store", backend)
    store.write_run(_run("r1", "2026-03-02"), _slis(0.1))
    crashed = _crashed("r2")
    assert store.record_crashed_run(crashed)
    assert not store.record_crashed_run(crashed)  # once
    # A run whose writer committed keeps its record.
    assert not store.record_crashed_run(crashed.__class__(**{**crashed.__dict__, "run_id": "r1"}))
    runs = store.query("select run_id, status, error, n_slis from runs order by run_id")
    assert runs.rows() == [
        ("r1", "succeeded", None, 3),
        ("r2", "crashed", "step quality_slis: RuntimeError: boom", 0),
    ]
    latest = store.query("select distinct run_id from sli_latest")["run_id"].to_list()
    assert latest == ["r1"]
    assert store.query("select count(*) n from sli_history")["n"].item() == 0
    with pytest.raises(ValueError, match="crashed"):
        store.record_crashed_run(_run("r3", "2026-03-02"))


@pytest.mark.parametrize("backend", STORE_BACKENDS)
def test_a_crash_record_racing_its_runs_writer_never_hides_the_written_record(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The crash recorder asks "already recorded?" before its own transaction; a writer of
    the same run id committing in between (a redelivered step) must keep its record and
    rows, whichever of the two committed last."""
    store = open_store(tmp_path / "store", backend)
    store.write_run(_run("r1", "2026-03-02"), _slis(0.1))
    crashed = _crashed("r1")
    # The check ran before the writer's commit: it saw nothing.
    monkeypatch.setattr(store, "fetchall", lambda *_args, **_kwargs: [])
    store.record_crashed_run(crashed)
    monkeypatch.undo()
    runs = store.query("select run_id, status, n_slis from runs")
    assert runs.rows() == [("r1", "succeeded", 3)]
    latest = store.query("select distinct run_id from sli_latest")["run_id"].to_list()
    assert latest == ["r1"]
