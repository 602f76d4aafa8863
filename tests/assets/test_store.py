"""The DuckDB store: one transaction per run, replacement on re-run, lock waiting."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import polars as pl
import pytest

from assets.store import RunRecord, SliStore, StoreError, StoreLockedError
from checks.contract import Contract
from checks.sli import SliRow, sli_frame, slo_definitions_frame
from tests.fixtures import contract_dict

T0 = dt.datetime(2026, 3, 3, 6, tzinfo=dt.UTC)


def run_record(run_id: str, partition: str = "2026-03-02", **kw: object) -> RunRecord:
    fields: dict[str, object] = {
        "run_id": run_id,
        "model": "toy",
        "model_version": "1.0.0",
        "partition": partition,
        "started_at": T0,
        "finished_at": T0 + dt.timedelta(seconds=5),
        "status": "succeeded",
    }
    fields.update(kw)
    return RunRecord(**fields)  # type: ignore[arg-type]


def slis(n: int, value: float = 0.0) -> pl.DataFrame:
    return sli_frame(
        SliRow(
            "model",
            "completeness",
            "null_rate",
            value,
            100,
            feature=f"f{i}",
            objective=0.05,
            comparator="<=",
            ok=value <= 0.05,
        )
        for i in range(n)
    )


def count(store: SliStore, sql: str, *params: object) -> int:
    return int(store.fetchall(sql, list(params))[0][0])


def test_rerunning_a_partition_replaces_its_rows_and_keeps_run_history(tmp_path: Path) -> None:
    store = SliStore(tmp_path / "s.duckdb")
    assert store.write_run(run_record("r1"), slis(3)) == 3
    assert store.write_run(run_record("r2", finished_at=T0 + dt.timedelta(hours=1)), slis(4)) == 4
    store.write_run(run_record("r3", partition="2026-03-03"), slis(2))
    assert count(store, "select count(*) from sli_results where partition = ?", "2026-03-02") == 4
    assert (
        count(
            store,
            "select count(distinct run_id) from sli_results where partition = ?",
            "2026-03-02",
        )
        == 1
    )
    assert count(store, "select count(*) from runs") == 3
    latest = store.query("select distinct run_id, partition from sli_latest order by partition")
    assert latest.rows() == [("r2", "2026-03-02"), ("r3", "2026-03-03")]


def test_a_failure_inside_the_transaction_leaves_no_rows_of_its_own(tmp_path: Path) -> None:
    store = SliStore(tmp_path / "s.duckdb")
    store.write_run(run_record("good"), slis(3))

    def explode(con: duckdb.DuckDBPyConnection) -> None:
        # The rows are in the transaction at this point...
        assert (
            con.execute("select count(*) from sli_results where run_id = 'bad'").fetchall()[0][0]
            == 5
        )
        raise RuntimeError("disk full, on purpose")

    with pytest.raises(RuntimeError, match="on purpose"):
        store.write_run(run_record("bad"), slis(5), before_commit=explode)
    # ... and none of them, nor the run, survive; the previous run's rows are intact.
    assert count(store, "select count(*) from sli_results where run_id = 'bad'") == 0
    assert count(store, "select count(*) from runs where run_id = 'bad'") == 0
    assert count(store, "select count(*) from sli_results where run_id = 'good'") == 3
    assert count(store, "select count(*) from sli_history") == 0


def test_a_rerun_moves_the_replaced_rows_to_history_in_its_transaction(tmp_path: Path) -> None:
    store = SliStore(tmp_path / "s.duckdb")
    store.write_run(run_record("first"), slis(2, value=0.5))
    second = run_record("second", finished_at=T0 + dt.timedelta(days=2), kind="restatement")
    store.write_run(second, slis(2, value=0.01))
    history = store.query(
        "select run_id, feature, value, ok, replaced_by, replaced_at from sli_history "
        "order by feature"
    )
    assert history.rows() == [
        ("first", "f0", 0.5, False, "second", second.finished_at),
        ("first", "f1", 0.5, False, "second", second.finished_at),
    ]
    latest = store.query("select run_id, feature, value from sli_latest order by feature")
    assert latest.rows() == [("second", "f0", 0.01), ("second", "f1", 0.01)]
    # A retried writer step of the same run replaces its own rows without history.
    store.write_run(second, slis(2, value=0.02))
    assert count(store, "select count(*) from sli_history") == 2
    assert count(store, "select count(*) from sli_results") == 2


def test_a_store_written_before_sli_history_upgrades_on_the_next_run(tmp_path: Path) -> None:
    from assets.store.schema import SCHEMA_VERSION, TABLES

    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:  # as version 1 wrote it: no sli_history
        for statement in TABLES:
            if "sli_history" not in statement:
                con.execute(statement)
        con.execute("insert into datasre_meta values ('schema_version', '1')")
        con.execute(
            "insert into runs (run_id, model, model_version, partition, started_at, status) "
            "values ('old', 'toy', '1.0.0', '2026-03-02', ?, 'succeeded')",
            [T0],
        )
        con.execute(
            "insert into sli_results (run_id, model, model_version, partition, track, "
            "category, sli, feature, value, n_rows, measured_at) values ('old', 'toy', "
            "'1.0.0', '2026-03-02', 'model', 'completeness', 'null_rate', 'f0', 0.3, 100, ?)",
            [T0],
        )
    store = SliStore(path)
    store.write_run(run_record("new", finished_at=T0 + dt.timedelta(days=1)), slis(1))
    assert store.fetchall("select run_id, value, replaced_by from sli_history") == [
        ("old", 0.3, "new")
    ]
    assert store.fetchall("select value from datasre_meta where key = 'schema_version'") == [
        (str(SCHEMA_VERSION),)
    ]


def test_breach_counts_and_slo_definitions_are_recorded(tmp_path: Path) -> None:
    store = SliStore(tmp_path / "s.duckdb")
    contract = Contract.model_validate(contract_dict())
    frame = pl.concat([slis(2), slis(1, value=0.5)])
    store.write_run(run_record("r1"), frame, slo_definitions=slo_definitions_frame(contract))
    assert store.fetchall("select n_slis, n_breaches from runs") == [(3, 1)]
    definitions = store.query(
        "select track, sli, objective, comparator, target, blocking, window_days "
        "from slo_definitions where sli = 'ingest_ok'"
    )
    assert definitions.rows() == [("model", "ingest_ok", 1.0, ">=", 0.9, True, 28)]


def test_run_records_refuse_naive_times_and_unknown_statuses() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        run_record("r", started_at=dt.datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="run status"):
        run_record("r", status="partly")


def _hold_read_only(path: str, seconds: float, ready: multiprocessing.synchronize.Event) -> None:
    con = duckdb.connect(path, read_only=True)
    con.execute("select count(*) from runs").fetchall()
    ready.set()
    time.sleep(seconds)
    con.close()


@pytest.mark.parametrize("repetition", range(5))
def test_a_reader_holding_the_file_delays_the_writer_instead_of_failing_it(
    tmp_path: Path, repetition: int
) -> None:
    del repetition  # run five times: a lock race must not pass by luck
    path = tmp_path / "s.duckdb"
    store = SliStore(path, lock_timeout_s=30)
    store.write_run(run_record("r1"), slis(1))
    ready = multiprocessing.get_context("spawn").Event()
    holder = multiprocessing.get_context("spawn").Process(
        target=_hold_read_only, args=(str(path), 2.0, ready)
    )
    holder.start()
    try:
        assert ready.wait(30)
        started = time.monotonic()
        store.write_run(run_record("r2", partition="2026-03-03"), slis(2))
        waited = time.monotonic() - started
    finally:
        holder.join(30)
    assert waited > 0.5  # it really waited for the holder...
    assert count(store, "select count(*) from sli_results") == 3  # ... and then wrote


def test_a_lock_held_past_the_timeout_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    SliStore(path).write_run(run_record("r1"), slis(1))
    ready = multiprocessing.get_context("spawn").Event()
    holder = multiprocessing.get_context("spawn").Process(
        target=_hold_read_only, args=(str(path), 3.0, ready)
    )
    holder.start()
    try:
        assert ready.wait(30)
        with pytest.raises(StoreLockedError, match=r"still locked by another process after 0\.5 s"):
            SliStore(path, lock_timeout_s=0.5).write_run(run_record("r2"), slis(1))
    finally:
        holder.join(30)


def test_reading_a_database_that_does_not_exist_says_so(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no SLI database yet"):
        SliStore(tmp_path / "absent.duckdb").query("select 1")


def _fail_with(failure: BaseException) -> Callable[[duckdb.DuckDBPyConnection], None]:
    def fail(con: duckdb.DuckDBPyConnection) -> None:
        del con
        raise failure

    return fail


def test_a_full_disk_inside_the_transaction_is_one_line_and_writes_nothing(
    tmp_path: Path,
) -> None:
    """Where the reliability suite may not mount a small disk, DuckDB's own error."""
    path = tmp_path / "s.duckdb"
    store = SliStore(path)
    store.write_run(run_record("r1"), slis(2))
    disk_full = duckdb.IOException(
        f'IO Error: Could not write file "{path}.wal": No space left on device'
    )
    with pytest.raises(StoreError) as caught:
        store.write_run(run_record("r2"), slis(3), before_commit=_fail_with(disk_full))
    assert str(caught.value) == f"{path}: cannot write: No space left on device"
    assert store.fetchall("select run_id, count(*) from sli_results group by 1") == [("r1", 2)]


