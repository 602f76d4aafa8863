"""Acceptance on the bundled sample data: every incident of data/samples/README.md is an
``ok = false`` row on its day for the SLI named there, and the clean days of that SLI are
``ok = true``. One ``datasre run --all`` per module, through the real CLI and Dagster job.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from assets.store import SliStore
from pipelines.cli import main

AS_OF = "2026-11-15T06:00:00+00:00"  # data/samples/README.md: the data's "as of"
DAYS = [(dt.date(2026, 11, 1) + dt.timedelta(days=i)).isoformat() for i in range(14)]


@pytest.fixture(scope="module")
def sample_db_path(sample_store_path: Path) -> Path:
    return sample_store_path  # tests/conftest.py: one `datasre run --all` per session


@pytest.fixture(scope="module")
def sample_db(sample_db_path: Path) -> pl.DataFrame:
    return SliStore(sample_db_path).query("select * from sli_latest")


@dataclass(frozen=True)
class Incident:
    id: str
    model: str
    days: tuple[str, ...]
    sli: str
    feature: str | None = None
    slice: str | None = None
    low: float | None = None  # the README's "assert" range for the value
    high: float | None = None
    clean_days: tuple[str, ...] = ()  # days on which the same SLI must be ok


def _days(*names: str) -> tuple[str, ...]:
    return tuple(f"2026-11-{n}" for n in names)


def _all_but(*names: str, until: int = 14) -> tuple[str, ...]:
    excluded = set(_days(*names))
    return tuple(d for d in DAYS[:until] if d not in excluded)


FRAUD = "fraud_detection"
DELIVERY = "delivery_eta"

SHIFTED = ("avg_amount_30d", "session_duration_s")

INCIDENTS = [
    *(
        Incident("a", FRAUD, _all_but("01", "02", "03", "04", "05"), method, feature, low=low,
                 clean_days=_days("01", "02", "03", "04", "05"))
        for feature in SHIFTED
        for method, low in (("ks", 0.5), ("psi", 1.0))
    ),
    Incident("a", FRAUD, _all_but("01", "02", "03", "04", "05"), "drifted_feature_share",
             low=0.1, clean_days=_days("01", "02", "03", "04", "05")),
    Incident("b", FRAUD, _days("12", "13"), "chi2", "device_type",
             clean_days=_all_but("12", "13")),
    Incident("c", FRAUD, _days("04"), "null_rate", "distance_km", low=0.38, high=0.46,
             clean_days=_all_but("04")),
    Incident("c", FRAUD, _days("04"), "completeness", low=0.97, high=0.985,
             clean_days=_all_but("04", "08")),
    Incident("d", FRAUD, _days("08"), "schema_valid", low=0, high=0, clean_days=_all_but("08")),
    Incident("d", FRAUD, _days("08"), "null_rate", "channel", low=1, high=1,
             clean_days=_all_but("08")),
    Incident("d", FRAUD, _days("08"), "completeness", high=0.99),
    Incident("e", FRAUD, _days("10"), "data_staleness_seconds", "event_ts", low=280800,
             high=281400, clean_days=_all_but("10")),
    Incident("f", FRAUD, _days("05"), "schema_validity", low=0.949, high=0.951,
             clean_days=_all_but("05", "08", "11")),
    Incident("g", FRAUD, _days("11"), "duplicate_id_rate", low=0.03, high=0.03,
             clean_days=_all_but("11")),
    Incident("h", FRAUD, _days("09", "10", "11", "12"), "accuracy", low=0.87, high=0.92,
             clean_days=_days("01", "02", "03", "04", "05", "06", "07", "08")),
    Incident("i", FRAUD, _days("07"), "slice_accuracy", slice="country=BR", low=0.3, high=0.5,
             clean_days=_days("01", "02", "03", "04", "05", "06", "08")),
    Incident("j", DELIVERY, _days("08"), "ingest_ok", "features", low=0, high=0,
             clean_days=_all_but("08")),
]  # fmt: skip


def rows_of(frame: pl.DataFrame, incident: Incident, day: str) -> pl.DataFrame:
    selected = frame.filter(
        (pl.col("model") == incident.model)
        & (pl.col("partition") == day)
        & (pl.col("sli") == incident.sli)
    )
    for column in ("feature", "slice"):
        wanted = getattr(incident, column)
        selected = selected.filter(
            pl.col(column).is_null() if wanted is None else pl.col(column) == wanted
        )
    return selected


@pytest.mark.parametrize(
    "incident", INCIDENTS, ids=[f"{i.id}-{i.sli}-{i.feature or i.slice or ''}" for i in INCIDENTS]
)
def test_each_incident_breaches_on_its_day_and_its_clean_days_are_ok(
    sample_db: pl.DataFrame, incident: Incident
) -> None:
    for day in incident.days:
        rows = rows_of(sample_db, incident, day)
        assert rows.height == 1, f"{incident.sli} on {day}: {rows.height} rows"
        row = rows.row(0, named=True)
        assert row["ok"] is False, f"{incident.id} not caught on {day}: {row}"
        if incident.low is not None:
            assert row["value"] >= incident.low, row
        if incident.high is not None:
            assert row["value"] <= incident.high, row
    for day in incident.clean_days:
        rows = rows_of(sample_db, incident, day)
        assert rows.height == 1, f"{incident.sli} on clean {day}: {rows.height} rows"
        assert rows["ok"][0] is True, f"{incident.sli} breached on clean day {day}"


def test_both_models_have_rows_for_all_fourteen_days(sample_db: pl.DataFrame) -> None:
    for model in (FRAUD, DELIVERY):
        days = sample_db.filter(pl.col("model") == model)["partition"].unique().sort()
        assert days.to_list() == DAYS


def test_the_first_three_fraud_days_are_clean_on_every_sli(sample_db: pl.DataFrame) -> None:
    early = sample_db.filter(
        (pl.col("model") == FRAUD) & pl.col("partition").is_in(DAYS[:3]) & (pl.col("ok") == False)  # noqa: E712
    )
    assert early.select("partition", "sli", "feature", "slice", "value").rows() == []


def test_delivery_eta_breaches_only_on_its_unreadable_day(sample_db: pl.DataFrame) -> None:
    breaches = sample_db.filter((pl.col("model") == DELIVERY) & (pl.col("ok") == False))  # noqa: E712
    assert breaches.select("partition", "sli", "feature").rows() == [
        ("2026-11-08", "ingest_ok", "features")
    ]


def test_only_the_planted_features_drift(sample_db: pl.DataFrame) -> None:
    drifted = sample_db.filter(
        (pl.col("model") == FRAUD)
        & (pl.col("category") == "drift")
        & (pl.col("ok") == False)  # noqa: E712
        & pl.col("feature").is_not_null()
    )
    by_day = drifted.group_by("partition").agg(pl.col("feature").unique().sort()).sort("partition")
    expected = {day: list(SHIFTED) for day in DAYS[5:]}
    for day in ("2026-11-12", "2026-11-13"):
        expected[day] = sorted([*SHIFTED, "device_type"])
    assert dict(by_day.iter_rows()) == expected
    assert sample_db.filter(
        (pl.col("model") == DELIVERY) & (pl.col("category") == "drift") & (pl.col("ok") == False)  # noqa: E712
    ).is_empty()


def test_drift_rows_carry_method_comparator_threshold_and_q_values(
    sample_db: pl.DataFrame,
) -> None:
    ks = sample_db.filter((pl.col("sli") == "ks") & (pl.col("status") == "ok"))
    assert ks.height > 0
    assert ks.filter(
        pl.col("method").is_null()
        | pl.col("comparator").is_null()
        | pl.col("q_value").is_null()
        | (pl.col("objective") != 0.1)
    ).is_empty()


def test_prediction_drift_is_measured_every_day_and_stays_clean(
    sample_db: pl.DataFrame,
) -> None:
    # No incident moves the scores: the covariate shift is in zero-weight features and the
    # concept drift changes labels, not predictions (that is why quality SLIs exist).
    rows = sample_db.filter(pl.col("category") == "prediction_drift")
    per_day = rows.group_by("model").agg(pl.col("partition").n_unique()).sort("model")
    assert per_day.rows() == [(DELIVERY, 14), (FRAUD, 14)]  # 11-08 predictions are intact
    assert rows.filter(pl.col("ok") == False).is_empty()  # noqa: E712


def test_importance_weighted_drift_is_recorded_every_fraud_day_and_rises_with_the_shift(
    sample_db: pl.DataFrame,
) -> None:
    rows = sample_db.filter(
        (pl.col("model") == FRAUD) & (pl.col("sli") == "importance_weighted_drift")
    )
    assert sorted(rows["partition"].to_list()) == DAYS
    assert set(rows.select("category", "track", "feature", "status").rows()) == {
        ("drift", "model", None, "ok")
    }
    # No objective declared: a measurement, judged by no SLO (a contract may set one).
    assert rows.filter(pl.col("ok").is_not_null() | pl.col("objective").is_not_null()).is_empty()
    value = dict(rows.select("partition", "value").iter_rows())
    clean = max(value[day] for day in DAYS[:3])
    # Incident a (11-06 ..): two features shifted by one training std.
    assert min(value[day] for day in DAYS[5:]) > clean + 0.02


def test_the_recorded_importance_weighted_drift_is_what_explain_shows(
    sample_db_path: Path, sample_db: pl.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    day = "2026-11-06"
    args = ["explain", "--model", FRAUD, "--partition", day, "--slo", "importance_weighted_drift"]
    code = main([*args, "--format", "json", "--db", str(sample_db_path),
                 "--config", "data/samples/contracts"])  # fmt: skip
    assert code == 0
    shown = json.loads(capsys.readouterr().out)["drift"]["importance_weighted_drift"]
    recorded = sample_db.filter(
        (pl.col("model") == FRAUD)
        & (pl.col("partition") == day)
        & (pl.col("sli") == "importance_weighted_drift")
    )["value"]
    assert recorded.to_list() == [pytest.approx(shown, abs=1e-12)]


def test_explain_says_a_day_without_a_verdict_has_none_not_that_it_is_not_breaching(
    sample_db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Labels of 11-14 are not in yet: accuracy has no row that day; its streak is older.
    args = ["explain", "--model", FRAUD, "--partition", "2026-11-14", "--slo", "accuracy",
            "--db", str(sample_db_path), "--config", "data/samples/contracts"]  # fmt: skip
    assert main(args) == 0
    shown = capsys.readouterr().out
    assert "verdict: none on 2026-11-14 (no row); no verdict is no evidence" in shown
    assert "not breaching" not in shown
    assert main([*args, "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["unjudged"] == {"status": "no row", "detail": None}
    assert result["last_judged_day"] == "2026-11-12"


def test_explain_finds_no_input_change_on_the_concept_drift_days_first_day(
    sample_db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Incident h (concept drift from 11-09): against training the two features shifted
    # since 11-06 rank first, but 11-08, a good accuracy day, already had them.
    args = ["explain", "--model", FRAUD, "--partition", "2026-11-12", "--slo", "accuracy",
            "--db", str(sample_db_path), "--config", "data/samples/contracts"]  # fmt: skip
    assert main([*args, "--format", "json"]) == 0
    since = json.loads(capsys.readouterr().out)["since"]
    assert since["first_day"] == "2026-11-09"
    good = since["last_good"]
    assert (good["day"], good["changed"]) == ("2026-11-08", [])
    assert set(good["already"]) == {"avg_amount_30d", "session_duration_s"}
    assert main(args) == 0
    shown = capsys.readouterr().out
    assert "against 2026-11-08, the last good day: no feature changed" in shown
    assert "(concept drift)" in shown
    # Incident c (11-04): the null spike is new that day.
    args[args.index("2026-11-12")] = "2026-11-04"
    args[args.index("accuracy")] = "completeness"
    assert main([*args, "--format", "json"]) == 0
    good = json.loads(capsys.readouterr().out)["since"]["last_good"]
    assert (good["day"], good["changed"]) == ("2026-11-03", ["distance_km"])


def test_late_labels_leave_the_last_two_fraud_days_unscored(sample_db: pl.DataFrame) -> None:
    accuracy = sample_db.filter(
        (pl.col("model") == FRAUD) & (pl.col("sli") == "accuracy") & pl.col("slice").is_null()
    )
    assert sorted(accuracy["partition"].to_list()) == DAYS[:12]


def test_every_judged_row_says_its_objective_and_comparator(sample_db: pl.DataFrame) -> None:
    judged = sample_db.filter(pl.col("ok").is_not_null())
    assert judged.filter(pl.col("objective").is_null() | pl.col("comparator").is_null()).is_empty()


def test_ok_is_value_against_objective_except_for_errors_and_drift_rules(
    sample_db: pl.DataFrame,
) -> None:
    # The README's promise: ok means `value comparator objective`. Drift rows follow the
    # drift rule (significance and effect) and error rows breach whatever the value.
    from checks.sli import judge

    plain = sample_db.filter(
        pl.col("ok").is_not_null()
        & ~pl.col("category").is_in(["drift", "prediction_drift"])
        & (pl.col("status") == "ok")
    )
    assert plain.height > 900
    disagree = [
        row
        for row in plain.iter_rows(named=True)
        if judge(row["value"], row["objective"], row["comparator"]) != row["ok"]
    ]
    assert disagree == []


def test_the_run_summary_names_the_worst_slice_of_the_slice_only_incident(
    sample_db: pl.DataFrame,
) -> None:
    from checks.run_summary import breached_worst_slices

    worst = breached_worst_slices(sample_db)
    day_7 = worst.filter(pl.col("partition") == "2026-11-07")
    assert day_7.select("model", "sli", "slice").rows() == [(FRAUD, "slice_accuracy", "country=BR")]
    assert worst.filter(pl.col("partition").is_in(DAYS[:6])).is_empty()


def test_one_small_slice_does_not_make_a_bad_model_wide_accuracy_day(
    sample_db: pl.DataFrame,
) -> None:
    # 11-07: BR (76 rows) is at 0.39, the model at 0.95: the slice SLO breaches, accuracy not.
    day_7 = sample_db.filter((pl.col("model") == FRAUD) & (pl.col("partition") == "2026-11-07"))
    accuracy = day_7.filter((pl.col("sli") == "accuracy") & pl.col("slice").is_null())
    assert accuracy["ok"].to_list() == [True]
    assert day_7.filter((pl.col("sli") == "accuracy") & pl.col("slice").is_not_null()).is_empty()
    br = day_7.filter((pl.col("sli") == "slice_accuracy") & (pl.col("slice") == "country=BR"))
    assert br["ok"].to_list() == [False] and br["objective"].to_list() == [0.85]


def _gate(db: Path, model: str, as_of: str | None, capsys: pytest.CaptureFixture[str]) -> Any:
    args = ["gate", "--model", model, "--format", "json", "--db", str(db)]
    args += ["--config", "data/samples/contracts", "--no-record"]
    code = main([*args, *(["--as-of", as_of] if as_of else [])])
    verdict = json.loads(capsys.readouterr().out)
    assert code == (0 if verdict["verdict"] == "ready" else 1)
    return verdict


def test_the_gate_at_the_data_time_blocks_fraud_detection_and_passes_delivery_eta(
    sample_db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    verdict = _gate(sample_db_path, FRAUD, "2026-11-15T12:00:00Z", capsys)
    assert verdict["verdict"] == "blocked"
    budget_reasons = [r for r in verdict["reasons"] if r["code"] == "model_budget_exhausted"]
    assert {r["slo"] for r in budget_reasons} >= {"accuracy", "completeness"}
    accuracy = next(r for r in budget_reasons if r["slo"] == "accuracy")
    # The BR slice day (11-07) is slice_accuracy's, not the model-wide accuracy's.
    assert set(accuracy["days"]) == {"2026-11-09", "2026-11-10", "2026-11-11", "2026-11-12"}
    assert accuracy["runbook"] == "docs/runbooks/quality_regression.md"
    # Labels of 11-13 and 11-14 are not due before 11-17: accuracy pages on 11-12.
    assert not [r for r in verdict["reasons"] if r["code"] == "labels_overdue"]
    delivery = _gate(sample_db_path, DELIVERY, "2026-11-15T12:00:00Z", capsys)
    assert delivery["verdict"] == "ready", delivery["reasons"]


def test_the_gate_at_the_wall_clock_blocks_both_on_stale_evidence(
    sample_db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The samples end on 2026-11-14; any later wall clock finds that evidence too old.
    for model in (FRAUD, DELIVERY):
        verdict = _gate(sample_db_path, model, None, capsys)
        assert verdict["verdict"] == "blocked"
        stale = [r for r in verdict["reasons"] if r["code"] == "evidence_stale"]
        assert stale and "partition 2026-11-14" in stale[0]["message"]


def test_a_replay_of_an_early_day_uses_nothing_after_it(
    sample_db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    verdict = _gate(sample_db_path, FRAUD, "2026-11-05T12:00:00Z", capsys)
    assert verdict["reference_day"] == "2026-11-04"
    text = json.dumps(verdict)
    # 11-05 itself is evaluated on 11-06 06:00: the decision time is the only 11-05 in it.
    later_days = [f"2026-11-{d:02d}" for d in range(6, 15)]
    assert not [day for day in later_days if day in text]
    assert text.count("2026-11-05") == text.count("2026-11-05T12:00:00")
    assert max(b["reference_day"] for b in verdict["budgets"]) <= "2026-11-04"


#: docs/design.md's row contract as an SRE writes it in SQL over the stored columns.
_ROW_CONTRACT_SQL = """
select count(*) as judged,
    count(*) filter (where ok is distinct from (
        (case comparator
            when '<=' then value <= objective when '<' then value < objective
            when '>=' then value >= objective when '>' then value > objective end)
        or significant is false)) as disagreeing,
    count(*) filter (where sli = 'chi2' and (statistic is null or value > 1)) as chi2_not_v2
from sli_results
where ok is not null
"""


def test_every_judged_row_satisfies_the_row_contract_in_sql(sample_db_path: Path) -> None:
    """ok = (value comparator objective) OR significant IS FALSE for every judged row of
    the whole sample run, drift rows included (before row contract v2, 130 disagreed:
    chi2 rows stored the chi-square value as value and their JS threshold as objective)."""
    judged, disagreeing, chi2_not_v2 = SliStore(sample_db_path).fetchall(_ROW_CONTRACT_SQL)[0]
    assert judged > 1500
    assert disagreeing == 0
    assert chi2_not_v2 == 0  # chi2 rows: the JS distance as value, chi-square as statistic
