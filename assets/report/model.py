"""The report's data model: what one model's HTML report shows, computed from frames.

Pure (no I/O, no clock): :mod:`assets.report.load` reads the store, the stored baseline
profiles and the partition's snapshots into :class:`ReportInputs`; :func:`build_report`
turns them into a :class:`Report`; :mod:`assets.report.html` draws it. Every number comes
from the same code the gate and the SQL views use, so the report never disagrees with
them:

- the verdict banner is :func:`checks.gate.decide` as of the partition's evaluation time
  (data time: the report of day *D* says what the gate said when *D* was judged), or as
  of ``--as-of`` when given (then it is ``gate --as-of``'s, newer days included), with
  :func:`checks.candidate_verdict.as_candidate_verdict` for candidate-only evidence, as
  ``datasre gate`` does;
- each SLO's state, budget and burn rates are :func:`checks.slo.error_budgets` with the
  reference day = the partition; its **burn-down** is the same call for each day of the
  window (the budget remaining as the gate would have seen it on that day), so the
  chart's last point is the table's value;
- SLI trends are the ``sli_latest`` rows of the window, one series per (category, sli,
  feature, slice, method); a series with an ``ok = false`` day is charted, the rest are
  one table row each; incident days are the days whose run was ``breached``, ``failed`` or
  ``crashed``;
- the partition's drift rows are shown as stored (value, p, q, objective, verdict), and
  distributions are drawn for every drifted feature plus the :data:`TOP_FEATURES`
  others that moved most, ranked by the distance drawn (largest ECDF gap for numeric
  features, total variation distance for categorical ones: both in [0, 1], comparable
  across kinds and independent of which statistic a method stores in ``value``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Final

import numpy as np
import polars as pl

from assets.report.distributions import (
    CategoricalDistribution,
    NumericDistribution,
    categorical_distribution,
    numeric_distribution,
)
from assets.weighted_drift import DayDriftRanking
from checks.candidate_verdict import as_candidate_verdict, is_candidate_only
from checks.contract import Contract
from checks.freshness import scheduled_evaluation_time
from checks.gate import decide, evaluation_times
from checks.gate_checks import CRASHED_RUN_STATUS, FAILED_RUN_STATUS
from checks.gate_verdict import GateOptions, Verdict, Waiver
from checks.profile import BaselineProfile, numeric_values
from checks.runbooks import reason_runbook
from checks.slo import ErrorBudget, as_definitions, error_budgets

__all__ = [
    "CATEGORY_ORDER",
    "DRIFT_CATEGORIES",
    "FINDING_CATEGORIES",
    "MAX_CHARTED_SERIES",
    "PREDICTION_LOG_CATEGORIES",
    "TOP_FEATURES",
    "BurnPoint",
    "Report",
    "ReportInputs",
    "SliSeries",
    "SloPanel",
    "build_report",
    "burn_down",
    "distribution_distance",
    "sli_series",
]

#: ``runs.status`` values that mark their day as an incident on the report's charts.
INCIDENT_RUN_STATUSES: Final = ("breached", FAILED_RUN_STATUS, CRASHED_RUN_STATUS)

#: Features drawn besides the drifted ones: the most-moved by the drawn distance.
TOP_FEATURES: Final = 5
#: At most this many trend charts (breached series); the others join the table, said so.
MAX_CHARTED_SERIES: Final = 60
#: Categories whose failed rows of the partition are "findings" (with the stored examples).
FINDING_CATEGORIES: Final = ("ingest", "schema", "completeness", "freshness")
DRIFT_CATEGORIES: Final = ("drift", "prediction_drift")
#: SLIs measured on the prediction log (serving): latency, errors, cost, volume, scores.
PREDICTION_LOG_CATEGORIES: Final = ("availability", "latency", "cost", "throughput", "prediction")
#: Order of the trend sections; other categories follow alphabetically.
CATEGORY_ORDER: Final = (
    "ingest",
    "schema",
    "completeness",
    "freshness",
    "drift",
    "prediction_drift",
    "quality",
    "fairness",
    *PREDICTION_LOG_CATEGORIES,
)
SERIES_KEY: Final = ("track", "category", "sli", "feature", "slice", "method")


@dataclass(frozen=True)
class ReportInputs:
    """Everything the report shows, already read.

    ``slis``: ``sli_latest`` rows of the model version (any partitions; later ones than
    ``partition`` are ignored). ``runs``: its ``runs`` rows. ``definitions``: its
    ``slo_definitions`` rows (empty: the contract's SLOs). ``features``/``predictions``:
    the partition's snapshots (the profiled columns), None when unreadable or absent,
    with the reason in ``snapshot_notes``.
    """

    contract: Contract
    version: str
    partition: dt.date
    slis: pl.DataFrame
    runs: pl.DataFrame
    definitions: pl.DataFrame
    waivers: Sequence[Waiver] = ()
    window_days: int | None = None
    as_of: dt.datetime | None = None
    profile: BaselineProfile | None = None
    prediction_profile: BaselineProfile | None = None
    features: pl.DataFrame | None = None
    predictions: pl.DataFrame | None = None
    snapshot_notes: tuple[str, ...] = ()
    drift_ranking: DayDriftRanking | None = None


@dataclass(frozen=True)
class BurnPoint:
    """An SLO's budget as of one day: ``remaining_fraction`` None when the budget is 0
    (target 1, or no evaluation yet)."""

    day: dt.date
    remaining_fraction: float | None
    bad: int
    evaluations: int


@dataclass(frozen=True)
class SloPanel:
    """One SLO: its budget as of the partition, its burn-down over the window, and the
    runbook of its incident class (``checks.runbooks``; the contract may override it)."""

    budget: ErrorBudget
    burn_down: tuple[BurnPoint, ...]
    runbook: str | None = None


@dataclass(frozen=True)
class SliSeries:
    """One SLI over the window: ``values[i]`` measured on ``days[i]`` (None: not
    measured), ``ok[i]`` its verdict (None: not judged)."""

    track: str
    category: str
    sli: str
    feature: str | None
    slice: str | None
    method: str | None
    days: tuple[dt.date, ...]
    values: tuple[float | None, ...]
    ok: tuple[bool | None, ...]
    objective: float | None
    comparator: str | None

    @property
    def label(self) -> str:
        parts = [self.sli]
        if self.method and self.method != self.sli:
            parts.append(f"[{self.method}]")
        if self.feature is not None:
            parts.append(f"feature {self.feature}")
        if self.slice is not None:
            parts.append(f"slice {self.slice}")
        return " ".join(parts)

    @property
    def breached_days(self) -> tuple[dt.date, ...]:
        return tuple(d for d, ok in zip(self.days, self.ok, strict=True) if ok is False)


Distribution = NumericDistribution | CategoricalDistribution


@dataclass(frozen=True)
class Report:
    """What the HTML shows, section by section (see the module docstring)."""

    model: str
    version: str
    partition: dt.date
    window_start: dt.date
    window_days: int
    as_of: dt.datetime
    owner: str | None
    runbook: str | None
    verdict: Verdict
    run: dict[str, object] | None
    tracks: dict[str, list[SloPanel]]
    charted: list[SliSeries]
    trend_table: pl.DataFrame
    incident_days: tuple[dt.date, ...]
    drift: pl.DataFrame
    distributions: list[Distribution]
    drifted_features: tuple[str, ...]
    findings: pl.DataFrame
    quality: pl.DataFrame
    quality_slices: pl.DataFrame
    fairness: pl.DataFrame
    prediction_log: pl.DataFrame
    notes: tuple[str, ...] = field(default=())
    not_charted: int = 0
    #: What drives the drift on the partition (``datasre explain``'s ranking), None
    #: when the day's features could not be read.
    drift_ranking: DayDriftRanking | None = None

    @property
    def days(self) -> list[dt.date]:
        """The window's calendar days, oldest first."""
        return [self.window_start + dt.timedelta(days=i) for i in range(self.window_days)]


def _day_column(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.col("partition").str.to_date("%Y-%m-%d", strict=False).alias("day")
    )


def burn_down(
    slis: pl.DataFrame,
    definitions: Contract | pl.DataFrame | Sequence[object],
    days: Sequence[dt.date],
    *,
    window_days: int,
) -> dict[tuple[str, str], tuple[BurnPoint, ...]]:
    """Each SLO's budget as of each of ``days``: :func:`checks.slo.error_budgets` with
    that reference day over the rows of partitions up to it. Keyed by (track, slo)."""
    dated = _day_column(slis)
    out: dict[tuple[str, str], list[BurnPoint]] = {}
    for day in days:
        upto = dated.filter(pl.col("day") <= day).drop("day")
        if upto.height == 0:
            continue
        for budget in error_budgets(
            upto,
            definitions,  # type: ignore[arg-type]
            reference_day=day,
            window_days=window_days,
        ):
            out.setdefault((budget.track, budget.slo), []).append(
                BurnPoint(day, budget.remaining_fraction, budget.bad, budget.evaluations)
            )
    return {key: tuple(points) for key, points in out.items()}


def sli_series(window: pl.DataFrame, days: Sequence[dt.date]) -> list[SliSeries]:
    """One :class:`SliSeries` per (track, category, sli, feature, slice, method) of
    ``window`` (rows with a ``day`` column), on the calendar ``days``."""
    if window.height == 0:
        return []
    calendar = pl.DataFrame({"day": list(days)}, schema={"day": pl.Date})
    grouped = (
        window.sort("day")
        .group_by(list(SERIES_KEY), maintain_order=True)
        .agg(
            pl.col("day"),
            pl.col("value"),
            pl.col("ok"),
            pl.col("objective").drop_nulls().last(),
            pl.col("comparator").drop_nulls().last(),
        )
        .sort(list(SERIES_KEY), nulls_last=False)
    )
    series: list[SliSeries] = []
    for row in grouped.iter_rows(named=True):
        measured = pl.DataFrame(
            {"day": row["day"], "value": row["value"], "ok": row["ok"]},
            schema={"day": pl.Date, "value": pl.Float64, "ok": pl.Boolean},
        ).unique("day", keep="last")
        full = calendar.join(measured, on="day", how="left").sort("day")
        series.append(
            SliSeries(
                track=row["track"],
                category=row["category"],
                sli=row["sli"],
                feature=row["feature"],
                slice=row["slice"],
                method=row["method"],
                days=tuple(full.get_column("day").to_list()),
                values=tuple(full.get_column("value").to_list()),
                ok=tuple(full.get_column("ok").to_list()),
                objective=row["objective"],
                comparator=row["comparator"],
            )
        )
    return series


def _category_rank(category: str) -> tuple[int, str]:
    order = {name: i for i, name in enumerate(CATEGORY_ORDER)}
    return (order.get(category, len(order)), category)


def _trend_table(series: Sequence[SliSeries]) -> pl.DataFrame:
    rows = []
    for s in series:
        measured = [v for v in s.values if v is not None]
        last_day, last_value = next(
            (
                (d, v)
                for d, v in zip(reversed(s.days), reversed(s.values), strict=True)
                if v is not None
            ),
            (None, None),
        )
        rows.append(
            {
                "category": s.category,
                "sli": s.sli,
                "feature": s.feature,
                "slice": s.slice,
                "method": s.method,
                "days_measured": len(measured),
                "last_day": last_day,
                "last": last_value,
                "min": min(measured) if measured else None,
                "max": max(measured) if measured else None,
                "objective": s.objective,
                "comparator": s.comparator,
                "days_breached": len(s.breached_days),
            }
        )
    schema = {
        "category": pl.String,
        "sli": pl.String,
        "feature": pl.String,
        "slice": pl.String,
        "method": pl.String,
        "days_measured": pl.Int64,
        "last_day": pl.Date,
        "last": pl.Float64,
        "min": pl.Float64,
        "max": pl.Float64,
        "objective": pl.Float64,
        "comparator": pl.String,
        "days_breached": pl.Int64,
    }
    return pl.DataFrame(rows, schema=schema)


def distribution_distance(distribution: Distribution) -> float:
    """How far the drawn current distribution is from the baseline, in [0, 1]: the
    largest ECDF gap (numeric) or the total variation distance (categorical, half the
    L1 distance of the shares, the "other" bar included)."""
    if isinstance(distribution, NumericDistribution):
        gap = distribution.max_ecdf_gap
        return 0.0 if np.isnan(gap) else gap
    l1 = float(np.abs(distribution.baseline_share - distribution.current_share).sum())
    l1 += abs(distribution.other_baseline_share - distribution.other_current_share)
    return l1 / 2


def _distributions(
    profile: BaselineProfile | None, snapshot: pl.DataFrame | None
) -> list[Distribution]:
    if profile is None or snapshot is None:
        return []
    out: list[Distribution] = []
    for name, numeric in profile.numeric.items():
        if name in snapshot.columns:
            values, missing = numeric_values(snapshot, name)
            out.append(numeric_distribution(name, numeric, values, missing))
    for name, categorical in profile.categorical.items():
        if name in snapshot.columns:
            out.append(categorical_distribution(name, categorical, snapshot))
    return out


def _verdict(
    inputs: ReportInputs, slis: pl.DataFrame, runs: pl.DataFrame, now: dt.datetime
) -> Verdict:
    contract = inputs.contract
    definitions = inputs.definitions if inputs.definitions.height else None
    verdict = decide(
        contract,
        slis,
        runs,
        now=now,
        version=inputs.version,
        definitions=definitions,
        waivers=inputs.waivers,
        options=GateOptions(window_days=inputs.window_days),
    )
    if is_candidate_only(runs, contract.model, inputs.version):
        verdict = as_candidate_verdict(
            verdict,
            slis,
            runs=runs,
            definitions=definitions
            if definitions is not None
            else [replace(d, model_version=None) for d in as_definitions(contract)],
            waivers=inputs.waivers,
            now=now,
            contract=contract,
        )
    return verdict


def _of_partition(frame: pl.DataFrame, partition: str, categories: Sequence[str]) -> pl.DataFrame:
    return frame.filter(
        (pl.col("partition") == partition) & pl.col("category").is_in(list(categories))
    )


_ROW_COLUMNS: Final = (
    "category",
    "sli",
    "feature",
    "slice",
    "method",
    "value",
    "objective",
    "comparator",
    "ok",
    "blocking",
    "status",
    "n_rows",
    "detail",
)


def _columns(frame: pl.DataFrame, extra: Sequence[str] = ()) -> pl.DataFrame:
    wanted = [c for c in (*_ROW_COLUMNS[:5], *extra, *_ROW_COLUMNS[5:]) if c in frame.columns]
    return frame.select(wanted).sort(
        [c for c in ("category", "sli", "feature", "slice", "method") if c in wanted],
        nulls_last=False,
    )


def build_report(inputs: ReportInputs) -> Report:
    """The report of ``inputs.partition`` (see the module docstring for each section)."""
    contract = inputs.contract
    partition = inputs.partition.isoformat()
    width = inputs.window_days or contract.slos.window_days
    window_start = inputs.partition - dt.timedelta(days=width - 1)
    version_slis = inputs.slis.filter(
        (pl.col("model") == contract.model) & (pl.col("model_version") == inputs.version)
    )
    version_runs = inputs.runs.filter(
        (pl.col("model") == contract.model) & (pl.col("model_version") == inputs.version)
    )
    # The day's data time as the gate has it: a candidate evaluation's is when it ran (its
    # scheduled time came before, so the banner said evidence_missing while the gate said
    # READY).
    evaluated = evaluation_times(
        contract, version_slis, version_runs, as_recorded=inputs.version != contract.version
    ).get(partition)
    now = inputs.as_of or evaluated or scheduled_evaluation_time(contract, inputs.partition)
    slis = version_slis.filter(pl.col("partition") <= partition)
    runs = version_runs.filter(pl.col("partition") <= partition)
    # With --as-of the banner is `gate --as-of`'s (every day, decide keeps the ones
    # evaluated by then): a newer day's crash or breach blocks there too. Without, it is the
    # gate's when the day was judged, on the days up to it (a candidate's verdict judges
    # its newest day, which must be this one).
    if inputs.as_of is not None:
        verdict = _verdict(inputs, version_slis, version_runs, now)
    else:
        verdict = _verdict(inputs, slis, runs, now)
    definitions: Contract | pl.DataFrame = (
        inputs.definitions if inputs.definitions.height else contract
    )
    days = [window_start + dt.timedelta(days=i) for i in range(width)]
    burns = burn_down(slis, definitions, days, window_days=width)
    budgets = error_budgets(slis, definitions, reference_day=inputs.partition, window_days=width)
    tracks: dict[str, list[SloPanel]] = {}
    for budget in budgets:
        panel = SloPanel(
            budget,
            burns.get((budget.track, budget.slo), ()),
            reason_runbook(f"{budget.track}_budget", budget.slo, contract),
        )
        tracks.setdefault(budget.track, []).append(panel)

    window = _day_column(slis).filter(pl.col("day") >= window_start)
    series = sli_series(window, days)
    series.sort(key=lambda s: (_category_rank(s.category), s.sli, s.feature or "", s.slice or ""))
    breached = [s for s in series if s.breached_days]
    charted = breached[:MAX_CHARTED_SERIES]
    rest = [s for s in series if not s.breached_days] + breached[MAX_CHARTED_SERIES:]
    incidents = tuple(
        sorted(
            {
                d
                for d in runs.filter(pl.col("status").is_in(INCIDENT_RUN_STATUSES))
                .get_column("partition")
                .str.to_date("%Y-%m-%d", strict=False)
                .drop_nulls()
                .to_list()
                if d >= window_start
            }
        )
    )
    run_rows = runs.filter(pl.col("partition") == partition).sort("finished_at")
    run = run_rows.row(run_rows.height - 1, named=True) if run_rows.height else None

    drift = _of_partition(slis, partition, DRIFT_CATEGORIES)
    drift_columns = [
        c for c in ("statistic", "p_value", "q_value", "significant") if c in slis.columns
    ]
    drift_table = (
        _columns(drift, drift_columns)
        .with_columns((pl.col("ok") == pl.lit(value=False)).fill_null(value=False).alias("_bad"))
        .sort(
            ["_bad", "category", "feature", "method"],
            descending=[True, False, False, False],
            nulls_last=False,
        )
        .drop("_bad")
    )
    drifted = tuple(
        sorted(
            set(
                drift.filter(
                    (pl.col("ok") == pl.lit(value=False)) & pl.col("feature").is_not_null()
                )
                .get_column("feature")
                .to_list()
            )
        )
    )
    candidates = [
        *_distributions(inputs.profile, inputs.features),
        *_distributions(inputs.prediction_profile, inputs.predictions),
    ]
    ranked = sorted(candidates, key=lambda d: (-distribution_distance(d), d.feature))
    shown = [d for d in ranked if d.feature in drifted]
    shown += [d for d in ranked if d.feature not in drifted][:TOP_FEATURES]

    quality = _of_partition(slis, partition, ("quality",))
    return Report(
        model=contract.model,
        version=inputs.version,
        partition=inputs.partition,
        window_start=window_start,
        window_days=width,
        as_of=now,
        owner=contract.owner,
        runbook=contract.runbook,
        verdict=verdict,
        run=run,
        tracks=tracks,
        charted=charted,
        trend_table=_trend_table(rest),
        incident_days=incidents,
        drift=drift_table,
        distributions=shown,
        drifted_features=drifted,
        findings=_columns(
            _of_partition(slis, partition, FINDING_CATEGORIES).filter(
                (pl.col("ok") == pl.lit(value=False)) | (pl.col("status") == "error")
            )
        ),
        quality=_columns(quality.filter(pl.col("slice").is_null())),
        quality_slices=_columns(quality.filter(pl.col("slice").is_not_null())),
        fairness=_columns(_of_partition(slis, partition, ("fairness",))),
        prediction_log=_columns(_of_partition(slis, partition, PREDICTION_LOG_CATEGORIES)),
        notes=inputs.snapshot_notes,
        not_charted=len(breached) - len(charted),
        drift_ranking=inputs.drift_ranking,
    )


def features_of(profile: BaselineProfile | None) -> list[str]:
    """The profiled columns the loader must read from the snapshot."""
    return [] if profile is None else profile.features