def test_a_query_bug_inside_the_transaction_is_not_called_a_store_error(tmp_path: Path) -> None:
    store = SliStore(tmp_path / "s.duckdb")
    bug = duckdb.BinderException('Binder Error: Referenced column "nope" not found')
    with pytest.raises(duckdb.BinderException):
        store.write_run(run_record("r1"), slis(1), before_commit=_fail_with(bug))


#: sli_results / sli_history as schema version 2 wrote them (before row contract v2).
_V2_SLI_COLUMNS = """run_id varchar not null, model varchar not null,
    model_version varchar not null, partition varchar not null, track varchar not null,
    category varchar not null, sli varchar not null, feature varchar, slice varchar,
    method varchar, value double, p_value double, q_value double, objective double,
    comparator varchar, ok boolean, blocking boolean not null default false,
    n_rows bigint not null, status varchar not null default 'ok', detail varchar,
    measured_at timestamp with time zone not null"""

_V2_ROWS = [
    # sli, feature, value, q_value, ok, status, detail
    ("chi2", "country", 8.9, 0.001, True, "ok",
     "chi2 via 2x5 contingency table, no continuity correction; "
     "rule: js_distance=0.04213 > 0.1 and q < 0.05"),
    ("chi2", "device", 3.1, None, None, "insufficient_data", "chi2 via 2x2 contingency table"),
    ("ks", "amount", 0.15, 0.2, True, "ok", "ks via exact ECDFs; rule: ks_statistic=0.15 > 0.1"),
    ("psi", "amount", 0.05, None, True, "ok", "psi via quantile bins B=10"),
]  # fmt: skip


