"""The report's data model against values computed by hand, from a small real store.

Four days of one model in a DuckDB store written by :class:`assets.store.SliStore`:
``null_rate`` of feature x is bad on days 2 and 3 (target 0.5, window 4), latency is
always good, day 4 has one drifted feature and a schema finding with examples.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from assets.report.distributions import categorical_distribution, numeric_distribution
from assets.report.load import ReportRequest, load_inputs
from assets.report.model import Report, build_report, distribution_distance
from assets.store import SliStore
from assets.store.store import RunRecord
from checks.contract import Contract
from checks.freshness import scheduled_evaluation_time
from checks.gate import decide
from checks.profile import build_profile
from checks.sli import SliRow, sli_frame
from tests.fixtures import minimal_contract

DAYS = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(4)]
NULL_RATE = {DAYS[0]: 0.01, DAYS[1]: 0.2, DAYS[2]: 0.3, DAYS[3]: 0.0}


def _contract() -> Contract:
    return minimal_contract(
        sources={"predictions": "p/{date}.parquet"},
        predictions={"latency_ms": "latency_ms"},
        runbook="https://runbooks.example.com/m",
        features={"x": {"dtype": "Float64"}, "y": {"dtype": "Float64"}},
        slos={
            "window_days": 4,
            "infra": {"latency_p99_ms": {"objective": 100, "target": 0.5}},
            "model": {"null_rate": {"objective": 0.05, "target": 0.5}},
        },
    )


def _rows(day: dt.date) -> list[SliRow]:
    rate = NULL_RATE[day]
    rows = [
        SliRow("model", "completeness", "null_rate", rate, 100, feature="x", objective=0.05,
               comparator="<=", ok=rate <= 0.05),
        SliRow("infra", "latency", "latency_p99_ms", 50.0 + day.day, 100, objective=100.0,
               comparator="<=", ok=True),
    ]  # fmt: skip
    if day == DAYS[3]:
        rows += [
            SliRow("model", "drift", "ks", 0.5, 100, feature="x", method="ks", p_value=0.0,
                   q_value=0.0, objective=0.1, comparator="<=", ok=False),
            SliRow("model", "drift", "ks", 0.02, 100, feature="y", method="ks", p_value=0.9,
                   q_value=0.9, objective=0.1, comparator="<=", ok=True),
            SliRow("model", "schema", "schema_validity", 0.97, 100, objective=0.99,
                   comparator=">=", ok=False, detail="x within_range(0, 20): 3 rows (e.g. -1, 99)"),
            SliRow("model", "quality", "accuracy", 0.91, 100, objective=0.9, comparator=">=",
                   ok=True),
            SliRow("model", "quality", "slice_accuracy", 0.5, 40, slice="country=BR",
                   objective=0.8, comparator=">=", ok=False),
        ]  # fmt: skip
    return rows


DEFINITIONS = pl.DataFrame(
    {
        "track": ["infra", "model"],
        "sli": ["latency_p99_ms", "null_rate"],
        "objective": [100.0, 0.05],
        "comparator": ["<=", "<="],
        "target": [0.5, 0.5],
        "blocking": [False, False],
        "window_days": [4, 4],
        "evidence_delay_days": [0.0, 0.0],
    },
    schema_overrides={"window_days": pl.Int32},
)


@pytest.fixture
def small_store(tmp_path: Path) -> Path:
    store = SliStore(tmp_path / "small.duckdb")
    for day in DAYS:
        finished = dt.datetime.combine(day, dt.time(7), tzinfo=dt.UTC)
        status = "breached" if NULL_RATE[day] > 0.05 else "succeeded"
        store.write_run(
            RunRecord(f"run-{day}", "m", "1", day.isoformat(), finished, finished, status),
            sli_frame(_rows(day)),
            slo_definitions=DEFINITIONS,
        )
    return tmp_path / "small.duckdb"


def _report(db: Path, partition: dt.date | None = None) -> Report:
    request = ReportRequest(_contract(), db, db.parent / "state", partition=partition)
    return build_report(load_inputs(request))


def test_the_newest_partition_is_reported_by_default(small_store: Path) -> None:
    report = _report(small_store)
    assert report.partition == DAYS[3]
    assert report.window_start == DAYS[0]
    assert report.days == DAYS


def test_as_of_reports_the_newest_partition_evaluated_by_then(small_store: Path) -> None:
    """The page and its verdict are of one day: the verdict at ``as_of`` knows only the
    partitions evaluated by then, so the default partition is the newest of those."""
    from checks.errors import InputError

    evaluated = scheduled_evaluation_time(_contract(), DAYS[1])
    for as_of, day in ((evaluated, DAYS[1]), (evaluated - dt.timedelta(seconds=1), DAYS[0])):
        request = ReportRequest(_contract(), small_store, small_store.parent / "state", as_of=as_of)
        report = build_report(load_inputs(request))
        assert report.partition == day
        assert report.verdict.reference_day == day
        assert report.days[-1] == day
    before = scheduled_evaluation_time(_contract(), DAYS[0]) - dt.timedelta(hours=1)
    request = ReportRequest(_contract(), small_store, small_store.parent / "state", as_of=before)
    with pytest.raises(InputError, match="no dated partition evaluated by"):
        load_inputs(request)


def test_burn_down_is_the_budget_remaining_as_of_each_day(small_store: Path) -> None:
    report = _report(small_store)
    panels = {p.budget.slo: p for ps in report.tracks.values() for p in ps}
    # null_rate, target 0.5: budget = 0.5 x evaluations bad days.
    # day 1: 0 bad of 1 -> 1 - 0/0.5 = 1; day 2: 1 of 2 -> 1 - 1/1 = 0;
    # day 3: 2 of 3 -> 1 - 2/1.5 = -1/3; day 4: 2 of 4 -> 1 - 2/2 = 0.
    burn = panels["null_rate"].burn_down
    assert [p.day for p in burn] == DAYS
    assert [p.bad for p in burn] == [0, 1, 2, 2]
    assert [p.evaluations for p in burn] == [1, 2, 3, 4]
    assert [p.remaining_fraction for p in burn] == pytest.approx([1.0, 0.0, -1 / 3, 0.0])
    # The chart's last point is the table's value.
    assert panels["null_rate"].budget.remaining_fraction == pytest.approx(0.0)
    assert [p.remaining_fraction for p in panels["latency_p99_ms"].burn_down] == [1.0] * 4
    assert sorted(report.tracks) == ["infra", "model"]


def test_a_past_partition_is_judged_on_the_days_up_to_it(small_store: Path) -> None:
    report = _report(small_store, DAYS[2])
    panels = {p.budget.slo: p for ps in report.tracks.values() for p in ps}
    assert panels["null_rate"].budget.bad == 2
    assert panels["null_rate"].budget.remaining_fraction == pytest.approx(-1 / 3)
    assert panels["null_rate"].budget.state == "exhausted"
    assert report.drift.height == 0  # the drift rows are day 4's
    assert report.as_of == scheduled_evaluation_time(_contract(), DAYS[2])


def test_breached_slis_are_charted_and_the_rest_tabled(small_store: Path) -> None:
    report = _report(small_store)
    charted = {(s.sli, s.feature, s.slice): s for s in report.charted}
    assert set(charted) == {
        ("null_rate", "x", None),
        ("schema_validity", None, None),
        ("ks", "x", None),
        ("slice_accuracy", None, "country=BR"),
    }
    null_rate = charted[("null_rate", "x", None)]
    assert null_rate.days == tuple(DAYS)
    assert null_rate.values == tuple(NULL_RATE[d] for d in DAYS)
    assert null_rate.breached_days == (DAYS[1], DAYS[2])
    assert null_rate.objective == 0.05
    # Measured only on day 4: the other days are gaps.
    assert charted[("ks", "x", None)].values == (None, None, None, 0.5)
    table = report.trend_table.filter(pl.col("sli") == "latency_p99_ms").row(0, named=True)
    assert table["days_measured"] == 4
    assert (table["last"], table["min"], table["max"]) == (54.0, 51.0, 54.0)
    assert table["last_day"] == DAYS[3]
    assert table["days_breached"] == 0
    assert set(report.trend_table.get_column("sli")) == {"latency_p99_ms", "ks", "accuracy"}
    assert report.incident_days == (DAYS[1], DAYS[2])


def test_partition_sections_hold_that_days_rows(small_store: Path) -> None:
    report = _report(small_store)
    assert report.drifted_features == ("x",)
    assert report.drift.get_column("feature").to_list() == ["x", "y"]  # breached first
    assert report.findings.get_column("sli").to_list() == ["schema_validity"]
    assert report.findings.get_column("detail").to_list() == [
        "x within_range(0, 20): 3 rows (e.g. -1, 99)"
    ]
    assert report.quality.get_column("sli").to_list() == ["accuracy"]
    assert report.quality_slices.get_column("slice").to_list() == ["country=BR"]
    assert report.prediction_log.get_column("sli").to_list() == ["latency_p99_ms"]
    assert report.fairness.height == 0
    assert report.run is not None and report.run["status"] == "succeeded"
    # No profile stored: no distribution, and the report says why.
    assert report.distributions == []
    assert any("no stored baseline profile" in note for note in report.notes)


def test_the_banner_is_the_gates_decision_at_the_partitions_evaluation_time(
    small_store: Path,
) -> None:
    report = _report(small_store)
    slis = SliStore(small_store).query("select * from sli_latest")
    runs = SliStore(small_store).query("select * from runs")
    expected = decide(
        _contract(),
        slis,
        runs,
        now=scheduled_evaluation_time(_contract(), DAYS[3]),
        definitions=DEFINITIONS.with_columns(
            pl.lit("m").alias("model"), pl.lit("1").alias("model_version")
        ),
    )
    assert report.verdict.ready == expected.ready
    assert [r.code for r in report.verdict.reasons] == [r.code for r in expected.reasons]


def test_the_banner_is_the_gates_at_a_later_as_of_a_newer_days_crash_included(
    small_store: Path,
) -> None:
    """The newest day's run crashed (no SLI rows): the report, as of after that day's
    evaluation, says BLOCKED with the gate's run_crashed, not the older day's READY; and
    asked for the crashed day, it says why it has no rows."""
    from checks.errors import InputError

    crashed_day = DAYS[3] + dt.timedelta(days=1)
    finished = dt.datetime.combine(crashed_day, dt.time(7), tzinfo=dt.UTC)
    SliStore(small_store).record_crashed_run(
        RunRecord("run-crash", "m", "1", crashed_day.isoformat(), finished, finished,
                  "crashed", error="step drift_slis: NotADirectoryError: state")
    )  # fmt: skip
    as_of = scheduled_evaluation_time(_contract(), crashed_day) + dt.timedelta(hours=1)
    request = ReportRequest(_contract(), small_store, small_store.parent / "state", as_of=as_of)
    report = build_report(load_inputs(request))
    assert report.partition == DAYS[3]
    assert not report.verdict.ready
    assert "run_crashed" in [r.code for r in report.verdict.reasons]
    # At the reported day's own evaluation time the crash is not visible yet.
    assert "run_crashed" not in [r.code for r in _report(small_store).verdict.reasons]
    with pytest.raises(InputError, match=r"its newest run crashed: step drift_slis: "):
        _report(small_store, crashed_day)


def test_a_candidate_days_report_judges_that_day_not_a_newer_candidate_day(
    tmp_path: Path,
) -> None:
    """Without --as-of the banner is the gate's when the day was judged: a candidate
    validation recorded later (a newer day, its own breaches) is not this day's verdict."""
    store = SliStore(tmp_path / "c.duckdb")
    finished = {
        DAYS[0]: dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC),
        DAYS[1]: dt.datetime(2026, 1, 9, 12, tzinfo=dt.UTC),
    }
    for day, at in finished.items():
        store.write_run(
            RunRecord(f"cand-{day}", "m", "1", day.isoformat(), at, at, "succeeded",
                      kind="candidate", n_labels=100),
            sli_frame(_rows(day)),
        )  # fmt: skip
    request = ReportRequest(_contract(), store.path, tmp_path / "state", partition=DAYS[0])
    report = build_report(load_inputs(request))
    assert report.verdict.reference_day == DAYS[0]
    assert report.verdict.ready, [(r.code, r.days) for r in report.verdict.reasons]


