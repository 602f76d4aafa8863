"""The readiness review of checks.gate on hand-built histories (no database)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import polars as pl
import pytest

from checks.contract import Contract
from checks.gate import decide
from checks.gate_verdict import CheckName, CheckStatus, GateOptions, Severity, Verdict, Waiver
from checks.measured_settings import measured_settings
from checks.sli import slo_definitions_frame
from tests.gate_fixtures import (
    DAY0,
    days,
    gate_contract,
    gate_contract_dict,
    history_frame,
    runs_frame,
)

# Partition D is evaluated at D + 1 day 06:00 UTC (the toy contract's schedule): at NOW the
# newest visible partition is 2026-11-14, evaluated 6 h earlier; at LATER, 2026-11-28.
NOW = dt.datetime(2026, 11, 15, 12, 0, tzinfo=dt.UTC)
FRESH = [dt.datetime(2026, 11, 15, 7, 0, tzinfo=dt.UTC)]
LATER = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
FRESH_LATER = [dt.datetime(2026, 11, 29, 7, 0, tzinfo=dt.UTC)]


def _d(day: int) -> dt.date:
    return DAY0 + dt.timedelta(days=day - 1)


def _codes(verdict: Verdict, severity: Severity | None = None) -> list[str]:
    return [r.code for r in verdict.reasons if severity is None or r.severity == severity]


def _status(verdict: Verdict, name: CheckName) -> CheckStatus:
    return next(c.status for c in verdict.checks if c.name == name)


def test_a_clean_fresh_history_is_ready() -> None:
    contract = gate_contract()
    verdict = decide(contract, history_frame(contract, 14), runs_frame(contract, FRESH), now=NOW)
    assert verdict.ready
    assert verdict.reasons == []
    assert [c.name for c in verdict.checks] == list(CheckName)
    assert all(c.status == CheckStatus.PASS for c in verdict.checks)
    assert verdict.reference_day == _d(14)
    assert verdict.model_version == contract.version
    # 4 declared + the built-in unseen_category_rate and clock_skew_seconds
    assert len(verdict.budgets) == 6


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"slos": {"model": {"accuracy": {"objective": 0.9}}}}, "contract_no_infra_slo"),
        (
            {"slos": {"infra": {"latency_p99_ms": {"objective": 100}}}},
            "contract_no_model_slo",
        ),
        ({"runbook": None}, "contract_no_runbook"),
        ({"owner": "  "}, "contract_no_owner"),
        ({"owner": "TODO-owner@example.com"}, "contract_no_owner"),
    ],
    ids=[
        "a contract without infra SLOs blocks",
        "a contract without model SLOs blocks",
        "a contract without a runbook blocks",
        "a contract without an owner blocks",
        "a contract with datasre init's placeholder owner blocks",
    ],
)
def test_contract_must_be_production_ready(overrides: dict[str, object], code: str) -> None:
    contract = gate_contract(**overrides)
    verdict = decide(contract, history_frame(contract, 3), runs_frame(contract, FRESH), now=NOW)
    assert not verdict.ready
    assert code in _codes(verdict, Severity.BLOCK)
    assert _status(verdict, CheckName.CONTRACT) == CheckStatus.FAIL


def test_no_succeeded_run_of_the_version_is_missing_evidence() -> None:
    contract = gate_contract()
    failed_only = runs_frame(contract, FRESH, status="failed")
    other_version = runs_frame(contract, FRESH, version="0.9.0")
    for runs in (other_version, runs_frame(contract, [])):
        verdict = decide(contract, history_frame(contract, 3), runs, now=NOW)
        assert _codes(verdict, Severity.BLOCK) == ["evidence_missing"]
    # Failed runs only: no evidence, and why (the newest one could not read its inputs).
    verdict = decide(contract, history_frame(contract, 3), failed_only, now=NOW)
    assert _codes(verdict, Severity.BLOCK) == ["run_failed", "evidence_missing"]


def test_evidence_older_than_36_hours_is_stale() -> None:
    contract = gate_contract()
    # The run of partition 2026-11-12 finished an hour ago, but its data time is its
    # evaluation, 2026-11-13 06:00: 54 h before NOW.
    old = [dt.datetime(2026, 11, 15, 11, 0, tzinfo=dt.UTC)]
    runs = runs_frame(contract, old).with_columns(partition=pl.lit("2026-11-12"))
    verdict = decide(contract, history_frame(contract, 3), runs, now=NOW)
    assert _codes(verdict, Severity.BLOCK) == ["evidence_stale"]
    reason = verdict.reasons[0]
    assert "partition 2026-11-12, evaluated at 2026-11-13T06:00:00+00:00" in reason.message
    assert "54.0 h (2.2 days) before the decision time" in reason.message
    assert "36 h allowed" in reason.message
    assert "stale since 2026-11-14T18:00:00+00:00" in reason.message
    assert reason.runbook == "docs/runbooks/stale_data.md"
    assert "runbook: docs/runbooks/stale_data.md" in reason.message
    relaxed = decide(
        contract,
        history_frame(contract, 3),
        runs,
        now=NOW,
        options=GateOptions(max_evidence_age_hours=60),
    )
    assert relaxed.ready


def test_a_blocking_breach_on_the_newest_partition_blocks_and_says_since_when() -> None:
    contract = gate_contract()
    slis = history_frame(contract, 14, bad={"completeness": [_d(13), _d(14)]})
    verdict = decide(contract, slis, runs_frame(contract, FRESH), now=NOW)
    assert not verdict.ready
    assert "blocking_breach" in _codes(verdict, Severity.BLOCK)
    reason = next(r for r in verdict.reasons if r.code == "blocking_breach")
    assert reason.slo == "completeness" and reason.track == "model"
    assert reason.days == ("2026-11-13", "2026-11-14")
    assert "2026-11-14" in reason.message and "bad since 2026-11-13" in reason.message
    # completeness is a null burst: its runbook, not the model's one page.
    assert reason.runbook == "docs/runbooks/null_burst.md"
    assert "runbook: docs/runbooks/null_burst.md" in reason.message
    assert reason.evidence[0]["sli"] == "completeness" and reason.evidence[0]["ok"] is False
    assert reason.evidence[0]["partition"] == "2026-11-14"


def test_a_non_blocking_breach_on_the_newest_partition_does_not_block() -> None:
    contract = gate_contract()
    slis = history_frame(contract, 28, bad={"accuracy": [_d(28)]})
    verdict = decide(contract, slis, runs_frame(contract, FRESH_LATER), now=LATER)
    assert verdict.ready
    # ...but a bad day today at target 0.9 burns fast enough for a ticket.
    assert _codes(verdict, Severity.WARN) == ["burn_rate_ticket"]
    assert _status(verdict, CheckName.MODEL_BUDGET) == CheckStatus.WARN


def test_the_burn_rate_reason_speaks_the_configured_alert_policy() -> None:
    # One bad day today, one five days earlier. Default policy (1 and 7 days, page at 2):
    # 7-day burn 2/7/0.1 = 2.86, so it pages, and the words name 1 day and 7 days. A
    # policy of 2 and 3 days paging at 6: 2-day burn 5, 3-day burn 3.33: a ticket, and
    # the words name the policy's windows.
    from checks.slo import AlertPolicy

    contract = gate_contract()
    slis = history_frame(contract, 28, bad={"accuracy": [_d(23), _d(28)]})
    runs = runs_frame(contract, FRESH_LATER)
    default = decide(contract, slis, runs, now=LATER)
    reason = next(r for r in default.reasons if r.code.startswith("burn_rate_"))
    assert reason.code == "burn_rate_page"
    assert "over 1 day and" in reason.message and "over 7 days ending" in reason.message
    policy = AlertPolicy(short_window_days=2, long_window_days=3, page_burn_rate=6.0)
    custom = decide(contract, slis, runs, now=LATER, options=GateOptions(policy=policy))
    reason = next(r for r in custom.reasons if r.code.startswith("burn_rate_"))
    assert reason.code == "burn_rate_ticket"
    assert "burn rate 5 over 2 days and 3.33 over 3 days ending 2026-11-28" in reason.message


def test_an_old_blocking_breach_does_not_fail_the_latest_run_check() -> None:
    contract = gate_contract()
    slis = history_frame(contract, 28, bad={"completeness": [_d(3)]})
    verdict = decide(contract, slis, runs_frame(contract, FRESH_LATER), now=LATER)
    assert verdict.ready
    assert _status(verdict, CheckName.LATEST_RUN) == CheckStatus.PASS


def test_an_exhausted_model_budget_blocks_naming_the_slo_days_and_runbook() -> None:
    contract = gate_contract()
    bad_days = [_d(3), _d(5), _d(7)]
    slis = history_frame(contract, 14, bad={"accuracy": bad_days})
    verdict = decide(contract, slis, runs_frame(contract, FRESH), now=NOW)
    assert not verdict.ready
    assert _codes(verdict, Severity.BLOCK) == ["model_budget_exhausted"]
    reason = verdict.reasons[0]
    assert reason.slo == "accuracy" and reason.check == CheckName.MODEL_BUDGET
    assert reason.days == ("2026-11-03", "2026-11-05", "2026-11-07")
    runbook = "runbook: docs/runbooks/quality_regression.md"
    for text in ("accuracy", "3 bad days", "2026-11-03", "2026-11-07", "of 14 evaluated",
                 "budget 1.40 bad days", runbook):  # fmt: skip
        assert text in reason.message
    assert reason.runbook == "docs/runbooks/quality_regression.md"
    assert [row["partition"] for row in reason.evidence] == list(reason.days)


def test_an_exhausted_infra_budget_warns_unless_told_to_block() -> None:
    contract = gate_contract()
    slis = history_frame(contract, 14, bad={"latency_p99_ms": [_d(2), _d(4)]})
    runs = runs_frame(contract, FRESH)
    verdict = decide(contract, slis, runs, now=NOW)
    assert verdict.ready
    assert _codes(verdict, Severity.WARN) == ["infra_budget_exhausted"]
    assert _status(verdict, CheckName.INFRA_BUDGET) == CheckStatus.WARN
    strict = decide(contract, slis, runs, now=NOW, options=GateOptions(block_on_infra_budget=True))
    assert not strict.ready
    assert _codes(strict, Severity.BLOCK) == ["infra_budget_exhausted"]


def _waiver(expires: dt.date, version: str | None = "1.0.0", slo: str = "accuracy") -> Waiver:
    return Waiver(
        model="toy", slo=slo, reason="retrain in progress", expires=expires, model_version=version
    )


def test_a_waiver_is_honoured_at_most_90_days_after_it_was_created() -> None:
    """Written with a longer expiry (before `datasre waive` refused one, or straight into
    the store), it still ends 90 days after its creation: never an SLO switched off."""
    contract = gate_contract()
    slis = history_frame(contract, 14, bad={"accuracy": [_d(3), _d(5), _d(7)]})
    created = dt.datetime(2026, 8, 18, 9, tzinfo=dt.UTC)  # + 90 days = 2026-11-16
    long = dataclasses.replace(_waiver(dt.date(2099, 12, 31)), created_at=created)
    assert long.honoured_until == dt.date(2026, 11, 16)
    verdict = decide(contract, slis, runs_frame(contract, FRESH), now=NOW, waivers=[long])
    assert verdict.ready
    waived = next(r for r in verdict.reasons if r.severity == Severity.WAIVED)
    assert "waived until 2026-11-16 (retrain in progress)" in waived.message
    later = dt.datetime(2026, 11, 17, 12, tzinfo=dt.UTC)
    runs = runs_frame(contract, [dt.datetime(2026, 11, 17, 7, tzinfo=dt.UTC)])
    expired = decide(contract, history_frame(contract, 16, bad={"accuracy": [_d(3), _d(5),
                     _d(7)]}), runs, now=later, waivers=[long])  # fmt: skip
    assert not expired.ready
    assert "(waiver expired 2026-11-16)" in " ".join(r.message for r in expired.reasons)
    # Without a creation time (older rows) the expiry stands.
    assert _waiver(dt.date(2099, 12, 31)).honoured_until == dt.date(2099, 12, 31)


def test_a_waiver_does_not_reach_back_into_a_replay_of_the_past() -> None:
    """Written today, a waiver let ``gate --as-of`` of an old day through: a verdict the
    gate never gave then (found by review)."""
    contract = gate_contract()
    slis = history_frame(contract, 14, bad={"accuracy": [_d(3), _d(5), _d(7)]})
    runs = runs_frame(contract, FRESH)
    written = dataclasses.replace(
        _waiver(dt.date(2026, 12, 1)), created_at=NOW + dt.timedelta(hours=1)
    )
    replay = decide(contract, slis, runs, now=NOW, waivers=[written])
    assert not replay.ready
    assert _codes(replay, Severity.BLOCK) == ["model_budget_exhausted"]
    assert "(a waiver was written only at 2026-11-15T13:00:00+00:00: not applied" in (
        replay.reasons[0].message
    )
    assert dataclasses.replace(written, created_at=None).active_on(NOW)
    assert written.state_on(NOW) == "not yet written"
    # From the moment it is written, it is honoured.
    after = decide(contract, slis, runs, now=NOW + dt.timedelta(hours=1), waivers=[written])
    assert after.ready and written.state_on(NOW + dt.timedelta(hours=1)) == "active"


def test_an_active_waiver_lets_an_exhausted_budget_through_and_is_shown() -> None:
    contract = gate_contract()
    slis = history_frame(contract, 14, bad={"accuracy": [_d(3), _d(5), _d(7)]})
    waiver = _waiver(NOW.date())  # expires today: still honoured (inclusive)
    verdict = decide(contract, slis, runs_frame(contract, FRESH), now=NOW, waivers=[waiver])
    assert verdict.ready
    assert _codes(verdict, Severity.WAIVED) == ["model_budget_exhausted"]
    assert verdict.reasons[0].waiver == waiver
    assert "waived until 2026-11-15 (retrain in progress)" in verdict.reasons[0].message
    assert _status(verdict, CheckName.MODEL_BUDGET) == CheckStatus.WAIVED
    assert verdict.waivers == [waiver]


def test_an_expired_waiver_is_not_honoured_and_says_so() -> None:
    contract = gate_contract()
    slis = history_frame(contract, 14, bad={"accuracy": [_d(3), _d(5), _d(7)]})
    waiver = _waiver(NOW.date() - dt.timedelta(days=1))
    verdict = decide(contract, slis, runs_frame(contract, FRESH), now=NOW, waivers=[waiver])
    assert not verdict.ready
    assert "waiver expired 2026-11-14" in verdict.reasons[0].message


@pytest.mark.parametrize(
    ("waiver", "honoured"),
    [
        (_waiver(dt.date(2026, 12, 1), version=None), True),
        (_waiver(dt.date(2026, 12, 1), version="0.9.0"), False),
        (_waiver(dt.date(2026, 12, 1), slo="completeness"), False),
    ],
    ids=[
        "a version-less waiver covers every version",
        "a waiver of another version does not apply",
        "a waiver of another SLO does not apply",
    ],
)
def test_waivers_match_model_version_and_slo(waiver: Waiver, honoured: bool) -> None:
    contract = gate_contract()
    slis = history_frame(contract, 14, bad={"accuracy": [_d(3), _d(5), _d(7)]})
    verdict = decide(contract, slis, runs_frame(contract, FRESH), now=NOW, waivers=[waiver])
    assert verdict.ready is honoured


def test_a_waiver_covers_a_blocking_breach_of_the_latest_run() -> None:
    contract = gate_contract()
    slis = history_frame(contract, 28, bad={"completeness": [_d(28)]})
    waiver = _waiver(dt.date(2026, 11, 30), slo="completeness")
    verdict = decide(contract, slis, runs_frame(contract, FRESH_LATER), now=LATER, waivers=[waiver])
    assert verdict.ready
    assert "blocking_breach" in _codes(verdict, Severity.WAIVED)


def test_evidence_problems_cannot_be_waived() -> None:
    contract = gate_contract()
    waiver = _waiver(dt.date(2026, 12, 1))
    verdict = decide(contract, history_frame(contract, 3), runs_frame(contract, []), now=NOW,
                     waivers=[waiver])  # fmt: skip
    assert not verdict.ready


def test_only_the_asked_version_is_judged() -> None:
    contract = gate_contract()
    candidate = history_frame(contract, 14, version="2.0.0")
    broken_old = history_frame(contract, 14, bad={"accuracy": [_d(i) for i in range(1, 15)]})
    slis = pl.concat([candidate, broken_old])
    runs = pl.concat([runs_frame(contract, FRESH), runs_frame(contract, FRESH, version="2.0.0")])
    assert decide(contract, slis, runs, now=NOW, version="2.0.0").ready
    assert not decide(contract, slis, runs, now=NOW).ready


def test_stored_definitions_are_used_when_given() -> None:
    contract = gate_contract()
    slis = history_frame(contract, 14, bad={"accuracy": [_d(3), _d(5), _d(7)]})
    # At run time accuracy's target was 0.5: 3 bad of 14 is within a 7-day budget.
    stored = slo_definitions_frame(contract).with_columns(
        target=pl.when(pl.col("sli") == "accuracy").then(0.5).otherwise(pl.col("target"))
    )
    verdict = decide(contract, slis, runs_frame(contract, FRESH), now=NOW, definitions=stored)
    # Judged by the recorded SLOs: no budget exhausted (the contract's 0.9 would be) ...
    assert "model_budget_exhausted" not in _codes(verdict)
    accuracy = next(b for b in verdict.budgets if b.slo == "accuracy")
    assert accuracy.target == 0.5
    # ... but the contract in force is not the one recorded: blocked until a re-run.
    assert _codes(verdict, Severity.BLOCK) == ["contract_changed"]
    assert "accuracy target 0.5 -> 0.9" in verdict.reasons[0].message
    # The version's own contract as recorded, or an older version: ready.
    recorded = gate_contract(
        slos={**contract.slos.model_dump(), "model": {
            **contract.slos.model_dump()["model"],
            "accuracy": {**contract.slos.model_dump()["model"]["accuracy"], "target": 0.5},
        }}
    )  # fmt: skip
    assert decide(recorded, slis, runs_frame(contract, FRESH), now=NOW, definitions=stored).ready


def test_an_slo_added_or_tightened_since_the_newest_run_blocks_until_a_rerun() -> None:
    contract = gate_contract()
    slis = history_frame(contract, 14)
    runs = runs_frame(contract, FRESH)
    recorded = slo_definitions_frame(contract)
    assert decide(contract, slis, runs, now=NOW, definitions=recorded).ready
    # An SLO the runs never measured, a blocking flag set, an objective tightened.
    model = contract.slos.model_dump()["model"]
    changed = gate_contract(
        slos={**contract.slos.model_dump(), "model": {
            **model,
            "roc_auc": {"objective": 0.8, "blocking": True},
            "accuracy": {**model["accuracy"], "objective": 0.99, "blocking": True},
        }}
    )  # fmt: skip
    verdict = decide(changed, slis, runs, now=NOW, definitions=recorded)
    assert not verdict.ready
    reason = next(r for r in verdict.reasons if r.code == "contract_changed")
    assert reason.check == CheckName.EVIDENCE_FRESH and reason.severity == Severity.BLOCK
    assert "new SLO roc_auc" in reason.message
    assert "accuracy objective 0.94 -> 0.99" in reason.message
    assert "accuracy blocking False -> True" in reason.message
    # Every judged day holds accuracy's old verdicts, not only the newest.
    assert "accuracy judged >= 0.94, not blocking on 2026-11-01" in reason.message
    assert "`datasre run --model toy --all`" in reason.message
    assert reason.days == tuple(d.isoformat() for d in days(14))
    # Not waivable, and only about the contract's own version.
    waivers = [
        Waiver(model="toy", slo=s, reason="x", expires=_d(30)) for s in ("roc_auc", "accuracy")
    ]
    assert not decide(changed, slis, runs, now=NOW, definitions=recorded, waivers=waivers).ready
    other = runs_frame(contract, FRESH, version="0.9.0")
    older_definitions = recorded.with_columns(model_version=pl.lit("0.9.0"))
    older_slis = history_frame(contract, 14, version="0.9.0")
    older = decide(
        changed, older_slis, other, now=NOW, version="0.9.0", definitions=older_definitions
    )
    assert "contract_changed" not in _codes(older)


def _rerun(
    contract: Contract, slis: pl.DataFrame, runs: pl.DataFrame, day: dt.date
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The store after ``day`` is re-run under ``contract``: its rows re-judged, a newer
    run of it, and ``slo_definitions`` replaced (whichever day the run was)."""
    fresh = history_frame(contract, 1, start=day)
    kept = slis.filter(pl.col("partition") != day.isoformat())
    rerun = runs_frame(contract, [FRESH[0] + dt.timedelta(hours=1)]).with_columns(
        partition=pl.lit(day.isoformat()), run_id=pl.lit(f"rerun-{day}")
    )
    return pl.concat([kept, fresh]), pl.concat([runs, rerun]), slo_definitions_frame(contract)


