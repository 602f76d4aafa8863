"""The SLI store under faults: a full disk, a read-only file or directory, a lock held
past the timeout, damaged and foreign files, and readers while a run writes.

Every case must end in one line naming the file and the cause, exit 2 ("cannot use
this store"), no rows shown that the run did not write, and a damaged or foreign file
left byte-identical. Full-disk and read-only cases mount a small tmpfs (or bind-mount
read-only) when the test may mount (root in CI); as another user the read-only cases
use file modes instead, and the full-disk case is skipped with the reason.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from assets.store import SliStore, StoreError, StoreLockedError
from assets.store.schema import SCHEMA_VERSION
from pipelines.cli import main
from tests.assets.test_store import run_record, slis
from tests.fixtures import FIRST_DAY

DAY = FIRST_DAY.isoformat()
READ_ONLY_CAUSE = r"(Read-only file system|Permission denied)"


# --- helpers -------------------------------------------------------------------------
def _mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"mount {' '.join(args)} not permitted here: {done.stderr.strip()}")


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


@contextmanager
def small_tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` at ``path`` (skipped where mounting is not permitted)."""
    path.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path))
    try:
        yield path
    finally:
        _umount(path)


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make a file or directory read-only: a read-only bind mount as root (who ignores
    file modes), else the file mode."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    _mount("--bind", str(path), str(path))
    try:
        _mount("-o", "remount,ro,bind", str(path))
        yield
    finally:
        _umount(path)


def fill(directory: Path) -> None:
    """Write zeros until the file system is full."""
    with (directory / "filler").open("wb") as out:
        chunk = b"\0" * 65536
        try:
            while True:
                out.write(chunk)
                out.flush()
        except OSError:
            pass


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_toy(contract: Path, db: Path, *extra: str) -> int:
    return main(["run", "--config", str(contract), "--db", str(db), "--partition", DAY, *extra])


def gate(contract: Path, db: Path, *extra: str) -> int:
    return main(["gate", "--model", "toy", "--config", str(contract), "--db", str(db), *extra])


def one_error_line(err: str) -> str:
    """The CLI's error line: the last line of stderr, and the only one saying error."""
    lines = [line for line in err.splitlines() if line.startswith("datasre: error:")]
    assert len(lines) == 1, err
    assert err.rstrip("\n").splitlines()[-1] == lines[0], err
    assert "Traceback" not in err
    return lines[0].removeprefix("datasre: error: ")


def _hold(path: str, read_only_: bool, seconds: float, ready: object) -> None:
    con = duckdb.connect(path, read_only=read_only_)
    con.execute("select count(*) from runs").fetchall()
    ready.set()  # type: ignore[attr-defined]
    time.sleep(seconds)
    con.close()


@contextmanager
def held(path: Path, *, read_only_: bool, seconds: float) -> Iterator[None]:
    """Another process holds ``path`` open (a writer, or an SRE's read-only session) for
    up to ``seconds``, or until the block ends."""
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    holder = context.Process(target=_hold, args=(str(path), read_only_, seconds, ready))
    holder.start()
    try:
        assert ready.wait(60)
        yield
    finally:
        holder.terminate()  # our own child: done holding once the body is done
        holder.join(60)


