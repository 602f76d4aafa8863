"""The crash sensor in a real Dagster daemon: a run launched to it crashes before its writer
runs (the state directory is a file), and the daemon's ``crashed_run_sensor`` records it in
the SLI store, as a scheduled run would be. ~1 minute: a daemon, its code server, a run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.fixtures import FIRST_DAY, write_model

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
#: How long the sensor may take to act on the failure (its interval is 30 s).
RECORD_TIMEOUT_S = 240.0
#: The daemon's log line of the sensor's first evaluation, which set its cursor.
FIRST_TICK = "Sensor crashed_run_sensor skipped: Initiating"


def _recorded_runs(db: Path) -> list[tuple[str, str, str]]:
    if not db.exists():
        return []
    try:
        with duckdb.connect(str(db), read_only=True) as con:
            return con.sql("select status, kind, error from runs").fetchall()
    except duckdb.Error:
        return []  # being written: ask again


def test_the_daemons_sensor_records_a_run_that_crashed(tmp_path: Path) -> None:
    contract = write_model(tmp_path / "model")
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(
        "load_from:\n  - python_module:\n      module_name: pipelines.definitions\n"
        f"      working_directory: {REPO}\n",
        encoding="utf-8",
    )
    not_a_directory = tmp_path / "state"
    not_a_directory.write_text("a file where the state directory should be", encoding="utf-8")
    db = tmp_path / "store.duckdb"
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DATASRE_", "DAGSTER"))}
    environment.update(
        DAGSTER_HOME=str(home),
        DAGSTER_DISABLE_TELEMETRY="1",
        DATASRE_CONFIG=str(contract),
        DATASRE_DB=str(db),
        DATASRE_STATE_DIR=str(not_a_directory),
        DATASRE_STAGING=str(tmp_path / "staging"),
    )
    log = (tmp_path / "daemon.log").open("w", encoding="utf-8")
    daemon = subprocess.Popen(
        [str(BIN / "dagster-daemon"), "run", "-w", str(workspace)],
        cwd=tmp_path,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        # The sensor's first tick sets its cursor: only failures after it are seen.
        deadline = time.monotonic() + 180
        while FIRST_TICK not in (tmp_path / "daemon.log").read_text(encoding="utf-8"):
            assert time.monotonic() < deadline, "the daemon never evaluated the crash sensor"
            assert daemon.poll() is None, "the daemon exited"
            time.sleep(1)
        submitted = subprocess.run(
            [sys.executable, str(REPO / "scripts" / "cluster" / "submit_runs.py"),
             "-w", str(workspace), "-j", "datasre_job", "--tags",
             '{"datasre/kind": "scheduled"}', f"{FIRST_DAY.isoformat()}|toy"],
            cwd=tmp_path, env=environment, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert submitted.returncode == 0, submitted.stderr
        deadline = time.monotonic() + RECORD_TIMEOUT_S
        runs = _recorded_runs(db)
        while not runs and time.monotonic() < deadline:
            time.sleep(3)
            runs = _recorded_runs(db)
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        try:
            daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait(timeout=60)
        log.close()
    daemon_log = (tmp_path / "daemon.log").read_text(encoding="utf-8")
    assert len(runs) == 1, daemon_log[-3000:]
    status, kind, error = runs[0]
    assert (status, kind) == ("crashed", "scheduled")
    # The first step to reach the state directory fails (drift or multivariate drift).
    assert error.startswith("step ") and "NotADirectoryError:" in error, error
