"""The reads behind ``datasre explain``: a model's SLI rows from the store and the frames
the ranking needs (training, a day's features joined to the model's scores).

Pure ranking is in :mod:`checks.explain`; this module only reads. A day whose files cannot
be read gives ``None`` (the explanation then says what it could not look at) rather than
an error: explaining a failed ingest is exactly when a file is missing.

Drift effects and importance weights are estimates that do not need every row of a large
day: training and the day are read whole up to :data:`EXPLAIN_MAX_ROWS` rows and as a
seeded random sample of that many rows above it (:mod:`assets.sample_read`), so explaining
(and recording ``importance_weighted_drift`` for) a 100M-row day costs one pass over its
columns plus what a 200k-row day does. A sampled side's empirical distribution is within
0.0030 of the whole day's everywhere with 95% confidence (the DKW bound
sqrt(ln(2 / 0.05) / (2 x 200k))), so its KS D moves by at most that much.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import polars as pl

from assets.io import scan_snapshot
from assets.sample_read import SampledSnapshot, read_sampled
from assets.store import SliStore
from checks.contract import Contract
from checks.errors import InputError

__all__ = [
    "EXPLAIN_MAX_ROWS",
    "day_features",
    "day_sample",
    "day_scored",
    "model_slis",
    "training_features",
    "training_sample",
]

#: Rows of training and of a day read whole; larger ones are sampled down to this many.
EXPLAIN_MAX_ROWS: Final = 200_000

_SLI_COLUMNS = (
    "partition, category, sli, feature, slice, method, value, objective, comparator, ok, "
    "n_rows, status, detail"
)


def model_slis(store: SliStore, contract: Contract) -> pl.DataFrame:
    """Every newest SLI row of the contract's model version (``sli_latest``)."""
    return store.query(
        f"select {_SLI_COLUMNS} from sli_latest where model = ? and model_version = ? "
        "order by partition",
        [contract.model, contract.version],
    )


def model_runs(store: SliStore, contract: Contract) -> pl.DataFrame:
    """Every run of the contract's model version (every column: an older store lacks
    some)."""
    return store.query(
        "select * from runs where model = ? and model_version = ? order by finished_at",
        [contract.model, contract.version],
    )


def training_sample(contract: Contract) -> SampledSnapshot:
    """The training file's feature columns (and the target, when the contract names one),
    sampled down to :data:`EXPLAIN_MAX_ROWS` rows."""
    columns = [*contract.features]
    if contract.predictions.target is not None:
        columns.append(contract.predictions.target)
    return read_sampled(contract.resolve(contract.sources.training), columns, EXPLAIN_MAX_ROWS)


def training_features(contract: Contract) -> pl.DataFrame:
    """The frame of :func:`training_sample`."""
    return training_sample(contract).frame


def day_sample(contract: Contract, day: dt.date) -> SampledSnapshot | None:
    """The day's feature snapshot (its id and feature columns) sampled down to
    :data:`EXPLAIN_MAX_ROWS` rows, None when unreadable."""
    try:
        return read_sampled(
            contract.resolve(contract.sources.features, day),
            [contract.sources.id_column, *contract.features],
            EXPLAIN_MAX_ROWS,
        )
    except InputError:
        return None


def day_features(contract: Contract, day: dt.date) -> pl.DataFrame | None:
    """The frame of :func:`day_sample`, None when unreadable."""
    sample = day_sample(contract, day)
    return sample.frame if sample is not None else None


def day_scored(contract: Contract, day: dt.date, features: pl.DataFrame) -> pl.DataFrame | None:
    """The day's features joined on the id to the model's score (column ``score``), None
    when the contract has no score column or the prediction log cannot be read.

    Only the prediction rows whose id is among ``features``' are kept while the log is
    scanned (streamed), so a sampled day holds its sample, not the whole log."""
    score, pattern, id_column = (
        contract.predictions.score,
        contract.sources.predictions,
        contract.sources.id_column,
    )
    if score is None or pattern is None or id_column not in features.columns:
        return None
    path = contract.resolve(pattern, day)
    try:
        log = scan_snapshot(path)
        if not {id_column, score} <= set(log.collect_schema().names()):
            return None
        scores = (
            log.select(pl.col(id_column), pl.col(score).cast(pl.Float64).alias("score"))
            .filter(pl.col(id_column).is_in(features.get_column(id_column).implode()))
            .collect(engine="streaming")
            .unique(id_column, keep="first", maintain_order=True)
        )
    except (InputError, pl.exceptions.PolarsError, OSError):
        return None
    return features.join(scores, on=id_column, how="inner")
