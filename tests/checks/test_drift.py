"""compute_drift: the rule, the output shape, overrides, and every edge case of issue 3."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import polars as pl
import pytest
from scipy import stats

from checks.contract import Contract, DriftOverride
from checks.drift import (
    DRIFT_SCHEMA,
    compute_drift,
    compute_prediction_drift,
    drift_sli_rows,
    drifted_features,
)
from checks.errors import InputError
from checks.sli import SLI_SCHEMA

ALL = ("psi", "ks", "chi2", "js", "wasserstein")


def _frames(n: int = 5000, seed: int = 0, shift: float = 0.0) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    tilt = min(shift, 0.6) / 2
    base = pl.DataFrame(
        {
            "amount usd/day": rng.lognormal(size=n),
            "age": rng.integers(18, 90, n),
            "channel": rng.choice(["web", "app", "pos"], n),
        }
    )
    cur = pl.DataFrame(
        {
            "amount usd/day": rng.lognormal(shift, size=n),
            "age": rng.integers(18, 90, n) + int(30 * shift),
            "channel": rng.choice(["web", "app", "pos"], n, p=[0.2 + tilt, 0.4, 0.4 - tilt]),
        }
    )
    return base, cur


def _row(frame: pl.DataFrame, feature: str, method: str) -> dict[str, Any]:
    rows = frame.filter((pl.col("feature") == feature) & (pl.col("method") == method)).to_dicts()
    assert len(rows) == 1, (feature, method)
    return rows[0]


def test_output_columns_and_statistics_equal_scipy() -> None:
    base, cur = _frames(shift=0.3)
    out = compute_drift(base.lazy(), cur.lazy(), methods=ALL)
    assert out.schema == pl.Schema(DRIFT_SCHEMA)
    a = base["amount usd/day"].to_numpy()
    b = cur["amount usd/day"].to_numpy()
    ks = _row(out, "amount usd/day", "ks")
    ref = stats.ks_2samp(a, b)
    assert ks["statistic"] == ref.statistic
    assert math.isclose(float(ks["p_value"]), float(ref.pvalue), rel_tol=1e-9, abs_tol=1e-300)
    w = _row(out, "amount usd/day", "wasserstein")
    ref_w = stats.wasserstein_distance(a, b) / max(np.std(a), 0.001)
    assert math.isclose(float(w["statistic"]), ref_w, rel_tol=1e-9)
    chi = _row(out, "channel", "chi2")
    counts = (
        base["channel"]
        .value_counts()
        .join(cur["channel"].value_counts(), on="channel", how="full", coalesce=True)
        .sort("channel")
    )
    table = np.array([counts["count"].to_numpy(), counts["count_right"].to_numpy()])
    ref_c = stats.chi2_contingency(table, correction=False)
    assert math.isclose(float(chi["statistic"]), ref_c.statistic, rel_tol=1e-9)
    assert chi["effect_name"] == "js_distance"
    # Every row says how it was produced.
    assert out["binning"].null_count() == 0
    assert _row(out, "age", "psi")["log_base"] == pytest.approx(math.e)
    assert _row(out, "age", "js")["log_base"] == 2.0


def test_bh_family_is_all_ks_and_chi2_rows() -> None:
    base, cur = _frames(shift=0.05)
    out = compute_drift(base, cur)
    tests = out.filter(pl.col("method").is_in(["ks", "chi2"])).sort(["feature", "method"])
    ref = stats.false_discovery_control(tests["p_value"].to_numpy(), method="bh")
    np.testing.assert_allclose(tests["q_value"].to_numpy(), ref, rtol=1e-12)
    assert (
        out.filter(pl.col("method") == "psi")["q_value"].null_count()
        == out.filter(pl.col("method") == "psi").height
    )


def test_shift_is_detected_and_rule_needs_effect_and_significance() -> None:
    base, cur = _frames(n=20_000, shift=0.5)
    out = compute_drift(base, cur)
    assert drifted_features(out) == ["age", "amount usd/day", "channel"]
    for r in out.filter(pl.col("drifted")).iter_rows(named=True):
        assert r["effect"] > r["threshold"]
        if r["method"] in ("ks", "chi2"):
            assert r["q_value"] < 0.05


def test_identical_inputs_give_psi_zero_and_no_drift() -> None:
    base, _ = _frames(n=3000)
    out = compute_drift(base, base.clone(), methods=ALL)
    assert out.filter(pl.col("method") == "psi")["statistic"].to_list() == [0.0, 0.0, 0.0]
    assert drifted_features(out) == []
    assert out.filter(pl.col("method") == "ks")["statistic"].to_list() == [0.0, 0.0]


def test_significance_alone_is_not_drift_at_a_million_rows() -> None:
    rng = np.random.default_rng(3)
    n = 1_000_000
    base = pl.DataFrame({"x": rng.normal(size=n)})
    cur = pl.DataFrame({"x": rng.normal(0.02, size=n)})
    ks = _row(compute_drift(base, cur), "x", "ks")
    assert ks["q_value"] < 1e-6 and ks["statistic"] < 0.1 and ks["drifted"] is False


def test_psi_below_1000_values_reports_without_deciding() -> None:
    base, cur = _frames(n=500, shift=1.0)
    psi = _row(compute_drift(base, cur), "age", "psi")
    assert psi["statistic"] > 0.2
    assert psi["drifted"] is None and psi["status"] == "ok"
    assert "1000" in str(psi["detail"])


def test_fewer_than_30_values_is_insufficient_data() -> None:
    base, cur = _frames(n=29)
    out = compute_drift(base, cur)
    assert set(out["status"]) == {"insufficient_data"}
    assert out["drifted"].null_count() == out.height
    assert out["q_value"].null_count() == out.height


def test_one_row_inputs() -> None:
    base = pl.DataFrame({"x": [1.0], "c": ["a"]})
    cur = pl.DataFrame({"x": [2.0], "c": ["b"]})
    out = compute_drift(base, cur, methods=ALL)
    assert set(out["status"]) == {"insufficient_data"}
    assert _row(out, "x", "ks")["statistic"] == 1.0


def test_empty_snapshot() -> None:
    base, cur = _frames(n=100)
    out = compute_drift(base, cur.clear())
    assert set(out["status"]) == {"insufficient_data"}
    assert out["statistic"].null_count() == out.height
    assert drifted_features(out) == []


def test_all_null_current_column() -> None:
    base, cur = _frames(n=200)
    cur = cur.with_columns(pl.lit(None, dtype=pl.Float64).alias("amount usd/day"))
    out = compute_drift(base, cur)
    row = _row(out, "amount usd/day", "ks")
    assert row["status"] == "insufficient_data" and row["n_current"] == 0
    assert row["n_missing_current"] == 200


def test_nulls_and_nan_are_dropped_and_counted() -> None:
    rng = np.random.default_rng(2)
    a = rng.normal(size=400)
    b = rng.normal(size=400)
    base = pl.DataFrame({"x": [*a.tolist(), None, None, float("nan")]})
    cur = pl.DataFrame({"x": [*b.tolist(), float("nan")]})
    row = _row(compute_drift(base, cur), "x", "ks")
    assert row["n_baseline"] == 400 and row["n_missing_baseline"] == 3
    assert row["n_current"] == 400 and row["n_missing_current"] == 1
    assert row["statistic"] == stats.ks_2samp(a, b).statistic


def test_infinities_kept_for_ks_and_psi_and_excluded_from_wasserstein() -> None:
    rng = np.random.default_rng(4)
    a = rng.normal(size=2000)
    b = np.r_[rng.normal(size=1900), [np.inf] * 100]
    out = compute_drift(pl.DataFrame({"x": a}), pl.DataFrame({"x": b}), methods=ALL)
    assert _row(out, "x", "ks")["statistic"] == stats.ks_2samp(a, b).statistic
    psi = _row(out, "x", "psi")
    assert psi["n_current"] == 2000  # +inf counted, in the top bin
    w = _row(out, "x", "wasserstein")
    ref = stats.wasserstein_distance(a, b[np.isfinite(b)]) / np.std(a)
    assert math.isclose(float(w["statistic"]), ref, rel_tol=1e-9)
    assert "infinite" in str(w["detail"])


def test_constant_baseline_column() -> None:
    base = pl.DataFrame({"x": [5.0] * 2000})
    cur = pl.DataFrame({"x": np.random.default_rng(0).normal(5.0, 1.0, 2000)})
    out = compute_drift(base, cur, methods=ALL)
    w = _row(out, "x", "wasserstein")
    ref = stats.wasserstein_distance([5.0] * 2000, cur["x"].to_numpy()) / 0.001
    assert math.isclose(float(w["statistic"]), ref, rel_tol=1e-9)
    assert "2 after ties" in str(_row(out, "x", "psi")["binning"])
    assert _row(out, "x", "ks")["drifted"] is True


def test_integer_heavy_ties() -> None:
    rng = np.random.default_rng(6)
    a = rng.poisson(3, 50_000)
    b = rng.poisson(3.3, 50_000)
    out = compute_drift(pl.DataFrame({"n": a}), pl.DataFrame({"n": b}), methods=ALL)
    ref = stats.ks_2samp(a, b)
    ks = _row(out, "n", "ks")
    assert ks["statistic"] == ref.statistic
    assert math.isclose(float(ks["p_value"]), float(ref.pvalue), rel_tol=1e-9, abs_tol=1e-300)
    cuts = np.unique(np.quantile(a.astype(float), np.linspace(0, 1, 11)[1:-1]))
    assert f"({len(cuts) + 1} after ties)" in str(_row(out, "n", "psi")["binning"])


def test_single_category_and_unseen_categories() -> None:
    base = pl.DataFrame({"c": ["a"] * 500, "d": ["x", "y"] * 250})
    cur = pl.DataFrame({"c": ["a"] * 500, "d": ["x", "z"] * 250})
    out = compute_drift(base, cur, methods=ALL)
    single = _row(out, "c", "chi2")
    assert single["statistic"] == 0.0 and single["p_value"] == 1.0 and single["drifted"] is False
    unseen = _row(out, "d", "chi2")
    ref = stats.chi2_contingency(np.array([[250, 250, 0], [250, 0, 250]]), correction=False)
    assert math.isclose(float(unseen["statistic"]), ref.statistic, rel_tol=1e-9)
    assert "unseen" in str(unseen["detail"])
    assert unseen["drifted"] is True


def test_categories_compare_as_strings() -> None:
    base = pl.DataFrame({"code": pl.Series([1, 2, 3] * 100, dtype=pl.Int64)})
    cur = pl.DataFrame({"code": pl.Series(["1", "2", "3"] * 100)})
    out = compute_drift(base, cur, categorical=["code"])
    assert _row(out, "code", "chi2")["statistic"] == 0.0


def test_overrides_methods_thresholds_bins_enabled() -> None:
    base, cur = _frames(n=5000, shift=0.05)
    overrides = {
        "age": DriftOverride(methods=("wasserstein",), threshold={"wasserstein": 0.0}),
        "amount usd/day": DriftOverride(bins=4, threshold={"psi": 0.0}),
        "channel": DriftOverride(enabled=False),
    }
    out = compute_drift(base, cur, overrides=overrides)
    assert set(out["feature"]) == {"age", "amount usd/day"}
    assert out.filter(pl.col("feature") == "age")["method"].to_list() == ["wasserstein"]
    assert _row(out, "age", "wasserstein")["drifted"] is True
    psi = _row(out, "amount usd/day", "psi")
    assert "B=4" in str(psi["binning"]) and psi["threshold"] == 0.0 and psi["drifted"] is True


def test_bad_input_names_the_field() -> None:
    base, cur = _frames(n=50)
    with pytest.raises(InputError, match="column 'nope'"):
        compute_drift(base, cur, numeric=["nope"])
    with pytest.raises(InputError, match="methods"):
        compute_drift(base, cur, methods=["psi", "kl"])
    with pytest.raises(InputError, match="no feature column in common"):
        compute_drift(base, pl.DataFrame({"other": [1]}))


def _contract(**predictions: str) -> Contract:
    return Contract.model_validate(
        {
            "model": "toy",
            "type": "classification",
            "version": "1",
            "owner": "sre",
            "sources": {
                "training": "t.parquet",
                "features": "f_{date}.parquet",
                "id_column": "id",
                "timestamp_column": "ts",
                "start_date": dt.date(2026, 1, 1),
            },
            "features": {"age": {"dtype": "Int64"}},
            "predictions": predictions,
            "slos": {"model": {"drifted_feature_share": {"objective": 0.2}}},
        }
    )


def test_sli_rows_and_drifted_feature_share() -> None:
    base, cur = _frames(n=5000, shift=0.5)
    out = compute_drift(base, cur, methods=ALL)
    sli = drift_sli_rows(out, _contract())
    assert sli.schema == pl.Schema(dict(SLI_SCHEMA))
    per_feature = sli.filter(pl.col("sli") != "drifted_feature_share")
    assert per_feature.height == out.height
    assert set(per_feature["track"]) == {"model"} and set(per_feature["category"]) == {"drift"}
    ks = per_feature.filter((pl.col("feature") == "age") & (pl.col("sli") == "ks")).row(
        0, named=True
    )
    assert ks["comparator"] == "<=" and ks["objective"] == 0.1 and ks["ok"] is False
    js = per_feature.filter((pl.col("feature") == "age") & (pl.col("sli") == "js")).row(
        0, named=True
    )
    assert js["ok"] is None  # report-only
    share = sli.filter(pl.col("sli") == "drifted_feature_share").row(0, named=True)
    assert share["value"] == 1.0 and share["objective"] == 0.2 and share["ok"] is False


def _ok_by_the_row_contract(row: dict[str, Any]) -> bool:
    """docs/design.md: ok = (value comparator objective) OR significant IS FALSE."""
    from checks.sli import judge

    return bool(judge(row["value"], row["objective"], row["comparator"])) or (
        row["significant"] is False
    )


def test_drift_sli_rows_value_is_the_judged_effect_and_satisfy_the_row_contract() -> None:
    """Row contract v2: a chi2 row's value is the JS distance its rule judges (the
    chi-square value is its statistic), a KS row's value and statistic are D, PSI has no
    statistic; significant is the q-value decision; every judged row's ok follows
    (value comparator objective) OR significant IS FALSE, also when an effect exceeds its
    threshold without significance."""
    base, cur = _frames(n=5000, shift=0.5)
    out = compute_drift(base, cur, methods=ALL)
    sli = drift_sli_rows(out, _contract()).filter(pl.col("sli") != "drifted_feature_share")
    chi2 = _row(out, "channel", "chi2")
    chi2_sli = sli.filter((pl.col("feature") == "channel") & (pl.col("sli") == "chi2")).row(
        0, named=True
    )
    assert chi2_sli["value"] == chi2["effect"] and chi2_sli["statistic"] == chi2["statistic"]
    assert chi2_sli["value"] < 1.0 < chi2_sli["statistic"]  # JS distance vs chi-square value
    assert chi2_sli["significant"] is True
    ks = sli.filter((pl.col("feature") == "age") & (pl.col("sli") == "ks")).row(0, named=True)
    assert ks["value"] == ks["statistic"] and ks["significant"] is True
    psi = sli.filter((pl.col("feature") == "age") & (pl.col("sli") == "psi")).row(0, named=True)
    assert psi["statistic"] is None and psi["significant"] is None
    # An effect over its threshold that is not significant: ok, and the SQL rule agrees.
    small_base, small_cur = _frames(n=40, seed=3, shift=0.2)
    small = drift_sli_rows(compute_drift(small_base, small_cur, methods=ALL), _contract())
    rows = [*sli.iter_rows(named=True), *small.iter_rows(named=True)]
    judged = [r for r in rows if r["ok"] is not None]
    assert len(judged) >= 8
    assert [r for r in judged if r["ok"] != _ok_by_the_row_contract(r)] == []
    assert any(r["significant"] is False and r["value"] > r["objective"] for r in judged)


def test_sli_share_with_insufficient_data() -> None:
    base, cur = _frames(n=10)
    share = drift_sli_rows(compute_drift(base, cur), _contract()).filter(
        pl.col("sli") == "drifted_feature_share"
    )
    assert share.row(0, named=True)["status"] == "insufficient_data"
    assert share.row(0, named=True)["ok"] is None


def test_prediction_drift_on_score_and_label() -> None:
    rng = np.random.default_rng(8)
    base = pl.DataFrame({"score": rng.beta(2, 5, 3000), "label": rng.choice(["0", "1"], 3000)})
    cur = pl.DataFrame({"score": rng.beta(3, 4, 3000), "label": rng.choice(["0", "1"], 3000)})
    out = compute_prediction_drift(base, cur, _contract(score="score", predicted_label="label"))
    assert set(out["feature"]) == {"score", "label"}
    assert _row(out, "score", "ks")["drifted"] is True
    assert compute_prediction_drift(base, cur, _contract()).height == 0


def test_wasserstein_says_why_it_has_no_statistic() -> None:
    """Infinite values only on a side and a float64 overflow are different stories."""
    rng = np.random.default_rng(21)
    wide = rng.normal(size=2_000)
    wide[:2] = [-1.5e308, 1.7e308]
    current = pl.DataFrame({"x": rng.normal(size=2_000)})
    only_inf = pl.DataFrame({"x": np.full(100, np.inf)})
    with np.errstate(over="ignore", invalid="ignore"):
        overflow = compute_drift(pl.DataFrame({"x": wide}), current, methods=["wasserstein"])
    none_finite = compute_drift(only_inf, current, methods=["wasserstein"])
    assert overflow["statistic"][0] is None
    assert "overflows float64" in overflow["detail"][0]
    assert none_finite["statistic"][0] is None
    assert "no finite values" in none_finite["detail"][0]