def test_a_tightened_objective_blocks_until_every_judged_day_is_rerun() -> None:
    """Re-running one day records the new SLOs, yet the other days keep the verdicts of
    the old objective: READY on a breach of the contract in force (found by review)."""
    old = gate_contract()
    slis, runs = history_frame(old, 14), runs_frame(old, FRESH)
    model = old.slos.model_dump()["model"]
    tightened = gate_contract(
        slos={**old.slos.model_dump(), "model": {
            **model, "accuracy": {**model["accuracy"], "objective": 0.96, "blocking": True},
        }}
    )  # fmt: skip
    # An old day re-run: slo_definitions are the new ones, the newest day's are not.
    for day in (_d(2), _d(14)):
        after, after_runs, definitions = _rerun(tightened, slis, runs, day)
        verdict = decide(tightened, after, after_runs, now=NOW, definitions=definitions)
        assert not verdict.ready
        reason = next(r for r in verdict.reasons if r.code == "contract_changed")
        assert "accuracy judged >= 0.94, not blocking" in reason.message
        assert "the contract says >= 0.96, blocking" in reason.message
        assert day.isoformat() not in reason.days and len(reason.days) == 13
    # Every day re-run under the contract in force: judged by it, nothing left to say.
    rerun_all = history_frame(tightened, 14)
    verdict = decide(
        tightened, rerun_all, runs, now=NOW, definitions=slo_definitions_frame(tightened)
    )
    assert "contract_changed" not in _codes(verdict)


