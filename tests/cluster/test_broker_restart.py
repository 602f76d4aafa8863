"""The cluster's broker keeps every queued and unacknowledged step across a restart.

Celery's Redis transport keeps a queue as a Redis list and the messages workers hold but
have not acknowledged in the ``unacked`` hash. Redis started without persistence comes
back from a restart empty: queued steps vanish and the runs waiting for them never end.
``scripts/cluster/cluster.py`` starts it with an append-only file written through on
every change; this restarts it twice (SIGTERM, then SIGKILL) through the script's
``stop-broker``/``start-broker`` and reads both back. The whole backfill across a restart
is in test_celery_backfill.py.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import redis

from tests.cluster.servers import REPO, SCRIPTS, install_or_skip

pytestmark = [pytest.mark.cluster]

QUEUE = "dagster"


def _cluster_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("datasre_cluster", SCRIPTS / "cluster.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _script(directory: Path, command: str) -> None:
    subprocess.run(
        [sys.executable, str(SCRIPTS / "cluster.py"), command, "--dir", str(directory)],
        check=True,
        cwd=REPO,
    )


def _state(directory: Path) -> dict[str, Any]:
    state: dict[str, Any] = json.loads((directory / "cluster.json").read_text("utf-8"))
    return state


def test_queued_and_unacknowledged_steps_survive_a_broker_restart_and_a_kill(
    tmp_path: Path,
) -> None:
    install_or_skip()
    cluster = _cluster_script()
    (tmp_path / "logs").mkdir()
    state: dict[str, Any] = {"dir": str(tmp_path), "redis": {"port": cluster._free_port()}}
    cluster.start_broker(state)
    try:
        client = redis.Redis(port=state["redis"]["port"])
        client.lpush(QUEUE, "step-a", "step-b")
        client.hset("unacked", "tag-1", "step-c")
        # A clean restart through the script (SIGTERM: Redis flushes and exits).
        _script(tmp_path, "stop-broker")
        assert "pid" not in _state(tmp_path)["redis"]
        _script(tmp_path, "start-broker")
        client = redis.Redis(port=state["redis"]["port"])
        assert client.lrange(QUEUE, 0, -1) == [b"step-b", b"step-a"]
        assert client.hgetall("unacked") == {b"tag-1": b"step-c"}
        # A broker killed outright loses nothing either: every write reached the file.
        client.lpush(QUEUE, "step-d")
        os.killpg(_state(tmp_path)["redis"]["pid"], signal.SIGKILL)
        time.sleep(0.5)
        _script(tmp_path, "start-broker")
        client = redis.Redis(port=state["redis"]["port"])
        assert client.lrange(QUEUE, 0, -1) == [b"step-d", b"step-b", b"step-a"]
    finally:
        cluster.stop_broker(_state(tmp_path))