def test_a_candidate_evaluated_after_its_days_schedule_is_judged_when_it_ran(
    tmp_path: Path,
) -> None:
    """A candidate's evidence exists once it ran: the banner is the gate's then, not at the
    day's scheduled evaluation time (before it ran: evidence_missing, the gate READY)."""
    store = SliStore(tmp_path / "c.duckdb")
    ran = dt.datetime.combine(DAYS[0], dt.time(9), tzinfo=dt.UTC) + dt.timedelta(days=30)
    store.write_run(
        RunRecord("cand", "m", "1", DAYS[0].isoformat(), ran, ran, "succeeded",
                  kind="candidate", n_labels=100),
        sli_frame(_rows(DAYS[0])),
    )  # fmt: skip
    assert ran > scheduled_evaluation_time(_contract(), DAYS[0])
    report = build_report(load_inputs(ReportRequest(_contract(), store.path, tmp_path / "s")))
    assert report.as_of == ran
    assert report.verdict.ready, [(r.code, r.days) for r in report.verdict.reasons]


def test_an_unknown_partition_is_one_line_naming_the_newest(small_store: Path) -> None:
    from checks.errors import InputError

    with pytest.raises(InputError, match=r"2026-02-01: no SLI rows .*\(newest: 2026-01-04\)"):
        _report(small_store, dt.date(2026, 2, 1))


