"""The shape every compute asset shares: parse the partition, compute its SLI frame,
stage it for the writer with a little metadata for the run page.

A compute asset is its SLI function (pure I/O plus checks, callable from tests without
Dagster) and this wrapper; the frame goes to the ``sli_staging`` IO manager and from
there to the one writer (:mod:`assets.writer`).
"""

# No `from __future__ import annotations`: Dagster reads the asset body's annotations.
from collections.abc import Callable, Mapping
from typing import NamedTuple

import dagster as dg
import polars as pl

from assets.partitions import Partition
from assets.resources import DatasreConfig
from checks.contract import Contract

__all__ = ["SliAssetSpec", "SliCompute", "SliMetadata", "breached", "build_sli_asset"]

#: An SLI function: the partition's contract, the partition, the resource (clock, state
#: directory) in; the partition's SLI frame out.
SliCompute = Callable[[Contract, Partition, DatasreConfig], pl.DataFrame]


def breached(frame: pl.DataFrame) -> pl.DataFrame:
    """The rows of an SLI frame that breached their objective (``ok`` false)."""
    return frame.filter(pl.col("ok") == pl.lit(value=False))


#: What the run page shows of a partition's SLI frame, besides ``sli_rows``.
SliMetadata = Callable[[pl.DataFrame], "Mapping[str, dg.RawMetadataValue]"]


class SliAssetSpec(NamedTuple):
    """One compute asset declared as data: its name, what the Dagster UI says it
    measures, its kinds (the UI's tags), its SLI function and its run-page metadata."""

    name: str
    description: str
    kinds: frozenset[str]
    compute: SliCompute
    metadata: SliMetadata


def build_sli_asset(
    spec: SliAssetSpec, partitions_def: dg.PartitionsDefinition
) -> dg.AssetsDefinition:
    """The staged SLI asset ``spec`` declares, in the ``validation`` group; its run-page
    metadata is ``sli_rows`` plus what ``spec.metadata`` says of the frame."""
    compute, metadata = spec.compute, spec.metadata

    @dg.asset(
        name=spec.name,
        partitions_def=partitions_def,
        io_manager_key="sli_staging",
        group_name="validation",
        kinds=set(spec.kinds),
        description=spec.description,
    )
    def sli_asset(
        context: dg.AssetExecutionContext, datasre: DatasreConfig
    ) -> dg.Output[pl.DataFrame]:
        partition = Partition.of(context.partition_key)
        frame = compute(datasre.contract(partition.model), partition, datasre)
        return dg.Output(frame, metadata={"sli_rows": frame.height, **metadata(frame)})

    return sli_asset
