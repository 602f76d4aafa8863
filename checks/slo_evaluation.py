"""SLO evaluations: each SLO's status on each partition, from the SLI rows.

Pure arithmetic (polars in, frames out; no I/O, no clock). Days are partitions
(``YYYY-MM-DD``).

How a day is judged
-------------------
For each SLO (an SLI name the contract holds an objective for) and each partition:

- ``good``: at least one SLI row of that ``sli`` was judged (``ok`` not null) and all
  judged rows are ``ok``;
- ``bad``: any judged row has ``ok = false`` (one breached feature makes the day bad);
- ``not_evaluated``: no judged row (labels not arrived, insufficient data...). Such days
  neither spend nor earn budget.

Evidence that arrives late (labels)
-----------------------------------
Quality SLIs need labels, which arrive days after the partition's evaluation, so the
newest partitions are ``not_evaluated`` for them. Such an SLO carries
``evidence_delay_days`` (the contract's ``sources.max_label_delay_days``; 0 for every
other SLO) and its windows end at its newest evaluated day while that is at most the
delay before the newest partition: its burn rates are those of the newest labelled days,
so a label-delayed SLO still pages. An SLO whose newest evaluation is older than that
(labels overdue, a source missing, too little data) has state ``no_evidence``: a
dashboard never says ``ok`` for an SLO whose recent evidence is missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import polars as pl

from checks.contract import Contract
from checks.slo_catalog import SLO_CATALOG
from checks.slo_in_force import slos_in_force
from checks.slo_spec import Slos

__all__ = [
    "DayStatus",
    "SloDefinition",
    "as_definitions",
    "declared_definitions",
    "evaluate_partitions",
]


class DayStatus(StrEnum):
    GOOD = "good"
    BAD = "bad"
    NOT_EVALUATED = "not_evaluated"


@dataclass(frozen=True)
class SloDefinition:
    """One SLO as the budget arithmetic needs it (a row of ``slo_definitions``).

    ``objective`` is in the SLI's unit; ``target`` is the fraction of evaluated days that
    must be good; ``window_days`` is the error-budget window in days.
    """

    track: str
    sli: str
    objective: float
    comparator: str
    target: float
    blocking: bool
    window_days: int
    model: str | None = None
    model_version: str | None = None
    #: Days the SLI may arrive after its partition's evaluation (labels): 0 for the rest.
    evidence_delay_days: float = 0.0


def _definitions_from_contract(contract: Contract, slos: Slos) -> list[SloDefinition]:
    return [
        SloDefinition(
            track=track,
            sli=name,
            objective=spec.objective,
            comparator=spec.comparator or SLO_CATALOG[name].comparator,
            target=spec.target,
            blocking=spec.blocking,
            window_days=slos.window_days,
            model=contract.model,
            model_version=contract.version,
            evidence_delay_days=contract.evidence_delay_days(name),
        )
        for track, specs in (("infra", slos.infra), ("model", slos.model))
        for name, spec in specs.items()
    ]


def declared_definitions(contract: Contract) -> list[SloDefinition]:
    """Only the SLOs the contract declares itself (not the built-in ones): what the
    gate's contract check asks of a contract."""
    return _definitions_from_contract(contract, contract.slos)


def as_definitions(
    source: Contract | pl.DataFrame | Iterable[SloDefinition],
) -> list[SloDefinition]:
    """SLO definitions from a contract (the SLOs in force: declared and built-in, see
    :func:`slos_in_force`), a frame shaped like ``slo_definitions`` (the
    ``model``/``model_version`` columns are optional: without them a definition applies
    to every model in the SLI rows), or definitions already."""
    if isinstance(source, Contract):
        return _definitions_from_contract(source, slos_in_force(source))
    if isinstance(source, pl.DataFrame):
        fields = SloDefinition.__dataclass_fields__
        return [
            SloDefinition(**{k: v for k, v in row.items() if k in fields})
            for row in source.iter_rows(named=True)
        ]
    return list(source)


