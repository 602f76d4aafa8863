"""Quality and prediction-log SLIs of one (model, day) partition.

Labels arrive days after predictions. When the day's label file exists, the predictions
are scored (overall, per slice, fairness); until then only the prediction-log SLIs
(confidence, latency, availability, throughput, cost) are recorded. When labels land, the
new-snapshot sensor re-runs the day (``kind = restatement``) and the day's rows are
replaced, with ``runs.n_labels`` saying how many labels the restated rows used.

An unreadable predictions file is already recorded by ``validation_slis`` as
``ingest_ok = 0``; here it means no rows. An unreadable label file is an ``ingest_ok = 0``
row for the ``labels`` source.

Days larger than memory: nothing here holds a snapshot whole. The prediction-log SLIs read
one column at a time; quality joins predictions, labels and features in
:func:`checks.quality_tables.bucket_count` hash buckets of the id (one million prediction
rows each), each reduced to count tables (classification) or per-slice sums of errors
(regression, :mod:`checks.quality_sums`) that are summed (:mod:`checks.quality_tables`);
a ranking day's joined rows are regrouped by query in files
(:class:`assets.query_buckets.QueryFiles`), each query bucket reduced to NDCG sums.
Up to :data:`SPILL_BUCKETS` buckets, each bucket filters the whole snapshots by id hash
(re-reading the id columns once per bucket); above, the snapshots' join columns are first
split, in one pass, into one lz4 Arrow IPC file per bucket (at most :data:`SPLIT_FILES`)
in a temporary directory (``TMPDIR``; ~54 bytes a prediction row, removed when the asset
returns), text ids written as their 128-bit fingerprints, so the day is read about twice
instead of once per bucket and every bucket, the first too, joins on one integer column.
"""

import datetime as dt
import tempfile
from pathlib import Path
from typing import Final

import polars as pl

from assets.io import resolve_files, scan_columns
from assets.memory_budget import files_row_count
from assets.partitions import Partition
from assets.query_buckets import QueryFiles
from assets.resources import DatasreConfig
from assets.sli_asset import SliAssetSpec, breached
from assets.undecodable import UNDECODED, or_unreadable
from assets.validation import SOURCE_FEATURES, SOURCE_PREDICTIONS, ingest_row
from checks.contract import Contract, ModelType
from checks.errors import InputError
from checks.ids import is_id_dtype
from checks.prediction_log import prediction_log_sli_rows
from checks.quality import BUCKETED_TYPES, quality_sli_rows
from checks.quality_join import (
    BucketSnapshots,
    Snapshot,
    bucket_of,
    id_fingerprint,
    ids_hash_as_text,
)
from checks.quality_tables import BUCKET_ROWS, bucket_count
from checks.sli import empty_sli_frame, sli_frame

__all__ = ["QUALITY_ASSET", "QUALITY_STEP", "SOURCE_LABELS", "quality_slis", "splits_on_disk"]

#: The libraries it runs on, as the Dagster UI tags it.
KINDS: Final = frozenset({"polars"})
#: What the asset measures, as the Dagster UI shows it.
DESCRIPTION: Final = (
    "Prediction-log SLIs (confidence, latency, availability, cost) and, "
    "once labels arrive, quality per slice and fairness."
)

SOURCE_LABELS = "labels"

#: Buckets above which the day is split on disk once instead of filtered once per bucket.
#: Why 3: splitting costs about one pass reading the join columns and writing them (ids as
#: fingerprints), filtering one pass reading and hashing the id columns per bucket. On the
#: 5M-row day's quality step, split vs filtered, buckets of 2.5M rows (2 buckets): 4.7 vs
#: 4.2 s; 1.7M (3): 4.7 vs 4.9 s; 1M (5): 4.5 vs 5.4 s.
SPILL_BUCKETS: Final[int] = 3

