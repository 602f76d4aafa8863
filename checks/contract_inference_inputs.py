"""What ``datasre init`` read, as :func:`checks.contract_inference.draft_contract` takes it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from checks.contract import ModelType

__all__ = ["DailyFiles", "InitInputs"]


@dataclass(frozen=True)
class DailyFiles:
    """One source of daily files: its ``{date}`` pattern (as the contract will say it),
    the first day, and the files read (day, frame; the earliest few days)."""

    pattern: str
    start_date: dt.date
    frames: tuple[tuple[dt.date, pl.DataFrame], ...]

    @property
    def sample(self) -> pl.DataFrame:
        return pl.concat([frame for _, frame in self.frames], how="diagonal_relaxed")


@dataclass(frozen=True)
class InitInputs:
    """What ``datasre init`` read. ``*_path`` are the paths as the contract writes them
    (relative to the contract's directory); ``where`` names the files in error messages."""

    model: str
    model_type: ModelType
    tier: int
    training_path: str
    training: pl.DataFrame
    features: DailyFiles
    predictions: DailyFiles | None = None
    labels: DailyFiles | None = None
    where: dict[str, str] = field(default_factory=dict)