# --- distributions ---------------------------------------------------------------------


def test_numeric_distribution_shares_and_ecdf_gap_by_hand() -> None:
    baseline = pl.DataFrame({"v": np.arange(1.0, 11.0)})
    profile = build_profile(baseline, numeric=["v"], categorical=[], bins=2)
    current = np.array([1.0, 2.0, 8.0, 9.0, 10.0])
    d = numeric_distribution("v", profile.numeric["v"], current, missing_current=3)
    # Cut at the median 5.5: baseline 5 | 5, current {1, 2} | {8, 9, 10}.
    assert d.bin_labels == ("<= 5.5", "> 5.5")
    assert d.baseline_share.tolist() == [0.5, 0.5]
    assert d.current_share.tolist() == [0.4, 0.6]
    # ECDFs at the baseline's quantile grid: F_base(1) = 0.1, F_cur(1) = 0.2; both 1 at 10.
    assert (d.baseline_ecdf[0], d.current_ecdf[0]) == (0.1, 0.2)
    assert (d.baseline_ecdf[-1], d.current_ecdf[-1]) == (1.0, 1.0)
    # Largest gap on [7, 8): baseline 0.7, current 0.4.
    assert d.max_ecdf_gap == pytest.approx(0.3)
    assert distribution_distance(d) == pytest.approx(0.3)
    assert (d.n_baseline, d.n_current, d.missing_current) == (10, 5, 3)
    assert d.x_range[0] <= 1.05 and d.x_range[1] >= 9.95


