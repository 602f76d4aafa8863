"""Fault injectors for chaos drills: pure transforms of one day's frames with a known
magnitude (``datasre chaos``, :mod:`pipelines.commands.chaos`, does the file I/O).

Every injector is seeded and whole-column. Which feature a fault hits follows the
contract's feature order (the first numeric feature, the first categorical one, ...), so a
drill needs no configuration; each :class:`FaultSpec` says what it hits and how hard.

File-level faults (a corrupt or truncated file, a snapshot that arrives late, labels
withheld) are listed here with their magnitude but applied by the drill to files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import polars as pl

from checks.contract import Contract, ModelType
from checks.fault_classes import FAULT_CLASSES

__all__ = [
    "FaultSpec",
    "category_mix",
    "concept_change",
    "covariate_shift",
    "dropped_feature",
    "fault_spec",
    "new_category",
    "null_burst",
    "schema_change",
]


#: Magnitudes.
SHIFT_SIGMAS: Final = 1.0  # covariate shift: + this many training standard deviations
MIX_SHARE: Final = 0.5  # category mix: share of rows moved to the rarest training category
NULL_SHARE: Final = 0.4  # null burst: share of a feature's values set to null
NEW_CATEGORY_SHARE: Final = 0.2  # new category: share of rows given a category never seen
NEW_CATEGORY: Final = "__chaos_new_category__"
FLIP_SHARE: Final = 0.6  # concept change: share of a slice's labels flipped
REGRESSION_SHIFT_OBJECTIVES: Final = 2.0  # regression: + 2 x the rmse/mae objective


@dataclass(frozen=True)
class FaultSpec:
    """One fault class as injected for a contract: its target and magnitude."""

    name: str
    feature: str | None
    describe: str


def _first(names: list[str]) -> str | None:
    return names[0] if names else None


def fault_spec(contract: Contract, name: str) -> FaultSpec | None:
    """What ``name`` does to this contract's data, or None when it cannot apply (no
    categorical feature for a category fault, no labels or slices for concept change)."""
    numeric, categorical = contract.numeric_features, contract.categorical_features
    first_numeric, first_categorical = _first(numeric), _first(categorical)
    labelled = contract.sources.labels is not None and contract.predictions.target is not None
    slice_column = _first(list(contract.slices))
    concept = (
        f"{FLIP_SHARE:.0%} of labels flipped in the largest {slice_column} slice"
        if contract.type == ModelType.CLASSIFICATION
        else f"target + {REGRESSION_SHIFT_OBJECTIVES:g} x the error objective in the largest "
        f"{slice_column} slice"
    )
    specs: dict[str, tuple[str | None, str, bool]] = {
        "covariate_shift": (
            first_numeric,
            f"{first_numeric} + {SHIFT_SIGMAS:g} training sd",
            first_numeric is not None,
        ),
        "category_mix": (
            first_categorical,
            f"{MIX_SHARE:.0%} of {first_categorical} moved to its rarest training category",
            first_categorical is not None,
        ),
        "dropped_feature": (
            _first(numeric[::-1]),
            f"column {_first(numeric[::-1])} missing",
            bool(numeric),
        ),
        "null_burst": (
            numeric[1] if len(numeric) > 1 else first_numeric,
            f"{NULL_SHARE:.0%} of {numeric[1] if len(numeric) > 1 else first_numeric} null",
            bool(numeric),
        ),
        "new_category": (
            first_categorical,
            f"{NEW_CATEGORY_SHARE:.0%} of {first_categorical} = {NEW_CATEGORY!r}",
            first_categorical is not None,
        ),
        "corrupt_file": (None, "features parquet truncated to half its bytes", True),
        "schema_change": (
            first_numeric,
            f"{first_numeric} written as String",
            first_numeric is not None,
        ),
        "late_snapshot": (None, "features file not there when the day is evaluated", True),
        "labels_withheld": (None, "labels file never delivered", labelled),
        "concept_change": (
            slice_column,
            concept,
            labelled and bool(contract.slices),
        ),
    }
    if name not in specs:
        raise ValueError(f"unknown fault class {name!r} (one of {', '.join(FAULT_CLASSES)})")
    feature, describe, applies = specs[name]
    return FaultSpec(name, feature, describe) if applies else None


def covariate_shift(frame: pl.DataFrame, feature: str, training_sd: float) -> pl.DataFrame:
    """``feature`` + :data:`SHIFT_SIGMAS` training standard deviations (integers rounded)."""
    shifted = pl.col(feature) + SHIFT_SIGMAS * training_sd
    dtype = frame.schema[feature]
    if dtype.is_integer():
        shifted = shifted.round(0)
    return frame.with_columns(shifted.cast(dtype).alias(feature))


def _chosen(height: int, share: float, seed: int) -> pl.Series:
    rng = np.random.default_rng(seed)
    return pl.Series(rng.uniform(size=height) < share)


def category_mix(frame: pl.DataFrame, feature: str, rarest: str, seed: int) -> pl.DataFrame:
    """:data:`MIX_SHARE` of the rows (seeded) get the training's rarest category."""
    moved = _chosen(frame.height, MIX_SHARE, seed)
    return frame.with_columns(
        pl.when(moved).then(pl.lit(rarest)).otherwise(pl.col(feature)).alias(feature)
    )


def dropped_feature(frame: pl.DataFrame, feature: str) -> pl.DataFrame:
    return frame.drop(feature)


def null_burst(frame: pl.DataFrame, feature: str, seed: int) -> pl.DataFrame:
    """:data:`NULL_SHARE` of ``feature`` (seeded rows) set to null."""
    nulled = _chosen(frame.height, NULL_SHARE, seed)
    return frame.with_columns(pl.when(nulled).then(None).otherwise(pl.col(feature)).alias(feature))


def new_category(frame: pl.DataFrame, feature: str, seed: int) -> pl.DataFrame:
    """:data:`NEW_CATEGORY_SHARE` of the rows get :data:`NEW_CATEGORY`."""
    chosen = _chosen(frame.height, NEW_CATEGORY_SHARE, seed)
    return frame.with_columns(
        pl.when(chosen).then(pl.lit(NEW_CATEGORY)).otherwise(pl.col(feature)).alias(feature)
    )


def schema_change(frame: pl.DataFrame, feature: str) -> pl.DataFrame:
    """``feature`` written as strings (a producer that changed its type)."""
    return frame.with_columns(pl.col(feature).cast(pl.String))


def concept_change(
    labels: pl.DataFrame,
    in_slice: pl.Series,
    target: str,
    *,
    classification: bool,
    regression_shift: float,
    seed: int,
) -> pl.DataFrame:
    """Labels of the rows ``in_slice`` (aligned with ``labels``) changed: for a classifier
    :data:`FLIP_SHARE` of them flipped (0 <-> 1; a label that is not a number, e.g. a
    queue name, becomes the next of the day's classes in sorted order), for a regressor
    the target + ``shift``."""
    if classification:
        flip = in_slice & _chosen(labels.height, FLIP_SHARE, seed)
        column = pl.col(target)
        if labels.schema[target].is_numeric():
            other = 1 - column
        else:
            classes = labels.get_column(target).drop_nulls().unique().sort().to_list()
            after = dict(zip(classes, classes[1:] + classes[:1], strict=True))
            other = column.replace(after)
        changed = pl.when(flip).then(other).otherwise(column)
    else:
        changed = (
            pl.when(in_slice).then(pl.col(target) + regression_shift).otherwise(pl.col(target))
        )
    return labels.with_columns(changed.cast(labels.schema[target]).alias(target))
