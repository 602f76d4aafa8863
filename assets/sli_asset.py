"""The shape every compute asset shares: parse the partition, compute its SLI frame,
stage it for the writer with a little metadata for the run page.

A compute asset is its SLI function (pure I/O plus checks, callable from tests without
Dagster) and this wrapper; the frame goes to the ``sli_staging`` IO manager and from
there to the one writer (:mod:`assets.writer`).
"""

# No `from __future__ import annotations`: Dagster reads the asset body's annotations.
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import Final, NamedTuple

import dagster as dg
import polars as pl

from assets import started_early
from assets.partitions import Partition
from assets.resources import DatasreConfig
from checks.contract import Contract

__all__ = [
    "SliAssetSpec",
    "SliCompute",
    "SliMetadata",
    "SlowStepNotice",
    "breached",
    "build_sli_asset",
]

#: An SLI function: the partition's contract, the partition, the resource (clock, state
#: directory) in; the partition's SLI frame out.
SliCompute = Callable[[Contract, Partition, DatasreConfig], pl.DataFrame]


#: Dagster's op tag ordering the steps that are ready at once (higher first; default 0).
PRIORITY_TAG: Final = "dagster/priority"


def breached(frame: pl.DataFrame) -> pl.DataFrame:
    """The rows of an SLI frame that breached their objective (``ok`` false)."""
    return frame.filter(pl.col("ok") == pl.lit(value=False))


#: What the run page shows of a partition's SLI frame, besides ``sli_rows``.
SliMetadata = Callable[[pl.DataFrame], "Mapping[str, dg.RawMetadataValue]"]


class SliAssetSpec(NamedTuple):
    """One compute asset declared as data: its name, what the Dagster UI says it
    measures, its kinds (the UI's tags), its SLI function and its run-page metadata;
    ``priority``: Dagster's step priority (among steps ready at once, higher first)."""

    name: str
    description: str
    kinds: frozenset[str]
    compute: SliCompute
    metadata: SliMetadata
    priority: int = 0


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
        op_tags={PRIORITY_TAG: str(spec.priority)} if spec.priority else None,
    )
    def sli_asset(
        context: dg.AssetExecutionContext, datasre: DatasreConfig
    ) -> dg.Output[pl.DataFrame]:
        partition = Partition.of(context.partition_key)
        try:
            with SlowStepNotice(
                f"{partition.model} {partition.day}: {spec.name}", datasre
            ) as notice:
                frame = compute(datasre.contract(partition.model), partition, datasre)
                notice.result = f"{frame.height} SLI rows"
        finally:
            started_early.ended(spec.name)
        return dg.Output(frame, metadata={"sli_rows": frame.height, **metadata(frame)})

    return sli_asset


class SlowStepNotice:
    """Progress for a long step (a large day): a line on stderr once the step has run for
    ``datasre.slow_step_seconds``, and one when it ends; nothing for a quick step.

    Why a timer and not a line per step: ``make run`` runs 28 sample partitions of six
    compute steps each in seconds, and a line each would bury the summary; a 100M-row day
    runs for minutes, and its user should see what it is doing.
    """

    def __init__(self, label: str, datasre: DatasreConfig) -> None:
        self.label = label
        self.after = datasre.slow_step_seconds
        self.result = ""
        self._timer: threading.Timer | None = None
        self._started = 0.0
        self._announced = threading.Event()

    def _announce(self) -> None:
        self._announced.set()
        print(f"  {self.label}: running for {self.after:g} s ...", file=sys.stderr, flush=True)

    def __enter__(self) -> "SlowStepNotice":
        self._started = time.perf_counter()
        if self.after > 0:
            self._timer = threading.Timer(self.after, self._announce)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer.join()
        if self._announced.is_set():
            seconds = time.perf_counter() - self._started
            outcome = self.result or "failed"
            print(f"  {self.label}: {outcome} in {seconds:.1f} s", file=sys.stderr, flush=True)
