"""validate-candidate then gate: a good evaluation set ships, a degraded one is blocked."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from assets.store import SliStore
from pipelines.cli import main

SAMPLE = Path("data/samples/fraud_detection")


def eval_set(tmp_path: Path, day: str) -> tuple[Path, Path]:
    """An evaluation set from a sample day: predictions joined with their labels."""
    predictions = pl.read_parquet(SAMPLE / "predictions" / f"{day}.parquet").join(
        pl.read_parquet(SAMPLE / "labels" / f"{day}.parquet").select("transaction_id", "is_fraud"),
        on="transaction_id",
    )
    scored, features = tmp_path / f"preds-{day}.parquet", tmp_path / f"feats-{day}.parquet"
    predictions.write_parquet(scored)
    pl.read_parquet(SAMPLE / "features" / f"{day}.parquet").write_parquet(features)
    return scored, features


def validate(
    db: Path,
    version: str,
    scored: Path,
    features: Path | None,
    *,
    day: str = "2026-11-20",
    extra: list[str] | None = None,
) -> int:
    args = ["validate-candidate", "--db", str(db), "--model", "fraud_detection"]
    args += ["--version", version, "--predictions", str(scored), "--day", day, *(extra or [])]
    return main([*args, *(["--features", str(features)] if features else [])])


def gate(db: Path, version: str, extra: list[str] | None = None) -> int:
    return main(
        ["gate", "--db", str(db), "--model", "fraud_detection", "--version", version,
         *(extra or [])]
    )  # fmt: skip


def test_a_healthy_candidate_is_ready_and_a_degraded_one_is_blocked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.duckdb"
    good, good_features = eval_set(tmp_path, "2026-11-02")
    assert validate(db, "2.4.0", good, good_features) == 0
    assert gate(db, "2.4.0") == 0
    runs = SliStore(db).fetchall("select kind, partition, n_labels from runs")
    assert runs == [("candidate", "2026-11-20", 2498)]  # 2 rows errored: no prediction

    bad, bad_features = eval_set(tmp_path, "2026-11-09")  # concept drift: accuracy ~0.90
    assert validate(db, "2.5.0", bad, bad_features) == 0
    capsys.readouterr()
    assert gate(db, "2.5.0") == 1
    report = capsys.readouterr().out
    assert "BLOCKED" in report and "accuracy" in report
    drift = SliStore(db).fetchall(
        "select count(*) from sli_results where model_version = '2.5.0' and category = 'drift' "
        "and ok = false and feature is not null"
    )
    assert drift[0][0] > 0  # the shifted features of 11-09 show as drift vs training


def test_bad_candidate_inputs_exit_2_naming_file_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scored, _ = eval_set(tmp_path, "2026-11-02")
    no_target = tmp_path / "no_target.parquet"
    pl.read_parquet(scored).drop("is_fraud").write_parquet(no_target)
    assert validate(tmp_path / "s.duckdb", "9", no_target, None) == 2
    assert capsys.readouterr().err == (
        f"datasre: error: {no_target}: column is_fraud: missing (the true target)\n"
    )
    assert validate(tmp_path / "s.duckdb", "9", tmp_path / "absent.parquet", None) == 2
    assert "absent.parquet: snapshot file not found" in capsys.readouterr().err
    assert not (tmp_path / "s.duckdb").exists()


def test_a_candidate_verdict_speaks_of_the_candidate_not_of_a_budget(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One bad evaluation used to read "remaining -900%, alert page"."""
    db = tmp_path / "s.duckdb"
    bad, bad_features = eval_set(tmp_path, "2026-11-09")
    assert validate(db, "2.5.0", bad, bad_features) == 0
    validated = capsys.readouterr().out
    assert "candidate breaches (blocking first, then the largest miss):" in validated
    rows = [line.split(maxsplit=2) for line in validated.splitlines() if line.startswith("  ")]
    assert rows[0] == ["breach", "blocking", "result"]
    assert ["accuracy", "no", "0.9043 vs objective >= 0.94"] in rows
    assert ["drifted_feature_share", "no", "0.1053 vs objective <= 0.1"] in rows
    assert ["psi[session_duration_s]", "no", "drifted (psi rule; statistic 5.001)"] in rows

    # A candidate's data time is when its validation ran (just now): the wall clock.
    args = ["gate", "--db", str(db), "--model", "fraud_detection", "--version", "2.5.0"]
    assert main(args) == 1
    report = capsys.readouterr().out
    assert (
        "[block] candidate_breach: candidate fraud_detection 2.5.0 breaches SLO accuracy on "
        "its evaluation set (recorded as 2026-11-20): accuracy = 0.904323 vs objective "
        ">= 0.94; runbook:"
    ) in report
    assert "not measured: a candidate serves no traffic yet" in report
    for budget_word in ("remaining", "burn", "alert", "exhausted", "error budget", "%"):
        assert budget_word not in report, budget_word

    assert main([*args, "--format", "json", "--no-record"]) == 1
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["budgets"] == []
    assert {r["code"] for r in verdict["reasons"]} == {"candidate_breach"}
    assert {r["slo"] for r in verdict["reasons"]} == {"accuracy", "drifted_feature_share"}
    titles = {c["name"]: c["title"] for c in verdict["checks"]}
    assert titles["model_budget"] == (
        "the candidate meets its other model-track SLOs on the evaluation set"
    )

    waive = ["waive", "--db", str(db), "--model", "fraud_detection", "--version", "2.5.0"]
    soon = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=30)).isoformat()
    for slo in ("accuracy", "drifted_feature_share"):
        assert main([*waive, "--slo", slo, "--reason", "known", "--expires", soon]) == 0
    assert main(args) == 0  # waivers still apply to a candidate's breaches


