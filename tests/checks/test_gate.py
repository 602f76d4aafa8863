"""The readiness review of checks.gate on hand-built histories (no database)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from checks.gate import (
    CheckName,
    CheckStatus,
    GateOptions,
    Severity,
    Verdict,
    Waiver,
    decide,
)
from checks.sli import slo_definitions_frame
from tests.gate_fixtures import DAY0, gate_contract, history_frame, runs_frame

NOW = dt.datetime(2026, 11, 15, 12, 0, tzinfo=dt.UTC)
FRESH = [dt.datetime(2026, 11, 15, 7, 0, tzinfo=dt.UTC)]


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
    assert len(verdict.budgets) == 5  # 4 declared + the built-in unseen_category_rate


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
    ],
    ids=[
        "a contract without infra SLOs blocks",
        "a contract without model SLOs blocks",
        "a contract without a runbook blocks",
        "a contract without an owner blocks",
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
    for runs in (failed_only, other_version, runs_frame(contract, [])):
        verdict = decide(contract, history_frame(contract, 3), runs, now=NOW)
        assert _codes(verdict, Severity.BLOCK) == ["evidence_missing"]


def test_evidence_older_than_36_hours_is_stale() -> None:
    contract = gate_contract()
    old = [dt.datetime(2026, 11, 13, 23, 0, tzinfo=dt.UTC)]  # 37 h before NOW
    verdict = decide(contract, history_frame(contract, 3), runs_frame(contract, old), now=NOW)
    assert _codes(verdict, Severity.BLOCK) == ["evidence_stale"]
    reason = verdict.reasons[0]
    assert "37.0 h ago" in reason.message and "36 h allowed" in reason.message
    assert contract.runbook and contract.runbook in reason.message
    relaxed = decide(
        contract,
        history_frame(contract, 3),
        runs_frame(contract, old),
        now=NOW,
        options=GateOptions(max_evidence_age_hours=48),
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
    assert "https://runbooks.example.com/toy" in reason.message
    assert reason.evidence[0]["sli"] == "completeness" and reason.evidence[0]["ok"] is False
    assert reason.evidence[0]["partition"] == "2026-11-14"


def test_a_non_blocking_breach_on_the_newest_partition_does_not_block() -> None:
    contract = gate_contract()
    slis = history_frame(contract, 28, bad={"accuracy": [_d(28)]})
    verdict = decide(contract, slis, runs_frame(contract, FRESH), now=NOW)
    assert verdict.ready
    # ...but a bad day today at target 0.9 burns fast enough for a ticket.
    assert _codes(verdict, Severity.WARN) == ["burn_rate_ticket"]
    assert _status(verdict, CheckName.MODEL_BUDGET) == CheckStatus.WARN


def test_an_old_blocking_breach_does_not_fail_the_latest_run_check() -> None:
    contract = gate_contract()
    slis = history_frame(contract, 28, bad={"completeness": [_d(3)]})
    verdict = decide(contract, slis, runs_frame(contract, FRESH), now=NOW)
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
    for text in ("accuracy", "3 bad days", "2026-11-03", "2026-11-07", "of 14 evaluated",
                 "budget 1.40 bad days", "https://runbooks.example.com/toy"):  # fmt: skip
        assert text in reason.message
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
    waiver = _waiver(dt.date(2026, 11, 20), slo="completeness")
    verdict = decide(contract, slis, runs_frame(contract, FRESH), now=NOW, waivers=[waiver])
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
    assert verdict.ready


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
