"""The gate's Markdown lists what drives a blocked verdict (``datasre explain``'s drift
ranking of the newest partition), and says nothing of it when the model is ready."""

from __future__ import annotations

import datetime as dt

from assets.weighted_drift import DayDriftRanking
from checks.explain_features import FeatureDrift
from checks.gate import decide
from pipelines.report import render, to_markdown
from tests.gate_fixtures import DAY0, gate_contract, history_frame, runs_frame

NOW = dt.datetime(2026, 11, 15, 12, 0, tzinfo=dt.UTC)
FRESH = [dt.datetime(2026, 11, 15, 7, 0, tzinfo=dt.UTC)]

RANKING = DayDriftRanking(
    features=(
        FeatureDrift("avg_amount_30d", "ks", 0.66, True, 0.01, 0.03, 0.0198),
        FeatureDrift("session_duration_s", "ks", 0.65, True, 0.0, 0.025, 0.0163),
        FeatureDrift("amount", "ks", 0.02, False, 0.4, 0.2, 0.004),
    ),
    value=0.0401,
    n_rows=2500,
    importance_source="the model's score on the day",
)


def _day(n: int) -> dt.date:
    return DAY0 + dt.timedelta(days=n - 1)


def test_a_blocked_verdict_lists_the_features_that_drive_it_largest_first() -> None:
    contract = gate_contract()
    slis = history_frame(contract, 14, bad={"completeness": [_day(13), _day(14)]})
    verdict = decide(contract, slis, runs_frame(contract, FRESH), now=NOW)
    assert not verdict.ready
    text = to_markdown(verdict, RANKING)
    assert "### What drives it (2026-11-14: importance_weighted_drift 0.0401)" in text
    first, second = text.index("avg\\_amount\\_30d"), text.index("session\\_duration\\_s")
    assert first < second < text.index("**amount**")
    assert "weighted effect 0.0198 (ks effect 0.660, importance 0.010)" in text
    assert render(verdict, "markdown", drivers=RANKING) == text
    assert "What drives it" not in to_markdown(verdict)


def test_a_ready_verdict_lists_no_drivers() -> None:
    contract = gate_contract()
    verdict = decide(contract, history_frame(contract, 14), runs_frame(contract, FRESH), now=NOW)
    assert verdict.ready
    assert "What drives it" not in to_markdown(verdict, RANKING)


def test_a_verdict_blocked_only_on_its_evidence_lists_no_drivers() -> None:
    """Stale evidence (or a crashed run) says nothing the day's drift could explain."""
    contract = gate_contract()
    stale = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
    verdict = decide(contract, history_frame(contract, 14), runs_frame(contract, FRESH), now=stale)
    assert [r.code for r in verdict.reasons if r.severity.value == "block"] == ["evidence_stale"]
    assert "What drives it" not in to_markdown(verdict, RANKING)


def test_the_summary_image_is_embedded_under_the_title_with_its_address_escaped() -> None:
    contract = gate_contract()
    verdict = decide(contract, history_frame(contract, 14), runs_frame(contract, FRESH), now=NOW)
    text = render(verdict, "markdown", image="artifacts/fraud summary (11-14).png")
    lines = text.splitlines()
    embed = "![verdict and error-budget burn-downs](artifacts/fraud%20summary%20%2811-14%29.png)"
    assert lines.index(embed) < next(i for i, line in enumerate(lines) if line.startswith("|"))
    assert "![" not in render(verdict, "markdown")
    assert "![" not in render(verdict, "text", image="x.png")


def test_a_verdict_blocked_only_on_an_slo_without_evidence_lists_no_drivers() -> None:
    """An SLO not measured lately (too few rows, a missing source) is not explained by
    the day's drift either; with a breach beside it, the drivers are listed."""
    contract = gate_contract()
    days = [_day(d) for d in range(1, 15)]
    slis = history_frame(contract, 14, unjudged={"completeness": days})
    verdict = decide(contract, slis, runs_frame(contract, FRESH), now=NOW)
    assert [r.code for r in verdict.reasons if r.severity.value == "block"] == ["no_evidence"]
    assert "What drives it" not in to_markdown(verdict, RANKING)
    slis = history_frame(
        contract, 14, unjudged={"completeness": days}, bad={"accuracy": [_day(13), _day(14)]}
    )
    breached = decide(contract, slis, runs_frame(contract, FRESH), now=NOW)
    assert "What drives it" in to_markdown(breached, RANKING)
