"""Per-slice metrics: group-by result equals the metric on each slice's rows; guard; BH."""

from __future__ import annotations

import math
import warnings
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import false_discovery_control
from sklearn import metrics as skm

from checks import quality_metrics, slices
from checks.contract import Contract
from checks.sli import SLI_SCHEMA, sli_frame
from tests.fixtures import minimal_contract

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def contract(**extra: Any) -> Contract:
    fields: dict[str, Any] = {
        "features": {"country": {"dtype": "String"}},
        "slices": ["country"],
        "min_slice_rows": 4,
    }
    return minimal_contract(**{**fields, **extra})


ACCURACY = slices.SliceMetric("accuracy", ("y", "p"), quality_metrics.accuracy, objective=0.5)
ROC_AUC = slices.SliceMetric("roc_auc", ("y", "s"), quality_metrics.roc_auc)


@st.composite
def sliced_frame(draw: Any) -> pl.DataFrame:
    n = draw(st.integers(0, 80))
    country = draw(st.lists(st.sampled_from(["DE", "FR", "IT", None]), min_size=n, max_size=n))
    y = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    p = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    s = draw(st.lists(st.sampled_from([0.1, 0.5, 0.9]), min_size=n, max_size=n))
    return pl.DataFrame(
        {"country": country, "y": y, "p": p, "s": s},
        schema={"country": pl.String, "y": pl.Int64, "p": pl.Int64, "s": pl.Float64},
    )


@FAST
@given(sliced_frame())
def test_slice_values_equal_sklearn_on_each_slice(frame: pl.DataFrame) -> None:
    c = contract()
    rows = sli_frame(slices.slice_sli_rows(c, frame, "country", [ACCURACY, ROC_AUC]))
    assert dict(rows.schema) == dict(SLI_SCHEMA)
    for row in rows.iter_rows(named=True):
        value = row["slice"].removeprefix("country=")
        part = frame.filter(
            pl.col("country").is_null() if value == "<null>" else pl.col("country") == value
        )
        assert row["n_rows"] == part.height
        if part.height < c.min_slice_rows:
            assert row["status"] == "skipped"
            assert row["value"] is None and row["ok"] is None
            continue
        y, p, s = (part[c].to_numpy() for c in ("y", "p", "s"))
        if row["sli"] == "slice_accuracy":
            assert math.isclose(row["value"], skm.accuracy_score(y, p), abs_tol=1e-9)
            assert row["ok"] == (row["value"] >= 0.5)
        elif len(set(y.tolist())) == 2:
            assert math.isclose(row["value"], skm.roc_auc_score(y, s), abs_tol=1e-9)
        else:
            assert row["status"] == "insufficient_data" and row["value"] is None


def test_empty_slice_and_labels() -> None:
    c = contract(min_slice_rows=1)
    frame = pl.DataFrame({"country": ["DE", "DE", None], "y": [1, 0, 1], "p": [1, 1, 1]})
    everything = pl.Series("country", ["DE", "FR", None, "DE"])  # FR: no labelled rows
    rows = sli_frame(slices.slice_sli_rows(c, frame, "country", [ACCURACY], all_values=everything))
    assert rows["slice"].to_list() == ["country=DE", "country=FR", "country=<null>"]
    assert rows["status"].to_list() == ["ok", "skipped", "ok"]
    assert rows["n_rows"].to_list() == [2, 0, 1]
    assert rows["value"].to_list() == [0.5, None, 1.0]
    # empty frame: every known value is an empty, skipped slice
    none = sli_frame(slices.slice_sli_rows(c, frame.clear(), "country", [ACCURACY]))
    assert none.is_empty()


def test_nulls_in_metric_columns_are_not_counted() -> None:
    c = contract(min_slice_rows=2)
    frame = pl.DataFrame(
        {"country": ["DE"] * 4, "y": [1, 0, None, 1], "p": [1, 1, 1, None]},
    )
    rows = slices.slice_sli_rows(c, frame, "country", [ACCURACY])
    assert rows[0].n_rows == 2
    assert rows[0].value == 0.5


