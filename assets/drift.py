"""Drift of one (model, day) partition against the stored baseline profile.

The baseline profile (cut points, category counts, sorted values) is built once per model
version from the training parquet and stored under ``<profiles_dir>/<model>/<version>/``
(the state directory's ``profiles``, :mod:`assets.state`). It is rebuilt only when its
source signature changes: the training files' content (a BLAKE2b hash of their bytes,
never their size and mtime), the contract's feature section and the PSI bins, or when it
was stored in another format version; that rule and its key are
:mod:`checks.profile.freshness`'s. Building reads the training data one column at a
time, or, past the memory budget, batch by batch (row groups) into a sketch-only profile;
every later run only reads the profile. Each day is compared with the exact engine while
it fits the budget and with the sketch engine, streamed by row group, above it
(:mod:`assets.drift_engine`).
"""

import datetime as dt
import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final, TypedDict

import polars as pl

from assets.atomic_file import write_atomically
from assets.baseline_store import is_profile_dir, load_profile, save_profile
from assets.drift_engine import (
    NO_SORTED_VALUES,
    EngineChoice,
    choose_engine,
    lacks_sorted_values,
    profile_fits_whole,
)
from assets.drift_runner import ColumnRunner
from assets.io import resolve_files, scan_snapshot
from assets.partitions import Partition
from assets.resources import DatasreConfig
from assets.row_groups import row_group_parts
from assets.sli_asset import SliAssetSpec, breached
from assets.state import inside
from assets.training_columns import lacking_features
from assets.undecodable import or_unreadable
from assets.validation import SOURCE_FEATURES, SOURCE_PREDICTIONS
from checks.contract import Contract
from checks.drift import (
    compute_drift,
    compute_prediction_drift,
    drift_sli_rows,
    sketch_snapshot,
)
from checks.errors import InputError
from checks.profile import (
    DEFAULT_BINS,
    BaselineProfile,
    CurrentSketch,
    build_profile,
    build_profile_in_batches,
    is_categorical_dtype,
    is_numeric_dtype,
)
from checks.profile.freshness import ProfileKey, is_reusable, source_hash
from checks.sli import empty_sli_frame, sli_frame
from checks.unseen import unseen_category_rows, unseen_rows_from_counts

__all__ = [
    "DRIFT_ASSET",
    "SIGNATURE_FILE",
    "baseline_signature",
    "drift_rows",
    "drift_slis",
    "ensure_prediction_profile",
    "ensure_profile",
    "prediction_drift_rows",
]

#: File beside a stored profile holding its :class:`~checks.profile.freshness.ProfileKey`.
SIGNATURE_FILE = "source.json"
_BUILD_LOCK = threading.Lock()

#: The libraries it runs on, as the Dagster UI tags it.
KINDS: Final = frozenset({"polars", "scipy"})
#: What the asset measures, as the Dagster UI shows it.
DESCRIPTION: Final = (
    "PSI, KS, chi-square, Jensen-Shannon and Wasserstein of every feature "
    "against the stored training baseline profile, with BH q-values and the drift rule; "
    "the share of rows whose category training never had (unseen_category_rate)."
)


def _bins(contract: Contract) -> dict[str, int]:
    return {
        name: spec.drift.bins or DEFAULT_BINS
        for name, spec in contract.features.items()
        if spec.is_numeric
    }


def _content_digests(pattern: str) -> list[tuple[int, str]]:
    """(bytes, BLAKE2b-256 of the bytes) of each file of a pattern, in path order.

    Why the content and not (size, mtime): copy tools keep the mtime (``cp -p``,
    ``rsync -t``, ``tar`` extraction), and a same-size rewrite within one mtime tick is
    invisible to it, so a profile of other data would be reused silently. Hashing every
    byte on every run is the sound key, at a cost linear in the training file's bytes
    (measured on a shared 2-core VM: 0.6 ms for the 0.5 MB fraud sample, where loading its
    profile takes 8.6 ms; 34 ms for 1M rows of it, 23 MB; 1.4 s for 1M x 50 random
    float64 columns, 384 MB). Paths are left out: the same data moved keeps its profile.
    """
    digests = []
    for file in resolve_files(pattern):
        with open(file, "rb") as handle:
            digest = hashlib.file_digest(handle, lambda: hashlib.blake2b(digest_size=32))
        digests.append((os.path.getsize(file), digest.hexdigest()))
    return digests


