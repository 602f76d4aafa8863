"""``datasre export prometheus`` on the store the sample run writes: promtool accepts the
exposition, the SLO numbers are the gate's (and the SQL views'), the file is replaced
atomically, and usage errors are one line with exit 2."""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
from pathlib import Path

import pytest

from assets.store import RunRecord, SliStore
from checks.sli import SliRow, sli_frame
from pipelines.cli import main
from tests.conftest import SAMPLE_AS_OF
from tests.promtool import parse_samples, run_promtool

CONTRACTS = "data/samples/contracts"


def _export(db: Path, out: Path, *extra: str) -> int:
    return main(
        ["export", "prometheus", "--db", str(db), "--config", CONTRACTS,
         "--as-of", SAMPLE_AS_OF, "--output", str(out), *extra]
    )  # fmt: skip


@pytest.fixture(scope="module")
def sample_exposition(sample_store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("export") / "datasre.prom"
    assert _export(sample_store_path, out) == 0
    return out.read_text(encoding="utf-8")


def test_promtool_accepts_the_exposition_of_the_sample_run(sample_exposition: str) -> None:
    checked = run_promtool("check", "metrics", stdin=sample_exposition)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout + checked.stderr == ""


def test_every_family_has_help_and_gauge_type_and_no_series_repeats(
    sample_exposition: str,
) -> None:
    lines = sample_exposition.splitlines()
    names = {name for name, _, _ in parse_samples(sample_exposition)}
    for name in names:
        assert f"# TYPE {name} gauge" in lines
        assert any(line.startswith(f"# HELP {name} ") for line in lines)
        assert name.startswith("datasre_")
    series = [(n, tuple(sorted(ls.items()))) for n, ls, _ in parse_samples(sample_exposition)]
    assert len(series) == len(set(series))


def test_gate_readiness_is_the_gates_decision(sample_exposition: str) -> None:
    ready = {
        labels["model"]: value
        for name, labels, value in parse_samples(sample_exposition)
        if name == "datasre_gate_ready"
    }
    # data/samples/README.md: delivery_eta passes the gate, fraud_detection is blocked.
    assert ready == {"delivery_eta": 1.0, "fraud_detection": 0.0}


def test_the_evidence_age_is_the_newest_days_evaluation_time_not_the_last_run(
    sample_exposition: str,
) -> None:
    """The stale-evidence alert read when the last run finished: a backfill or restatement
    of old days reset it while no new day was validated (found by review). The samples'
    newest day, 11-14, was due at 06:00 UTC the next morning (schedule delay 6 h)."""
    due = {
        labels["model"]: value
        for name, labels, value in parse_samples(sample_exposition)
        if name == "datasre_newest_evaluation_timestamp_seconds"
    }
    expected = dt.datetime(2026, 11, 15, 6, 0, tzinfo=dt.UTC).timestamp()
    assert due == {"delivery_eta": expected, "fraud_detection": expected}


def _with_failed_days(sample_store: Path, db: Path, model: str, version: str, *days: str) -> None:
    """A copy of the sample store at ``db`` plus a failed run (features never came) of
    each of ``days``, recorded at its evaluation time."""
    shutil.copy(sample_store, db)
    store = SliStore(db)
    for day in days:
        moment = dt.datetime.fromisoformat(f"{day}T00:00:00+00:00") + dt.timedelta(days=1, hours=7)
        row = SliRow(
            "model", "ingest", "ingest_ok", 0.0, 0, feature="features", objective=1.0,
            ok=False, status="error", detail="snapshot file not found",
        )  # fmt: skip
        store.write_run(
            RunRecord(f"failed-{model}-{day}", model, version, day, moment, moment,
                      "failed", error="snapshot file not found"),
            sli_frame([row]),
        )  # fmt: skip


def _exported(db: Path, out: Path, as_of: str) -> list[tuple[str, dict[str, str], float]]:
    assert main(
        ["export", "prometheus", "--db", str(db), "--config", CONTRACTS,
         "--as-of", as_of, "--output", str(out)]
    ) == 0  # fmt: skip
    return parse_samples(out.read_text(encoding="utf-8"))


def test_days_that_failed_to_be_read_do_not_make_the_evidence_look_fresh(
    sample_store_path: Path, tmp_path: Path
) -> None:
    """The gauge read the newest partition with any run: two days whose snapshots never
    came (runs failed) moved it on, so DatasreEvidenceStale stayed quiet while the gate
    blocked on evidence_stale (found by review). It is the newest day a run read."""
    db = tmp_path / "s.duckdb"
    _with_failed_days(sample_store_path, db, "fraud_detection", "2.3.0", "2026-11-15", "2026-11-16")
    due = {
        labels["model"]: value
        for name, labels, value in _exported(db, tmp_path / "x.prom", "2026-11-17T12:00:00Z")
        if name == "datasre_newest_evaluation_timestamp_seconds"
    }
    # 11-14, the newest day read, was due at 06:00 UTC on 11-15: 54 h before the export.
    assert due["fraud_detection"] == dt.datetime(2026, 11, 15, 6, tzinfo=dt.UTC).timestamp()


def test_a_day_without_evidence_exports_no_sli_value_of_an_older_day(
    sample_store_path: Path, tmp_path: Path
) -> None:
    """On a day whose features could not be read, completeness, null rates and drift were
    exported as "ok" from the day before, with nothing saying which day (found by
    review). They have no sample now; label-fed SLIs keep their newest labelled day's."""
    db = tmp_path / "s.duckdb"
    _with_failed_days(sample_store_path, db, "delivery_eta", "1.4.0", "2026-11-15")
    samples = _exported(db, tmp_path / "x.prom", "2026-11-16T12:00:00Z")
    eta = {
        (labels["sli"], labels["feature"])
        for name, labels, _ in samples
        if name == "datasre_sli_value" and labels["model"] == "delivery_eta"
    }
    assert ("ingest_ok", "features") in eta  # the failed day's own row
    assert ("completeness", "") not in eta
    assert not any(sli in ("null_rate", "psi", "ks") for sli, _ in eta)
    assert ("mae", "") in eta  # label-fed: its newest labelled day
    # The other model's newest day is unchanged: all of its series are there.
    fraud = {labels["sli"] for name, labels, _ in samples
             if name == "datasre_sli_value" and labels["model"] == "fraud_detection"}  # fmt: skip
    assert {"completeness", "null_rate", "accuracy"} <= fraud


def test_a_waiver_in_force_is_exported_for_its_slo_only(
    sample_store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``datasre_slo_waived`` says which SLOs a waiver covers at export time: the alert
    rules quiet those SLOs' burn alerts (tests/pipelines/test_export_alerts.py)."""
    db = tmp_path / "s.duckdb"
    shutil.copy(sample_store_path, db)
    monkeypatch.setenv("DATASRE_NOW", SAMPLE_AS_OF)
    assert main(
        ["waive", "--db", str(db), "--config", CONTRACTS, "--model", "fraud_detection",
         "--slo", "accuracy", "--reason", "retraining", "--expires", "2026-11-20"]
    ) == 0  # fmt: skip
    out = tmp_path / "datasre.prom"
    assert _export(db, out) == 0
    waived = {
        (labels["model"], labels["sli"]): value
        for name, labels, value in parse_samples(out.read_text(encoding="utf-8"))
        if name == "datasre_slo_waived"
    }
    assert waived[("fraud_detection", "accuracy")] == 1.0
    assert sum(waived.values()) == 1.0
    assert waived[("delivery_eta", "completeness")] == 0.0


def test_budgets_and_burn_rates_equal_the_error_budget_view(
    sample_exposition: str, sample_store_path: Path
) -> None:
    rows = SliStore(sample_store_path).fetchall(
        "select model, slo, remaining_fraction, burn_rate_short, burn_rate_long, state "
        "from error_budget"
    )
    samples = parse_samples(sample_exposition)

    def value(name: str, model: str, sli: str, **extra: str) -> float | None:
        found = [
            v
            for n, ls, v in samples
            if n == name
            and ls["model"] == model
            and ls["sli"] == sli
            and all(ls[k] == x for k, x in extra.items())
        ]
        assert len(found) <= 1
        return found[0] if found else None

    assert rows
    for model, slo, remaining, short, long, state in rows:
        assert value("datasre_slo_ok", model, slo) == float(state == "ok")
        got = value("datasre_slo_error_budget_remaining_ratio", model, slo)
        assert (got is None) == (remaining is None)
        if remaining is not None:
            assert got == pytest.approx(remaining)
        for window, expected in (("1d", short), ("7d", long)):
            got = value("datasre_slo_burn_rate", model, slo, window=window)
            assert (got is None) == (expected is None), (model, slo, window)
            if expected is not None and got is not None:
                assert got == pytest.approx(expected) or (math.isinf(got) and math.isinf(expected))
    # The incident of 11-12 (accuracy, concept drift) burns fast in both windows.
    assert value("datasre_slo_burn_rate", "fraud_detection", "accuracy", window="1d") == (
        pytest.approx(10.0)
    )


def test_newest_sli_values_are_the_newest_measured_rows(
    sample_exposition: str, sample_store_path: Path
) -> None:
    samples = parse_samples(sample_exposition)
    values = {
        (ls["model"], ls["sli"], ls["feature"], ls["slice"], ls["method"]): v
        for n, ls, v in samples
        if n == "datasre_sli_value"
    }
    # Labels of 11-13 and 11-14 have not arrived: accuracy is the one of 11-12.
    accuracy = SliStore(sample_store_path).fetchall(
        "select value from sli_latest where model = 'fraud_detection' and sli = 'accuracy' "
        "and partition = '2026-11-12' and feature is null and slice is null"
    )
    assert values[("fraud_detection", "accuracy", "", "", "")] == pytest.approx(accuracy[0][0])
    psi = [
        v
        for (model, sli, feature, _, method), v in values.items()
        if model == "fraud_detection" and feature == "avg_amount_30d" and method == "psi"
    ]
    assert psi and psi[0] > 1  # incident (a): PSI 4.9-5.0 on 11-14


def test_the_output_file_is_replaced_atomically(
    sample_store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "textfile" / "datasre.prom"
    out.parent.mkdir()
    out.write_text("# the previous export\n", encoding="utf-8")

    def failing_replace(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", failing_replace)
        assert _export(sample_store_path, out) == 2
    # A failed export leaves the previous file whole and no temporary file behind.
    assert out.read_text(encoding="utf-8") == "# the previous export\n"
    assert sorted(p.name for p in out.parent.iterdir()) == ["datasre.prom"]
    assert _export(sample_store_path, out) == 0
    assert out.read_text(encoding="utf-8").startswith("# HELP datasre_")
    assert sorted(p.name for p in out.parent.iterdir()) == ["datasre.prom"]
    assert out.stat().st_mode & 0o777 == 0o644


def test_an_unknown_model_or_a_missing_store_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none.duckdb"
    assert _export(missing, tmp_path / "a.prom") == 2
    assert _export(missing, tmp_path / "a.prom", "--model", "nope") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2
    assert "no SLI database yet" in err[0] and str(missing) in err[0]
    assert "--model: unknown model 'nope'" in err[1]
    assert not (tmp_path / "a.prom").exists()