def _v2_store(path: Path) -> None:
    """A store file exactly as schema version 2 left it, with old-style drift rows."""
    with duckdb.connect(str(path)) as con:
        con.execute("create table datasre_meta (key varchar primary key, value varchar not null)")
        con.execute("insert into datasre_meta values ('schema_version', '2')")
        con.execute(f"create table sli_results ({_V2_SLI_COLUMNS})")
        con.execute(
            f"create table sli_history ({_V2_SLI_COLUMNS}, replaced_at timestamp with time "
            "zone not null, replaced_by varchar not null)"
        )
        for sli, feature, value, q, ok, status, detail in _V2_ROWS:
            con.execute(
                "insert into sli_results (run_id, model, model_version, partition, track, "
                "category, sli, feature, method, value, q_value, objective, comparator, ok, "
                "n_rows, status, detail, measured_at) values ('old', 'toy', '1.0.0', "
                "'2026-03-02', 'model', 'drift', ?, ?, ?, ?, ?, 0.1, '<=', ?, 100, ?, ?, ?)",
                [sli, feature, sli, value, q, ok, status, detail, T0],
            )
        con.execute(
            "insert into sli_history select *, ? as replaced_at, 'old' as replaced_by "
            "from sli_results where sli = 'chi2'",
            [T0],
        )


def test_a_version_2_store_upgrades_to_row_contract_v2_once(tmp_path: Path) -> None:
    """Schema 3: the columns appear, old chi2 rows move the chi-square value to
    ``statistic`` and take the JS distance of their detail as ``value``, KS rows gain
    their statistic, test rows their significance; a second upgrade changes nothing."""
    from assets.store.schema import SCHEMA_VERSION

    path = tmp_path / "v2.duckdb"
    _v2_store(path)
    store = SliStore(path)
    select = (
        "select sli, feature, value, statistic, significant, runbook from {} order by sli, feature"
    )
    store.ensure_schema()
    upgraded = store.fetchall(select.format("sli_results"))
    assert upgraded == [
        ("chi2", "country", 0.04213, 8.9, True, None),
        ("chi2", "device", None, 3.1, None, None),
        ("ks", "amount", 0.15, 0.15, False, None),
        ("psi", "amount", 0.05, None, None, None),
    ]
    assert store.fetchall(select.format("sli_history")) == upgraded[:2]
    details = store.fetchall("select detail from sli_results where sli = 'chi2' order by feature")
    assert all(d.endswith("value is the JS distance of detail (4 digits)") for (d,) in details)
    store.ensure_schema()  # idempotent: the second upgrade finds nothing to do
    assert store.fetchall(select.format("sli_results")) == upgraded
    assert store.fetchall("select detail from sli_results where sli = 'chi2' order by feature") == (
        details
    )
    assert store.fetchall("select value from datasre_meta where key = 'schema_version'") == [
        (str(SCHEMA_VERSION),)
    ]
    # Every judged row now satisfies the row contract; the views read the new columns.
    disagreeing = store.fetchall(
        "select count(*) from sli_results where ok is not null "
        "and ok is distinct from (value <= objective or significant is false)"
    )
    assert disagreeing == [(0,)]
    assert store.fetchall("select count(statistic) from sli_latest") == [(0,)]  # no runs row
    # The runs columns of versions 5 and 6 (schedule, measuring settings) are there, NULL.
    columns = "evaluation_delay_hours, timezone, measured_under"
    assert store.fetchall(f"select {columns} from runs") == [(None, None, None)] * len(
        store.fetchall("select 1 from runs")
    )
    store.write_run(run_record("new", finished_at=T0 + dt.timedelta(days=1)), slis(1))
    assert count(store, "select count(*) from sli_latest where run_id = 'new'") == 1
    assert count(store, "select count(*) from sli_history where replaced_by = 'new'") == 4