#: What a definition says of its SLO, as columns (shared by the definitions frame and the
#: evaluations frame).
_SLO_COLUMNS: Final[Mapping[str, pl.DataType]] = {
    "track": pl.String(),
    "slo": pl.String(),
    "objective": pl.Float64(),
    "comparator": pl.String(),
    "target": pl.Float64(),
    "blocking": pl.Boolean(),
    "window_days": pl.Int64(),
    "evidence_delay_days": pl.Float64(),
}


def _definitions_frame(definitions: Sequence[SloDefinition]) -> pl.DataFrame:
    schema = {"def_model": pl.String(), "def_version": pl.String(), **_SLO_COLUMNS}
    records = [
        {
            "def_model": d.model,
            "def_version": d.model_version,
            "track": d.track,
            "slo": d.sli,
            "objective": d.objective,
            "comparator": d.comparator,
            "target": d.target,
            "blocking": d.blocking,
            "window_days": d.window_days,
            "evidence_delay_days": d.evidence_delay_days,
        }
        for d in definitions
    ]
    return pl.DataFrame(records, schema=schema)


_EVALUATION_SCHEMA: Final[Mapping[str, pl.DataType]] = {
    "model": pl.String(),
    "model_version": pl.String(),
    "track": pl.String(),
    "slo": pl.String(),
    "partition": pl.String(),
    "day": pl.Date(),
    **{name: dtype for name, dtype in _SLO_COLUMNS.items() if name not in ("track", "slo")},
    "judged_rows": pl.Int64(),
    "bad_rows": pl.Int64(),
    "status": pl.String(),
}


def evaluate_partitions(
    slis: pl.DataFrame, definitions: Contract | pl.DataFrame | Iterable[SloDefinition]
) -> pl.DataFrame:
    """One row per (model, version, partition present in ``slis``) and SLO: its status.

    ``slis`` needs the columns model, model_version, partition, sli and ok. Columns out:
    model, model_version, track, slo, partition, day, objective, comparator, target,
    blocking, window_days, evidence_delay_days, judged_rows, bad_rows, status (``good``/``bad``/
    ``not_evaluated``), sorted by model, version, track, slo, partition. Same as the
    ``slo_evaluations`` SQL view.
    """
    defs = _definitions_frame(as_definitions(definitions))
    if slis.height == 0 or defs.height == 0:
        return pl.DataFrame(schema=dict(_EVALUATION_SCHEMA))
    rows = slis.select(
        pl.col("model").cast(pl.String),
        pl.col("model_version").cast(pl.String),
        pl.col("partition").cast(pl.String),
        pl.col("sli").cast(pl.String),
        pl.col("ok").cast(pl.Boolean),
    )
    partitions = rows.select("model", "model_version", "partition").unique()
    judged = rows.group_by("model", "model_version", "partition", "sli").agg(
        pl.col("ok").is_not_null().sum().cast(pl.Int64).alias("judged_rows"),
        (pl.col("ok") == pl.lit(value=False)).sum().cast(pl.Int64).alias("bad_rows"),
    )
    pairs = partitions.join(defs, how="cross").filter(
        (pl.col("def_model").is_null() | (pl.col("def_model") == pl.col("model")))
        & (pl.col("def_version").is_null() | (pl.col("def_version") == pl.col("model_version")))
    )
    out = (
        pairs.join(
            judged,
            left_on=["model", "model_version", "partition", "slo"],
            right_on=["model", "model_version", "partition", "sli"],
            how="left",
        )
        .with_columns(
            pl.col("judged_rows").fill_null(0),
            pl.col("bad_rows").fill_null(0),
            pl.col("partition").str.to_date("%Y-%m-%d", strict=False).alias("day"),
        )
        .with_columns(
            pl.when(pl.col("judged_rows") == 0)
            .then(pl.lit(DayStatus.NOT_EVALUATED.value))
            .when(pl.col("bad_rows") > 0)
            .then(pl.lit(DayStatus.BAD.value))
            .otherwise(pl.lit(DayStatus.GOOD.value))
            .alias("status")
        )
    )
    return (
        out.select(list(_EVALUATION_SCHEMA))
        .cast(pl.Schema(_EVALUATION_SCHEMA))
        .sort("model", "model_version", "track", "slo", "partition")
    )
