"""The reads behind ``datasre explain``: a model's SLI rows from the store and the frames
the ranking needs (training, a day's features joined to the model's scores).

Pure ranking is in :mod:`checks.explain`; this module only reads. A day whose files cannot
be read gives ``None`` (the explanation then says what it could not look at) rather than
an error: explaining a failed ingest is exactly when a file is missing.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from assets.io import read_snapshot
from assets.store import SliStore
from checks.contract import Contract
from checks.errors import InputError

__all__ = ["day_features", "day_scored", "model_slis", "training_features"]

_SLI_COLUMNS = (
    "partition, category, sli, feature, slice, method, value, objective, comparator, ok, "
    "n_rows, status"
)


def model_slis(store: SliStore, contract: Contract) -> pl.DataFrame:
    """Every newest SLI row of the contract's model version (``sli_latest``)."""
    return store.query(
        f"select {_SLI_COLUMNS} from sli_latest where model = ? and model_version = ? "
        "order by partition",
        [contract.model, contract.version],
    )


def training_features(contract: Contract) -> pl.DataFrame:
    """The training file's feature columns (and the target, when the contract names one)."""
    columns = [*contract.features]
    if contract.predictions.target is not None:
        columns.append(contract.predictions.target)
    return read_snapshot(contract.resolve(contract.sources.training), columns)


def day_features(contract: Contract, day: dt.date) -> pl.DataFrame | None:
    """The day's feature snapshot (its id and feature columns), None when unreadable."""
    try:
        return read_snapshot(
            contract.resolve(contract.sources.features, day),
            [contract.sources.id_column, *contract.features],
        )
    except InputError:
        return None


def day_scored(contract: Contract, day: dt.date, features: pl.DataFrame) -> pl.DataFrame | None:
    """The day's features joined on the id to the model's score (column ``score``), None
    when the contract has no score column or the prediction log cannot be read."""
    score, pattern = contract.predictions.score, contract.sources.predictions
    if score is None or pattern is None:
        return None
    try:
        log = read_snapshot(contract.resolve(pattern, day), [contract.sources.id_column, score])
    except InputError:
        return None
    if score not in log.columns or contract.sources.id_column not in log.columns:
        return None
    scores = log.select(
        pl.col(contract.sources.id_column), pl.col(score).cast(pl.Float64).alias("score")
    ).unique(contract.sources.id_column, keep="first")
    return features.join(scores, on=contract.sources.id_column, how="inner")
