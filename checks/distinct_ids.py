"""Whether a snapshot's ids are all distinct, so that de-duplicating it can be skipped.

Why: the quality join keeps the last row per id of the labels and the features (a repeated
label is a restatement), and that de-duplication is a hash aggregation over every row:
on the 5M-row benchmark day it is a quarter of the quality step (3.1 s with it, 2.3 s
without). Most days repeat no id. Equal ids have equal hashes, so when the 64-bit hashes
of a snapshot's ids are all distinct its ids are too, and skipping the de-duplication
changes nothing; a repeat (or a rare hash collision, or two null ids) only means the
de-duplication runs.

Only snapshots of up to :data:`CHECK_MAX_ROWS` rows are checked, in one pass:
:class:`checks.hash_repeats.HashRepeats` keeps that many hashes and sorts them (8 bytes a
row: ~0.13 s at 5M rows). A day the quality asset splits on disk is checked one bucket
at a time instead (:func:`checks.quality._count_day`: each bucket is de-duplicated on
its own), which needs no proof over the whole day: that would take two passes over the
ids in bounded memory (:class:`checks.hash_repeats.HashRepeats`), 27 s at 100M rows.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from checks.hash_repeats import KEEP_MAX_ROWS, HashRepeats

__all__ = ["CHECK_MAX_ROWS", "ids_are_distinct"]

#: Largest snapshot whose ids are checked: as many hashes as HashRepeats keeps (64 MiB).
CHECK_MAX_ROWS: Final = KEEP_MAX_ROWS
_HASH: Final = "__id_hash"
#: Any fixed seed: only equality of hashes within one snapshot matters.
_SEED: Final[int] = 0xD157


def ids_are_distinct(
    snapshot: pl.LazyFrame, id_column: str, *, max_rows: int = CHECK_MAX_ROWS
) -> bool:
    """True when no id of ``snapshot`` repeats (proven by distinct hashes); False when one
    may, or when the snapshot has more than ``max_rows`` rows (not checked): then
    de-duplicate."""
    n_rows = int(snapshot.select(pl.len()).collect().item())
    if n_rows > max_rows:
        return False
    ids = pl.col(id_column)
    if not snapshot.collect_schema()[id_column].is_integer():
        ids = ids.cast(pl.String)  # integers hash as themselves: 5x faster than as text
    hashes = snapshot.select(ids.hash(_SEED).alias(_HASH))
    repeats = HashRepeats(n_rows, keep_max_rows=max_rows)  # kept: one pass, no bitmaps
    repeats.add(hashes.collect(engine="streaming").get_column(_HASH).to_numpy())
    return repeats.n_distinct() == n_rows