def test_a_features_own_objective_is_not_a_contract_change() -> None:
    """null_rate rows of a feature with its own max_null_rate carry that objective, not
    the SLO's: only the rows of the whole model are held to the SLO's objective."""
    base = gate_contract()
    model = {**base.slos.model_dump()["model"], "null_rate": {"objective": 0.05}}
    contract = gate_contract(slos={**base.slos.model_dump(), "model": model})
    slis = history_frame(contract, 14).with_columns(
        objective=pl.when((pl.col("sli") == "null_rate") & (pl.col("feature") == "x"))
        .then(0.2)
        .otherwise(pl.col("objective"))
    )
    verdict = decide(contract, slis, runs_frame(contract, FRESH), now=NOW)
    assert "contract_changed" not in _codes(verdict)
    # Its blocking flag is the SLO's on every row: set since, it is a change.
    model["null_rate"] = {"objective": 0.05, "blocking": True}
    blocking = gate_contract(slos={**base.slos.model_dump(), "model": model})
    verdict = decide(blocking, slis, runs_frame(contract, FRESH), now=NOW)
    reason = next(r for r in verdict.reasons if r.code == "contract_changed")
    assert "null_rate judged <= 0.05, not blocking" in reason.message


def test_a_per_feature_slo_tightened_blocks_until_every_day_is_rerun() -> None:
    """null_rate's rows are per feature (objectives of their own), so the rows cannot say
    which objective judged them: each run records the SLOs it judged under."""
    base = gate_contract()
    model = {**base.slos.model_dump()["model"], "null_rate": {"objective": 0.05}}
    old = gate_contract(slos={**base.slos.model_dump(), "model": model})
    model["null_rate"] = {"objective": 0.01}
    tightened = gate_contract(slos={**base.slos.model_dump(), "model": model})
    slis = history_frame(old, 14)
    runs = _daily_runs(old, 1, 14).with_columns(measured_under=pl.lit(measured_settings(old)))
    # Day 3 re-run under the tightened contract: slo_definitions say 0.01 now.
    rerun = runs.filter(pl.col("partition") == _d(3).isoformat()).with_columns(
        run_id=pl.lit("rerun-3"),
        finished_at=pl.lit(dt.datetime(2026, 11, 15, 9, tzinfo=dt.UTC)),
        measured_under=pl.lit(measured_settings(tightened)),
    )
    verdict = decide(
        tightened,
        slis,
        pl.concat([runs, rerun]),
        now=NOW,
        definitions=slo_definitions_frame(tightened),
    )
    reason = next(r for r in verdict.reasons if r.code == "contract_changed")
    assert "slos_in_force.null_rate.objective 0.05 -> 0.01" in reason.message
    assert _d(3).isoformat() not in reason.days and len(reason.days) == 13