#: At most this many files per snapshot when splitting: the partitioned writer buffers
#: per open file (~15 MiB each measured, 1.5 GiB for 100 files at 100M rows). Above it,
#: file ``i`` holds buckets ``i, i + 64, ...`` and each bucket filters its file.
SPLIT_FILES: Final[int] = 64

#: The split files' columns: a row's bucket, and the file it is written to.
_BUCKET_COLUMN = "__bucket"
_FILE_COLUMN = "__file"


def _optional(
    contract: Contract, pattern: str | None, day: dt.date, columns: list[str]
) -> pl.LazyFrame | None:
    """A lazy scan of the day's snapshot, projected on the ``columns`` of it that exist
    (parquet is read by column: the rest is never read), or None when the pattern is unset
    or no file exists yet. Raises :class:`InputError` naming a file whose footer is bad."""
    if pattern is None:
        return None
    path = contract.resolve(pattern, day)
    try:
        resolve_files(path)
    except InputError:
        return None
    return scan_columns(path, columns)


def _splits(contract: Contract, buckets: int) -> bool:
    """Whether a labelled day of ``buckets`` id buckets is split on disk."""
    return buckets > SPILL_BUCKETS and contract.type in BUCKETED_TYPES


def splits_on_disk(contract: Contract, day: dt.date, *, bucket_rows: int = BUCKET_ROWS) -> bool:
    """Whether :func:`quality_slis` will split the day on disk, from the prediction files'
    footers alone (no data read): a bucketed model type, labels declared, more than
    :data:`SPILL_BUCKETS` buckets of prediction rows. The split is the step's largest
    memory (~0.6 GiB of a 5M-row fraud day, most of it the streaming engine's), so other
    work that can wait is held until the step has ended
    (:func:`assets.multivariate.start_multivariate_early`). False when the predictions are
    missing or unreadable (the step then reads little)."""
    if contract.sources.predictions is None or contract.sources.labels is None:
        return False
    try:
        files = resolve_files(contract.resolve(contract.sources.predictions, day))
    except InputError:
        return False
    return _splits(contract, bucket_count(files_row_count(files), bucket_rows))


def _rows(scan: pl.LazyFrame) -> int:
    """Rows of a scan (the parquet footers say)."""
    return int(scan.select(pl.len()).collect().item())


def _columns(*names: str | None) -> list[str]:
    return list(dict.fromkeys(name for name in names if name is not None))


def quality_slis(
    contract: Contract, day: dt.date, *, bucket_rows: int = BUCKET_ROWS
) -> pl.DataFrame:
    """Prediction-log SLIs, plus quality/fairness SLIs when the day's labels exist.

    Reads only the columns the SLIs use: the prediction log's named columns, the labels'
    target, and the features' id and slice / sensitive-attribute columns. ``bucket_rows``:
    prediction rows joined per bucket (see the module docstring)."""
    pc = contract.predictions
    id_column = contract.sources.id_column
    grouping = _columns(*contract.slices, *contract.sensitive_attributes)
    logged = _columns(
        id_column, pc.score, pc.predicted_label, pc.ranking_group, pc.latency_ms, pc.cost,
        pc.status, *grouping,
    )  # fmt: skip
    read = {SOURCE_PREDICTIONS: _files(contract, contract.sources.predictions, day)}
    try:
        predictions = _optional(contract, contract.sources.predictions, day, logged)
        n_predictions = _rows(predictions) if predictions is not None else 0
        if predictions is None or n_predictions == 0:
            return empty_sli_frame()
        logged_rows = or_unreadable(
            contract, read, lambda: prediction_log_sli_rows(contract, predictions)
        )
    except (InputError, pl.exceptions.PolarsError, OSError):
        return empty_sli_frame()  # recorded by validation_slis
    if logged_rows.filter(UNDECODED).height:
        return logged_rows
    frames = [logged_rows]
    try:
        labels = _optional(
            contract, contract.sources.labels, day, _columns(id_column, pc.target, pc.ranking_group)
        )
    except InputError as exc:
        frames.append(sli_frame([ingest_row(contract, SOURCE_LABELS, 0, str(exc))]))
        labels = None
    if labels is not None:
        frames.append(sli_frame([ingest_row(contract, SOURCE_LABELS, _rows(labels), None)]))
        features, unavailable = _slice_columns(contract, day, _columns(id_column, *grouping))
        read[SOURCE_LABELS] = _files(contract, contract.sources.labels, day)
        read[SOURCE_FEATURES] = _files(contract, contract.sources.features, day)

        def score() -> pl.DataFrame:
            # Streaming collects join the scans, bucket by bucket (checks.quality_join.join_day).
            buckets = bucket_count(n_predictions, bucket_rows)
            joined = _join_columns(contract)
            with tempfile.TemporaryDirectory(prefix="datasre-quality-") as directory:
                split = None
                if _splits(contract, buckets):
                    scans = (predictions, labels, features)
                    split = _split(scans, joined, id_column, buckets, Path(directory))
                queries = None
                if contract.type == ModelType.RANKING and buckets > 1:
                    queries = QueryFiles(Path(directory) / "queries", buckets)
                return quality_sli_rows(
                    contract,
                    predictions,
                    labels,
                    features=features,
                    buckets=buckets,
                    split=split,
                    queries=queries,
                )

        scored = or_unreadable(contract, read, score)
        if unavailable is not None:
            scored = _skip_slices(scored, unavailable)
        frames.append(scored)
    return pl.concat(frames, how="vertical")