def baseline_signature(contract: Contract, *, in_batches: bool = False) -> str:
    """Key of what the profile is built from (the training data's content, the feature
    section, the bins) and, for a profile built in batches, that it was: a change means a
    rebuild, so a sketch-only profile is rebuilt whole once the training data fits."""
    digests = _content_digests(contract.resolve(contract.sources.training))
    features = {name: spec.model_dump(mode="json") for name, spec in contract.features.items()}
    parts: dict[str, object] = {"features": features, "bins": _bins(contract)}
    if in_batches:
        parts["built"] = "in batches"
    return source_hash(digests, parts)


def _cached_profile(
    directory: Path, signature: str, build: Callable[[], BaselineProfile]
) -> BaselineProfile:
    """The profile stored in ``directory`` if built from ``signature``, else built now.

    Threads of this process and parallel worker processes build a profile once (a file
    lock per directory); files are replaced atomically, so readers never see half of one.
    """
    signature_file = directory / SIGNATURE_FILE
    directory.mkdir(parents=True, exist_ok=True)
    with _BUILD_LOCK, open(directory / ".lock", "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        wanted = ProfileKey(source_hash=signature)
        if is_profile_dir(directory) and signature_file.is_file():
            stored = json.loads(signature_file.read_text(encoding="utf-8"))
            if is_reusable(ProfileKey.from_json(stored), wanted):
                return load_profile(directory)
        profile = build()
        save_profile(profile, directory)
        built = {**wanted.to_json(), "built_at": dt.datetime.now(dt.UTC).isoformat()}
        write_atomically(signature_file, json.dumps(built))
        return profile


class _ProfileOptions(TypedDict):
    """What both profile builders take from the contract."""

    numeric: list[str]
    categorical: list[str]
    bins: dict[str, int]
    features: dict[str, Any]


def ensure_profile(contract: Contract, profiles_dir: str | Path) -> BaselineProfile:
    """The model version's stored feature profile, rebuilt when its signature changed.

    Built whole (one training column at a time, sorted values kept for the exact engine)
    while the training data fits the memory budget, else in batches of row groups
    (sketch-only; :func:`assets.drift_engine.profile_fits_whole`)."""
    training_path = contract.resolve(contract.sources.training)
    files = resolve_files(training_path)
    in_batches = not profile_fits_whole(contract, files, len(contract.numeric_features))

    def build() -> BaselineProfile:
        training = scan_snapshot(training_path)
        columns = training.collect_schema().names()
        if not set(contract.features) <= set(columns):
            raise lacking_features(contract, columns, training_path)
        options = _ProfileOptions(
            numeric=contract.numeric_features,
            categorical=contract.categorical_features,
            bins=_bins(contract),
            features={n: s.model_dump(mode="json") for n, s in contract.features.items()},
        )
        if in_batches:
            return build_profile_in_batches(row_group_parts(files), **options)
        return build_profile(training, **options)

    directory = inside(profiles_dir, contract.model, contract.version)
    signature = baseline_signature(contract, in_batches=in_batches)
    return _cached_profile(directory, signature, build)


def _prediction_columns(contract: Contract) -> tuple[list[str], list[str]]:
    columns = contract.predictions
    numeric = [columns.score] if columns.score else []
    categorical = [columns.predicted_label] if columns.predicted_label else []
    return numeric, categorical


def ensure_prediction_profile(
    contract: Contract, profiles_dir: str | Path
) -> BaselineProfile | None:
    """The stored profile of ``sources.prediction_baseline``, or None when not declared;
    built whole or in batches by the same memory rule as :func:`ensure_profile`."""
    if contract.sources.prediction_baseline is None:
        return None
    path = contract.resolve(contract.sources.prediction_baseline)
    numeric, categorical = _prediction_columns(contract)
    digests = _content_digests(path)
    files = resolve_files(path)
    in_batches = not profile_fits_whole(contract, files, len(numeric))
    keyed: dict[str, object] = {"columns": [numeric, categorical]}
    if in_batches:
        keyed["built"] = "in batches"
    signature = source_hash(digests, keyed)

    def build() -> BaselineProfile:
        reference = scan_snapshot(path)
        present = set(reference.collect_schema().names())
        missing = sorted(set(numeric + categorical) - present)
        if missing:
            raise InputError(f"{path}: prediction baseline lacks columns {missing}")
        if in_batches:
            batches = row_group_parts(files)
            return build_profile_in_batches(batches, numeric=numeric, categorical=categorical)
        return build_profile(reference, numeric=numeric, categorical=categorical)

    directory = inside(profiles_dir, contract.model, contract.version, "predictions")
    return _cached_profile(directory, signature, build)


def _engine_input(
    contract: Contract,
    profile: BaselineProfile,
    current: pl.LazyFrame | pl.DataFrame,
    files: Sequence[str],
    *,
    numeric: Sequence[str],
    categorical: Sequence[str],
) -> tuple[pl.LazyFrame | pl.DataFrame | CurrentSketch, EngineChoice | None]:
    """What :func:`compute_drift` compares against ``profile``: the day itself (exact
    engine) or its sketch streamed row group by row group (sketch engine), with the
    choice. Data without files (an in-memory frame: its memory is spent already) is
    compared exactly (choice None) unless the profile was built in batches."""
    if files:
        choice = choose_engine(contract, files, profile, numeric)
        if choice.engine == "exact":
            return current, choice
        parts = row_group_parts(files)
    elif lacks_sorted_values(profile, numeric):
        choice = EngineChoice("sketch", 0, None, NO_SORTED_VALUES)
        parts = [current.lazy()]
    else:
        return current, None
    # One column of one part per item (sketching is numpy-bound: threads would only
    # contend), or shared with a worker process on large days.
    sketch = sketch_snapshot(
        profile, parts, [*numeric, *categorical], map_columns=ColumnRunner(threads=1)
    )
    return sketch, choice


def _with_engine_reason(rows: pl.DataFrame, choice: EngineChoice | None) -> pl.DataFrame:
    """Rows of the sketch engine say so, and why, at the end of their detail."""
    if choice is None or choice.engine != "sketch":
        return rows
    reason = choice.reason()
    return rows.with_columns(
        pl.when(pl.col("detail").is_null())
        .then(pl.lit(reason))
        .otherwise(pl.col("detail") + "; " + reason)
        .alias("detail")
    )


def prediction_drift_rows(
    contract: Contract,
    predictions: pl.LazyFrame,
    profiles_dir: str | Path,
    *,
    files: Sequence[str] = (),
) -> pl.DataFrame:
    """Drift of the score and predicted label against the prediction baseline
    (category ``prediction_drift``); empty when the contract declares no baseline.
    ``files`` (the day's parquet files) let the memory budget pick the engine."""
    profile = ensure_prediction_profile(contract, profiles_dir)
    if profile is None:
        return empty_sli_frame()
    present = set(predictions.collect_schema().names())
    numeric, categorical = (
        [n for n in names if n in present] for names in _prediction_columns(contract)
    )
    current, choice = _engine_input(
        contract, profile, predictions, files, numeric=numeric, categorical=categorical
    )
    drift = compute_prediction_drift(profile, current, contract, map_columns=ColumnRunner())
    rows = drift_sli_rows(drift, contract)
    rows = rows.filter(pl.col("feature").is_not_null()).with_columns(
        pl.lit("prediction_drift").alias("category")
    )
    return _with_engine_reason(rows, choice)


#: Declared feature dtypes drift never compares (neither numeric nor categorical).
TEMPORAL_DTYPES: Final = frozenset({"Date", "Datetime"})


def drift_rows(
    contract: Contract,
    current: pl.LazyFrame | pl.DataFrame,
    profiles_dir: str | Path,
    *,
    files: Sequence[str] = (),
) -> pl.DataFrame:
    """Drift SLI rows of a feature frame against the model version's stored profile, and
    its ``unseen_category_rate`` rows (categories the profile never had; category
    ``schema``, computed here because the profile is at hand).

    ``files``, the parquet files ``current`` scans, let the memory budget pick the engine
    (:func:`assets.drift_engine.choose_engine`); without them (an in-memory frame) the
    engine is exact unless the profile was built in batches.
    """
    schema = current.collect_schema() if isinstance(current, pl.LazyFrame) else current.schema
    # A missing or wrongly typed column is schema_valid's breach; drift skips it.
    numeric = [n for n in contract.numeric_features if n in schema and is_numeric_dtype(schema[n])]
    categorical = [
        n for n in contract.categorical_features if n in schema and is_categorical_dtype(schema[n])
    ]
    overrides = {name: spec.drift for name, spec in contract.features.items()}
    profile = ensure_profile(contract, profiles_dir)
    compared, choice = _engine_input(
        contract, profile, current, files, numeric=numeric, categorical=categorical
    )
    drift = compute_drift(
        profile,
        compared,
        numeric=numeric,
        categorical=categorical,
        overrides=overrides,
        map_columns=ColumnRunner(),
    )
    if isinstance(compared, CurrentSketch):  # the day's category counts are at hand
        counts = {name: compared.categories[name] for name in categorical}
        unseen = sli_frame(unseen_rows_from_counts(contract, profile, counts))
    else:
        unseen = sli_frame(unseen_category_rows(contract, profile, current, categorical))
    # Declared drift features the day lacks or types otherwise (schema_valid's breach);
    # date and datetime features are never compared, whatever the day holds.
    unmeasured = [
        name
        for name, spec in contract.features.items()
        if spec.drift.enabled
        and spec.dtype not in TEMPORAL_DTYPES
        and name not in {*numeric, *categorical}
    ]
    rows = _with_engine_reason(drift_sli_rows(drift, contract, unmeasured), choice)
    return pl.concat([rows, unseen], how="vertical")


def _day_files(contract: Contract, pattern: str | None, day: dt.date) -> list[str] | None:
    """The day's files of a source, or None when it is undeclared or unreadable."""
    if pattern is None:
        return None
    try:
        scan_snapshot(contract.resolve(pattern, day)).collect_schema()
        return resolve_files(contract.resolve(pattern, day))
    except InputError:
        return None  # recorded by validation_slis as ingest_ok = 0


def drift_slis(contract: Contract, day: dt.date, profiles_dir: str | Path) -> pl.DataFrame:
    """Drift SLI rows of the day's features and predictions; a source whose snapshot is
    unreadable adds none (``validation_slis`` records it as ``ingest_ok = 0``), one whose
    data cannot be decoded its ``ingest_ok = 0`` row (:func:`assets.undecodable.or_unreadable`).
    Each source's engine is chosen from its files and the memory budget."""
    frames = []
    features = _day_files(contract, contract.sources.features, day)
    if features is not None:
        frames.append(
            or_unreadable(
                contract,
                {SOURCE_FEATURES: features},
                lambda: drift_rows(
                    contract, pl.scan_parquet(features), profiles_dir, files=features
                ),
            )
        )
    predictions = _day_files(contract, contract.sources.predictions, day)
    if predictions is not None:
        frames.append(
            or_unreadable(
                contract,
                {SOURCE_PREDICTIONS: predictions},
                lambda: prediction_drift_rows(
                    contract, pl.scan_parquet(predictions), profiles_dir, files=predictions
                ),
            )
        )
    return pl.concat(frames, how="vertical") if frames else empty_sli_frame()


def _drift_metadata(frame: pl.DataFrame) -> dict[str, str]:
    """The run page's metadata: the features with a breached drift row ("none" when none)."""
    drifted = breached(frame).filter(pl.col("feature").is_not_null())
    return {"drifted_features": ", ".join(sorted(set(drifted["feature"].to_list()))) or "none"}


def _compute(contract: Contract, partition: Partition, datasre: DatasreConfig) -> pl.DataFrame:
    """The asset's SLI frame: :func:`drift_slis` of the partition's day."""
    return drift_slis(contract, partition.day, datasre.profiles_dir())


#: The asset, declared as data (built by :func:`assets.sli_asset.build_sli_asset`).
#: Its step is the last compute step: beside its two processes the multivariate thread
#: (:mod:`assets.started_early`) slowed it 1.9 -> 5.2 s at 5M rows; after the others, that
#: thread is done.
DRIFT_ASSET: Final = SliAssetSpec(
    "drift_slis", DESCRIPTION, KINDS, _compute, _drift_metadata, priority=-2
)