def _row(sli: str, slice_: str | None, value: float | None, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = dict.fromkeys(SLI_SCHEMA)
    base.update(
        track="model",
        category="quality",
        sli=sli,
        slice=slice_,
        value=value,
        n_rows=10,
        status="ok",
        blocking=False,
    )
    base.update(extra)
    return base


def test_add_slice_q_values_per_family() -> None:
    rows = pl.DataFrame(
        [
            _row("ks", "c=a", 0.3, p_value=0.01, feature="x"),
            _row("ks", None, 0.1, p_value=0.5, feature="x"),  # model-wide: untouched
            _row("ks", "c=b", 0.2, p_value=0.04, feature="x"),
            _row("ks", "c=a", 0.2, p_value=0.03, feature="y"),  # another family
            _row("accuracy", "c=a", 0.9),  # no p-value: untouched
        ],
        schema=dict(SLI_SCHEMA),
    )
    out = slices.add_slice_q_values(rows)
    assert out["value"].to_list() == rows["value"].to_list()  # order kept
    q = out["q_value"].to_list()
    assert q[1] is None and q[4] is None
    expected = false_discovery_control([0.01, 0.04])
    assert math.isclose(q[0], expected[0]) and math.isclose(q[2], expected[1])
    assert math.isclose(q[3], 0.03)


def test_worst_slices_follow_the_comparator() -> None:
    rows = pl.DataFrame(
        [
            _row("accuracy", None, 0.80),
            _row("accuracy", "country=DE", 0.91),
            _row("accuracy", "country=FR", 0.62),
            _row("accuracy", "country=IT", None, status="skipped"),
            _row("rmse", "country=DE", 3.0),
            _row("rmse", "country=FR", 1.0),
            _row("log_loss", "country=DE", 0.3, comparator=">="),  # a row's own comparator wins
            _row("log_loss", "country=FR", 0.7, comparator=">="),
        ],
        schema=dict(SLI_SCHEMA),
    )
    worst = slices.worst_slices(rows)
    assert dict(worst.schema) == dict(SLI_SCHEMA)
    got = dict(zip(worst["sli"], worst["slice"], strict=True))
    assert got == {"accuracy": "country=FR", "rmse": "country=DE", "log_loss": "country=DE"}
    assert slices.worst_slices(rows.filter(pl.col("slice").is_null())).is_empty()


def test_slice_metric_warning_free_on_zero_division() -> None:
    c = contract(min_slice_rows=1)
    metric = slices.SliceMetric(
        "precision", ("y", "p"), lambda y, p: quality_metrics.precision(y, p, positive_label=1)
    )
    frame = pl.DataFrame({"country": ["DE", "DE"], "y": [1, 0], "p": [0, 0]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rows = slices.slice_sli_rows(c, frame, "country", [metric])
    assert rows[0].value == 0.0 and rows[0].status == "ok"


def test_slice_rows_belong_to_the_slice_slo_not_the_model_wide_one() -> None:
    # One small slice fails: the model-wide accuracy SLO must not see it.
    frame = pl.DataFrame(
        {
            "country": ["DE"] * 8 + ["BR"] * 4,
            "y": [1, 0] * 4 + [1, 1, 1, 1],
            "p": [1, 0] * 4 + [0, 0, 0, 1],
        }
    )
    metric = slices.SliceMetric("accuracy", ("y", "p"), quality_metrics.accuracy)
    labelled: dict[str, Any] = {
        "sources": {"predictions": "p/{date}.parquet", "labels": "l/{date}.parquet"},
        "predictions": {"predicted_label": "p", "target": "y"},
    }
    declared = contract(slos={"model": {"accuracy": {"objective": 0.9}}}, **labelled)
    rows = sli_frame(slices.slice_sli_rows(declared, frame, "country", [metric]))
    assert set(rows["sli"]) == {"slice_accuracy"}
    br = rows.filter(pl.col("slice") == "country=BR").row(0, named=True)
    # Without a slice_accuracy SLO each slice is held to the model-wide objective, shown
    # but not blocking and not budgeted.
    assert br["value"] == 0.25 and br["objective"] == 0.9 and br["ok"] is False
    assert br["blocking"] is False
    assert "no slice_accuracy SLO declared" in br["detail"]
    own = contract(
        slos={
            "model": {
                "accuracy": {"objective": 0.9},
                "slice_accuracy": {"objective": 0.2, "blocking": True},
            }
        },
        **labelled,
    )
    rows = sli_frame(slices.slice_sli_rows(own, frame, "country", [metric]))
    br = rows.filter(pl.col("slice") == "country=BR").row(0, named=True)
    assert br["objective"] == 0.2 and br["ok"] is True and br["blocking"] is True


def test_never_given_finds_a_value_wherever_it_is(tmp_path: Any) -> None:
    """The probe stops at the first usable value; it must still find one on the very last
    row of the last file, and must not take a NaN or a null for one."""
    n = 300_000
    nan = float("nan")
    parts = [
        pl.DataFrame(
            {
                "late": pl.Series([None] * n, dtype=pl.Int64),
                "nan_only": [nan] * n,
                "nulls": pl.Series([None] * n, dtype=pl.String),
                "mixed": pl.Series([nan if i % 2 else None for i in range(n)], dtype=pl.Float64),
                "first": pl.Series(["x"] + [None] * (n - 1), dtype=pl.String),
            }
        )
        for _ in range(3)
    ]
    parts[-1] = parts[-1].with_columns(
        pl.when(pl.int_range(pl.len()) == n - 1).then(7).cast(pl.Int64).alias("late")
    )
    for i, part in enumerate(parts):
        part.write_parquet(tmp_path / f"{i}.parquet", row_group_size=50_000)
    scan = pl.scan_parquet(sorted(tmp_path.glob("*.parquet")))
    schema = scan.collect_schema()
    columns = ["late", "nan_only", "nulls", "mixed", "first", "late"]
    assert slices.never_given(scan, schema, columns) == ["nan_only", "nulls", "mixed"]
    # The reference: a whole pass counting usable values.
    counts = scan.select(slices.usable(c, schema[c]).sum().alias(c) for c in schema).collect()
    assert [c for c in schema if not counts[c].item()] == ["nan_only", "nulls", "mixed"]
    assert slices.never_given(scan.head(0), schema, columns) == []  # no rows: nothing to say
    assert slices.never_given(scan, schema, []) == []
