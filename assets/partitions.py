"""Partitions: one per (day, model). Dagster joins the dimension values in name order,
so the key of model ``fraud_detection`` on 2026-11-03 is ``2026-11-03|fraud_detection``.

A key is parsed once, into a :class:`Partition`, at the top of each asset body; nothing
downstream splits strings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

import dagster as dg

from checks.contract import Contract

__all__ = ["Partition", "model_day_partitions", "partition_key", "split_partition_key"]


class Partition(NamedTuple):
    """One partition: a model on a day (a NamedTuple, so ``model, day = partition``)."""

    model: str
    day: dt.date

    @classmethod
    def of(cls, key: str | dg.MultiPartitionKey) -> Partition:
        """The partition of a key object or of its ``date|model`` string form."""
        if isinstance(key, dg.MultiPartitionKey):
            dims = key.keys_by_dimension
            return cls(dims["model"], dt.date.fromisoformat(dims["date"]))
        day, _, model = key.partition("|")
        return cls(model, dt.date.fromisoformat(day))

    @property
    def key(self) -> dg.MultiPartitionKey:
        """The Dagster key (what ``execute_in_process(partition_key=...)`` takes)."""
        return dg.MultiPartitionKey({"date": self.day.isoformat(), "model": self.model})

    @property
    def name(self) -> str:
        """The ``partition`` column of the store: the day, ``YYYY-MM-DD``."""
        return self.day.isoformat()


def model_day_partitions(contracts: Sequence[Contract]) -> dg.MultiPartitionsDefinition:
    """Daily partitions from the earliest contract start date, crossed with the models."""
    if not contracts:
        raise ValueError("no contracts: nothing to partition")
    start = min(contract.sources.start_date for contract in contracts)
    return dg.MultiPartitionsDefinition(
        {
            "date": dg.DailyPartitionsDefinition(start_date=start.isoformat(), end_offset=1),
            "model": dg.StaticPartitionsDefinition(sorted(c.model for c in contracts)),
        }
    )


def partition_key(model: str, day: dt.date) -> dg.MultiPartitionKey:
    """The Dagster key of ``model`` on ``day``."""
    return Partition(model, day).key


def split_partition_key(key: str | dg.MultiPartitionKey) -> Partition:
    """The :class:`Partition` of a key (kept for callers that unpack ``model, day``)."""
    return Partition.of(key)