def test_days_before_the_budget_window_need_no_rerun() -> None:
    old = gate_contract(slos={**gate_contract().slos.model_dump(), "window_days": 7})
    slis, runs = history_frame(old, 14), runs_frame(old, FRESH)
    model = old.slos.model_dump()["model"]
    tightened = gate_contract(
        slos={**old.slos.model_dump(), "model": {
            **model, "accuracy": {**model["accuracy"], "objective": 0.96},
        }}
    )  # fmt: skip
    # The last 7 days re-run: what is older is outside every budget the gate counts.
    after = pl.concat(
        [
            slis.filter(pl.col("partition") < _d(8).isoformat()),
            history_frame(tightened, 7, start=_d(8)),
        ]
    )
    verdict = decide(tightened, after, runs, now=NOW, definitions=slo_definitions_frame(tightened))
    assert "contract_changed" not in _codes(verdict)
    one_short = after.filter(pl.col("partition") != _d(8).isoformat()).vstack(
        slis.filter(pl.col("partition") == _d(8).isoformat())
    )
    verdict = decide(
        tightened, one_short, runs, now=NOW, definitions=slo_definitions_frame(tightened)
    )
    reason = next(r for r in verdict.reasons if r.code == "contract_changed")
    assert reason.days == (_d(8).isoformat(),)
    assert f"`datasre run --model toy --partition {_d(8)}`" in reason.message


def test_evidence_rows_are_capped_and_flagged() -> None:
    contract = gate_contract()
    slis = history_frame(contract, 14, bad={"accuracy": [_d(i) for i in range(1, 15)]})
    verdict = decide(contract, slis, runs_frame(contract, FRESH), now=NOW,
                     options=GateOptions(max_evidence_rows=5))  # fmt: skip
    reason = next(r for r in verdict.reasons if r.code == "model_budget_exhausted")
    assert len(reason.evidence) == 5 and reason.evidence_truncated


def test_now_must_be_timezone_aware() -> None:
    contract = gate_contract()
    with pytest.raises(ValueError, match="timezone"):
        decide(contract, history_frame(contract, 1), runs_frame(contract, FRESH),
               now=dt.datetime(2026, 11, 15))  # fmt: skip


# --- data time, missing evidence, late labels (issue: verdicts you can trust) ----------


def _daily_runs(contract: Contract, first: int, last: int, **kwargs: Any) -> pl.DataFrame:
    """One run per partition ``_d(first)`` .. ``_d(last)``, each finished the next morning."""
    finished = [
        dt.datetime.combine(_d(day) + dt.timedelta(days=1), dt.time(7), tzinfo=dt.UTC)
        for day in range(first, last + 1)
    ]
    return runs_frame(contract, finished, **kwargs)