def _files(contract: Contract, pattern: str | None, day: dt.date) -> list[str]:
    """The day's files of a source (none when undeclared, missing or unreadable: the
    source's ``ingest_ok`` row says so)."""
    if pattern is None:
        return []
    try:
        return resolve_files(contract.resolve(pattern, day))
    except InputError:
        return []


def _join_columns(contract: Contract) -> list[str]:
    """Every column the quality join may read from any of the three snapshots."""
    pc = contract.predictions
    return _columns(
        contract.sources.id_column, pc.score, pc.predicted_label, pc.ranking_group, pc.target,
        *contract.slices, *contract.sensitive_attributes,
    )  # fmt: skip


def _split(
    scans: tuple[pl.LazyFrame, pl.LazyFrame, pl.LazyFrame | None],
    columns: list[str],
    id_column: str,
    buckets: int,
    directory: Path,
) -> BucketSnapshots | None:
    """Write each scan's join ``columns`` once, one Arrow IPC file set per id bucket
    (:func:`checks.quality_join.bucket_of`, file order kept within a bucket, which the
    last-row-wins de-duplication needs), and return the reader of bucket ``i``. None when a
    scan has no usable id column (absent, or not an id type): the join reports that, from
    the whole snapshots.

    Text (or mixed-type) ids are written as their fingerprint
    (:func:`checks.quality_join.id_fingerprint`, an ``Int128``) under the id column's
    name: the buckets then join on one integer column, as a day of integer ids does,
    instead of fingerprinting every id again when a bucket is read, and a bucket's rows
    are not found again by hashing text (100M-row day: see the module docstring)."""
    names = ("predictions", "labels", "features")
    files = min(buckets, SPLIT_FILES)
    read = [scan.collect_schema() if scan is not None else None for scan in scans]
    if any(s is not None and not is_id_dtype(s.get(id_column, pl.Null())) for s in read):
        return None
    p_schema, l_schema, f_schema = read
    assert p_schema is not None and l_schema is not None
    as_text = ids_hash_as_text(id_column, p_schema, l_schema, f_schema)
    bucket = bucket_of(id_column, buckets, as_text=as_text).cast(pl.UInt32)
    # A file holding several buckets keeps each row's bucket (4 bytes a row) to filter on.
    shared = files < buckets
    ids = id_fingerprint(id_column) if as_text else pl.col(id_column)
    schemas: dict[str, pl.Schema] = {}
    for name, scan, schema in zip(names, scans, read, strict=True):
        if scan is None or schema is None:
            continue
        # One select: the bucket is of the id, not of what replaces it.
        kept = scan.select(
            *(ids.alias(c) if c == id_column else pl.col(c) for c in columns if c in schema),
            *([bucket.alias(_BUCKET_COLUMN)] if shared else []),
            (bucket % files).alias(_FILE_COLUMN),
        )
        schemas[name] = kept.drop(_FILE_COLUMN).collect_schema()
        kept.sink_ipc(
            pl.PartitionBy(str(directory / name), key=_FILE_COLUMN, include_key=False),
            mkdir=True,
            compression="lz4",
        )

    def part(name: str, index: int) -> Snapshot | None:
        if name not in schemas:
            return None
        written = sorted((directory / name / f"{_FILE_COLUMN}={index % files}").glob("*"))
        scan = pl.scan_ipc(written) if written else pl.LazyFrame(schema=schemas[name])
        if shared:
            scan = scan.filter(pl.col(_BUCKET_COLUMN) == index).drop(_BUCKET_COLUMN)
        return scan

    def bucket_rows(index: int) -> tuple[Snapshot, Snapshot, Snapshot | None]:
        predictions, labels = part(names[0], index), part(names[1], index)
        assert predictions is not None and labels is not None
        return predictions, labels, part(names[2], index)

    return bucket_rows


