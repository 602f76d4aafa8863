"""Which features a drift call compares and how: their kind (numeric or categorical,
from the dtype or a profile) and their settings (defaults plus the contract's
per-feature override). The drift CLI and the assets resolve kinds here too."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Final

import polars as pl

from checks.drift.methods import Kind
from checks.drift.rows import Settings
from checks.errors import InputError
from checks.profile import BaselineProfile, CurrentSketch, is_categorical_dtype, is_numeric_dtype

if TYPE_CHECKING:
    from checks.contract import DriftOverride

__all__ = [
    "IDENTIFIER_MIN_VALUES",
    "baseline_kinds",
    "feature_kind",
    "frame_schema",
    "identifier_columns",
    "resolve_features",
    "settings_for",
]

#: Fewest non-null baseline values of a categorical column whose values all differ before
#: it is taken for an identifier (below, a small sample's all-distinct values are common).
IDENTIFIER_MIN_VALUES: Final = 100

Frame = pl.DataFrame | pl.LazyFrame


def frame_schema(frame: Frame) -> Mapping[str, pl.DataType]:
    """Column dtypes of a frame (a LazyFrame's without collecting data)."""
    if isinstance(frame, pl.LazyFrame):
        return frame.collect_schema()
    return frame.schema


def feature_kind(dtype: pl.DataType) -> Kind | None:
    """numeric for integer/float dtypes, categorical for String/Categorical/Enum/Boolean,
    None for anything else (skipped unless the caller names the kind)."""
    if is_numeric_dtype(dtype):
        return "numeric"
    return "categorical" if is_categorical_dtype(dtype) else None


def baseline_kinds(baseline: Frame | BaselineProfile) -> dict[str, Kind | None]:
    """Every baseline column with its kind (a profile's own, or from the dtype)."""
    if isinstance(baseline, BaselineProfile):
        return {name: baseline.kind(name) for name in baseline.features}
    return {name: feature_kind(dtype) for name, dtype in frame_schema(baseline).items()}


def identifier_columns(baseline: Frame | BaselineProfile, names: Sequence[str]) -> list[str]:
    """Those categorical columns ``names`` whose baseline values are all different (at
    least :data:`IDENTIFIER_MIN_VALUES` of them): identifiers such as a transaction id.

    Why: two days of ids share no category, so every category-count statistic reads a
    total shift (PSI ~2 on two clean days), and the comparison of thousands of one-row
    categories is the slowest in the run. A contract never names an id as a feature; an
    ad-hoc comparison of every column would."""
    if isinstance(baseline, BaselineProfile):
        return [
            name
            for name in names
            if (profile := baseline.categorical.get(name)) is not None
            and profile.n >= IDENTIFIER_MIN_VALUES
            and len(profile.categories) == profile.n
        ]
    lazy = baseline.lazy()
    # The first rows rule out almost every real feature (a repeated value) without reading
    # the rest of its column; only the columns left are counted whole.
    candidates = _all_distinct(lazy.head(_FIRST_ROWS), names, at_least=0)
    return _all_distinct(lazy, candidates, at_least=IDENTIFIER_MIN_VALUES)


#: Rows of a parquet baseline looked at first by :func:`identifier_columns`.
_FIRST_ROWS: Final = 10_000


def _all_distinct(frame: pl.LazyFrame, names: Sequence[str], *, at_least: int) -> list[str]:
    """Those of ``names`` whose non-null values in ``frame`` all differ, at least
    ``at_least`` of them."""
    if not names:
        return []
    counted = frame.select(
        *(pl.col(n).count().alias(f"n\0{n}") for n in names),
        *(pl.col(n).drop_nulls().n_unique().alias(f"u\0{n}") for n in names),
    ).collect()
    row = counted.row(0, named=True)
    return [
        name
        for name in names
        if row[f"n\0{name}"] >= at_least and row[f"u\0{name}"] == row[f"n\0{name}"]
    ]


def resolve_features(
    baseline: Frame | BaselineProfile,
    current: Frame | CurrentSketch,
    numeric: Sequence[str] | None,
    categorical: Sequence[str] | None,
) -> list[tuple[str, Kind]]:
    """(name, kind) of the features to compare: the named ones, checked to exist on both
    sides (and, against a profile, to have been profiled as that kind); when none is
    named, every baseline column with a kind that ``current`` also has."""
    if isinstance(current, CurrentSketch):
        cur_cols: set[str] = {*current.n, *current.categories}
    else:
        cur_cols = set(frame_schema(current))
    if numeric is None and categorical is None:
        chosen = [
            (n, k) for n, k in baseline_kinds(baseline).items() if k is not None and n in cur_cols
        ]
        if not chosen:
            raise InputError("current: no feature column in common with the baseline")
        return chosen
    named: list[tuple[str, Kind]] = [(n, "numeric") for n in numeric or []]
    named += [(n, "categorical") for n in categorical or []]
    for name, kind in named:
        if isinstance(baseline, BaselineProfile):
            if baseline.kind(name) is None:
                raise InputError(f"baseline: column {name!r}: not in the profile")
            if baseline.kind(name) != kind:
                raise InputError(
                    f"baseline: column {name!r}: profiled as {baseline.kind(name)}, not {kind}"
                )
        elif name not in frame_schema(baseline):
            raise InputError(f"baseline: column {name!r}: not found")
        if name not in cur_cols:
            raise InputError(f"current: column {name!r}: not found")
    return named


def settings_for(defaults: Settings, override: DriftOverride | None) -> Settings | None:
    """A feature's settings: the defaults with the override's methods, thresholds and
    bins; None when the override disables the feature."""
    if override is None:
        return defaults
    if not override.enabled:
        return None
    thresholds = dict(defaults.thresholds)
    thresholds.update({str(k): float(v) for k, v in override.threshold.items()})
    methods = tuple(override.methods) if override.methods is not None else defaults.methods
    return Settings(methods, thresholds, override.bins or defaults.bins)