def test_as_of_uses_only_partitions_evaluated_by_then() -> None:
    contract = gate_contract()
    # 14 days, accuracy bad from day 8 on; decided as of 2026-11-05 12:00, when only
    # days 1-4 had been evaluated (day 4 at 11-05 06:00).
    slis = history_frame(contract, 14, bad={"accuracy": [_d(d) for d in range(8, 15)]})
    as_of = dt.datetime(2026, 11, 5, 12, 0, tzinfo=dt.UTC)
    verdict = decide(contract, slis, _daily_runs(contract, 1, 14), now=as_of)
    assert verdict.ready, [r.message for r in verdict.reasons]
    assert verdict.reference_day == _d(4)
    assert all(b.reference_day <= _d(4) and b.bad == 0 for b in verdict.budgets)
    # The same data at the wall clock of 2026-11-15 12:00 is blocked by those days.
    later = decide(contract, slis, _daily_runs(contract, 1, 14), now=NOW)
    assert "model_budget_exhausted" in _codes(later, Severity.BLOCK)


def test_a_backfill_that_ran_today_is_judged_on_its_data_time() -> None:
    contract = gate_contract()
    # Every run finished an hour ago, but the newest day is 2026-11-14: at 2026-11-30
    # that evidence is 15 days old.
    ran_today = _daily_runs(contract, 1, 14).with_columns(
        finished_at=pl.lit(dt.datetime(2026, 11, 30, 11, 0, tzinfo=dt.UTC))
    )
    verdict = decide(
        contract,
        history_frame(contract, 14),
        ran_today,
        now=dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC),
    )
    assert not verdict.ready
    reason = next(r for r in verdict.reasons if r.code == "evidence_stale")
    assert "partition 2026-11-14, evaluated at 2026-11-15T06:00:00+00:00" in reason.message
    assert "366.0 h (15.2 days)" in reason.message


def test_a_breached_run_is_evidence_a_failed_one_is_not() -> None:
    contract = gate_contract()
    breached = decide(
        contract, history_frame(contract, 14), _daily_runs(contract, 14, 14, status="breached"),
        now=NOW,
    )  # fmt: skip
    assert "evidence_missing" not in _codes(breached)
    failed = decide(
        contract, history_frame(contract, 14), _daily_runs(contract, 14, 14, status="failed"),
        now=NOW,
    )  # fmt: skip
    assert "evidence_missing" in _codes(failed, Severity.BLOCK)


def test_a_declared_slo_without_recent_evidence_is_a_reason() -> None:
    contract = gate_contract()
    # completeness is never judged (e.g. too few rows): the gate must not call it fine.
    slis = history_frame(contract, 14, unjudged={"completeness": [_d(d) for d in range(1, 15)]})
    verdict = decide(contract, slis, _daily_runs(contract, 1, 14), now=NOW)
    assert not verdict.ready
    reason = next(r for r in verdict.reasons if r.code == "no_evidence")
    assert reason.slo == "completeness" and reason.severity == Severity.BLOCK
    assert "it was never evaluated" in reason.message
    budget = next(b for b in verdict.budgets if b.slo == "completeness")
    assert budget.state == "no_evidence"
    # An infra SLO without evidence warns unless infra budgets block.
    slis = history_frame(contract, 14, unjudged={"latency_p99_ms": [_d(13), _d(14)]})
    verdict = decide(contract, slis, _daily_runs(contract, 1, 14), now=NOW)
    assert verdict.ready
    assert _codes(verdict, Severity.WARN) == ["no_evidence"]
    assert "newest evaluation is 2026-11-12" in verdict.reasons[0].message


def test_a_waiver_of_an_slo_does_not_cover_its_missing_evidence() -> None:
    contract = gate_contract()
    # A waiver accepts completeness breaches; completeness then stops being measured.
    slis = history_frame(contract, 14, unjudged={"completeness": [_d(13), _d(14)]})
    waiver = _waiver(dt.date(2026, 12, 1), slo="completeness")
    verdict = decide(contract, slis, _daily_runs(contract, 1, 14), now=NOW, waivers=[waiver])
    assert not verdict.ready
    reason = next(r for r in verdict.reasons if r.code == "no_evidence")
    assert reason.severity == Severity.BLOCK and reason.waiver is None
    assert "not missing evidence: not applied" in reason.message
    # The same waiver still covers the SLO's breaches.
    bad = history_frame(contract, 14, bad={"completeness": [_d(3), _d(5), _d(7), _d(9)]})
    waived = decide(contract, bad, _daily_runs(contract, 1, 14), now=NOW, waivers=[waiver])
    assert waived.ready and "model_budget_exhausted" in _codes(waived, Severity.WAIVED)


def test_label_delayed_quality_is_judged_on_its_newest_labelled_day_and_pages() -> None:
    contract = gate_contract()
    # Labels of days 13 and 14 are not in yet (due 3 days after evaluation); accuracy was
    # bad on days 10-12.
    slis = history_frame(
        contract,
        14,
        bad={"accuracy": [_d(10), _d(11), _d(12)]},
        unjudged={"accuracy": [_d(13), _d(14)]},
    )
    runs = pl.concat([_daily_runs(contract, 1, 12), _daily_runs(contract, 13, 14, n_labels=None)])
    verdict = decide(contract, slis, runs, now=NOW)
    accuracy = next(b for b in verdict.budgets if b.slo == "accuracy")
    assert accuracy.reference_day == _d(12) and accuracy.last_evaluated_day == _d(12)
    assert accuracy.burn_rate_short == pytest.approx(10.0)  # 1 bad of 1 at target 0.9
    assert accuracy.burn_rate_long == pytest.approx(3 / 7 / 0.1)
    assert accuracy.alert_level.value == "page"
    assert accuracy.state == "exhausted"
    assert "labels_overdue" not in _codes(verdict)  # days 13, 14 are not due yet


def test_labels_overdue_are_their_own_breach() -> None:
    contract = gate_contract()
    slis = history_frame(contract, 14, unjudged={"accuracy": [_d(d) for d in range(9, 15)]})
    runs = pl.concat([_daily_runs(contract, 1, 8), _daily_runs(contract, 9, 14, n_labels=None)])
    verdict = decide(contract, slis, runs, now=NOW)
    assert not verdict.ready
    reason = next(r for r in verdict.reasons if r.code == "labels_overdue")
    assert reason.check == CheckName.EVIDENCE_FRESH and reason.severity == Severity.BLOCK
    # Day 11 was evaluated 11-12 06:00 and was due 3 days later, 11-15 06:00 <= NOW.
    assert reason.days == ("2026-11-09", "2026-11-10", "2026-11-11")
    assert "the oldest since 2026-11-13T06:00:00+00:00" in reason.message
    assert "no_evidence" not in _codes(verdict)  # the overdue labels say it once
    accuracy = next(b for b in verdict.budgets if b.slo == "accuracy")
    assert accuracy.state == "no_evidence"
    # A handful of labels (fewer than min_labelled_rows, 30) is as unjudged as none.
    few = pl.concat([_daily_runs(contract, 1, 8), _daily_runs(contract, 9, 14, n_labels=20)])
    thin = decide(contract, slis, few, now=NOW)
    reason = next(r for r in thin.reasons if r.code == "labels_overdue")
    assert reason.days == ("2026-11-09", "2026-11-10", "2026-11-11")
    assert "fewer than min_labelled_rows 30 labelled rows counts as none" in reason.message


