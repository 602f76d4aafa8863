"""`datasre run` end to end on a toy model: exit codes, one-line errors, replacement."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import yaml

from assets.store import SliStore
from assets.validation import validation_slis
from checks.contract import load_contract
from pipelines.cli import main
from tests.fixtures import FIRST_DAY, corrupt_page

NOW = "2026-04-01T00:00:00+00:00"


def run_cli(contract: Path, db: Path, *args: str) -> int:
    return main(["run", "--config", str(contract), "--db", str(db), "--now", NOW, "--quiet", *args])


def feature_file(contract: Path, day: dt.date) -> Path:
    return contract.parent.parent / "toy" / "features" / f"{day.isoformat()}.parquet"


def test_run_all_writes_every_partition_once_even_when_repeated(
    toy_contract_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.duckdb"
    assert run_cli(toy_contract_path, db, "--all") == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == [
        "model",
        "partition",
        "run_status",
        "slis",
        "breaches",
        "blocking",
        "worst_breach",
    ]
    assert "toy    2026-03-04  succeeded" in out
    store = SliStore(db)
    first = store.query("select partition, count(*) n from sli_results group by 1 order by 1")
    assert first["partition"].to_list() == ["2026-03-02", "2026-03-03", "2026-03-04"]
    assert run_cli(toy_contract_path, db, "--partition", "2026-03-03") == 0
    again = store.query("select partition, count(*) n from sli_results group by 1 order by 1")
    assert again.equals(first)
    runs = store.query("select partition, count(*) n from runs group by 1 order by 1")
    assert runs["n"].to_list() == [1, 2, 1]  # history stays in runs


def test_a_corrupt_snapshot_is_a_failed_run_recorded_while_other_days_go_on(
    toy_contract_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = feature_file(toy_contract_path, FIRST_DAY + dt.timedelta(days=1))
    data = broken.read_bytes()
    broken.write_bytes(data[: len(data) // 2])
    db = tmp_path / "s.duckdb"
    assert run_cli(toy_contract_path, db, "--all") == 0
    captured = capsys.readouterr()
    assert "toy 2026-03-03: input missing or unreadable" in captured.err
    store = SliStore(db)
    runs = store.query("select partition, status, error from runs order by partition")
    assert runs["status"].to_list() == ["succeeded", "failed", "succeeded"]
    error = runs["error"][1]
    assert error.startswith(f"{broken}: not a readable parquet file")
    ingest = store.query(
        "select value, ok, blocking from sli_results where sli = 'ingest_ok' "
        "and feature = 'features' and partition = '2026-03-03'"
    )
    assert ingest.rows() == [(0.0, False, True)]
    assert run_cli(toy_contract_path, db, "--all", "--fail-on-breach") == 1


def test_a_corrupt_page_behind_a_good_footer_is_a_failed_ingest_not_a_crashed_run(
    toy_contract_path: Path, tmp_path: Path
) -> None:
    """Validation decodes every feature value and records the file; the drift step reads
    the file again and, before, crashed the run on it (no ingest row, the crashed-run
    runbook, the day's older rows left in place)."""
    broken = feature_file(toy_contract_path, FIRST_DAY + dt.timedelta(days=1))
    corrupt_page(broken, "x")
    db = tmp_path / "s.duckdb"
    assert run_cli(toy_contract_path, db, "--all") == 0
    store = SliStore(db)
    runs = store.query("select partition, status, error from runs order by partition")
    assert runs["status"].to_list() == ["succeeded", "failed", "succeeded"]
    assert runs["error"][1].startswith(f"{broken}: cannot read parquet (")
    ingest = store.query(
        "select feature, value from sli_results where sli = 'ingest_ok' "
        "and partition = '2026-03-03' order by feature"
    )
    assert ingest.rows() == [("features", 0.0), ("predictions", 1.0)]


def test_a_missing_or_empty_snapshot_is_recorded_with_the_file_name(
    toy_contract_path: Path,
) -> None:
    contract = load_contract(toy_contract_path)
    now = dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
    missing_day = FIRST_DAY + dt.timedelta(days=10)
    frame = validation_slis(contract, missing_day, now)
    row = frame.filter(pl.col("sli") == "ingest_ok").row(0, named=True)
    expected_path = feature_file(toy_contract_path, missing_day)
    assert row["detail"] == f"{expected_path}: snapshot file not found"
    assert (row["value"], row["ok"], row["status"]) == (0.0, False, "error")

    empty = feature_file(toy_contract_path, FIRST_DAY)
    pl.read_parquet(empty).head(0).write_parquet(empty)
    row = (
        validation_slis(contract, FIRST_DAY, now)
        .filter(pl.col("sli") == "ingest_ok")
        .row(0, named=True)
    )
    assert row["detail"] == f"{empty}: snapshot has no rows"


def test_a_wrong_dtype_is_a_schema_breach_naming_the_column(
    toy_contract_path: Path, tmp_path: Path
) -> None:
    path = feature_file(toy_contract_path, FIRST_DAY)
    pl.read_parquet(path).with_columns(pl.col("k").cast(pl.String)).write_parquet(path)
    db = tmp_path / "s.duckdb"
    assert run_cli(toy_contract_path, db, "--partition", FIRST_DAY.isoformat()) == 0
    rows = SliStore(db).fetchall(
        "select value, ok, detail from sli_results where sli = 'schema_valid' and feature is null"
    )
    assert rows == [(0.0, False, "column k: expected Int64, got String")]


def test_contract_errors_exit_2_with_one_line(
    toy_contract_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = yaml.safe_load(toy_contract_path.read_text())
    body["slos"]["model"]["completeness"]["objective"] = 99
    toy_contract_path.write_text(yaml.safe_dump(body))
    assert run_cli(toy_contract_path, tmp_path / "s.duckdb", "--all") == 2
    err = capsys.readouterr().err
    # Where it is, as `contract check` says it: file:line:column.
    assert re.fullmatch(
        rf"datasre: error: {re.escape(str(toy_contract_path))}:\d+:\d+: "
        r"slos\.model\.completeness\.objective: must be between 0 and 1\n",
        err,
    ), err
    assert not (tmp_path / "s.duckdb").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "nope"], "--model: unknown model 'nope'"),
        (["--partition", "yesterday"], "--partition: 'yesterday' is not a YYYY-MM-DD day"),
        (
            ["--partition", "2026-01-01"],
            "--partition: 2026-01-01 is before toy's sources.start_date",
        ),
        (["--partition", "2999-01-01"], "--partition: 2999-01-01 is in the future"),
        (["--partition", "2026-03-20"], "snapshot file not found (toy has no data for 2026-03-20"),
    ],
)
def test_usage_errors_exit_2(
    toy_contract_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    assert run_cli(toy_contract_path, tmp_path / "s.duckdb", *args) == 2
    err = capsys.readouterr().err
    assert err.startswith("datasre: error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "s.duckdb").exists()


def test_the_default_is_the_newest_day_due_by_the_clock(
    toy_contract_path: Path, tmp_path: Path
) -> None:
    # 2026-03-04 is evaluated at 2026-03-05 06:00 UTC (end of day + 6 h, the default).
    db = tmp_path / "s.duckdb"
    base = ["run", "--config", str(toy_contract_path), "--db", str(db), "--quiet"]
    assert main([*base, "--now", "2026-03-05T05:59:00+00:00"]) == 0
    assert main([*base, "--now", "2026-03-05T06:00:00+00:00"]) == 0
    runs = SliStore(db).fetchall("select partition, status from runs order by partition")
    assert runs == [("2026-03-03", "succeeded"), ("2026-03-04", "succeeded")]


def test_latest_with_the_newest_features_file_missing_records_that_day_as_failed(
    toy_contract_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It used to run the day before quietly and exit 0 as if all was well."""
    missing = feature_file(toy_contract_path, FIRST_DAY + dt.timedelta(days=2))
    missing.unlink()
    db = tmp_path / "s.duckdb"
    args = ["run", "--config", str(toy_contract_path), "--db", str(db), "--latest"]
    assert main([*args, "--now", "2026-03-05T12:00:00+00:00", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "toy    2026-03-04  failed" in captured.out
    assert "ingest_ok[features]" in captured.out
    assert (
        f"datasre: toy 2026-03-04: input missing or unreadable: {missing}: snapshot file "
        "not found" in captured.err
    )
    store = SliStore(db)
    assert store.fetchall("select partition, status from runs") == [("2026-03-04", "failed")]
    ingest = store.fetchall(
        "select value, ok, blocking from sli_results where sli = 'ingest_ok' "
        "and feature = 'features'"
    )
    assert ingest == [(0.0, False, True)]
    assert main([*args, "--now", "2026-03-05T12:00:00+00:00", "--quiet", "--fail-on-breach"]) == 1


def test_latest_records_a_due_day_with_no_file_of_any_source(
    toy_contract_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The typo guard of --partition does not apply: the day is due, its absence is data."""
    monkeypatch.setenv("DATASRE_NOW", "2026-03-10T07:00:00+00:00")
    db = tmp_path / "s.duckdb"
    assert main(["run", "--config", str(toy_contract_path), "--db", str(db), "--quiet"]) == 0
    assert SliStore(db).fetchall("select partition, status from runs") == [("2026-03-09", "failed")]


def test_latest_before_any_day_is_due_says_when_the_first_one_is(
    toy_contract_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["run", "--config", str(toy_contract_path), "--db", str(tmp_path / "s.duckdb")]
    assert main([*args, "--now", "2026-03-03T05:00:00+00:00"]) == 2
    err = capsys.readouterr().err
    assert (
        "datasre: toy: no day is due yet at 2026-03-03T05:00:00+00:00 (the first, "
        "2026-03-02, is evaluated at 2026-03-03T06:00:00+00:00)" in err
    )
    assert err.endswith("datasre: error: nothing to run: no day due yet for the selected models\n")


def test_worst_breach_surfaces_the_accuracy_incident_not_a_drift_statistic(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """On the sample's accuracy-incident days a chi2 statistic (hundreds) was ranked
    against the JS threshold (0.1) and a chronic drift row hid the accuracy breach."""
    db = tmp_path / "s.duckdb"
    for day in ("2026-11-09", "2026-11-12"):
        code = main(
            ["run", "--db", str(db), "--model", "fraud_detection", "--partition", day,
             "--now", "2026-11-30T00:00:00+00:00", "--quiet", "--format", "json"]
        )  # fmt: skip
        assert code == 0
        document = json.loads(capsys.readouterr().out)
        (partition,) = document["partitions"]
        assert partition["blocking"] == 0
        # The model-wide accuracy breach (slices are slice_accuracy rows, ranked apart).
        assert partition["worst_breach"] == "accuracy"
    drift_rows = SliStore(db).fetchall(
        "select count(*) from sli_latest where category = 'drift' and method is not null "
        "and ok = false and value > 10 * objective"
    )
    assert drift_rows[0][0] > 0  # the statistics that used to win are still there


def test_a_run_parses_each_contract_once_and_reads_its_summary_from_the_writer(
    toy_contract_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The CLI, the Definitions and every asset step's resource used to parse the
    # contracts (three times), and the CLI read back from the store what the writer had
    # just told Dagster. Now one cached parse, and the summary is the writer's.
    import checks.contract
    import checks.contract_loader
    from assets.store import SliStore

    parsed: list[Path] = []
    original = checks.contract_loader.load_contract

    def counting(path: str | Path) -> checks.contract.Contract:
        parsed.append(Path(path))
        return original(path)

    def no_query(*args: object, **kwargs: object) -> pl.DataFrame:
        raise AssertionError("the CLI queried the store for its summary")

    # Where load_contracts looks it up (checks.contract only re-exports it).
    monkeypatch.setattr(checks.contract_loader, "load_contract", counting)
    monkeypatch.setattr(SliStore, "query", no_query)
    db = tmp_path / "s.duckdb"
    assert run_cli(toy_contract_path, db, "--partition", "2026-03-03", "--format", "json") == 0
    assert parsed == [toy_contract_path]
    document = json.loads(capsys.readouterr().out)
    assert document["partitions"] == [
        {
            "model": "toy",
            "partition": "2026-03-03",
            "run_status": "succeeded",
            "error": None,
            "slis": document["partitions"][0]["slis"],
            "breaches": 0,
            "blocking": 0,
            "worst_breach": None,
        }
    ]
    monkeypatch.undo()
    assert (
        document["partitions"][0]["slis"]
        == SliStore(db).fetchall("select count(*) from sli_latest where partition = '2026-03-03'")[
            0
        ][0]
    )


def test_a_partition_key_is_parsed_once_into_a_typed_partition() -> None:
    from assets.partitions import Partition, partition_key

    day = dt.date(2026, 11, 3)
    partition = Partition.of(partition_key("fraud_detection", day))
    assert (
        partition == Partition("fraud_detection", day) == Partition.of("2026-11-03|fraud_detection")
    )
    assert (partition.model, partition.day, partition.name) == (
        "fraud_detection",
        day,
        "2026-11-03",
    )
    assert partition.key == partition_key("fraud_detection", day)


def test_run_all_names_the_days_without_a_snapshot_between_the_others(
    toy_contract_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--all runs the days with files: a missing day in between was skipped without a
    word (found by a new user)."""
    toy = toy_contract_path.parent.parent / "toy"
    for source in ("features", "predictions", "labels"):
        (toy / source / "2026-03-03.parquet").unlink(missing_ok=True)
    assert run_cli(toy_contract_path, tmp_path / "s.duckdb", "--all") == 0
    err = capsys.readouterr().err
    assert "datasre: toy: no snapshot for 2026-03-03 (1 day(s) between its first and last)" in err
    assert "datasre run --model toy --latest --now 2026-03-04" in err


def test_run_all_skips_a_day_not_over_yet_and_says_so(
    toy_contract_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Today's snapshot (a file still being written, say) beside the toy's three days.
    today = dt.datetime.now(dt.UTC).date()
    toy = toy_contract_path.parent.parent / "toy"
    for source in ("features", "predictions"):
        shutil.copy(toy / source / "2026-03-04.parquet", toy / source / f"{today}.parquet")
    db = tmp_path / "s.duckdb"
    assert run_cli(toy_contract_path, db, "--all") == 0
    err = capsys.readouterr().err
    assert f"datasre: toy: skipped {today}: not over yet (by the wall clock, " in err
    assert "--now sets the evaluation clock, not when a run starts" in err
    ran = SliStore(db).fetchall("select partition from runs order by 1")
    assert [r[0] for r in ran] == ["2026-03-02", "2026-03-03", "2026-03-04"]
    # Picked by hand, today still runs (a look at the day so far), with a note saying the
    # gate will block on it until it is run again after the day ends.
    assert run_cli(toy_contract_path, db, "--partition", today.isoformat()) in (0, 1)
    err = capsys.readouterr().err
    assert f"datasre: toy: {today} is not over yet (it ends " in err
    assert "the gate blocks on it (run_before_day_end)" in err
    assert run_cli(toy_contract_path, db, "--partition", "2026-03-04") in (0, 1)
    assert "not over yet" not in capsys.readouterr().err


def test_a_run_without_dagster_home_leaves_no_staged_frames(
    toy_contract_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its Dagster instance is ephemeral: nothing can re-execute the run from its staged
    frames, which every run used to leave behind (.dagster/staging/<run id>/), failed
    runs' too."""
    staging = tmp_path / "staging"
    monkeypatch.setenv("DATASRE_STAGING", str(staging))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    broken = feature_file(toy_contract_path, FIRST_DAY + dt.timedelta(days=1))
    broken.write_bytes(broken.read_bytes()[:100])
    assert run_cli(toy_contract_path, tmp_path / "s.duckdb", "--all") == 0
    runs = SliStore(tmp_path / "s.duckdb").query("select status from runs order by partition")
    assert runs["status"].to_list() == ["succeeded", "failed", "succeeded"]
    assert staging.is_dir()  # the steps staged their frames there
    assert list(staging.iterdir()) == []


def test_a_run_recorded_in_dagster_home_keeps_its_staged_frames(
    toy_contract_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A persistent instance's run can be re-executed from the UI, which reads them."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    staging = tmp_path / "staging"
    monkeypatch.setenv("DATASRE_STAGING", str(staging))
    assert run_cli(toy_contract_path, tmp_path / "s.duckdb", "--partition", "2026-03-02") == 0
    (kept,) = staging.iterdir()
    assert {p.name for p in kept.iterdir()} >= {"validation_slis", "quality_slis"}


#: Imports a run's process does without: pandera builds the reference schema the tests
#: check the validation expressions against (pandera imports pandas: ~0.6 s a run), and
#: the multivariate step's scikit-learn loads in its worker process, and the HTML report's
#: modules load when a report is made (the Definitions hold its asset). (SciPy is imported
#: by small days' exact KS p-values: the toy's.)
_NOT_IMPORTED_BY_A_RUN = ("pandera", "pandas", "sklearn", "assets.report.render")


def test_a_run_imports_neither_pandera_nor_pandas_nor_scikit_learn(
    toy_contract_path: Path, tmp_path: Path
) -> None:
    code = (
        "import sys; from pipelines.cli import main;"
        f"code = main(['run', '--config', {str(toy_contract_path)!r}, '--db',"
        f" {str(tmp_path / 's.duckdb')!r}, '--now', {NOW!r}, '--quiet', '--all']);"
        f"print(code, [m for m in {_NOT_IMPORTED_BY_A_RUN!r} if m in sys.modules])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    assert done.stdout.splitlines()[-1] == "0 []", done.stderr
