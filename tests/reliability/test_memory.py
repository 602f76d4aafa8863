"""Memory exhaustion fails fast with one line (issue 11, item 6).

Under a 1 GiB address-space limit, ``datasre drift`` of a 20M-row snapshot used to hang
with no output (a worker process started early) or abort with exit 134 and a Rust
backtrace. It must now exit 2 within seconds with one line naming the file and what to
do, whatever the process count; a worker that dies of memory exhaustion must stop the
run instead of having its columns redone (and run out again) in the parent.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest

from assets.drift_runner import share_work
from assets.drift_workers import DriftWorkers
from assets.memory_budget import parquet_row_count, parquet_row_group_rows
from pipelines.cli import main

ROOT = Path(__file__).resolve().parents[2]
ONE_GIB = 1 << 30
#: Seconds a refused run may take (imports ~2 s); the old code hung past any bound.
FAIL_FAST_SECONDS = 30


def _write_floats(path: Path, rows: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    pl.DataFrame({"amount": rng.standard_normal(rows)}).write_parquet(
        path, compression="uncompressed", statistics=False
    )
    return path


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 100k-row baseline, a 20M-row current (160 MB, ~2 s to write), a 10k-row one."""
    root = tmp_path_factory.mktemp("memory")
    return {
        "baseline": _write_floats(root / "baseline.parquet", 100_000, 1),
        "big": _write_floats(root / "current_20m.parquet", 20_000_000, 2),
        "small": _write_floats(root / "current_10k.parquet", 10_000, 3),
    }


def _drift_under_limit(
    limit: int, *argv: str, timeout: float = FAIL_FAST_SECONDS
) -> subprocess.CompletedProcess[str]:
    """``datasre drift`` in a fresh process under an address-space limit of ``limit``."""

    def limit_address_space() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    # Thread pools reserve address space per thread: pin them so that the figures do not
    # depend on the machine's core count (RUST_BACKTRACE=1 is what made aborts print
    # backtraces, and what the message must not show).
    env = dict(
        os.environ,
        POLARS_MAX_THREADS="2",
        OPENBLAS_NUM_THREADS="1",
        OMP_NUM_THREADS="1",
        RUST_BACKTRACE="1",
    )
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "drift", *argv],
        cwd=ROOT,
        env=env,
        preexec_fn=limit_address_space,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.parametrize("processes", [None, "1", "2"], ids=["default", "one", "two"])
def test_drift_out_of_address_space_exits_2_with_one_line_within_seconds(
    snapshots: dict[str, Path], processes: str | None
) -> None:
    extra = ["--processes", processes] if processes else []
    started = time.monotonic()
    done = _drift_under_limit(ONE_GIB, str(snapshots["baseline"]), str(snapshots["big"]), *extra)
    elapsed = time.monotonic() - started
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr[-2000:]
    line = lines[0]
    assert line.startswith(f"datasre: error: {snapshots['big']}: out of memory: ")
    assert "20,000,000 rows" in line and "--sketch" in line and "ulimit -v" in line
    assert "Traceback" not in done.stderr and "memory allocation" not in done.stderr
    assert done.stdout == ""
    assert elapsed < FAIL_FAST_SECONDS


def test_drift_that_fits_the_limit_still_runs(snapshots: dict[str, Path]) -> None:
    """The check refuses only what cannot fit: 10k rows under 2 GiB compare normally."""
    done = _drift_under_limit(2 * ONE_GIB, str(snapshots["baseline"]), str(snapshots["small"]))
    assert done.returncode in (0, 1), done.stderr[-2000:]
    assert "features drifted" in done.stdout


def test_worker_that_aborts_stops_the_run_instead_of_being_redone() -> None:
    """A worker killed by SIGABRT (what a failed Rust allocation does) or SIGKILL (the
    OOM killer) is reported as memory exhaustion at once; its item is not redone here."""
    redone: list[int] = []

    def local(i: int) -> int:
        redone.append(i)
        time.sleep(1.0)  # the worker, already started, takes the next item meanwhile
        return i

    with DriftWorkers(1) as pool:
        assert pool.workers[0].wait_ready()
        started = time.monotonic()
        with pytest.raises(MemoryError, match="ran out of memory"):
            share_work(local, lambda i: (os.abort, ()), 3, 2, pool)
        assert time.monotonic() - started < 10
    assert len(redone) < 3


def test_memory_error_in_drift_is_one_line_exit_2(
    snapshots: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def exhausted(*args: object, **kwargs: object) -> None:
        raise MemoryError("Unable to allocate 153. MiB for an array")

    monkeypatch.setattr("checks.drift.compute_drift", exhausted)
    code = main(["drift", str(snapshots["baseline"]), str(snapshots["small"])])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1
    assert err[0].startswith(f"datasre: error: {snapshots['small']}: out of memory: Unable")
    assert "--sketch" in err[0]


def test_polars_allocation_failure_is_the_out_of_memory_line(
    snapshots: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def enomem(*args: object, **kwargs: object) -> None:
        raise pl.exceptions.ComputeError("Cannot allocate memory (os error 12)")

    monkeypatch.setattr("checks.drift.compute_drift", enomem)
    code = main(["drift", str(snapshots["baseline"]), str(snapshots["small"])])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err == [
        f"datasre: error: {snapshots['small']}: out of memory: Cannot allocate memory "
        "(os error 12); use --sketch with a stored profile (reads the snapshot row group "
        "by row group), --processes 1 --workers 1, smaller files, or a machine (or limit) "
        "with more memory"
    ]


def test_parquet_row_count_reads_the_footer(tmp_path: Path) -> None:
    """The footer count (no polars engine) equals polars' for nested, string, boolean,
    multi-row-group and empty files, and is None for a file that is not parquet."""
    frame = pl.DataFrame(
        {
            "s": ["x", "y", None] * 7,
            "b": [True, False, None] * 7,
            "l": [[1, 2], [], None] * 7,
            "st": [{"k": 1, "v": "a"}] * 21,
        }
    )
    cases = {
        "nested.parquet": frame,
        "empty.parquet": frame.head(0),
    }
    for name, data in cases.items():
        data.write_parquet(tmp_path / name, row_group_size=4)
        expected = pl.scan_parquet(tmp_path / name).select(pl.len()).collect().item()
        assert parquet_row_count(tmp_path / name) == expected
        metadata = pq.read_metadata(tmp_path / name)
        groups = [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]
        assert parquet_row_group_rows(tmp_path / name) == groups
    assert parquet_row_group_rows(tmp_path / "nested.parquet") == [4, 4, 4, 4, 4, 1]
    (tmp_path / "text.parquet").write_text("not parquet")
    assert parquet_row_count(tmp_path / "text.parquet") is None
    assert parquet_row_count(tmp_path / "absent.parquet") is None
    assert parquet_row_group_rows(tmp_path / "text.parquet") is None