def test_a_candidate_is_judged_from_when_it_ran_and_on_what_it_can_measure() -> None:
    contract = gate_contract()
    # One candidate run recorded for "today" (2026-11-20) that finished at 10:00: its data
    # time is when it ran (there is no schedule), and it measures no infra SLO.
    slis = history_frame(
        contract,
        1,
        start=dt.date(2026, 11, 20),
        unjudged={"latency_p99_ms": [dt.date(2026, 11, 20)]},
    )
    runs = runs_frame(contract, [dt.datetime(2026, 11, 21, 10, 0, tzinfo=dt.UTC)]).with_columns(
        partition=pl.lit("2026-11-20"),
        kind=pl.lit("candidate"),
        finished_at=pl.lit(dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)),
    )
    at = dt.datetime(2026, 11, 20, 10, 5, tzinfo=dt.UTC)
    verdict = decide(contract, slis, runs, now=at)
    assert verdict.ready, [r.message for r in verdict.reasons]
    assert verdict.reference_day == dt.date(2026, 11, 20)
    # A scheduled run of the same day would not be visible before 2026-11-21 06:00.
    scheduled = decide(contract, slis, runs.with_columns(kind=pl.lit("scheduled")), now=at)
    assert "evidence_missing" in _codes(scheduled, Severity.BLOCK)


def test_each_reason_links_its_incident_class_runbook_and_the_contract_may_override_one() -> None:
    # accuracy (quality regression) exhausts its budget, completeness (null burst) breaches
    # today; the contract points quality regressions at its own page.
    own = "https://wiki.example.com/toy/quality"
    contract = gate_contract(runbooks={"quality_regression": own})
    bad = {"accuracy": [_d(3), _d(5), _d(7)], "completeness": [_d(14)]}
    verdict = decide(
        contract, history_frame(contract, 14, bad=bad), runs_frame(contract, FRESH), now=NOW
    )
    runbooks = {(r.code, r.slo): r.runbook for r in verdict.reasons}
    assert runbooks[("model_budget_exhausted", "accuracy")] == own
    assert runbooks[("blocking_breach", "completeness")] == "docs/runbooks/null_burst.md"
    for reason in verdict.reasons:
        assert f"runbook: {reason.runbook}" in reason.message
    # The verdict still names the model's own runbook (the contract check needs one).
    assert verdict.runbook == contract.runbook


def test_a_contract_reason_without_incident_class_keeps_the_models_runbook() -> None:
    contract = gate_contract(slos={"model": {"accuracy": {"objective": 0.9}}})
    verdict = decide(contract, history_frame(contract, 3), runs_frame(contract, FRESH), now=NOW)
    reason = next(r for r in verdict.reasons if r.code == "contract_no_infra_slo")
    assert reason.runbook == contract.runbook == "https://runbooks.example.com/toy"


def _crashed_run(contract: Contract, day: int, finished: dt.datetime) -> pl.DataFrame:
    crashed = runs_frame(contract, [finished], status="crashed", n_labels=None)
    return crashed.with_columns(
        run_id=pl.lit(f"crash-{day}"),
        partition=pl.lit(_d(day).isoformat()),
        error=pl.lit("step quality_slis: MemoryError"),
    )


def test_a_crashed_newest_day_blocks_though_the_day_before_is_fresh_evidence() -> None:
    contract = gate_contract()
    slis = history_frame(contract, 13)
    good = _daily_runs(contract, 1, 13).with_columns(error=pl.lit(None, pl.String))
    crash = _crashed_run(contract, 14, dt.datetime(2026, 11, 15, 7, 0, tzinfo=dt.UTC))
    assert decide(contract, slis, good, now=NOW).ready  # day 13: 30 h old, within 36 h
    verdict = decide(contract, slis, pl.concat([good, crash]), now=NOW)
    assert not verdict.ready
    assert _codes(verdict) == ["run_crashed"]  # the crash says no labels: not "overdue"
    reason = verdict.reasons[0]
    assert reason.check == CheckName.EVIDENCE_FRESH and reason.days == ("2026-11-14",)
    assert "step quality_slis: MemoryError" in reason.message
    assert reason.runbook is not None and reason.runbook.endswith("crashed_run.md")
    # Not waivable: it is about the evidence, not one SLO; waiving every SLO changes nothing.
    waivers = [
        Waiver(model=contract.model, slo=slo, reason="x", expires=_d(20))
        for slo in (*contract.slos.infra, *contract.slos.model, "run_crashed")
    ]
    waived = decide(contract, slis, pl.concat([good, crash]), now=NOW, waivers=waivers)
    assert not waived.ready and _codes(waived, Severity.BLOCK) == ["run_crashed"]


def test_a_crash_that_a_later_run_of_the_day_or_a_newer_day_followed_does_not_block() -> None:
    contract = gate_contract()
    slis = history_frame(contract, 14)
    good = _daily_runs(contract, 1, 14).with_columns(error=pl.lit(None, pl.String))
    before_the_rerun = _crashed_run(contract, 14, dt.datetime(2026, 11, 15, 6, 30, tzinfo=dt.UTC))
    # A crashed restatement of day 10, whose labels were due by NOW: its record says
    # nothing of the labels, so day 10's are not "overdue" either.
    older_day = _crashed_run(contract, 10, dt.datetime(2026, 11, 14, 8, 0, tzinfo=dt.UTC))
    for crash in (before_the_rerun, older_day):
        verdict = decide(contract, slis, pl.concat([good, crash]), now=NOW)
        assert verdict.ready and "run_crashed" not in _codes(verdict)


def test_a_crash_without_a_finish_time_is_as_new_as_its_start() -> None:
    """A crash record with no ``finished_at`` sorted oldest: a re-run of the newest day
    that crashed after its good run was never seen (READY; found by review)."""
    contract = gate_contract()
    slis = history_frame(contract, 14)
    good = _daily_runs(contract, 1, 14).with_columns(
        error=pl.lit(None, pl.String), started_at=pl.col("finished_at") - dt.timedelta(minutes=5)
    )
    crash = _crashed_run(contract, 14, dt.datetime(2026, 11, 15, 9, 0, tzinfo=dt.UTC))
    crash = crash.with_columns(
        started_at=pl.col("finished_at"), finished_at=pl.lit(None, pl.Datetime("us", "UTC"))
    )
    verdict = decide(contract, slis, pl.concat([good, crash], how="diagonal_relaxed"), now=NOW)
    assert _codes(verdict, Severity.BLOCK) == ["run_crashed"]
    # Started before the good run finished: the good run is the newest.
    earlier = crash.with_columns(started_at=pl.lit(dt.datetime(2026, 11, 15, 6, 0, tzinfo=dt.UTC)))
    verdict = decide(contract, slis, pl.concat([good, earlier], how="diagonal_relaxed"), now=NOW)
    assert verdict.ready


