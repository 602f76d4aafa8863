"""What drives a breach (``datasre explain``): which SLO, and since when.

Three questions an on-call engineer asks after a page, each answered from data already at
hand (the store's SLI rows, the training file, the day's snapshots):

- **Which features?** Drift effects weighted by importance to the model's score
  (:mod:`checks.explain_features`).
- **Which slices?** Each slice's errors beyond what its baseline error rate predicts
  (:mod:`checks.explain_slices`).
- **Since when?** The first day of the current breach streak of the SLO (consecutive
  evaluated days that breached; this module), and what changed that day against
  training: the features with the largest effect, with their quantile or category-share
  shifts in the data's units (:mod:`checks.explain_changes`).

This module also picks the SLO to explain when none is named, and the good days before
the streak whose error rates are each slice's baseline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Final

import polars as pl

from checks.candidate_verdict import CANDIDATE_KIND
from checks.contract import Contract
from checks.gate_checks import (
    CRASHED_RUN_STATUS,
    FAILED_RUN_STATUS,
    newest_run,
    started_before_day_end,
)

__all__ = [
    "BASELINE_DAYS",
    "BreachStreak",
    "Unjudged",
    "baseline_days",
    "breach_streak",
    "breached_slos",
    "choose_slo",
    "quality_metric",
    "run_caveat",
    "slo_evaluations",
    "unjudged_on",
]

#: Good days before a breach streak that make a slice's baseline error rate.
BASELINE_DAYS: Final = 7


def slo_evaluations(slis: pl.DataFrame, slo: str) -> pl.DataFrame:
    """Per partition of one SLO's rows: ``bad`` (any ``ok = false``), days with no judged
    row left out. Columns ``partition``, ``bad``, sorted by partition."""
    return (
        slis.filter((pl.col("sli") == slo) & pl.col("ok").is_not_null())
        .group_by("partition")
        .agg((~pl.col("ok")).any().alias("bad"))
        .sort("partition")
    )


@dataclass(frozen=True)
class BreachStreak:
    """The current run of consecutive evaluated days on which the SLO breached."""

    slo: str
    first_day: str
    last_day: str
    days: int


def breach_streak(evaluations: pl.DataFrame, partition: str, slo: str) -> BreachStreak | None:
    """The breach streak that ends on the newest evaluated day at or before ``partition``
    (None when that day is good or nothing was evaluated). Unevaluated days (labels not in
    yet) neither break nor extend a streak."""
    judged = evaluations.filter(pl.col("partition") <= partition).sort("partition", descending=True)
    if judged.height == 0 or not judged.item(0, "bad"):
        return None
    good = judged.get_column("bad").not_().arg_true()
    streak = judged.head(int(good[0]) if good.len() else judged.height)
    days = streak.get_column("partition")
    return BreachStreak(slo, str(days.min()), str(days.max()), streak.height)


@dataclass(frozen=True)
class Unjudged:
    """Why an SLO has no verdict on a day: its rows' ``status`` (``insufficient_data``,
    ``skipped``, ``error``; ``no row`` when the run recorded none) and ``detail``."""

    status: str
    detail: str | None


#: The status of an SLO a day's run recorded no row of.
NO_ROW: Final = "no row"


def unjudged_on(slis: pl.DataFrame, slo: str, partition: str) -> Unjudged | None:
    """None when ``slo`` has a verdict (``ok`` not NULL) on ``partition``; else why not.

    Why: "not breaching" was said of an SLO that had no verdict that day (20 labels, a
    slice too small), which the gate counts as no evidence, not as a pass."""
    rows = slis.filter((pl.col("sli") == slo) & (pl.col("partition") == partition))
    if rows.height == 0:
        return Unjudged(NO_ROW, None)
    if rows.get_column("ok").is_not_null().any():
        return None
    first = rows.sort("status", "feature", "slice", nulls_last=False).row(0, named=True)
    return Unjudged(str(first["status"]), first["detail"])


def run_caveat(runs: pl.DataFrame, contract: Contract, partition: str) -> str | None:
    """What the partition's newest run says about the rows being explained, when it
    undermines them (None otherwise): it crashed (the rows are an earlier run's), it could
    not read an input (the day has no evidence), or it started before the day ended (it
    saw part of the day at most). The gate blocks on these (``run_crashed`` and
    ``run_failed`` for the newest partition, ``run_before_day_end`` for any day of the
    budget window); without this, ``explain`` explained a partial day as drift.
    ``runs``: the version's runs."""
    newest = newest_run(runs, partition)
    if newest is None:
        return None
    error = " ".join(str(newest.get("error") or "no error recorded").split())
    if newest["status"] == CRASHED_RUN_STATUS:
        return (
            f"the newest run of {partition} crashed before recording anything ({error}); "
            "the rows shown are an earlier run's"
        )
    if newest["status"] == FAILED_RUN_STATUS:
        return f"the newest run of {partition} could not read an input ({error}): no evidence"
    if newest.get("kind") == CANDIDATE_KIND:
        return None
    times = started_before_day_end(newest, contract, dt.date.fromisoformat(partition))
    if times is None:
        return None
    started, ended = times
    return (
        f"the newest run of {partition} started {started.isoformat()}, "
        f"before the day ended ({ended.isoformat()}): it saw part of the day at most; "
        f"re-run it, `datasre run --model {contract.model} --partition {partition}`"
    )


#: Quality metrics a slice SLO can be about (``slice_<metric>``).
_QUALITY_PREFERENCE: Final = ("accuracy", "rmse", "ndcg", "f1", "roc_auc", "mae")


def quality_metric(slo: str) -> str | None:
    """The model-wide quality metric an SLO is about (``slice_accuracy`` -> ``accuracy``),
    None for a non-quality SLO."""
    from checks.contract import SLO_CATALOG

    metric = slo.removeprefix("slice_")
    entry = SLO_CATALOG.get(metric)
    return metric if entry is not None and entry.needs_labels else None


def breached_slos(
    slis: pl.DataFrame, partition: str, in_force: Collection[str] | None = None
) -> list[str]:
    """The day's breached SLOs, upstream first (the catalog's order: ingest, schema,
    completeness, freshness, drift, quality): those in force (``in_force``, the contract's
    declared and built-in SLOs) when any breached, else any breached catalog SLI."""
    from checks.contract import SLO_CATALOG

    day = slis.filter(pl.col("partition") == partition)
    failed = set(day.filter(pl.col("ok").not_()).get_column("sli").to_list())
    breached = [s for s in SLO_CATALOG if s in failed]
    judged = [s for s in breached if in_force is not None and s in in_force]
    return judged or breached


def choose_slo(slis: pl.DataFrame, partition: str, in_force: Collection[str] | None = None) -> str:
    """The SLO to explain when none is named: a breached quality SLO of the day (slice
    SLOs first: they say the most), else the most upstream breached SLO
    (:func:`breached_slos`: one the contract judges, so the one that alerted, before an
    SLI no SLO judges), else the day's main quality metric, else
    ``drifted_feature_share``."""
    breached = breached_slos(slis, partition, in_force)
    quality = [s for s in breached if quality_metric(s) is not None]
    slices = [s for s in quality if s.startswith("slice_")]
    if slices or quality or breached:
        return (slices or quality or breached)[0]
    day = slis.filter(pl.col("partition") == partition)
    measured = set(day.get_column("sli").to_list())
    return next((m for m in _QUALITY_PREFERENCE if m in measured), "drifted_feature_share")


def baseline_days(evaluations: pl.DataFrame, before: str, days: int = BASELINE_DAYS) -> list[str]:
    """The newest ``days`` good evaluated days strictly before ``before``."""
    good = evaluations.filter((pl.col("partition") < before) & pl.col("bad").not_())
    return sorted(good.get_column("partition").to_list())[-days:]
