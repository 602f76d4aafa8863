"""compute_drift and sketch_snapshot run by assets.drift_runner.ColumnRunner (threads or
worker processes): identical results, fallbacks, errors."""

from __future__ import annotations

import json
import os
import pickle
import signal
import time
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from assets import drift_runner
from assets.baseline_store import load_profile, save_profile
from assets.drift_runner import ColumnRunner
from assets.drift_workers import DriftWorker, DriftWorkers, WorkerCrashError
from checks.drift import compute_drift
from checks.profile import build_profile

ALL = ("psi", "ks", "chi2", "js", "wasserstein")


def _frame(n: int, seed: int, shift: float = 0.0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(shift, 1.0, n)
    x[:3] = [np.inf, -np.inf, np.nan]
    return pl.DataFrame(
        {
            "x / normal": x,
            "ties": rng.poisson(4 + shift, n),
            "heavy tail": rng.lognormal(shift, 1.0, n),
            "cat": rng.choice(["a", "b", "c", "d"], n),
            "flag": rng.random(n) < 0.3 + shift,
        }
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("drift_processes")
    base, cur = root / "base.parquet", root / "cur.parquet"
    _frame(30_000, 1).write_parquet(base)
    _frame(20_000, 2, shift=0.05).write_parquet(cur)
    save_profile(build_profile(pl.scan_parquet(base)), root / "profile")
    return {"base": base, "cur": cur, "profile": root / "profile"}


def test_two_processes_give_the_same_rows_as_one(files: dict[str, Path]) -> None:
    cur = pl.scan_parquet(files["cur"])
    for baseline in (pl.scan_parquet(files["base"]), load_profile(files["profile"])):
        one = compute_drift(baseline, cur, methods=ALL)
        threads = ColumnRunner(processes=1)
        assert compute_drift(baseline, cur, methods=ALL, map_columns=threads).equals(one)
        # Started here: on inputs this small this process may finish before the worker
        # is up; the worker's start-up then costs nothing and the rows are the same.
        started = ColumnRunner(processes=2)
        assert compute_drift(baseline, cur, methods=ALL, map_columns=started).equals(one)
        with DriftWorkers(1) as ready:
            assert ready.workers[0].wait_ready()  # so that it surely takes jobs
            runner = ColumnRunner(processes=2, pool=ready)
            two = compute_drift(baseline, cur, methods=ALL, map_columns=runner)
            assert ready.workers[0].used
        assert two.equals(one)


def test_a_pool_started_early_is_used_and_left_open(files: dict[str, Path]) -> None:
    base, cur = pl.scan_parquet(files["base"]), pl.scan_parquet(files["cur"])
    one = compute_drift(base, cur)
    with DriftWorkers(1) as pool:
        assert pool.workers[0].wait_ready()  # so that it surely takes jobs
        runner = ColumnRunner(processes=2, pool=pool)
        assert compute_drift(base, cur, map_columns=runner).equals(one)
        assert pool.workers[0].used
        assert compute_drift(base, cur, map_columns=runner).equals(one)


def test_a_worker_that_cannot_start_leaves_the_work_to_this_process(
    files: dict[str, Path],
) -> None:
    base, cur = pl.scan_parquet(files["base"]), pl.scan_parquet(files["cur"])
    one = compute_drift(base, cur)
    with DriftWorkers(1, warm=("assets.no_such_module",)) as broken:
        runner = ColumnRunner(processes=2, pool=broken)
        assert compute_drift(base, cur, map_columns=runner).equals(one)
        assert not broken.workers[0].wait_ready()


def test_in_memory_inputs_and_small_work_stay_in_this_process(
    files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("no worker process expected")

    monkeypatch.setattr(drift_runner, "share_work", refuse)
    frame = pl.read_parquet(files["base"])
    forced = ColumnRunner(processes=2)
    compute_drift(frame, pl.scan_parquet(files["cur"]), map_columns=forced)  # data, not files
    # 30,000 rows x 5 features is far below PROCESS_MIN_CELLS: the default stays here.
    scans = pl.scan_parquet(files["base"]), pl.scan_parquet(files["cur"])
    compute_drift(*scans, map_columns=ColumnRunner())


def test_worker_calls_return_results_and_raise_errors_in_order() -> None:
    worker = DriftWorker(warm=())
    try:
        assert worker.wait_ready()
        worker.send(json.loads, (pickle.dumps("[1, 2]"),))
        worker.send(json.loads, (pickle.dumps("{not json"),))
        worker.send(json.dumps, (pickle.dumps({"a": 1}),))
        assert worker.receive() == [1, 2]
        with pytest.raises(json.JSONDecodeError):
            worker.receive()
        assert worker.receive() == '{"a": 1}'
    finally:
        worker.close()


def test_a_function_that_cannot_be_sent_raises_at_the_send_not_a_hang() -> None:
    # Once, the pickling happened on the writer thread: it died and receive() waited for
    # ever. Now the caller gets the error and the worker still answers what follows.
    worker = DriftWorker(warm=())
    try:
        with pytest.raises((pickle.PicklingError, AttributeError)):
            worker.send(lambda text: text, (pickle.dumps("x"),))
        worker.send(json.loads, (pickle.dumps("[3]"),))
        assert worker.receive() == [3]
    finally:
        worker.close()


def test_ctrl_c_ends_a_busy_worker_quietly(capfd: pytest.CaptureFixture[str]) -> None:
    """SIGINT (Ctrl-C reaches the whole process group) in the middle of a call: the worker
    ends by the signal without a traceback (an uncaught KeyboardInterrupt would print
    one); its parent reports the interruption."""
    worker = DriftWorker(warm=())
    try:
        assert worker.wait_ready()
        worker.send(time.sleep, (pickle.dumps(30),))
        time.sleep(0.5)  # inside the call
        os.kill(worker.pid, signal.SIGINT)
        assert worker._proc.wait(timeout=10) == -signal.SIGINT
        with pytest.raises(WorkerCrashError):
            worker.receive()
    finally:
        worker.close()
    assert capfd.readouterr().err == ""


def test_ctrl_c_ends_an_idle_warm_worker() -> None:
    """A worker waiting for its next request, polars' threads started: the signal may go
    to any of its threads, and a Python handler waited for a request that never came (it
    outlived the Ctrl-C; the test below caught it once its imports got quicker)."""
    for _ in range(3):
        worker = DriftWorker()
        try:
            assert worker.wait_ready()
            os.kill(worker.pid, signal.SIGINT)
            assert worker._proc.wait(timeout=10) == -signal.SIGINT
        finally:
            worker.close()


@pytest.mark.parametrize("delay", [0.0, 0.01, 0.05, 0.15, 0.3])
def test_ctrl_c_while_a_worker_starts_ends_it_quietly(
    delay: float, capfd: pytest.CaptureFixture[str]
) -> None:
    """SIGINT from the fork on (interpreter start, its boot, importing polars, whose
    loading runs Python from Rust: a KeyboardInterrupt there panics with a Rust
    backtrace): ends by the signal, nothing on stderr."""
    worker = DriftWorker()  # warm: the drift runner, polars, numpy
    try:
        time.sleep(delay)
        os.kill(worker.pid, signal.SIGINT)
        assert worker._proc.wait(timeout=30) == -signal.SIGINT
        worker.wait_ready()  # answers (ready before the signal or not), never hangs
    finally:
        worker.close()
    assert capfd.readouterr().err == ""


def test_sketch_of_parts_shared_with_a_worker_equals_the_sequential_merge(
    files: dict[str, Path], tmp_path: Path
) -> None:
    from checks.drift import sketch_snapshot
    from checks.profile import merge_sketches, sketch_current

    profile = load_profile(files["profile"])
    frame = pl.read_parquet(files["cur"])
    parts = []
    for i in range(3):
        path = tmp_path / f"part-{i}.parquet"
        frame.slice(i * 7000, 7000).write_parquet(path)
        parts.append(pl.scan_parquet(path))
    sequential = merge_sketches(sketch_current(profile, part) for part in parts)
    expected = compute_drift(profile, sequential, methods=ALL)
    with DriftWorkers(1) as ready:
        assert ready.workers[0].wait_ready()
        runner = ColumnRunner(threads=1, processes=2, pool=ready)
        shared = sketch_snapshot(profile, parts, map_columns=runner)
        assert ready.workers[0].used
    assert compute_drift(profile, shared, methods=ALL).equals(expected)
    assert compute_drift(profile, sketch_snapshot(profile, parts), methods=ALL).equals(expected)


def test_large_requests_and_results_do_not_deadlock_the_pipes() -> None:
    """Two calls in flight whose arguments and results both exceed a pipe's buffer."""
    worker = DriftWorker(warm=())
    big = "x" * 300_000
    try:
        worker.send(json.dumps, (pickle.dumps(big),))
        worker.send(json.dumps, (pickle.dumps(big + "y"),))
        assert worker.receive() == json.dumps(big)
        assert worker.receive() == json.dumps(big + "y")
    finally:
        worker.close()
