"""Ranking what drives a breach (``checks.explain*``), on small frames with known answers."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from checks.explain import (
    baseline_days,
    breach_streak,
    breached_slos,
    choose_slo,
    quality_metric,
    run_caveat,
    slo_evaluations,
    unjudged_on,
)
from checks.explain_changes import changed_features, changes_since, distribution_changes
from checks.explain_features import (
    UNIFORM_WEIGHT_SHARE,
    drift_effects,
    estimate_importance,
    rank_drift,
    score_importance,
)
from checks.explain_slices import slice_contributions
from tests.gate_fixtures import gate_contract


def test_the_feature_the_score_depends_on_gets_the_importance() -> None:
    rng = np.random.default_rng(1)
    n = 5000
    driver, noise = rng.normal(size=n), rng.normal(size=n)
    colour = rng.choice(["a", "b"], n)
    frame = pl.DataFrame(
        {"driver": driver, "noise": noise, "colour": colour, "score": 3 * driver + 0.1 * noise}
    )
    importance = score_importance(frame, "score", ["driver", "noise", "colour"])
    assert sum(importance.values()) == pytest.approx(1.0)
    assert importance["driver"] > 0.95
    assert importance["noise"] < 0.03 and importance["colour"] < 0.01


def test_a_text_label_in_training_stands_in_for_the_score() -> None:
    """No score on the day: the importance comes from training's label; a text label
    crashed the run (`is_not_nan` on a String column; found by a new user)."""
    rng = np.random.default_rng(3)
    n = 4000
    driver, noise = rng.normal(size=n), rng.normal(size=n)
    label = np.where(driver + 0.1 * noise > 0, "billing", "tech")
    training = pl.DataFrame({"driver": driver, "noise": noise, "queue": label})
    importance, source = estimate_importance(
        None, training, "queue", ["driver", "noise"], positive_label="billing"
    )
    assert importance["driver"] > 0.9 and source.startswith("the label in training, queue")
    numeric = training.with_columns((pl.col("queue") == "billing").cast(pl.Int64))
    same, _ = estimate_importance(None, numeric, "queue", ["driver", "noise"])
    assert same == pytest.approx(importance)


def test_a_null_group_carries_its_own_mean() -> None:
    frame = pl.DataFrame(
        {"x": [1.0, None, 1.0, None] * 50, "other": [1.0, 2.0, 3.0, 4.0] * 50,
         "score": [0.0, 1.0, 0.0, 1.0] * 50}
    )  # fmt: skip
    importance = score_importance(frame, "score", ["x", "other"])
    assert importance["x"] == pytest.approx(0.5)  # both explain everything: half each


def test_drift_is_ranked_by_importance_weighted_effect() -> None:
    effects = pl.DataFrame(
        {"feature": ["big_unused", "small_used", "quiet"], "method": ["ks", "ks", "chi2"],
         "effect": [0.6, 0.05, 0.01]}
    )  # fmt: skip
    importance = {"big_unused": 0.0, "small_used": 0.9, "quiet": 0.1}
    ranked, weighted = rank_drift(effects, importance, {"big_unused": True})
    assert [r.feature for r in ranked] == ["big_unused", "small_used", "quiet"]
    uniform = UNIFORM_WEIGHT_SHARE / 3
    assert ranked[0].weight == pytest.approx(uniform)
    assert ranked[1].weight == pytest.approx(uniform + 0.5 * 0.9)
    assert weighted == pytest.approx(sum(r.weight * r.effect for r in ranked))
    assert ranked[0].drifted and not ranked[1].drifted


def _rows(days: dict[str, list[bool | None]], sli: str = "accuracy") -> pl.DataFrame:
    return pl.DataFrame(
        [{"partition": d, "sli": sli, "ok": ok} for d, oks in days.items() for ok in oks],
        schema={"partition": pl.String, "sli": pl.String, "ok": pl.Boolean},
    )


def test_the_breach_streak_starts_after_the_last_good_day_and_skips_unevaluated_days() -> None:
    slis = _rows(
        {"11-01": [True], "11-02": [False], "11-03": [True], "11-04": [False],
         "11-05": [None], "11-06": [False, True], "11-07": [None]}
    )  # fmt: skip
    evaluations = slo_evaluations(slis, "accuracy")
    streak = breach_streak(evaluations, "11-07", "accuracy")
    assert streak is not None
    assert (streak.first_day, streak.last_day, streak.days) == ("11-04", "11-06", 2)
    assert breach_streak(evaluations, "11-03", "accuracy") is None
    assert baseline_days(evaluations, "11-04") == ["11-01", "11-03"]


def test_a_day_without_a_verdict_says_why_not_that_it_passed() -> None:
    slis = pl.DataFrame(
        {
            "partition": ["11-01", "11-02", "11-02", "11-03"],
            "sli": ["accuracy"] * 4,
            "feature": [None] * 4,
            "slice": [None, None, "DE", None],
            "ok": [True, None, None, False],
            "status": ["ok", "insufficient_data", "insufficient_data", "ok"],
            "detail": [None, "20 labelled rows, fewer than min_labelled_rows (30)", None, None],
        }
    )
    assert unjudged_on(slis, "accuracy", "11-01") is None
    assert unjudged_on(slis, "accuracy", "11-03") is None  # a breach is a verdict
    why = unjudged_on(slis, "accuracy", "11-02")
    assert why is not None and why.status == "insufficient_data"
    assert why.detail == "20 labelled rows, fewer than min_labelled_rows (30)"
    none = unjudged_on(slis, "roc_auc", "11-02")
    assert none is not None and (none.status, none.detail) == ("no row", None)


def _run(status: str, started: dt.datetime, **more: object) -> dict[str, object]:
    return {"partition": "2026-11-14", "status": status, "started_at": started,
            "finished_at": started + dt.timedelta(minutes=5), "error": None, "kind": "scheduled",
            "timezone": None, **more}  # fmt: skip


def test_the_days_newest_run_is_named_when_it_undermines_the_rows() -> None:
    contract = gate_contract()  # UTC: 2026-11-14 ends at 2026-11-15 00:00 UTC
    after = dt.datetime(2026, 11, 15, 7, tzinfo=dt.UTC)
    before = dt.datetime(2026, 11, 14, 20, tzinfo=dt.UTC)

    def caveat(*runs: dict[str, object]) -> str | None:
        return run_caveat(pl.DataFrame(list(runs)), contract, "2026-11-14")

    assert caveat(_run("succeeded", after)) is None
    assert caveat(_run("succeeded", before, kind="candidate")) is None
    partial = caveat(_run("succeeded", before))
    assert partial is not None and "before the day ended (2026-11-15T00:00:00+00:00)" in partial
    # Judged in the timezone the run recorded: Tokyo's 11-14 ended at 15:00 UTC.
    assert caveat(_run("succeeded", before, timezone="Asia/Tokyo")) is None
    failed = caveat(_run("succeeded", before), _run("failed", after, error="x.parquet: gone"))
    assert failed is not None and "could not read an input (x.parquet: gone)" in failed
    crashed = caveat(_run("succeeded", after), _run("crashed", after + dt.timedelta(hours=1)))
    assert crashed is not None and "crashed before recording anything" in crashed
    assert run_caveat(pl.DataFrame([_run("failed", after)]), contract, "2026-11-13") is None


def test_slices_are_ranked_by_their_extra_errors_against_their_own_baseline() -> None:
    baseline = pl.DataFrame(
        {"slice": ["c=A", "c=B", "c=A", "c=B"], "value": [0.9, 0.99, 0.9, 0.99],
         "n_rows": [100, 100, 100, 100]}
    )  # fmt: skip
    today = pl.DataFrame(
        {"slice": ["c=A", "c=B", "c=NEW"], "value": [0.9, 0.59, 0.5], "n_rows": [100, 100, 10]}
    )
    ranked = slice_contributions(today, baseline, "accuracy")
    assert [r.slice for r in ranked] == ["c=B", "c=NEW", "c=A"]
    b, new, a = ranked
    assert b.extra_errors == pytest.approx(41 - 1)  # 41 wrong, 1 expected at 0.99
    assert a.extra_errors == pytest.approx(0.0, abs=1e-9)
    # a slice without a baseline uses its column's: 20 + 2 errors in 400 rows
    assert new.expected_errors == pytest.approx(10 * 22 / 400)
    assert b.share + new.share == pytest.approx(1.0)
    assert b.baseline_value == pytest.approx(0.99)


def test_rmse_slices_count_squared_error_mass() -> None:
    baseline = pl.DataFrame({"slice": ["v=car"], "value": [2.0], "n_rows": [100]})
    today = pl.DataFrame({"slice": ["v=car"], "value": [4.0], "n_rows": [100]})
    (car,) = slice_contributions(today, baseline, "rmse")
    assert car.extra_errors == pytest.approx(16 * 100 - 4 * 100)
    assert car.baseline_value == pytest.approx(2.0)


def test_distribution_changes_say_what_moved_in_the_data_units() -> None:
    training = pl.DataFrame(
        {"amount": np.arange(1000, dtype=float), "device": ["mobile"] * 900 + ["tablet"] * 100}
    )
    day = pl.DataFrame(
        {
            "amount": np.arange(1000, dtype=float) + 100,
            "device": ["mobile"] * 350 + ["tablet"] * 650,
        }
    )
    effects = pl.DataFrame({"feature": ["amount", "device"], "effect": [0.1, 0.55]})
    device, amount = distribution_changes(training, day, effects)
    assert device.feature == "device"
    assert device.change.startswith("tablet 10.0% -> 65.0%; mobile 90.0% -> 35.0%")
    assert "median 500 -> 600 (+100, +0.35 sd)" in amount.change


def _day(rng: np.random.Generator, *, shift: float = 0.0, nulls: int = 0) -> pl.DataFrame:
    """2,000 rows: ``old`` (shifted by ``shift`` sd), ``new`` and ``back`` standard normal,
    ``gappy`` with its first ``nulls`` rows null."""
    n = 2000
    gappy = rng.normal(size=n).tolist()
    gappy[:nulls] = [None] * nulls
    return pl.DataFrame(
        {
            "old": rng.normal(size=n) + shift,
            "new": rng.normal(size=n),
            "back": rng.normal(size=n),
            "gappy": pl.Series(gappy, dtype=pl.Float64),
        }
    )


def test_a_change_the_last_good_day_already_had_is_not_called_new() -> None:
    rng = np.random.default_rng(7)
    features = ["old", "new", "back", "gappy"]
    training = _day(rng)
    # The good day: `old` drifted already, `back` drifted too; the SLO held.
    good = _day(rng, shift=1.0).with_columns(pl.col("back") + 1.0)
    # The breach's first day: `old` still drifted, `new` drifts now, `back` is back to
    # training, `gappy` lost 30% of its values (drift drops nulls: only the null share).
    onset = _day(rng, shift=1.0, nulls=600).with_columns(pl.col("new") - 2.0)
    from_training = drift_effects(training, onset, features, [])
    changed = changed_features(training, onset, from_training)
    assert changed == ["new", "old", "gappy"]
    since = changes_since("2026-11-08", (good, onset), drift_effects(good, onset, features, []),
                          changed)  # fmt: skip
    assert since.day == "2026-11-08"
    assert since.changed == ["new", "gappy"]  # `back` changed, but back to training
    assert since.already == ["old"]
    assert [c.feature for c in since.changes][:2] == ["new", "back"]


def test_unchanged_inputs_since_the_good_day_leave_nothing_changed() -> None:
    rng = np.random.default_rng(11)
    features = ["old", "new", "back", "gappy"]
    training, good, onset = _day(rng, shift=1.0), _day(rng, shift=1.0), _day(rng, shift=1.0)
    effects = drift_effects(good, onset, features, [])
    since = changes_since("2026-11-08", (good, onset), effects,
                          changed_features(training, onset, effects))  # fmt: skip
    assert since.changed == []
    assert since.already == []


def test_the_slo_to_explain_prefers_a_breached_slice_then_quality_then_any() -> None:
    slis = pl.concat(
        [
            _rows({"d": [False]}, "slice_accuracy"),
            _rows({"d": [False]}, "accuracy"),
            _rows({"d": [False]}, "completeness"),
            _rows({"e": [False]}, "completeness"),
            _rows({"e": [True]}, "accuracy"),
            _rows({"f": [True]}, "rmse"),
        ]
    )
    assert choose_slo(slis, "d") == "slice_accuracy"
    assert choose_slo(slis, "e") == "completeness"
    assert choose_slo(slis, "f") == "rmse"
    assert quality_metric("slice_accuracy") == "accuracy"
    assert quality_metric("completeness") is None


def test_the_slo_to_explain_is_one_the_contract_judges_upstream_first() -> None:
    """The alphabetically first breached catalog SLI was explained, one with no SLO (so
    nothing alerted on it) before the SLO that paged (found by review)."""
    slis = pl.concat(
        [
            _rows({"d": [False]}, "pca_reconstruction_error"),
            _rows({"d": [False]}, "null_rate"),
            _rows({"d": [False]}, "drifted_feature_share"),
            _rows({"d": [False]}, "duplicate_id_rate"),
        ]
    )
    in_force = {"drifted_feature_share", "completeness"}
    assert breached_slos(slis, "d", in_force) == ["drifted_feature_share"]
    assert choose_slo(slis, "d", in_force) == "drifted_feature_share"
    # Without the contract's SLOs, the most upstream breached SLI.
    assert choose_slo(slis, "d") == "duplicate_id_rate"
    assert breached_slos(slis, "d", {"completeness"}) == [
        "duplicate_id_rate", "null_rate", "drifted_feature_share", "pca_reconstruction_error"
    ]  # fmt: skip
