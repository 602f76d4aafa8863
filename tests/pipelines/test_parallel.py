"""Parallel partitions lose no SLI row; a data SRE's read-only session delays a run
instead of failing it (DuckDB admits one writer process, and readers block writers)."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from multiprocessing.synchronize import Event
from pathlib import Path

import duckdb
import pytest

from assets.store import RunRecord, SliStore
from checks.sli import SliRow, sli_frame
from pipelines.cli import main
from tests.fixtures import write_model

NOW = "2026-04-01T00:00:00+00:00"
ROWS_PER_PARTITION = 300


def _write_partition(path: str, index: int, start: Event) -> None:
    """One worker: wait for the starting gun, then write (and rewrite) its partition."""
    store = SliStore(path, lock_timeout_s=60)
    moment = dt.datetime(2026, 3, 3, tzinfo=dt.UTC)
    frame = sli_frame(
        SliRow("model", "completeness", "null_rate", float(i), 1, feature=f"f{i}")
        for i in range(ROWS_PER_PARTITION)
    )
    start.wait(30)
    for attempt in range(2):  # the second write replaces the first
        store.write_run(
            RunRecord(f"run-{index}-{attempt}", "toy", "1", f"2026-03-{index + 1:02d}", moment,
                      moment, "succeeded"),
            frame,
        )  # fmt: skip


@pytest.mark.parametrize("repetition", range(5))
def test_eight_concurrent_writers_leave_every_row_exactly_once(
    tmp_path: Path, repetition: int
) -> None:
    del repetition
    path = str(tmp_path / "s.duckdb")
    SliStore(path).ensure_schema()
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    workers = [context.Process(target=_write_partition, args=(path, i, start)) for i in range(8)]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(120)
    assert [w.exitcode for w in workers] == [0] * 8
    store = SliStore(path)
    per_partition = store.query(
        "select partition, count(*) as n, count(distinct run_id) as runs "
        "from sli_results group by partition order by partition"
    )
    assert per_partition["n"].to_list() == [ROWS_PER_PARTITION] * 8
    assert per_partition["runs"].to_list() == [1] * 8
    # Every partition holds its second write's rows (a lost commit would show the first).
    kept = store.query("select distinct run_id from sli_results order by all")
    assert kept["run_id"].to_list() == [f"run-{i}-1" for i in range(8)]
    runs = store.query("select run_id from runs order by all")["run_id"].to_list()
    assert runs == sorted(f"run-{i}-{attempt}" for i in range(8) for attempt in range(2))


def test_run_parallel_8_equals_the_sequential_run(tmp_path: Path) -> None:
    contract = write_model(tmp_path / "model", days=8, rows=300)
    common = ["--config", str(contract), "--now", NOW, "--all", "--quiet"]
    assert main(["run", "--db", str(tmp_path / "seq.duckdb"), *common]) == 0
    assert main(["run", "--db", str(tmp_path / "par.duckdb"), "--parallel", "8", *common]) == 0
    columns = "partition, sli, feature, slice, value, ok, n_rows"
    query = f"select {columns} from sli_results order by {columns}"
    sequential = SliStore(tmp_path / "seq.duckdb").query(query)
    parallel = SliStore(tmp_path / "par.duckdb").query(query)
    assert sequential.height > 8 * 10
    assert parallel.equals(sequential)
    runs = SliStore(tmp_path / "par.duckdb").query("select partition from runs order by 1")
    assert runs["partition"].n_unique() == runs.height == 8


def _hold_read_only(path: str, seconds: float, ready: Event) -> None:
    con = duckdb.connect(path, read_only=True)
    con.execute("select count(*) from sli_results").fetchall()
    ready.set()
    time.sleep(seconds)
    con.close()


def test_a_read_only_session_held_30_seconds_delays_the_run_instead_of_failing_it(
    tmp_path: Path,
) -> None:
    contract = write_model(tmp_path / "model", days=2)
    db = tmp_path / "s.duckdb"
    common = ["--config", str(contract), "--db", str(db), "--now", NOW, "--quiet"]
    assert main(["run", "--partition", "2026-03-02", *common]) == 0
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    holder = context.Process(target=_hold_read_only, args=(str(db), 30.0, ready))
    holder.start()
    try:
        assert ready.wait(60)
        started = time.monotonic()
        assert main(["run", "--partition", "2026-03-03", *common]) == 0
        waited = time.monotonic() - started
    finally:
        holder.join(90)
    assert waited >= 25  # it waited for the SRE's session to end ...
    written = SliStore(db).query("select partition, count(*) as n from sli_results group by 1")
    assert sorted(written["partition"].to_list()) == ["2026-03-02", "2026-03-03"]  # ... then wrote
    assert all(n > 0 for n in written["n"].to_list())


def test_a_28_day_backfill_of_two_models_writes_an_exact_row_count(tmp_path: Path) -> None:
    first = write_model(tmp_path / "model", days=28, rows=200)
    second = first.parent / "toy_twin.yaml"
    second.write_text(first.read_text().replace("model: toy", "model: toy_twin", 1))
    db = tmp_path / "s.duckdb"
    args = ["run", "--all", "--config", str(first.parent), "--db", str(db), "--now", NOW]
    assert main([*args, "--parallel", "2", "--quiet"]) == 0
    store = SliStore(db)
    per_partition = store.query(
        "select model, partition, count(*) as n, count(distinct run_id) as runs "
        "from sli_results group by all order by all"
    )
    assert per_partition.height == 2 * 28
    assert per_partition["runs"].unique().to_list() == [1]
    # Every clean toy day measures the same SLIs: as many as one partition run alone.
    alone = tmp_path / "alone.duckdb"
    single = ["run", "--partition", "2026-03-02", "--model", "toy", "--quiet", "--now", NOW]
    assert main([*single, "--config", str(first.parent), "--db", str(alone)]) == 0
    expected = SliStore(alone).fetchall("select count(*) from sli_results")[0][0]
    assert expected > 10
    assert per_partition["n"].unique().to_list() == [expected]
    assert store.fetchall("select count(*) from sli_results") == [(56 * expected,)]
    assert store.fetchall("select count(*), count(distinct run_id) from runs") == [(56, 56)]


def test_run_parallel_leaves_nothing_in_tmpdir(tmp_path: Path) -> None:
    """Each fan-out step process's ephemeral Dagster instance made a directory in TMPDIR
    for its artifacts and, ending without finalizers, left it there: one per partition
    and run, for good. They now live in the fan-out's own directory, removed at its end."""
    contract = write_model(tmp_path / "model", days=2, rows=300)
    # A short TMPDIR: the fork server's socket lives under it (see the next test).
    scratch = Path(tempfile.mkdtemp(prefix="dsre-"))
    try:
        done = _run_parallel(contract, tmp_path / "s.duckdb", scratch)
        assert done.returncode == 0, done.stderr
        assert SliStore(tmp_path / "s.duckdb").query("select count(*) n from runs")["n"][0] == 2
        assert sorted(p.name for p in scratch.iterdir()) == []
    finally:
        shutil.rmtree(scratch)


def test_run_parallel_under_a_tmpdir_too_long_for_a_socket_says_so(tmp_path: Path) -> None:
    """The fork server listens on TMPDIR/pymp-XXXXXXXX/listener-XXXXXXXX: under a longer
    TMPDIR than a Unix socket path takes (107 bytes), every partition failed with only
    "the fan-out run ended before it" (found when CI's pytest paths were longer)."""
    contract = write_model(tmp_path / "model", days=2, rows=300)
    scratch = tmp_path / ("t" * 100)
    scratch.mkdir()
    done = _run_parallel(contract, tmp_path / "s.duckdb", scratch)
    assert done.returncode == 2
    assert done.stderr.startswith(f"datasre: error: --parallel: TMPDIR {scratch} is too long")
    assert "set TMPDIR to a shorter directory" in done.stderr


def _run_parallel(contract: Path, db: Path, tmpdir: Path) -> subprocess.CompletedProcess[str]:
    """``datasre run --all --parallel 2`` in a process of its own under ``tmpdir``."""
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env["TMPDIR"] = str(tmpdir)
    argv = ["run", "--db", str(db), "--config", str(contract)]
    argv += ["--now", NOW, "--all", "--quiet", "--parallel", "2"]
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
