"""Start and stop a real datasre cluster on one machine, for tests and for trying it out.

Each server is a real one from Debian packages, started and stopped here:

- PostgreSQL: Dagster's instance storage (runs, event logs, schedules) and its run queue;
- Redis: the Celery broker and result backend, its queues in an append-only file so a
  restart loses no queued step;
- the Dagster daemon (run queue with concurrency limits, backfills, run retries), which
  launches each run's worker process; that process hands every step to Celery;
- N Celery workers (``dagster-celery worker start``), each in its own directory with its
  own ``DAGSTER_HOME``, ``TMPDIR`` and environment, as separate machines would be: they
  share only the broker, the database server and ``<dir>/shared`` (the path machines
  would mount: staged SLI frames, the state directory, the SLI lake).

The same ``pipelines.definitions`` everywhere; only the environment differs from a laptop
(``DATASRE_EXECUTOR=celery``, ``DATASRE_STORE=lake``). Usage::

    python scripts/cluster/cluster.py up --dir /tmp/c --workers 3   # prints the state file
    python scripts/cluster/cluster.py backfill --dir /tmp/c 2026-11-01 2026-11-14
    python scripts/cluster/cluster.py wait --dir /tmp/c              # every run finished
    python scripts/cluster/cluster.py kill-worker --dir /tmp/c 1     # SIGKILL, whole worker
    python scripts/cluster/cluster.py stop-broker --dir /tmp/c       # Redis down ...
    python scripts/cluster/cluster.py start-broker --dir /tmp/c      # ... and back, queues kept
    python scripts/cluster/cluster.py down --dir /tmp/c

``<dir>/cluster.json`` records ports, process ids and each machine's environment.
PostgreSQL refuses to run as root: as root its files live in a directory owned by the
``postgres`` user (made by the Debian package) and it runs as that user.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Final

import yaml

REPO: Final = Path(__file__).resolve().parents[2]
BIN: Final = Path(sys.executable).parent
STATE_FILE: Final = "cluster.json"
#: Seconds a server gets to answer after it is started.
READY_TIMEOUT_S: Final = 60.0
TERMINAL: Final = ("SUCCESS", "FAILURE", "CANCELED")
#: How Dagster's run monitoring words the failure of a run past its maximum run time.
MAX_RUNTIME_MESSAGE: Final = "Exceeded maximum runtime"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for_port(port: int, what: str, log: Path, timeout_s: float = READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.2)
    raise SystemExit(f"cluster: {what} did not listen on 127.0.0.1:{port} (see {log})")


def _postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise SystemExit("cluster: PostgreSQL is not installed (scripts/cluster/install.sh)")
    return Path(found[-1]).parent


def _as_postgres_user(command: list[str]) -> list[str]:
    """PostgreSQL will not run as root: run it as the Debian package's ``postgres`` user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _start_postgres(log_dir: Path) -> dict[str, Any]:
    pg_bin = _postgres_bin()
    data_root = Path(tempfile.mkdtemp(prefix="datasre-cluster-pg-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(data_root, user.pw_uid, user.pw_gid)
    data = data_root / "data"
    port = _free_port()
    log = log_dir / "postgres.log"
    subprocess.run(
        _as_postgres_user(
            [str(pg_bin / "initdb"), "-D", str(data), "-U", "datasre", "--auth=trust", "-E", "UTF8"]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    options = f"-p {port} -k {data_root} -c listen_addresses=127.0.0.1 -c max_connections=200"
    server_log = data_root / "server.log"
    subprocess.run(
        _as_postgres_user(
            [
                str(pg_bin / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(server_log),
                "-w",
                "start",
            ]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    _wait_for_port(port, "PostgreSQL", log)
    subprocess.run(
        [str(pg_bin / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "datasre", "dagster"],
        check=True,
    )
    return {"port": port, "data_root": str(data_root), "bin": str(pg_bin)}


def _spawn(command: list[str], *, cwd: Path, env: dict[str, str], log: Path) -> int:
    """Start a process in its own session (a process group to kill as one machine)."""
    cwd.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return process.pid


def _instance_yaml(
    pg_port: int, shared: Path, max_concurrent_runs: int, max_run_seconds: int
) -> dict[str, Any]:
    """dagster.yaml of every machine: Postgres storage, the run queue, run retries."""
    return {
        "telemetry": {"enabled": False},
        "storage": {
            "postgres": {
                "postgres_db": {
                    "username": "datasre",
                    "password": "trust",
                    "hostname": "127.0.0.1",
                    "db_name": "dagster",
                    "port": pg_port,
                    # SQLAlchemy 2.1 defaults to psycopg 3; dagster-postgres ships psycopg2.
                    "scheme": "postgresql+psycopg2",
                }
            }
        },
        "run_coordinator": {
            "module": "dagster.core.run_coordinator",
            "class": "QueuedRunCoordinator",
            # Launch queued runs in parallel threads, every second: each launch starts a
            # run worker process, seconds of imports apiece.
            "config": {
                "dequeue_use_threads": True,
                "dequeue_num_workers": max_concurrent_runs,
                "dequeue_interval_seconds": 1,
            },
        },
        "concurrency": {
            "runs": {"max_concurrent_runs": max_concurrent_runs},
            # The lake store takes many writers: the writer pool is not a bottleneck here.
            "pools": {"default_limit": 8},
        },
        # A run that failed for the machine's sake (a step lost with its worker, an
        # engine error) is run again from its failed steps; a breach (an asset failure)
        # is data and is not.
        "run_retries": {"enabled": True, "max_retries": 2, "retry_on_asset_or_op_failure": False},
        # A run longer than max_run_seconds is failed (then retried, above): Celery's
        # Redis transport can drop a step's message that a worker had just popped when
        # its connection to the broker breaks, and the run would wait for it forever.
        "run_monitoring": {
            "enabled": True,
            "poll_interval_seconds": 5,
            "max_runtime_seconds": max_run_seconds,
        },
        "local_artifact_storage": {
            "module": "dagster._core.storage.root",
            "class": "LocalArtifactStorage",
            "config": {"base_dir": str(shared / "dagster-artifacts")},
        },
        "compute_logs": {
            "module": "dagster._core.storage.noop_compute_log_manager",
            "class": "NoOpComputeLogManager",
        },
    }


def _machine_env(state: dict[str, Any], home: Path, *, now: str) -> dict[str, str]:
    """The environment of one machine: its own DAGSTER_HOME and TMPDIR, the shared paths."""
    from pipelines.jobs import CELERY_BACKEND_ENV, CELERY_BROKER_ENV, CELERY_VISIBILITY_ENV

    shared = Path(state["shared"])
    redis = f"redis://127.0.0.1:{state['redis']['port']}"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATASRE_", "DAGSTER_", "PYTEST_", "CELERY_"))
    }
    env.update(
        {
            "DAGSTER_HOME": str(home),
            "DAGSTER_DISABLE_TELEMETRY": "1",
            "TMPDIR": str(home / "tmp"),  # (Dagster's gRPC sockets go over TCP: no path limit)
            "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            "DATASRE_EXECUTOR": "celery",
            "DATASRE_STORE": "lake",
            "DATASRE_DB": str(shared / "lake"),
            "DATASRE_STAGING": str(shared / "staging"),
            "DATASRE_CONFIG": str(state["config"]),
            CELERY_BROKER_ENV: f"{redis}/0",
            CELERY_BACKEND_ENV: f"{redis}/1",
            CELERY_VISIBILITY_ENV: str(state["visibility_timeout_s"]),
        }
    )
    if now:
        env["DATASRE_NOW"] = now
    return env


def _prepare_machine(state: dict[str, Any], name: str, *, now: str) -> tuple[Path, dict[str, str]]:
    from pipelines.jobs import celery_executor_config

    home = Path(state["dir"]) / name
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    instance = _instance_yaml(
        state["postgres"]["port"],
        Path(state["shared"]),
        state["max_concurrent_runs"],
        state["max_run_seconds"],
    )
    (home / "dagster.yaml").write_text(yaml.safe_dump(instance, sort_keys=False), "utf-8")
    env = _machine_env(state, home, now=now)
    # The worker's Celery settings: the executor's own, with the broker spelled out.
    celery = celery_executor_config(state["visibility_timeout_s"])
    celery["broker"] = env["DATASRE_CELERY_BROKER"]
    celery["backend"] = env["DATASRE_CELERY_BACKEND"]
    celery.pop("retries")
    document = {"execution": {"config": celery}}
    (home / "celery.yaml").write_text(yaml.safe_dump(document, sort_keys=False), "utf-8")
    return home, env


def _start_worker(state: dict[str, Any], index: int) -> dict[str, Any]:
    name = f"worker-{index}"
    home, env = _prepare_machine(state, name, now=state["now"])
    log = Path(state["dir"]) / "logs" / f"{name}.log"
    command = [str(BIN / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app"]
    command += ["-y", str(home / "celery.yaml"), "-n", name, "-q", "dagster", "--"]
    command += ["--concurrency", "1", "--without-heartbeat", "--without-gossip"]
    command += ["--without-mingle"]
    pid = _spawn(command, cwd=home, env=env, log=log)
    return {"name": name, "pid": pid, "home": str(home), "log": str(log)}


def _wait_for_workers(state: dict[str, Any], count: int) -> None:
    """Until ``count`` workers answer a ping over the broker."""
    from celery import Celery

    broker = f"redis://127.0.0.1:{state['redis']['port']}/0"
    app = Celery("datasre-cluster-probe", broker=broker, backend=broker.replace("/0", "/1"))
    deadline = time.monotonic() + READY_TIMEOUT_S * 2
    try:
        while time.monotonic() < deadline:
            answers = app.control.ping(timeout=1.0) or []
            if len(answers) >= count:
                return
            time.sleep(0.5)
    finally:
        app.close()
    raise SystemExit(
        f"cluster: fewer than {count} Celery workers answered (see {state['dir']}/logs)"
    )


def up(
    directory: Path,
    *,
    workers: int,
    now: str,
    visibility_timeout_s: int,
    max_run_seconds: int = 3600,
    wait_ready: bool = True,
) -> dict[str, Any]:
    """Start every server and process; with ``wait_ready`` return once the workers answer
    and the daemon beats (without, runs submitted meanwhile wait in the queue)."""
    directory.mkdir(parents=True, exist_ok=True)
    logs = directory / "logs"
    logs.mkdir(exist_ok=True)
    shared = directory / "shared"
    shared.mkdir(exist_ok=True)
    state: dict[str, Any] = {
        "dir": str(directory),
        "shared": str(shared),
        "config": str(REPO / "data" / "samples" / "contracts"),
        "now": now,
        "visibility_timeout_s": visibility_timeout_s,
        "max_run_seconds": max_run_seconds,
        "max_concurrent_runs": 4,
        "workers": [],
    }
    _save(directory, state)
    state["postgres"] = _start_postgres(logs)
    _save(directory, state)
    state["redis"] = {"port": _free_port()}
    start_broker(state)
    home, env = _prepare_machine(state, "control", now=now)
    # Create Dagster's tables once, before any other process opens the database: the
    # code server, daemon and workers creating them at the same moment collide
    # ("type runs already exists") and the loser exits.
    subprocess.run(
        [str(BIN / "dagster"), "instance", "migrate"],
        cwd=home,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    # One code server (a gRPC server on a TCP port) loads pipelines.definitions once and
    # serves the daemon, the backfill command and the run workers it launches.
    code_port = _free_port()
    code_log = logs / "code-server.log"
    code_server = [str(BIN / "dagster"), "api", "grpc", "-m", "pipelines.definitions"]
    code_server += ["-h", "127.0.0.1", "-p", str(code_port)]
    state["code_server"] = {
        "port": code_port,
        "pid": _spawn(code_server, cwd=home, env=env, log=code_log),
    }
    workspace = {
        "load_from": [
            {"grpc_server": {"host": "127.0.0.1", "port": code_port, "location_name": "datasre"}}
        ]
    }
    (home / "workspace.yaml").write_text(yaml.safe_dump(workspace, sort_keys=False), "utf-8")
    _save(directory, state)
    daemon_log = logs / "daemon.log"
    daemon = [str(BIN / "dagster-daemon"), "run", "-w", str(home / "workspace.yaml")]
    state["daemon"] = {"pid": _spawn(daemon, cwd=home, env=env, log=daemon_log)}
    _save(directory, state)
    for index in range(1, workers + 1):
        state["workers"].append(_start_worker(state, index))
        _save(directory, state)
    # Loading the definitions takes seconds, minutes on a machine busy with other work.
    _wait_for_port(code_port, "the code server", code_log, timeout_s=READY_TIMEOUT_S * 10)
    if wait_ready:
        _wait_for_workers(state, workers)
        _wait_for_daemon(state)
    return state


def start_broker(state: dict[str, Any]) -> None:
    """Start Redis on the cluster's broker port, with its queues in an append-only file
    under ``<dir>/redis`` written through on every change (``appendfsync always``): a
    restarted broker, even one killed, still holds every queued and unacknowledged step.
    Without it a restart empties the queue and the runs waiting on those steps never end.
    """
    directory = Path(state["dir"])
    data = directory / "redis"
    data.mkdir(exist_ok=True)
    port = state["redis"]["port"]
    log = directory / "logs" / "redis.log"
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data)]
    command += ["--save", "", "--appendonly", "yes", "--appendfsync", "always"]
    state["redis"]["pid"] = _spawn(command, cwd=data, env=dict(os.environ), log=log)
    _save(directory, state)
    _wait_for_port(port, "Redis", log)


def stop_broker(state: dict[str, Any]) -> None:
    """Stop Redis (SIGTERM: it flushes its append-only file and exits) and wait until it
    is gone; its port stays the cluster's, for :func:`start_broker`."""
    pid = state["redis"].pop("pid", None)
    if pid is not None:
        _stop_group(pid)
    _save(Path(state["dir"]), state)


def _control_instance(state: dict[str, Any]) -> Any:
    """The Dagster instance as the control machine sees it (Postgres)."""
    import dagster as dg

    os.environ["DAGSTER_HOME"] = str(Path(state["dir"]) / "control")
    return dg.DagsterInstance.get()


def _wait_for_daemon(state: dict[str, Any]) -> None:
    """Until the daemon's run queue (QueuedRunCoordinatorDaemon) sent a heartbeat."""
    instance = _control_instance(state)
    deadline = time.monotonic() + READY_TIMEOUT_S * 2
    try:
        while time.monotonic() < deadline:
            beats = instance.get_daemon_heartbeats()
            if "QUEUED_RUN_COORDINATOR" in beats and "BACKFILL" in beats:
                return
            time.sleep(1)
    finally:
        instance.dispose()
    raise SystemExit(f"cluster: the Dagster daemon sent no heartbeat (see {state['dir']}/logs)")


def backfill(state: dict[str, Any], first: dt.date, last: dt.date, models: list[str]) -> str:
    """Submit one run per model x day from ``first`` to ``last`` as the control machine
    (``submit_runs.py``: plain runs, not a ``dagster job backfill``, so the daemon's run
    retries cover them); the daemon's queue launches them. Returns the batch id."""
    from assets.writer import KIND_TAG
    from pipelines.jobs import JOB_NAME

    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    keys = [f"{day.isoformat()}|{model}" for model in models for day in days]
    home = Path(state["dir"]) / "control"
    env = _machine_env(state, home, now=state["now"])
    command = [sys.executable, str(Path(__file__).with_name("submit_runs.py"))]
    command += ["-w", str(home / "workspace.yaml"), "-j", JOB_NAME]
    command += ["--tags", json.dumps({KIND_TAG: "backfill"}), *keys]
    done = subprocess.run(command, cwd=home, env=env, check=True, capture_output=True, text=True)
    return done.stdout.strip().splitlines()[-1]


def wait(state: dict[str, Any], *, timeout_s: float, stranded_s: float = 300.0) -> dict[str, Any]:
    """Until every run finished and every run the daemon will retry has its retry;
    returns the number of runs by status, of retries (runs with a parent), of runs
    belonging to a Dagster backfill and of runs failed at the maximum run time
    (``timed_out``). A failed run still marked for a retry that has
    not come ``stranded_s`` seconds later (the daemon refused or lost it: its
    ``daemon.log`` says why) ends the wait at once with the runs named."""
    instance = _control_instance(state)
    deadline = time.monotonic() + timeout_s
    # The daemon tags a failed run it will retry a moment after the failure: finished
    # must hold on two looks 5 s apart.
    settled = 0
    first_seen: dict[str, float] = {}
    try:
        while True:
            records = instance.get_run_records()
            statuses = [r.dagster_run.status.value for r in records]
            pending_retry = {
                r.dagster_run.run_id
                for r in records
                if r.dagster_run.tags.get("dagster/will_retry") == "true"
            } - {r.dagster_run.tags.get("dagster/parent_run_id") for r in records}
            now = time.monotonic()
            first_seen = {run: first_seen.get(run, now) for run in pending_retry}
            stranded = sorted(run for run, seen in first_seen.items() if now - seen > stranded_s)
            if stranded:
                raise SystemExit(
                    f"cluster: runs {stranded} failed and are marked for a retry that did not "
                    f"come in {stranded_s:g} s (see {state['dir']}/logs/daemon.log)"
                )
            finished = all(s in TERMINAL for s in statuses) and not pending_retry
            settled = settled + 1 if records and finished else 0
            if settled == 2:
                return {
                    "statuses": {s: statuses.count(s) for s in sorted(set(statuses))},
                    "retries": sum("dagster/parent_run_id" in r.dagster_run.tags for r in records),
                    "in_a_backfill": sum("dagster/backfill" in r.dagster_run.tags for r in records),
                    "timed_out": _timed_out(instance, records),
                }
            if now > deadline:
                raise SystemExit(f"cluster: runs not finished after {timeout_s:g} s: {statuses}")
            time.sleep(5 if settled else 2)
    finally:
        instance.dispose()


def _timed_out(instance: Any, records: list[Any]) -> int:
    """Failed runs that run monitoring failed for exceeding the maximum run time (the
    daemon then retries them from their failed steps): how a step whose message the
    broker lost, or whose redelivery came too late, is run again."""
    import dagster as dg

    count = 0
    for record in records:
        if record.dagster_run.status == dg.DagsterRunStatus.SUCCESS:
            continue
        failures = instance.all_logs(
            record.dagster_run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE
        )
        messages = [e.dagster_event.message if e.dagster_event else "" for e in failures]
        count += any(MAX_RUNTIME_MESSAGE in (message or "") for message in messages)
    return count


def kill_worker(state: dict[str, Any], index: int) -> None:
    """SIGKILL a worker's whole process group (the main process and its pool children),
    as a machine that loses power would."""
    worker = state["workers"][index - 1]
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker["pid"], signal.SIGKILL)
    worker["killed"] = True


def _stop_group(pid: int, grace_s: float = 10.0) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def down(directory: Path) -> None:
    """Stop every process this cluster started (by its recorded id) and remove PostgreSQL's
    files; the shared directory and the logs stay for inspection."""
    path = directory / STATE_FILE
    if not path.exists():
        return
    state = json.loads(path.read_text("utf-8"))
    for worker in state.get("workers", []):
        _stop_group(worker["pid"])
    for name in ("daemon", "code_server"):
        if name in state:
            _stop_group(state[name]["pid"])
    if "pid" in state.get("redis", {}):
        _stop_group(state["redis"]["pid"])
    postgres = state.get("postgres")
    if postgres:
        data_root = Path(postgres["data_root"])
        subprocess.run(
            _as_postgres_user(
                [
                    str(Path(postgres["bin"]) / "pg_ctl"),
                    "-D",
                    str(data_root / "data"),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ]
            ),
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        shutil.rmtree(data_root, ignore_errors=True)
    path.unlink()


def _save(directory: Path, state: dict[str, Any]) -> None:
    temporary = directory / f".{STATE_FILE}.tmp"
    temporary.write_text(json.dumps(state, indent=2), "utf-8")
    temporary.replace(directory / STATE_FILE)


def load(directory: Path) -> dict[str, Any]:
    state: dict[str, Any] = json.loads((directory / STATE_FILE).read_text("utf-8"))
    return state


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("up", "backfill", "wait", "kill-worker", "stop-broker", "start-broker", "down"):
        sub = commands.add_parser(name)
        sub.add_argument("--dir", required=True, type=Path)
        if name == "up":
            sub.add_argument("--workers", type=int, default=3)
            sub.add_argument("--now", default="", help="DATASRE_NOW of every machine")
            sub.add_argument("--visibility-timeout", type=int, default=3600)
            sub.add_argument(
                "--max-run-seconds",
                type=int,
                default=3600,
                help="a run still going after this long is failed, then retried",
            )
            sub.add_argument(
                "--no-wait", action="store_true", help="return before the workers answer"
            )
        if name == "backfill":
            sub.add_argument("first", type=dt.date.fromisoformat)
            sub.add_argument("last", type=dt.date.fromisoformat)
            sub.add_argument("--model", action="append", default=[])
        if name == "wait":
            sub.add_argument("--timeout", type=float, default=600.0)
            sub.add_argument(
                "--stranded",
                type=float,
                default=300.0,
                help="seconds a failed run may wait for its retry before the wait gives up",
            )
        if name == "kill-worker":
            sub.add_argument("index", type=int)
    args = parser.parse_args(argv)
    directory = args.dir.resolve()
    if args.command == "up":
        try:
            up(
                directory,
                workers=args.workers,
                now=args.now,
                visibility_timeout_s=args.visibility_timeout,
                max_run_seconds=args.max_run_seconds,
                wait_ready=not args.no_wait,
            )
        except BaseException:
            down(directory)
            raise
        print(directory / STATE_FILE)
    elif args.command == "backfill":
        models = args.model or sorted(
            p.stem for p in (REPO / "data/samples/contracts").glob("*.yaml")
        )
        print(backfill(load(directory), args.first, args.last, models))
    elif args.command == "wait":
        print(json.dumps(wait(load(directory), timeout_s=args.timeout, stranded_s=args.stranded)))
    elif args.command == "kill-worker":
        state = load(directory)
        kill_worker(state, args.index)
        _save(directory, state)
    elif args.command == "stop-broker":
        stop_broker(load(directory))
    elif args.command == "start-broker":
        start_broker(load(directory))
    else:
        down(directory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
