"""A step that fails on a day's data its files cannot decode records that source's failed
ingest instead of crashing the run.

A parquet file can have a good footer and a corrupt page (a torn copy, a bad disk block).
``validation_slis`` decodes every feature value, so a corrupt features file is its
``ingest_ok = 0`` row; the drift step reads the same files again, and the prediction log
and the labels are decoded whole only by the drift and quality steps (validation reads the
log's footers and model outputs, quality the labels' footers first). Those two steps wrap
their work in :func:`or_unreadable` (the sampled multivariate and weighted-drift steps
record nothing for a snapshot they cannot read, as for a missing one):
when the work raises a data error and one of the day's files indeed cannot be decoded,
the step's rows for that source are the source's ``ingest_ok = 0`` row naming the file;
when every file decodes, the error is not the data's and is raised (a real crash).

The writer keeps one ``ingest_ok`` row per source, a failed one over a read one
(:func:`checks.ingest_rows.one_ingest_row_per_source`), so the run is ``failed``, the
runbook is the missing-snapshot one, and no step's rows of that source pretend it read.
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Final

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from assets.io import unreadable
from assets.validation import ingest_row
from checks.contract import Contract
from checks.errors import InputError
from checks.sli import sli_frame

__all__ = ["DATA_ERRORS", "UNDECODED", "first_undecodable", "or_unreadable"]

#: What reading a file's data raises when the data is bad (polars, pyarrow, the OS).
DATA_ERRORS: Final = (pl.exceptions.PolarsError, pa.ArrowException, OSError)

#: The rows of :func:`or_unreadable`'s failure: a source's failed ``ingest_ok``.
UNDECODED: Final = (pl.col("sli") == "ingest_ok") & (pl.col("ok") == pl.lit(value=False))

#: Rows decoded at a time by :func:`first_undecodable` (its memory, whatever the day).
_PROBE_BATCH_ROWS: Final = 65_536


def first_undecodable(files: Sequence[str]) -> InputError | None:
    """The one-line error of the first of ``files`` with a value that cannot be decoded,
    or None when every value decodes. Streams each file in batches, so it holds little
    whatever the file's size; it runs only after a step has failed, never on a good
    day's path."""
    for path in files:
        try:
            for _ in pq.ParquetFile(path).iter_batches(batch_size=_PROBE_BATCH_ROWS):
                pass
        except DATA_ERRORS as exc:
            return unreadable(path, exc)
    return None


def or_unreadable(
    contract: Contract,
    sources: Mapping[str, Sequence[str]],
    compute: Callable[[], pl.DataFrame],
) -> pl.DataFrame:
    """``compute()``, or, when it raises a data or input error and files of ``sources``
    (source name -> the day's files it read) cannot be decoded, an ``ingest_ok = 0`` row
    for each such source naming its first bad file. An error the files do not explain is
    raised as it was."""
    try:
        return compute()
    except (*DATA_ERRORS, InputError) as exc:
        failed = [
            ingest_row(contract, source, 0, str(problem))
            for source, files in sources.items()
            if (problem := first_undecodable(files)) is not None
        ]
        if not failed:
            raise exc from None
        return sli_frame(failed)