def test_categorical_distribution_flags_new_categories_by_hand() -> None:
    baseline = pl.DataFrame({"c": ["a"] * 6 + ["b"] * 4})
    profile = build_profile(baseline, numeric=[], categorical=["c"])
    current = pl.DataFrame({"c": ["a", "b", "z", "z", None]})
    d = categorical_distribution("c", profile.categorical["c"], current)
    assert d.categories == ("a", "b", "z")
    assert d.new == (False, False, True)
    assert d.baseline_share.tolist() == pytest.approx([0.6, 0.4, 0.0])
    assert d.current_share.tolist() == pytest.approx([0.25, 0.25, 0.5])
    assert (d.n_current, d.missing_current) == (4, 1)
    # Total variation: (0.35 + 0.15 + 0.5) / 2.
    assert distribution_distance(d) == pytest.approx(0.5)


def test_many_categories_keep_new_ones_and_sum_the_rest() -> None:
    from assets.report.distributions import MAX_CATEGORIES

    names = [f"k{i:02d}" for i in range(30)]
    baseline = pl.DataFrame({"c": [n for i, n in enumerate(names) for _ in range(i + 1)]})
    profile = build_profile(baseline, numeric=[], categorical=["c"])
    current = pl.DataFrame({"c": [*names, "brand-new"]})
    d = categorical_distribution("c", profile.categorical["c"], current)
    assert "brand-new" in d.categories
    assert len(d.categories) == MAX_CATEGORIES
    assert d.other_categories == 31 - MAX_CATEGORIES
    total = d.baseline_share.sum() + d.other_baseline_share
    assert total == pytest.approx(1.0)


