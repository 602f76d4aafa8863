"""Budget arithmetic, burn rates and alert levels of checks.slo, with hand-computed values.

Table tests in the style of Sloth: each case's id is the sentence it proves.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from checks.contract import ModelType
from checks.slo import (
    AlertLevel,
    AlertPolicy,
    DayStatus,
    ErrorBudget,
    SloDefinition,
    alert_level,
    apply_slo_defaults,
    as_definitions,
    budget_arithmetic,
    burn_rate,
    default_slos,
    error_budget_frame,
    error_budgets,
    evaluate_partitions,
)
from tests.gate_fixtures import DAY0, gate_contract, history_frame


@dataclass(frozen=True)
class BudgetCase:
    name: str
    good: int
    bad: int
    target: float
    budget: float
    consumed_fraction: float | None
    remaining: float
    remaining_fraction: float | None
    exhausted: bool


BUDGET_CASES = [
    BudgetCase("a clean window keeps the whole budget", 28, 0, 0.9, 2.8, 0.0, 2.8, 1.0, False),
    BudgetCase(
        "one bad day in 28 at target 0.9 spends 1/2.8 of the budget",
        27, 1, 0.9, 2.8, 1 / 2.8, 1.8, 1 - 1 / 2.8, False,
    ),
    BudgetCase(
        "spending exactly the budget still meets the SLO and is not exhaustion",
        9, 1, 0.9, 1.0, 1.0, 0.0, 0.0, False,
    ),
    BudgetCase(
        "three bad days in 28 at target 0.9 exhaust the 2.8-day budget",
        25, 3, 0.9, 2.8, 3 / 2.8, -0.2, 1 - 3 / 2.8, True,
    ),
    BudgetCase(
        "five bad days in 14 at target 0.9 overspend the budget 3.6 times",
        9, 5, 0.9, 1.4, 5 / 1.4, -3.6, 1 - 5 / 1.4, True,
    ),
    BudgetCase(
        "target 0.95 over 28 days allows 1.4 bad days, so two exhaust it",
        26, 2, 0.95, 1.4, 2 / 1.4, -0.6, 1 - 2 / 1.4, True,
    ),
    BudgetCase(
        "a target of 1 leaves no budget, so one bad day exhausts it",
        9, 1, 1.0, 0.0, None, -1.0, None, True,
    ),
    BudgetCase(
        "a target of 1 with no bad day is not exhausted", 10, 0, 1.0, 0.0, None, 0.0, None, False
    ),
    BudgetCase(
        "no evaluation gives no budget and nothing to exhaust",
        0, 0, 0.9, 0.0, None, 0.0, None, False,
    ),
]  # fmt: skip


@pytest.mark.parametrize("case", BUDGET_CASES, ids=[c.name for c in BUDGET_CASES])
def test_budget_arithmetic(case: BudgetCase) -> None:
    result = budget_arithmetic(case.good, case.bad, case.target)
    assert result.evaluations == case.good + case.bad
    assert result.budget == pytest.approx(case.budget)
    assert result.remaining == pytest.approx(case.remaining)
    for got, want in (
        (result.consumed_fraction, case.consumed_fraction),
        (result.remaining_fraction, case.remaining_fraction),
    ):
        assert (got is None) == (want is None)
        if want is not None:
            assert got == pytest.approx(want)
    assert result.exhausted is case.exhausted


@pytest.mark.parametrize(
    ("good", "bad", "target", "message"),
    [(-1, 0, 0.9, "non-negative"), (1, 0, 0.0, "target"), (1, 0, 1.5, "target")],
    ids=["negative counts are refused", "target 0 is refused", "target above 1 is refused"],
)
def test_budget_arithmetic_refuses_bad_input(good: int, bad: int, target: float, message: str):
    with pytest.raises(ValueError, match=message):
        budget_arithmetic(good, bad, target)


@given(
    good=st.integers(0, 400),
    bad=st.integers(0, 400),
    target=st.sampled_from([0.5, 0.8, 0.9, 0.95, 0.99, 0.999, 1.0]),
)
def test_exhausted_means_the_slo_is_missed_over_the_window(good: int, bad: int, target: float):
    result = budget_arithmetic(good, bad, target)
    assert result.remaining == pytest.approx(result.budget - bad)
    if good + bad == 0:
        assert not result.exhausted
    else:
        # Exhausted exactly when the good share is below the target (beyond float noise).
        assert result.exhausted == (good / (good + bad) < target - 1e-9)


BURN_CASES = [
    ("a bad newest day at target 0.9 burns at 10", 1, 1, 0.9, 10.0),
    ("a good newest day burns at 0", 0, 1, 0.9, 0.0),
    ("one bad day in seven at target 0.9 burns at 1/0.7", 1, 7, 0.9, 1 / 0.7),
    ("two bad days in seven at target 0.99 burn at 28.6", 2, 7, 0.99, 2 / 7 / 0.01),
    ("a window without evaluations has no burn rate", 0, 0, 0.9, None),
    ("at target 1 a bad day burns infinitely fast", 1, 3, 1.0, math.inf),
    ("at target 1 a clean window burns at 0", 0, 3, 1.0, 0.0),
]


@pytest.mark.parametrize(("name", "bad", "evaluations", "target", "want"), BURN_CASES,
                         ids=[c[0] for c in BURN_CASES])  # fmt: skip
def test_burn_rate(name: str, bad: int, evaluations: int, target: float, want: float | None):
    got = burn_rate(bad, evaluations, target)
    if want is None:
        assert got is None
    else:
        assert got == pytest.approx(want)


ALERT_CASES = [
    ("two bad days in the week, today included, page at target 0.9", 10.0, 2 / 0.7, "page"),
    ("one bad day today at target 0.9 opens a ticket", 10.0, 1 / 0.7, "ticket"),
    ("a burn that stopped today does not alert", 0.0, 3 / 0.7, "none"),
    ("both windows exactly at 2 page (thresholds are inclusive)", 2.0, 2.0, "page"),
    ("both windows exactly at 1 open a ticket", 1.0, 1.0, "ticket"),
    ("a fast short burn over a slow week only opens a ticket", 10.0, 1.5, "ticket"),
    ("a slow burn below 1 does not alert", 0.9, 0.9, "none"),
    ("no evaluation in a window never alerts", None, 3.0, "none"),
]


@pytest.mark.parametrize(("name", "short", "long", "level"), ALERT_CASES,
                         ids=[c[0] for c in ALERT_CASES])  # fmt: skip
def test_alert_level(name: str, short: float | None, long: float | None, level: str) -> None:
    assert alert_level(short, long) == AlertLevel(level)


def test_alert_policy_defaults_are_the_documented_daily_adaptation() -> None:
    # The SQL views hard-code these numbers (assets/store/slo_views.py).
    policy = AlertPolicy()
    assert (policy.short_window_days, policy.long_window_days) == (1, 7)
    assert (policy.page_burn_rate, policy.ticket_burn_rate) == (2.0, 1.0)
    with pytest.raises(ValueError):
        AlertPolicy(short_window_days=8)
    with pytest.raises(ValueError):
        AlertPolicy(ticket_burn_rate=3.0)


# --- evaluations -------------------------------------------------------------------------


def _rows(records: list[tuple[str, str, bool | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "model": ["m"] * len(records),
            "model_version": ["1"] * len(records),
            "partition": [r[0] for r in records],
            "sli": [r[1] for r in records],
            "ok": [r[2] for r in records],
        },
        schema={
            "model": pl.String,
            "model_version": pl.String,
            "partition": pl.String,
            "sli": pl.String,
            "ok": pl.Boolean,
        },
    )


def _definition(sli: str, target: float = 0.9, window_days: int = 28) -> SloDefinition:
    return SloDefinition("model", sli, 0.05, "<=", target, blocking=False, window_days=window_days)


def test_a_day_is_good_bad_or_not_evaluated() -> None:
    rows = _rows(
        [
            ("2026-11-01", "null_rate", True),
            ("2026-11-01", "null_rate", True),
            ("2026-11-02", "null_rate", True),
            ("2026-11-02", "null_rate", False),  # one breached feature makes the day bad
            ("2026-11-03", "null_rate", None),  # insufficient data: not judged
            ("2026-11-04", "accuracy", False),  # another SLI's breach does not count
        ]
    )
    out = evaluate_partitions(rows, [_definition("null_rate")])
    assert out["partition"].to_list() == ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"]
    assert out["status"].to_list() == ["good", "bad", "not_evaluated", "not_evaluated"]
    assert out["judged_rows"].to_list() == [2, 2, 0, 0]
    assert out["bad_rows"].to_list() == [0, 1, 0, 0]
    assert out["day"][0] == dt.date(2026, 11, 1)


def test_definitions_of_another_model_are_not_applied() -> None:
    rows = _rows([("2026-11-01", "null_rate", False)])
    other = SloDefinition("model", "null_rate", 0.05, "<=", 0.9, False, 28, model="other")
    assert evaluate_partitions(rows, [other]).height == 0


def test_definitions_come_from_a_contract_or_a_slo_definitions_frame() -> None:
    contract = gate_contract()
    from_contract = as_definitions(contract)
    assert {(d.track, d.sli) for d in from_contract} == {
        ("infra", "latency_p99_ms"),
        ("model", "ingest_ok"),
        ("model", "completeness"),
        ("model", "accuracy"),
        ("model", "unseen_category_rate"),  # built in: the model has categorical features
        ("model", "clock_skew_seconds"),  # built in for every model
    }
    from checks.sli import slo_definitions_frame

    from_frame = as_definitions(slo_definitions_frame(contract))
    assert sorted(d.sli for d in from_frame) == sorted(d.sli for d in from_contract)
    assert all(d.window_days == 28 for d in from_frame)


# --- budgets over a history --------------------------------------------------------------


def _budget(budgets: list[ErrorBudget], slo: str) -> ErrorBudget:
    return next(b for b in budgets if b.slo == slo)


def _d(day: int) -> dt.date:
    return DAY0 + dt.timedelta(days=day - 1)


def test_ten_days_with_three_bad_accuracy_days_exhaust_the_budget_and_page() -> None:
    contract = gate_contract()
    slis = history_frame(contract, 10, bad={"accuracy": [_d(4), _d(9), _d(10)]})
    accuracy = _budget(error_budgets(slis, contract), "accuracy")
    # 10 evaluations, budget (1 - 0.9) x 10 = 1 bad day; 3 spent.
    assert (accuracy.evaluations, accuracy.good, accuracy.bad) == (10, 7, 3)
    assert accuracy.budget == pytest.approx(1.0)
    assert accuracy.remaining == pytest.approx(-2.0)
    assert accuracy.remaining_fraction == pytest.approx(-2.0)
    assert accuracy.exhausted
    # Short window: 11-10 is bad, 1/1/0.1 = 10; long: 11-04..11-10 has 3 bad of 7.
    assert accuracy.burn_rate_short == pytest.approx(10.0)
    assert accuracy.burn_rate_long == pytest.approx(3 / 7 / 0.1)
    assert accuracy.alert_level == AlertLevel.PAGE
    assert accuracy.bad_days == ("2026-11-04", "2026-11-09", "2026-11-10")
    assert accuracy.breach_started == _d(9)
    assert accuracy.state == "exhausted"
    assert accuracy.reference_day == _d(10)
    assert accuracy.window_start == _d(10) - dt.timedelta(days=27)
    assert accuracy.latest_status == DayStatus.BAD
    completeness = _budget(error_budgets(slis, contract), "completeness")
    assert (completeness.bad, completeness.exhausted, completeness.state) == (0, False, "ok")
    assert completeness.remaining_fraction == pytest.approx(1.0)


def test_an_earlier_reference_day_ends_the_windows_there() -> None:
    contract = gate_contract()
    slis = history_frame(contract, 10, bad={"accuracy": [_d(4), _d(9), _d(10)]})
    accuracy = _budget(error_budgets(slis, contract, reference_day=_d(8)), "accuracy")
    # 11-01..11-08: 8 evaluations, 1 bad > budget 0.8.
    assert (accuracy.evaluations, accuracy.bad) == (8, 1)
    assert accuracy.exhausted
    assert accuracy.burn_rate_short == 0.0
    assert accuracy.burn_rate_long == pytest.approx(1 / 7 / 0.1)
    assert accuracy.alert_level == AlertLevel.NONE  # the burn stopped
    assert accuracy.breach_started is None
    assert accuracy.state == "exhausted"


def test_a_shorter_window_forgets_older_bad_days() -> None:
    contract = gate_contract()
    slis = history_frame(contract, 10, bad={"accuracy": [_d(1), _d(2), _d(3)]})
    accuracy = _budget(error_budgets(slis, contract, window_days=5), "accuracy")
    assert (accuracy.evaluations, accuracy.bad, accuracy.exhausted) == (5, 0, False)
    assert accuracy.window_start == _d(6)


def test_days_without_labels_neither_spend_nor_earn_budget() -> None:
    contract = gate_contract()
    slis = history_frame(
        contract, 10, bad={"accuracy": [_d(4)]}, unjudged={"accuracy": days_range(5, 10)}
    )
    accuracy = _budget(error_budgets(slis, contract), "accuracy")
    # 4 evaluations (11-01..11-04), budget 0.4, 1 bad: exhausted; newest day not evaluated.
    assert (accuracy.evaluations, accuracy.bad) == (4, 1)
    assert accuracy.budget == pytest.approx(0.4)
    assert accuracy.exhausted
    assert accuracy.burn_rate_short is None
    assert accuracy.alert_level == AlertLevel.NONE
    assert accuracy.latest_status == DayStatus.NOT_EVALUATED
    # The breach that began on 11-04 is still open: no good day since, only unjudged ones.
    assert accuracy.breach_started == _d(4)


def days_range(first: int, last: int) -> list[dt.date]:
    return [_d(i) for i in range(first, last + 1)]


def test_one_bad_day_today_opens_a_ticket_but_keeps_budget() -> None:
    contract = gate_contract()
    slis = history_frame(contract, 28, bad={"accuracy": [_d(28)]})
    accuracy = _budget(error_budgets(slis, contract), "accuracy")
    assert accuracy.budget == pytest.approx(2.8)
    assert accuracy.remaining_fraction == pytest.approx(1 - 1 / 2.8)
    assert not accuracy.exhausted
    assert accuracy.alert_level == AlertLevel.TICKET
    assert accuracy.state == "breached"


def test_error_budget_frame_has_one_row_per_slo() -> None:
    contract = gate_contract()
    slis = history_frame(contract, 3)
    frame = error_budget_frame(error_budgets(slis, contract))
    assert frame.height == 6  # 4 declared + the built-in unseen_category_rate, clock skew
    assert frame.filter(pl.col("slo") == "accuracy")["evaluations"].item() == 3
    assert set(frame["state"]) == {"ok"}


def test_error_budgets_of_empty_rows_are_empty() -> None:
    contract = gate_contract()
    assert error_budgets(history_frame(contract, 1).head(0), contract) == []


# --- templates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model_type", "quality", "objective"),
    [
        (ModelType.CLASSIFICATION, "accuracy", 0.94),
        (ModelType.REGRESSION, "rmse", 0.15),
        (ModelType.RANKING, "ndcg", 0.8),
    ],
    ids=[
        "classification models get accuracy 0.94",
        "regression models get RMSE 0.15",
        "ranking models get NDCG 0.8",
    ],
)
def test_default_slos_by_model_type(model_type: ModelType, quality: str, objective: float):
    slos = default_slos(model_type, tier=2)
    assert slos.model[quality].objective == objective
    assert slos.model["completeness"].objective == 0.99
    assert slos.model["data_staleness_seconds"].objective == 36 * 3600
    assert slos.infra["latency_p99_ms"].objective == 100
    assert ("confidence_p50" in slos.model) is (model_type == ModelType.CLASSIFICATION)
    assert all(spec.target == 0.9 for spec in [*slos.model.values(), *slos.infra.values()])


def test_tier_one_is_stricter_and_blocks_on_quality() -> None:
    tier1 = default_slos("classification", tier=1)
    tier3 = default_slos("classification", tier=3)
    assert tier1.model["accuracy"].target == 0.95 and tier1.model["accuracy"].blocking
    assert tier3.model["accuracy"].target == 0.8 and not tier3.model["accuracy"].blocking
    assert tier1.model["confidence_p50"].objective == 0.8
    with pytest.raises(ValueError, match="tier"):
        default_slos("classification", tier=4)


def test_a_contract_overrides_the_templates() -> None:
    contract = gate_contract()  # declares accuracy 0.94 target 0.9, no confidence_p50
    merged = apply_slo_defaults(contract)
    assert merged.slos.model["accuracy"] == contract.slos.model["accuracy"]
    assert merged.slos.model["completeness"] == contract.slos.model["completeness"]
    assert "confidence_p50" in merged.slos.model
    assert "data_staleness_seconds" in merged.slos.model
    assert merged.slos.infra["latency_p99_ms"] == contract.slos.infra["latency_p99_ms"]
    assert merged.slos.window_days == contract.slos.window_days