# --- 3: storage errors explained -----------------------------------------------------
def test_a_full_disk_exits_2_with_one_line_and_shows_no_old_rows(
    toy_contract_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with small_tmpfs(tmp_path / "disk", "8m") as disk:
        db = disk / "s.duckdb"
        assert run_toy(toy_contract_path, db, "--quiet") == 0
        before = SliStore(db).fetchall("select run_id, count(*) from sli_results group by 1")
        capsys.readouterr()
        fill(disk)
        assert run_toy(toy_contract_path, db) == 2
        out, err = capsys.readouterr()
        assert one_error_line(err) == f"{db}: cannot write: No space left on device"
        assert "succeeded" not in out  # the old rows are not this run's
        (disk / "filler").unlink()
        after = SliStore(db).fetchall("select run_id, count(*) from sli_results group by 1")
    assert after == before  # nothing lost, nothing half-written


def test_a_new_store_in_a_read_only_directory_says_it_cannot_create_it(
    toy_contract_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = tmp_path / "ro"
    directory.mkdir()
    db = directory / "s.duckdb"
    with read_only(directory):
        assert run_toy(toy_contract_path, db) == 2
    out, err = capsys.readouterr()
    assert re.fullmatch(
        rf"{re.escape(str(db))}: cannot create: {READ_ONLY_CAUSE}", one_error_line(err)
    )
    assert "no SLI database yet" not in err
    assert out == ""


def test_a_read_only_store_file_is_one_line_naming_it(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    SliStore(db).write_run(run_record("r1"), slis(2))
    before = digest(db)
    with read_only(db), pytest.raises(StoreError) as caught:
        SliStore(db).write_run(run_record("r2"), slis(3))
    assert re.fullmatch(rf"{re.escape(str(db))}: cannot open: {READ_ONLY_CAUSE}", str(caught.value))
    assert digest(db) == before


def test_a_lock_held_past_the_timeout_exits_2_naming_the_file(
    toy_contract_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = tmp_path / "s.duckdb"
    SliStore(db).write_run(run_record("r0", partition="2026-01-01"), slis(1))
    monkeypatch.setenv("DATASRE_LOCK_TIMEOUT_S", "1")
    with held(db, read_only_=True, seconds=25):
        assert run_toy(toy_contract_path, db) == 2
    out, err = capsys.readouterr()
    assert one_error_line(err) == (
        f"{db}: cannot open: still locked by another process after 1 s "
        "($DATASRE_LOCK_TIMEOUT_S sets the wait)"
    )
    assert "succeeded" not in out
    assert SliStore(db).fetchall("select run_id from runs") == [("r0",)]


def test_a_partition_whose_job_failed_shows_no_rows_of_an_earlier_run(
    toy_contract_path: Path, tmp_path: Path
) -> None:
    """The summary of a crashed partition says ``error``, not the old run's counts: the
    summary comes from what this run's writer recorded, never from the store."""
    from pipelines.commands.run import PartitionOutcome, execute_partition
    from pipelines.settings import Settings

    db = tmp_path / "s.duckdb"
    assert run_toy(toy_contract_path, db, "--quiet") == 0
    crashed = PartitionOutcome("toy", FIRST_DAY, "error", 0.1, "boom")
    shown = crashed.row()
    assert (shown["run_status"], shown["slis"], shown["breaches"]) == ("error", None, None)
    settings = Settings.from_env(config_path=str(toy_contract_path), database=str(db))
    recorded = execute_partition(settings, "toy", FIRST_DAY, "manual").row()
    assert recorded["run_status"] == "succeeded" and recorded["slis"]


# --- 4: corrupt or foreign files, refused before anything is written -----------------
def _truncate(db: Path) -> None:
    os.truncate(db, db.stat().st_size // 3)


def _bad_checksum(db: Path) -> None:
    """Damage one data block of ``sli_results`` (where DuckDB's storage_info puts it):
    the header and catalog stay readable, so only reading the rows finds it."""
    con = duckdb.connect(str(db), read_only=True)
    blocks = con.execute(
        "select block_id, min(block_offset) from pragma_storage_info('sli_results') "
        "where persistent and block_id >= 0 group by block_id order by block_id desc limit 1"
    ).fetchall()
    con.close()
    block, offset = (int(v) for v in blocks[0])
    with db.open("r+b") as out:  # 3 header blocks of 4 KiB, then 256 KiB blocks
        # 8 bytes of block checksum, then the segment's own bytes (storage_info's offset).
        out.seek(3 * 4096 + block * 262144 + 8 + offset)
        out.write(b"\xa5" * 64)


def _not_duckdb(db: Path) -> None:
    db.write_text("model,partition\nfraud,2026-11-01\n" * 100, encoding="utf-8")


def _foreign_table(sql: str) -> Callable[[Path], None]:
    def make(db: Path) -> None:
        db.unlink()
        con = duckdb.connect(str(db))
        con.execute(sql)
        con.close()

    return make


def _newer_schema(db: Path) -> None:
    con = duckdb.connect(str(db))
    con.execute("update datasre_meta set value = '99' where key = 'schema_version'")
    con.close()


def _newer_schema_with_a_new_column(db: Path) -> None:
    """What a newer datasre writes: a column this one does not know, and its version."""
    _newer_schema(db)
    con = duckdb.connect(str(db))
    con.execute("alter table runs add column a_newer_column double")
    con.close()


DAMAGED: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncated": (_truncate, r"cannot (open|read): the file is damaged \(truncated or a bad "),
    "bad checksum": (_bad_checksum, r"cannot read: the file is damaged \(truncated or a bad "),
    "not duckdb": (_not_duckdb, r"cannot open: not a DuckDB database file$"),
    "foreign sli_results": (
        _foreign_table("create table sli_results (id integer, metric varchar, value double)"),
        r"not a datasre store: table sli_results has other columns \(column id INTEGER;",
    ),
    "foreign runs": (
        _foreign_table("create table runs (run_id varchar, model varchar, started timestamp)"),
        r"not a datasre store: table runs has other columns \(column started TIMESTAMP;",
    ),
    "sli_latest a table": (
        _foreign_table("create table sli_latest (x integer)"),
        r"not a datasre store: sli_latest is a table, datasre keeps a view there",
    ),
    "newer schema": (
        _newer_schema,
        rf"schema version 99 is newer than this datasre's \({SCHEMA_VERSION}\)",
    ),
    # Said as newer, not as another tool's table (the version is checked first).
    "newer schema, new column": (
        _newer_schema_with_a_new_column,
        rf"schema version 99 is newer than this datasre's \({SCHEMA_VERSION}\)",
    ),
}


def _store_with_history(db: Path) -> SliStore:
    store = SliStore(db)
    for day in range(1, 7):  # several data blocks
        store.write_run(run_record(f"r{day}", partition=f"2026-03-{day:02d}"), slis(400))
    return store


@pytest.mark.parametrize("case", sorted(DAMAGED))
def test_a_damaged_or_foreign_store_is_refused_before_anything_is_written(
    tmp_path: Path, case: str
) -> None:
    damage, message = DAMAGED[case]
    db = tmp_path / "s.duckdb"
    _store_with_history(db)
    damage(db)
    before = digest(db)
    with pytest.raises(StoreError) as caught:
        SliStore(db).write_run(run_record("new", partition="2026-04-01"), slis(3))
    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith(f"{db}: ")
    assert re.search(message, text), text
    assert digest(db) == before
    assert not Path(f"{db}.wal").exists()


@pytest.mark.parametrize("case", ["foreign runs", "bad checksum", "not duckdb"])
def test_run_and_gate_refuse_a_damaged_or_foreign_store_with_exit_2(
    toy_contract_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    damage, message = DAMAGED[case]
    db = tmp_path / "s.duckdb"
    _store_with_history(db)
    damage(db)
    before = digest(db)
    capsys.readouterr()
    commands = [["gate"], ["gate", "--no-record"], *([["run"]] if case == "foreign runs" else [])]
    for command in commands:
        extra = command[1:]
        code = (
            gate(toy_contract_path, db, *extra)
            if command[0] == "gate"
            else run_toy(toy_contract_path, db)
        )
        assert code == 2, command
        out, err = capsys.readouterr()
        line = one_error_line(err)
        assert line.startswith(f"{db}: ") and re.search(message, line), line
        assert "succeeded" not in out
        assert digest(db) == before


# --- 8: readers while a run writes ---------------------------------------------------
def test_the_gate_waits_while_a_writer_holds_the_store(
    toy_contract_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.duckdb"
    assert run_toy(toy_contract_path, db, "--quiet") == 0
    capsys.readouterr()
    with held(db, read_only_=False, seconds=3):
        started = time.monotonic()
        code = gate(toy_contract_path, db, "--no-record", "--as-of", "2026-03-03T07:00:00Z")
        waited = time.monotonic() - started
    assert code in (0, 1)  # a verdict, not a lock error
    err = capsys.readouterr().err
    assert waited > 1.0
    assert "another process holds it" in err


def test_a_reader_gives_up_after_the_timeout_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "s.duckdb"
    SliStore(db).write_run(run_record("r1"), slis(1))
    monkeypatch.setenv("DATASRE_LOCK_TIMEOUT_S", "0.5")
    with held(db, read_only_=False, seconds=2), pytest.raises(StoreLockedError) as caught:
        SliStore(db).query("select * from sli_latest")
    assert str(caught.value) == (
        f"{db}: cannot open: still locked by another process after 0.5 s "
        "($DATASRE_LOCK_TIMEOUT_S sets the wait)"
    )


def test_the_lock_timeout_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATASRE_LOCK_TIMEOUT_S", "soon")
    with pytest.raises(StoreError, match=r"\$DATASRE_LOCK_TIMEOUT_S: 'soon' is not a number"):
        SliStore("x.duckdb")


def test_a_sound_store_passes_the_check_and_takes_the_write(tmp_path: Path) -> None:
    """The integrity check reads a sound store without refusing it (no false alarm)."""
    db = tmp_path / "s.duckdb"
    store = _store_with_history(db)
    store.write_run(run_record("again", partition="2026-03-01"), slis(5))
    rows = store.fetchall(
        "select run_id, count(*) from sli_results where partition = '2026-03-01' group by 1"
    )
    assert rows == [("again", 5)]


def test_a_snapshot_is_a_consistent_copy_an_sre_may_hold_open_while_runs_write(
    tmp_path: Path,
) -> None:
    db = tmp_path / "s.duckdb"
    store = _store_with_history(db)
    with held(db, read_only_=False, seconds=2):  # a run is writing: the copy waits for it
        copy = store.snapshot(tmp_path / "copies" / "sli.duckdb")
    sql = "select run_id, partition, count(*) from sli_latest group by all order by all"
    assert SliStore(copy).fetchall(sql) == store.fetchall(sql)
    session = duckdb.connect(str(copy), read_only=True)  # the SRE's long session
    try:
        started = time.monotonic()
        store.write_run(run_record("during", partition="2026-05-01"), slis(2))
        assert time.monotonic() - started < 5  # the run did not wait for the session
        assert session.execute("select count(*) from runs").fetchall() == [(6,)]
    finally:
        session.close()
    assert not list((tmp_path / "copies").glob(".*partial"))
    with pytest.raises(StoreError, match="cannot snapshot the store onto itself"):
        store.snapshot(db)