def _slice_columns(
    contract: Contract, day: dt.date, columns: list[str]
) -> tuple[pl.LazyFrame | None, str | None]:
    """A scan of the features snapshot's id and slice columns, or why the snapshot is
    unavailable (``missing``, ``unreadable``; an empty one counts as unreadable).
    ``validation_slis`` records each as ``ingest_ok = 0``, so slices that needed it are
    skipped, not judged."""
    try:
        features = _optional(contract, contract.sources.features, day, columns)
    except InputError:
        return None, "unreadable"
    if features is None:
        return None, "missing"
    if _rows(features) == 0:
        return None, "unreadable"
    return features, None


def _skip_slices(rows: pl.DataFrame, why: str) -> pl.DataFrame:
    """Slice rows that failed only because the features snapshot is missing, unreadable or
    empty are not judged: that is already one breach (``ingest_ok``), not one per slice
    SLI."""
    unmeasured = pl.col("slice").is_not_null() & (pl.col("status") == "error")
    return rows.with_columns(
        pl.when(unmeasured).then(pl.lit("skipped")).otherwise(pl.col("status")).alias("status"),
        pl.when(unmeasured).then(None).otherwise(pl.col("ok")).alias("ok"),
        pl.when(unmeasured)
        .then(pl.lit(f"slice columns come from the features snapshot, which is {why}"))
        .otherwise(pl.col("detail"))
        .alias("detail"),
    )


def _labelled_rows(frame: pl.DataFrame) -> int:
    """The most labelled rows any quality SLI of the partition used (0 before labels)."""
    labelled = frame.filter(pl.col("category") == "quality").select(pl.col("n_rows").max())
    return int(labelled.item() or 0) if labelled.height else 0


def _quality_metadata(frame: pl.DataFrame) -> dict[str, int]:
    """The run page's metadata: the labelled rows the scores used, and the breaches."""
    return {"labelled_rows": _labelled_rows(frame), "breaches": breached(frame).height}


def _compute(contract: Contract, partition: Partition, datasre: DatasreConfig) -> pl.DataFrame:
    """The asset's SLI frame: :func:`quality_slis` of the partition's day."""
    return quality_slis(contract, partition.day)


#: The asset's (and its step's) name.
QUALITY_STEP: Final = "quality_slis"

#: The asset, declared as data (built by :func:`assets.sli_asset.build_sli_asset`).
QUALITY_ASSET: Final = SliAssetSpec(QUALITY_STEP, DESCRIPTION, KINDS, _compute, _quality_metadata)
