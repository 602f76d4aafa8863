"""``importance_weighted_drift`` of one (model, day) partition, recorded as an SLI.

The value is the one ``datasre explain`` shows (:mod:`checks.explain_features`): every feature's
drift effect against training (KS D of a numeric feature, JS distance of a categorical
one, both in [0, 1]) weighted half uniformly, half by its importance to the model's score
on the day, summed: a weighted mean effect in [0, 1]. Recording it per partition lets a
contract hold an objective on it (``slos.model.importance_weighted_drift``) and the error
budgets and the gate judge it like any other SLO; without a declared objective the row is
a measurement only (``ok`` null).

A day whose features cannot be read adds no row: ``ingest_ok`` records that.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Final

import polars as pl

from assets.explain_inputs import day_sample, day_scored, training_sample
from assets.partitions import Partition
from assets.resources import DatasreConfig
from assets.sli_asset import SliAssetSpec
from checks.contract import Contract
from checks.explain_features import (
    IMPORTANCE_METHOD,
    FeatureDrift,
    drift_effects,
    estimate_importance,
    rank_drift,
)
from checks.sli import empty_sli_frame, sli_frame, slo_row

__all__ = [
    "WEIGHTED_DRIFT_ASSET",
    "WEIGHTED_DRIFT_SLI",
    "DayDriftRanking",
    "rank_day_drift",
    "weighted_drift_slis",
]

#: The libraries it runs on, as the Dagster UI tags it.
KINDS: Final = frozenset({"polars"})
#: What the asset measures, as the Dagster UI shows it.
DESCRIPTION: Final = (
    "importance_weighted_drift: the features' drift effects against "
    "training (KS D, JS distance) weighted by their importance to the model's score "
    "on the day, as datasre explain ranks them; an SLI a contract may set an objective on."
)

WEIGHTED_DRIFT_SLI: Final = "importance_weighted_drift"


@dataclass(frozen=True)
class DayDriftRanking:
    """A day's features by importance-weighted drift effect (largest first), their sum
    (``importance_weighted_drift``, in [0, 1]), the day's rows it was measured on, what the
    importances were estimated from and which rows were read (the day's, training's)."""

    features: tuple[FeatureDrift, ...]
    value: float
    n_rows: int
    importance_source: str
    rows_read: str = ""

    @property
    def method(self) -> str:
        return (
            f"{IMPORTANCE_METHOD}; importance estimated from {self.importance_source}"
            f"{self.rows_read}"
        )


def rank_day_drift(contract: Contract, day: dt.date) -> DayDriftRanking | None:
    """The day's drift ranking as ``datasre explain`` computes it; None when the day's
    features cannot be read or no feature can be compared with training."""
    sample = day_sample(contract, day)
    if sample is None:
        return None
    features = sample.frame
    training_rows = training_sample(contract)
    training = training_rows.frame
    effects = drift_effects(
        training, features, contract.numeric_features, contract.categorical_features
    )
    if effects.height == 0:
        return None
    importance, source = estimate_importance(
        day_scored(contract, day, features),
        training,
        contract.predictions.target,
        list(contract.features),
        positive_label=contract.predictions.positive_label,
    )
    ranked, value = rank_drift(effects, importance, {})
    # 12 decimals: the sums' last bits depend on polars' thread scheduling, and a
    # re-run (or a parallel run) must record the same value.
    rows_read = (
        f"; day: {sample.describe()}; training: {training_rows.describe()}"
        if sample.sampled or training_rows.sampled
        else ""
    )
    return DayDriftRanking(tuple(ranked), round(value, 12), features.height, source, rows_read)


def weighted_drift_slis(contract: Contract, day: dt.date) -> pl.DataFrame:
    """The day's ``importance_weighted_drift`` row (category ``drift``, model track, no
    feature), judged against the contract's objective when it declares one."""
    ranking = rank_day_drift(contract, day)
    if ranking is None:
        return empty_sli_frame()
    top = ", ".join(f"{r.feature} {r.weighted_effect:.3g}" for r in ranking.features[:3])
    row = slo_row(
        contract,
        WEIGHTED_DRIFT_SLI,
        "drift",
        ranking.value,
        ranking.n_rows,
        method="weighted_effect",
        detail=f"top: {top}; {ranking.method}",
    )
    return sli_frame([row])


def _measured(frame: pl.DataFrame) -> dict[str, float]:
    """The run page's metadata: the day's ``importance_weighted_drift`` when measured."""
    values = frame.get_column("value").to_list()
    return {WEIGHTED_DRIFT_SLI: float(values[0])} if values and values[0] is not None else {}


def _compute(contract: Contract, partition: Partition, datasre: DatasreConfig) -> pl.DataFrame:
    """The asset's SLI frame: :func:`weighted_drift_slis` of the partition's day."""
    return weighted_drift_slis(contract, partition.day)


#: The asset, declared as data (built by :func:`assets.sli_asset.build_sli_asset`).
WEIGHTED_DRIFT_ASSET: Final = SliAssetSpec(
    "weighted_drift_slis", DESCRIPTION, KINDS, _compute, _measured
)