def test_every_slo_panel_carries_its_incident_class_runbook(small_store: Path) -> None:
    from assets.report.html import render_html

    report = _report(small_store)
    runbooks = {p.budget.slo: p.runbook for panels in report.tracks.values() for p in panels}
    assert runbooks["null_rate"] == "docs/runbooks/null_burst.md"
    assert runbooks["latency_p99_ms"] == "docs/runbooks/latency.md"
    page = render_html(report)
    assert "<th>runbook</th>" in page
    assert "runbook: docs/runbooks/null_burst.md" in page


def test_the_report_shows_what_drives_the_drift_largest_first(small_store: Path) -> None:
    from dataclasses import replace

    from assets.report.html import render_html
    from assets.weighted_drift import DayDriftRanking
    from checks.explain_features import FeatureDrift

    report = _report(small_store)
    # The store's contract points at no readable feature file: nothing is ranked.
    assert report.drift_ranking is None
    assert "Not ranked: the partition's features could not be read" in render_html(report)
    ranking = DayDriftRanking(
        (
            FeatureDrift("x", "ks", 0.5, True, 0.2, 0.35, 0.175),
            FeatureDrift("y", "ks", 0.02, False, 0.8, 0.65, 0.013),
        ),
        0.188,
        100,
        "the model's score on the day",
    )
    page = render_html(replace(report, drift_ranking=ranking))
    section = page[page.index("<section id='drivers'>") :]
    section = section[: section.index("</section>")]
    assert "importance_weighted_drift 0.1880" in section
    assert section.index("<td>x</td>") < section.index("<td>y</td>")
    assert "<td class='num'>0.1750</td>" in section


def test_each_banner_reason_shows_its_runbook_once(small_store: Path) -> None:
    """The gate's message ends with ``runbook: ...`` for the text and JSON reports; the
    page links the runbook after the message, so the message's own mention is dropped."""
    import re

    from assets.report.html import render_html

    # Two weeks after the last partition the evidence is stale: reasons with runbooks.
    as_of = dt.datetime(2026, 1, 20, tzinfo=dt.UTC)
    request = ReportRequest(_contract(), small_store, small_store.parent / "state", as_of=as_of)
    report = build_report(load_inputs(request))
    assert [r.runbook for r in report.verdict.reasons if r.code == "evidence_stale"] == [
        "docs/runbooks/stale_data.md"
    ]
    banner = render_html(report).split("<ul class='reasons'>", 1)[1].split("</ul>", 1)[0]
    items = re.findall(r"<li>.*?</li>", banner)
    assert len(items) == len(report.verdict.reasons)
    for reason, item in zip(report.verdict.reasons, items, strict=True):
        if reason.runbook:
            assert item.count(reason.runbook) == 1, item
            # A catalog page is named, a URL (the contract's own runbook) is a link.
            url = reason.runbook.startswith("https://")
            assert (f'href="{reason.runbook}"' if url else f"runbook: {reason.runbook}") in item
