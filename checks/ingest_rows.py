"""One ``ingest_ok`` row per source in a partition's rows.

Validation records whether each snapshot read; a later step that finds a file of the same
snapshot undecodable (a corrupt page behind a good footer) records a failed ``ingest_ok``
row of its own for that source. The partition keeps one row per source, the failed one
when any step failed: the source did not read, whichever step found it out.
"""

import polars as pl

__all__ = ["one_ingest_row_per_source"]

_ORDER = "__row_order"


def one_ingest_row_per_source(slis: pl.DataFrame) -> pl.DataFrame:
    """``slis`` with, of the ``ingest_ok`` rows of each source (``feature``), only the
    lowest-valued one (0 = not read, over 1 = read; the first of equals); every other row
    stays, in its order."""
    ingest = pl.col("sli") == "ingest_ok"
    numbered = slis.with_row_index(_ORDER)
    kept = (
        numbered.filter(ingest)
        .sort(["value", _ORDER], nulls_last=True)
        .unique(subset=["feature"], keep="first", maintain_order=True)
    )
    return pl.concat([numbered.filter(~ingest), kept]).sort(_ORDER).drop(_ORDER)
