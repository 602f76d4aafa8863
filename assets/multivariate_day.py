"""Multivariate drift of one (model, day) partition against the training baseline: the
computation, without Dagster, so that a worker process can run it beside the rest of a
``datasre run`` (:func:`assets.multivariate.start_multivariate_early`); the asset is
:mod:`assets.multivariate`.

The domain classifier's threshold is calibrated on baseline-vs-baseline splits, which
costs about 6-15 s (18 boosted fits); it depends only on the training data, the feature
section and the method's settings, so it is computed once per model version and kept in
the state directory (``<profiles>/<model>/<version>/multivariate/domain_null_<rows>.json``),
keyed by a hash of those inputs (the training files' bytes, never their mtime). Every
other part (encodings, the PCA on the baseline, ~50 ms) is recomputed per run.

Both SLIs look at most at a few thousand (domain classifier) and 50,000 (PCA) of the
day's rows, drawn uniformly with a fixed seed. A day of more than
:data:`MULTIVARIATE_READ_ROWS` rows is first read as a seeded random sample of that many
(:mod:`assets.sample_read`), one slice at a time, so a 100M-row day costs one pass over
its feature columns, not 100M rows in memory; the rows' detail says so.
"""

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import polars as pl

from assets.atomic_file import write_atomically
from assets.io import read_snapshot, resolve_files, scan_snapshot
from assets.sample_read import read_sampled
from assets.state import inside
from assets.training_columns import lacking_features
from checks.contract import Contract
from checks.errors import InputError
from checks.multivariate import domain_classifier
from checks.multivariate.domain_classifier import NullCalibration
from checks.multivariate.sli_rows import (
    DOMAIN_MAX_ROWS,
    MIN_BASELINE_ROWS,
    PCA_MAX_ROWS,
    calibrate_domain_null,
    calibration_rows,
    insufficient_rows,
    multivariate_sli_rows,
    prepare_baseline,
)
from checks.sli import empty_sli_frame

__all__ = ["MULTIVARIATE_READ_ROWS", "NULL_FILE", "domain_null", "multivariate_slis"]

#: A day of more rows is read as a random sample of this many (4x the PCA's sample,
#: so the seeded uniform samples drawn from it are still spread over the whole day).
MULTIVARIATE_READ_ROWS: Final = 4 * PCA_MAX_ROWS

#: The stored calibration of ``rows`` rows per side: ``domain_null_<rows>.json``.
NULL_FILE: Final = "domain_null_{rows}.json"


def _signature(contract: Contract) -> str:
    """Hash of what the calibration depends on: training bytes, features, settings."""
    digest = hashlib.sha256()
    for file in resolve_files(contract.resolve(contract.sources.training)):
        with open(file, "rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    settings = {
        "features": {n: s.model_dump(mode="json") for n, s in contract.features.items()},
        "rows": DOMAIN_MAX_ROWS,
        "folds": domain_classifier.FOLDS,
        "repeats": domain_classifier.CALIBRATION_REPEATS,
        "max_iter": domain_classifier.MAX_ITER,
        "leaves": domain_classifier.MAX_LEAF_NODES,
    }
    digest.update(json.dumps(settings, sort_keys=True).encode())
    return digest.hexdigest()


def domain_null(
    contract: Contract, training: pl.DataFrame, profiles_dir: str | Path, rows: int
) -> NullCalibration:
    """The stored baseline-vs-baseline calibration, computed (under a file lock, once for
    parallel workers) when missing or stale."""
    directory = inside(profiles_dir, contract.model, contract.version, "multivariate")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / NULL_FILE.format(rows=rows)
    signature = _signature(contract)
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.is_file():
            stored = json.loads(path.read_text(encoding="utf-8"))
            if stored.get("signature") == signature:
                return NullCalibration(rows=int(stored["rows"]), aucs=tuple(stored["aucs"]))
        null = calibrate_domain_null(training, contract, rows)
        record = {
            "signature": signature,
            "rows": null.rows,
            "aucs": list(null.aucs),
            "built_at": dt.datetime.now(dt.UTC).isoformat(),
        }
        write_atomically(path, json.dumps(record))
        return null


def multivariate_slis(contract: Contract, day: dt.date, profiles_dir: str | Path) -> pl.DataFrame:
    """Both multivariate SLI rows of the day; none when the features snapshot is missing
    or unreadable (``validation_slis`` records that as ``ingest_ok = 0``)."""
    try:
        read = read_sampled(
            contract.resolve(contract.sources.features, day),
            # The id keeps the day's height when every feature column is missing.
            [contract.sources.id_column, *contract.features],
            MULTIVARIATE_READ_ROWS,
        )
    except InputError:
        return empty_sli_frame()
    current = read.frame
    if current.height == 0:
        return empty_sli_frame()
    training_path = contract.resolve(contract.sources.training)
    training = read_snapshot(training_path, columns=list(contract.features))
    if not set(contract.features) <= set(training.columns):
        every = scan_snapshot(training_path).collect_schema().names()  # for "did you mean"
        raise lacking_features(contract, every, training_path)
    if training.height < MIN_BASELINE_ROWS:
        detail = f"{training_path}: {training.height} training rows, fewer than {MIN_BASELINE_ROWS}"
        return insufficient_rows(contract, read.total_rows, detail)
    rows = calibration_rows(training.height, min(current.height, DOMAIN_MAX_ROWS))
    with _one_native_thread():
        null = domain_null(contract, training, profiles_dir, rows)
        baseline = prepare_baseline(training, contract, null)
        return multivariate_sli_rows(contract, baseline, current, day_rows=read.total_rows)


@contextlib.contextmanager
def _one_native_thread() -> Iterator[None]:
    """OpenMP (the boosting) and BLAS (the PCA) on one thread each.

    Why: the matrices are small (a few thousand rows), and on a busy 2-core host their
    default pools spin-wait against the other processes: the asset took 10-40 s instead
    of 1.3-1.7 s at load ~10. The runtimes are loaded first, because threadpoolctl only
    limits libraries already loaded when it is entered.
    """
    import sklearn.ensemble  # noqa: F401  (loads the OpenMP runtime)
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    with threadpool_limits(limits=1):
        yield