def test_a_candidate_lands_in_the_lake_store_and_the_gate_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DATASRE_STORE=lake: validate-candidate writes the lake, gate judges from it."""
    from assets.store.lake import LakeStore

    monkeypatch.setenv("DATASRE_STORE", "lake")
    lake = tmp_path / "lake"
    good, good_features = eval_set(tmp_path, "2026-11-02")
    assert validate(lake, "2.4.0", good, good_features) == 0
    assert gate(lake, "2.4.0") == 0
    runs = LakeStore(lake).fetchall("select kind, partition, n_labels from runs")
    assert runs == [("candidate", "2026-11-20", 2498)]
    assert LakeStore(lake).fetchall("select count(*) from gate_decisions")[0][0] == 1


def test_a_served_version_is_not_a_candidate_its_days_evidence_stays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.duckdb"
    assert main(["run", "--db", str(db), "--model", "fraud_detection", "--quiet",
                 "--partition", "2026-11-09"]) in (0, 1)  # fmt: skip
    before = SliStore(db).fetchall("select run_id, kind from runs")
    good, good_features = eval_set(tmp_path, "2026-11-02")
    capsys.readouterr()
    # 2.3.0 serves (the sample contract's version): its 11-09 rows must not be replaced.
    args = ["validate-candidate", "--db", str(db), "--model", "fraud_detection"]
    args += ["--version", "2.3.0", "--predictions", str(good), "--day", "2026-11-09"]
    assert main([*args, "--features", str(good_features)]) == 2
    err = capsys.readouterr().err
    assert "fraud_detection 2.3.0 already has validation runs of its served data" in err
    assert "(1 partition(s), the newest 2026-11-09)" in err
    assert SliStore(db).fetchall("select run_id, kind from runs") == before
    # A candidate evaluated again (a new evaluation set) is still a candidate.
    assert validate(db, "2.4.0", good, good_features) == 0
    assert validate(db, "2.4.0", good, good_features) == 0


def test_the_newest_evaluation_is_judged_whatever_day_it_is_recorded_as(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A good evaluation recorded as a later day hid a bad one run after it: the gate
    judged the highest ``--day`` (READY; found by review)."""
    db = tmp_path / "s.duckdb"
    good, good_features = eval_set(tmp_path, "2026-11-02")
    bad, bad_features = eval_set(tmp_path, "2026-11-09")  # accuracy ~0.90
    assert validate(db, "2.6.0", good, good_features, day="2026-12-31") == 0
    assert gate(db, "2.6.0") == 0
    assert validate(db, "2.6.0", bad, bad_features, day="2026-11-20") == 0
    capsys.readouterr()
    assert gate(db, "2.6.0") == 1
    assert "breaches SLO accuracy on its evaluation set (recorded as 2026-11-20)" in (
        capsys.readouterr().out
    )
    # As of a time before the bad evaluation ran, the good one was the newest.
    (finished,) = SliStore(db).fetchall(
        "select min(finished_at) from runs where partition = '2026-11-20'"
    )[0]
    before = (finished - dt.timedelta(microseconds=1)).isoformat()
    assert main(["gate", "--db", str(db), "--model", "fraud_detection", "--version", "2.6.0",
                 "--as-of", before, "--no-record"]) == 0  # fmt: skip


def test_an_older_evaluation_does_not_vouch_for_the_newest_ones_unjudged_slos(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A good evaluation recorded a day before let a newest one with 10 labels (accuracy
    0.0, too few to judge) say READY: the budgets counted the older one as recent
    evidence (found by review). Judged alone, the newest has no evidence."""
    db = tmp_path / "s.duckdb"
    good, good_features = eval_set(tmp_path, "2026-11-02")
    assert validate(db, "2.7.0", good, good_features, day="2026-11-18") == 0
    flipped = (
        pl.read_parquet(good)
        .head(10)
        .with_columns(
            predicted_label=1 - pl.col("predicted_label"), fraud_score=1 - pl.col("fraud_score")
        )
    )
    few = tmp_path / "ten.parquet"
    flipped.write_parquet(few)
    assert validate(db, "2.7.0", few, good_features, day="2026-11-19") == 0
    capsys.readouterr()
    assert gate(db, "2.7.0") == 1
    assert "no_evidence" in capsys.readouterr().out


def test_a_candidate_is_judged_under_the_contract_in_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Evaluated, then the contract tightened accuracy to a blocking 0.99: the gate said
    READY on the evaluation's 0.94 (found by review)."""
    config = tmp_path / "contracts"
    config.mkdir()
    source = Path("data/samples/contracts/fraud_detection.yaml").read_text()
    sample = Path("data/samples").resolve()
    (config / "fraud_detection.yaml").write_text(source.replace("../", f"{sample}/"))
    db = tmp_path / "s.duckdb"
    good, good_features = eval_set(tmp_path, "2026-11-02")
    args = ["--config", str(config)]
    assert validate(db, "2.8.0", good, good_features, extra=args) == 0
    assert gate(db, "2.8.0", extra=args) == 0
    tightened = source.replace(
        "accuracy:               {objective: 0.94}",
        "accuracy:               {objective: 0.99, blocking: true}",
    )
    assert tightened != source
    (config / "fraud_detection.yaml").write_text(tightened.replace("../", f"{sample}/"))
    capsys.readouterr()
    assert gate(db, "2.8.0", extra=args) == 1
    assert "contract_changed" in capsys.readouterr().out