def test_a_newest_day_whose_inputs_could_not_be_read_blocks_whatever_the_contract_declares() -> (
    None
):
    # The toy declares no blocking ingest_ok: the failed day's rows breach nothing blocking,
    # and the day before is fresh evidence; the day itself has none.
    contract = gate_contract()
    slis = history_frame(contract, 13)
    good = _daily_runs(contract, 1, 13).with_columns(error=pl.lit(None, pl.String))
    failed = _crashed_run(contract, 14, dt.datetime(2026, 11, 15, 7, 0, tzinfo=dt.UTC))
    failed = failed.with_columns(
        status=pl.lit("failed"), error=pl.lit("predictions: no file matches p/2026-11-14.parquet")
    )
    verdict = decide(contract, slis, pl.concat([good, failed]), now=NOW)
    assert not verdict.ready
    assert "run_failed" in _codes(verdict, Severity.BLOCK)
    reason = next(r for r in verdict.reasons if r.code == "run_failed")
    assert reason.check == CheckName.EVIDENCE_FRESH and reason.days == ("2026-11-14",)
    assert "could not read its inputs" in reason.message and "no file matches" in reason.message
    assert reason.runbook is not None and reason.runbook.endswith("missing_snapshot.md")
    waivers = [
        Waiver(model=contract.model, slo=slo, reason="x", expires=_d(20))
        for slo in (*contract.slos.infra, *contract.slos.model, "ingest_ok")
    ]
    waived = decide(contract, slis, pl.concat([good, failed]), now=NOW, waivers=waivers)
    assert "run_failed" in _codes(waived, Severity.BLOCK)
    # A later run of the day that read its inputs clears it.
    rerun = _daily_runs(contract, 14, 14).with_columns(
        error=pl.lit(None, pl.String),
        finished_at=pl.lit(dt.datetime(2026, 11, 15, 8, 0, tzinfo=dt.UTC)),
    )
    later = decide(contract, history_frame(contract, 14), pl.concat([good, failed, rerun]), now=NOW)
    assert "run_failed" not in _codes(later)


def test_a_run_that_started_before_its_day_ended_is_not_the_whole_days_evidence() -> None:
    contract = gate_contract()
    slis = history_frame(contract, 14)
    runs = _daily_runs(contract, 1, 14)
    started = runs["finished_at"] - dt.timedelta(minutes=5)
    assert decide(contract, slis, runs.with_columns(started_at=started), now=NOW).ready
    # Day 14's run started at 20:00 that day (UTC, the toy's timezone), then day 10 was run
    # early too: both saw part of their day at most.
    early = pl.col("partition").is_in([_d(10).isoformat(), _d(14).isoformat()])
    at = pl.col("partition").str.to_datetime("%Y-%m-%d", time_zone="UTC") + pl.duration(hours=20)
    partial = runs.with_columns(started_at=pl.when(early).then(at).otherwise(started))
    verdict = decide(contract, slis, partial, now=NOW)
    assert not verdict.ready
    reason = next(r for r in verdict.reasons if r.code == "run_before_day_end")
    assert reason.check == CheckName.EVIDENCE_FRESH and reason.days == ("2026-11-10", "2026-11-14")
    assert "2026-11-14 (run started 2026-11-14T20:00:00+00:00, the day ended 2026-11-15" in (
        reason.message
    )
    assert [(r["partition"], r["started_at"]) for r in reason.evidence] == [
        ("2026-11-10", "2026-11-10T20:00:00+00:00"),
        ("2026-11-14", "2026-11-14T20:00:00+00:00"),
    ]
    capped = decide(contract, slis, partial, now=NOW, options=GateOptions(max_evidence_rows=1))
    few = next(r for r in capped.reasons if r.code == "run_before_day_end")
    assert len(few.evidence) == 1 and few.evidence_truncated
    # A later run of the day, started after it ended, replaces the partial one; a
    # candidate evaluation has no day to wait for.
    rerun = partial.filter(pl.col("partition") == _d(14).isoformat()).with_columns(
        run_id=pl.lit("rerun"),
        started_at=pl.lit(dt.datetime(2026, 11, 15, 8, tzinfo=dt.UTC)),
        finished_at=pl.lit(dt.datetime(2026, 11, 15, 8, 5, tzinfo=dt.UTC)),
    )
    fixed = decide(contract, slis, pl.concat([partial, rerun]), now=NOW)
    assert next(r for r in fixed.reasons if r.code == "run_before_day_end").days == ("2026-11-10",)
    candidate = partial.with_columns(kind=pl.lit("candidate"))
    assert "run_before_day_end" not in _codes(decide(contract, slis, candidate, now=NOW))
    # A re-run that could not read its inputs (started after the day) replaces it too.
    failed_rerun = rerun.with_columns(status=pl.lit("failed"))
    after_failure = decide(contract, slis, pl.concat([partial, failed_rerun]), now=NOW)
    early_days = next(r for r in after_failure.reasons if r.code == "run_before_day_end").days
    assert early_days == ("2026-11-10",)
    # Only the budget window counts: day 10 is outside a 3-day window.
    narrow = decide(contract, slis, partial, now=NOW, options=GateOptions(window_days=3))
    assert next(r for r in narrow.reasons if r.code == "run_before_day_end").days == ("2026-11-14",)
    # The day ends in the timezone the run recorded (Tokyo: 15:00 UTC the same date), not
    # in one the contract was changed to since (that is contract_changed).
    tokyo = partial.with_columns(timezone=pl.lit("Asia/Tokyo"))
    judged = decide(contract, slis, tokyo, now=NOW)
    assert "run_before_day_end" not in _codes(judged)  # 20:00 UTC is after 15:00 UTC


def test_days_of_the_window_no_run_recorded_block_though_every_run_day_is_good() -> None:
    contract = gate_contract()
    slis = history_frame(contract, 14)
    gap = _daily_runs(contract, 1, 14).filter(
        ~pl.col("partition").is_in([_d(d).isoformat() for d in (11, 12, 13)])
    )
    assert decide(contract, slis, _daily_runs(contract, 1, 14), now=NOW).ready
    run_days = slis.filter(pl.col("partition").is_in(gap["partition"].to_list()))
    verdict = decide(contract, run_days, gap, now=NOW)
    assert not verdict.ready
    reason = next(r for r in verdict.reasons if r.code == "days_missing")
    assert reason.check == CheckName.EVIDENCE_FRESH
    assert reason.days == ("2026-11-11", "2026-11-12", "2026-11-13")
    assert "2026-11-11, 2026-11-12, 2026-11-13 inside the 28-day budget window" in reason.message
    assert reason.runbook is not None and reason.runbook.endswith("missing_snapshot.md")
    # A day whose only run crashed recorded nothing either; a failed ingest is a record.
    crashed = _crashed_run(contract, 12, dt.datetime(2026, 11, 13, 7, tzinfo=dt.UTC))
    failed = _daily_runs(contract, 11, 11, status="failed")
    with_records = decide(contract, slis, pl.concat([gap, crashed, failed], how="diagonal"),
                          now=NOW)  # fmt: skip
    missing = next(r for r in with_records.reasons if r.code == "days_missing")
    assert missing.days == ("2026-11-12", "2026-11-13")
    # ... and says it crashed, not that it never ran (found by a new user).
    assert "(2026-11-12 only crashed: runs.error says why; fix that first)" in missing.message
    # Days before the version's first run, or outside the window, are not missing.
    late_start = _daily_runs(contract, 10, 14)
    assert "days_missing" not in _codes(decide(contract, slis, late_start, now=NOW))
    narrow = GateOptions(window_days=1)
    assert "days_missing" not in _codes(decide(contract, slis, gap, now=NOW, options=narrow))


