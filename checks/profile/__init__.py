"""Baseline profiles: what drift needs from the training data, computed once per model version.

Why: recomputing cut points, sorts and counts from the raw training parquet on every daily
run is the waste peers pay for (Evidently issue #506). A :class:`BaselineProfile` holds,
per numeric feature, the PSI cut points and bin counts, the sorted non-null values (for
exact KS/Wasserstein), a fine quantile grid (for sketch mode), mean and standard
deviation; per categorical feature the category counts; and a content hash of the data
and of the contract's feature section, so a stored profile is rebuilt only when either
changes. Training data larger than memory is profiled batch by batch from mergeable parts
(:func:`build_profile_in_batches`: everything but the sorted values, so sketch mode only).

Conventions (the same as :mod:`checks.drift`): nulls and NaN are dropped and counted;
``±inf`` are kept as extreme values for KS, PSI and JS, and excluded (counted) from the
mean, the standard deviation, the PSI cut points and the quantile grid; categories are
compared as strings.

This module does no I/O: it turns frames into profiles and profiles into a JSON-able
mapping plus one polars frame of sorted values (:func:`profile_to_tables`,
:func:`profile_from_tables`). ``assets.baseline_store`` writes and reads them.
"""

from __future__ import annotations

from checks.profile.batches import SAMPLE_VALUES, build_profile_in_batches
from checks.profile.build import build_profile, feature_section_hash, numeric_profile
from checks.profile.columns import (
    categorical_counts,
    categorical_counts_and_missing,
    is_categorical_dtype,
    is_numeric_dtype,
    numeric_values,
)
from checks.profile.freshness import FORMAT_VERSION
from checks.profile.model import (
    DEFAULT_BINS,
    SKETCH_LEVELS,
    BaselineProfile,
    CategoricalProfile,
    Kind,
    NumericProfile,
)
from checks.profile.sketch import CurrentSketch, merge_sketches, sketch_current
from checks.profile.tables import profile_from_tables, profile_to_tables

__all__ = [
    "DEFAULT_BINS",
    "FORMAT_VERSION",
    "SAMPLE_VALUES",
    "SKETCH_LEVELS",
    "BaselineProfile",
    "CategoricalProfile",
    "CurrentSketch",
    "Kind",
    "NumericProfile",
    "build_profile",
    "build_profile_in_batches",
    "categorical_counts",
    "categorical_counts_and_missing",
    "feature_section_hash",
    "is_categorical_dtype",
    "is_numeric_dtype",
    "merge_sketches",
    "numeric_profile",
    "numeric_values",
    "profile_from_tables",
    "profile_to_tables",
    "sketch_current",
]