def test_a_schedule_changed_since_the_newest_run_blocks_until_a_rerun() -> None:
    contract = gate_contract()
    slis = history_frame(contract, 14)
    recorded = _daily_runs(contract, 1, 14).with_columns(
        evaluation_delay_hours=pl.lit(6.0), timezone=pl.lit("UTC")
    )
    assert decide(contract, slis, recorded, now=NOW).ready
    # A longer evaluation delay would make old evidence look fresh: 16 days later, the
    # day-14 evidence is stale under the recorded schedule and "fresh" under this one.
    later = NOW + dt.timedelta(days=16)
    delayed = gate_contract(schedule={"evaluation_delay_hours": 397, "timezone": "UTC"})
    verdict = decide(delayed, slis, recorded, now=later)
    assert not verdict.ready
    reason = next(r for r in verdict.reasons if r.code == "contract_changed")
    assert "schedule evaluation_delay_hours 6 -> 397" in reason.message
    moved = gate_contract(schedule={"timezone": "Europe/Berlin"})
    assert "schedule timezone UTC -> Europe/Berlin" in " ".join(
        r.message for r in decide(moved, slis, recorded, now=NOW).reasons
    )
    # Runs written before the schedule was recorded (NULL) are not judged on it.
    unknown = recorded.with_columns(evaluation_delay_hours=pl.lit(None, pl.Float64))
    assert "contract_changed" not in _codes(decide(moved, slis, unknown, now=NOW))


def test_another_versions_evidence_is_dated_by_the_schedule_its_runs_recorded() -> None:
    """The contract describes 1.5.0 with a 30 h delay; 1.4.0 ran with 6 h. Dated by the
    contract, 1.4.0's 38-hour-old evidence looked 14 h old (READY; found by review)."""
    served = gate_contract(version="1.4.0")
    slis = history_frame(served, 14)
    recorded = _daily_runs(served, 1, 14).with_columns(
        evaluation_delay_hours=pl.lit(6.0), timezone=pl.lit("UTC")
    )
    later = dt.datetime(2026, 11, 16, 20, 0, tzinfo=dt.UTC)  # day 14 + 6 h: 38 h ago
    assert "evidence_stale" in _codes(decide(served, slis, recorded, now=later))
    next_version = gate_contract(
        version="1.5.0", schedule={"evaluation_delay_hours": 30, "timezone": "UTC"}
    )
    verdict = decide(next_version, slis, recorded, now=later, version="1.4.0")
    assert "evidence_stale" in _codes(verdict, Severity.BLOCK)
    # Runs that recorded no schedule (written before) are dated by the contract's.
    unrecorded = recorded.with_columns(evaluation_delay_hours=pl.lit(None, pl.Float64))
    verdict = decide(next_version, slis, unrecorded, now=later, version="1.4.0")
    assert "evidence_stale" not in _codes(verdict)


def test_a_candidate_evaluation_of_a_served_version_is_not_its_newest_day() -> None:
    """Recorded as a later day (``validate-candidate --day 2026-12-31``), a good evaluation
    became the served version's newest partition and hid its stale evidence (review)."""
    contract = gate_contract()
    slis = history_frame(contract, 14)
    served = _daily_runs(contract, 1, 14).with_columns(kind=pl.lit("scheduled"))
    later = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
    assert "evidence_stale" in _codes(decide(contract, slis, served, now=later))
    evaluation = runs_frame(contract, [dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)]).with_columns(
        run_id=pl.lit("candidate-1"), partition=pl.lit("2026-12-31"), kind=pl.lit("candidate")
    )
    with_evaluation = pl.concat([slis, history_frame(contract, 1, start=dt.date(2026, 12, 31))])
    verdict = decide(contract, with_evaluation, pl.concat([served, evaluation]), now=later)
    assert "evidence_stale" in _codes(verdict, Severity.BLOCK)
    assert verdict.reference_day == _d(14)


def test_measuring_settings_changed_since_the_newest_run_block_until_a_rerun() -> None:
    contract = gate_contract()
    slis = history_frame(contract, 14)
    recorded = _daily_runs(contract, 1, 14).with_columns(
        measured_under=pl.lit(measured_settings(contract))
    )
    assert decide(contract, slis, recorded, now=NOW).ready
    # Tightened since: a bound (schema validity) and the labelled rows a score needs.
    body = gate_contract_dict()
    features = {**body["features"], "x": {**body["features"]["x"], "max": 5}}
    tightened = gate_contract(features=features, min_labelled_rows=1000)
    verdict = decide(tightened, slis, recorded, now=NOW)
    assert not verdict.ready
    reason = next(r for r in verdict.reasons if r.code == "contract_changed")
    assert reason.check == CheckName.EVIDENCE_FRESH and reason.severity == Severity.BLOCK
    assert "features.x.max 20 -> 5; min_labelled_rows default -> 1000" in reason.message
    (run,) = reason.evidence  # the newest day's run, judged under the old settings
    assert run["partition"] == "2026-11-14" and run["status"] == "succeeded"
    # Every day of the window was measured under the old settings: all are re-run.
    assert reason.days == tuple(d.isoformat() for d in days(14))
    assert "`datasre run --model toy --all`" in reason.message

    def rerun(*which: int) -> pl.DataFrame:
        again = recorded.filter(pl.col("partition").is_in([_d(i).isoformat() for i in which]))
        return again.with_columns(
            run_id=pl.lit("rerun-") + pl.col("partition"),
            finished_at=pl.lit(dt.datetime(2026, 11, 15, 9, tzinfo=dt.UTC)),
            measured_under=pl.lit(measured_settings(tightened)),
        )

    # The newest day re-run: the other days keep verdicts of the old settings.
    verdict = decide(tightened, slis, pl.concat([recorded, rerun(14)]), now=NOW)
    reason = next(r for r in verdict.reasons if r.code == "contract_changed")
    assert reason.days == tuple(d.isoformat() for d in days(13))
    assert "2026-11-12, 2026-11-13 (13 days) measured under other settings" in reason.message
    # Every day re-run records the settings in force: judged by them now.
    after = decide(tightened, slis, pl.concat([recorded, rerun(*range(1, 15))]), now=NOW)
    assert "contract_changed" not in _codes(after)
    # Runs written before the settings were recorded (NULL) are not judged on them.
    unknown = recorded.with_columns(measured_under=pl.lit(None, pl.String))
    assert "contract_changed" not in _codes(decide(tightened, slis, unknown, now=NOW))


def test_a_candidate_whose_contract_changed_is_evaluated_again_not_run_as_served() -> None:
    contract = gate_contract()
    runs = runs_frame(contract, FRESH).with_columns(kind=pl.lit("candidate"))
    recorded = slo_definitions_frame(contract)
    model = contract.slos.model_dump()["model"]
    changed = gate_contract(
        slos={**contract.slos.model_dump(), "model": {
            **model, "accuracy": {**model["accuracy"], "objective": 0.99},
        }}
    )  # fmt: skip
    verdict = decide(changed, history_frame(contract, 1), runs, now=NOW, definitions=recorded)
    reason = next(r for r in verdict.reasons if r.code == "contract_changed")
    assert "`datasre validate-candidate --model toy --version 1.0.0" in reason.message
    assert "datasre run --model" not in reason.message
