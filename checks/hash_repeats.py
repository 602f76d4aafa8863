"""How many of a snapshot's 64-bit id hashes are distinct, batch by batch, in bounded memory.

Why: the schema pass proves a day's ids unique by counting their distinct hashes
(:meth:`checks.schema_validation.SchemaPass.apart_exprs`). A set of every hash costs 8+ bytes
a row (100M rows: ~1.5 GiB with the hash table), more than a day's whole validation may use.
:class:`HashRepeats` keeps the hashes while that is small (up to :data:`KEEP_MAX_ROWS`, 8 bytes
a row, one pass) and above it two bitmaps of :data:`BITS_PER_ROW` bits a row (2 bytes a row):

* first pass: a hash whose bit of the *seen* bitmap is already set (or set twice in its
  batch) may repeat an earlier hash; its bit is set in the *suspect* bitmap;
* second pass: the hashes whose bit is set in the suspect bitmap are kept, and only those
  are counted exactly (sorted).

Exact: every occurrence of a repeated hash falls on a suspect bit (its repeat's did), so
every repeat is among the kept hashes; a hash not kept occurs once. About one row in ten is
kept needlessly (bitmap collisions), 8 bytes each.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = ["BITS_PER_ROW", "KEEP_MAX_ROWS", "HashRepeats"]

#: Up to this many rows the hashes themselves are kept (8 bytes a row: 64 MiB) and counted
#: in one pass.
KEEP_MAX_ROWS: Final = 8 * 1024 * 1024
#: Bits of each bitmap per row of the snapshot above :data:`KEEP_MAX_ROWS`.
BITS_PER_ROW: Final = 8
#: A hash's bit is ``(hash >> 32) * bits >> 32``: at most 2^32 bits (512 MiB) a bitmap.
_MAX_BITS: Final = 1 << 32

Hashes = npt.NDArray[np.uint64]
_Bits = tuple[npt.NDArray[np.intp], npt.NDArray[np.uint8]]  # (byte, mask in that byte)


class HashRepeats:
    """The number of distinct values among the 64-bit hashes of ``n_rows`` rows, fed batch by
    batch with :meth:`add` (first pass) and, when :attr:`needs_second_pass`, again in any
    order with :meth:`recount` (second pass); then :meth:`n_distinct`.

    ``keep_max_rows`` and ``bits_per_row`` are the memory rule (module docstring); tests lower
    them to take the bitmap path on small data.
    """

    def __init__(
        self,
        n_rows: int,
        *,
        keep_max_rows: int = KEEP_MAX_ROWS,
        bits_per_row: int = BITS_PER_ROW,
    ) -> None:
        self._n_rows = n_rows
        self._seen = 0
        self._keep = n_rows <= keep_max_rows
        self._kept: Hashes = np.empty(n_rows if self._keep else 0, dtype=np.uint64)
        self._bits = min(max(bits_per_row * n_rows, 64), _MAX_BITS)
        size = 0 if self._keep else (self._bits + 7) // 8
        self._seen_bits = np.zeros(size, dtype=np.uint8)
        self._suspect_bits = np.zeros(size, dtype=np.uint8)
        self._any_suspect = False
        self._suspects: list[Hashes] | None = None  # the second pass's kept hashes

    @property
    def needs_second_pass(self) -> bool:
        """Whether :meth:`recount` must see every hash again (the first pass found a hash
        that may repeat)."""
        return self._any_suspect

    def add(self, hashes: Hashes) -> None:
        """First pass: one batch's hashes, in order."""
        start = self._seen
        self._seen += hashes.shape[0]
        if self._keep:
            self._kept[start : self._seen] = hashes  # more rows than n_rows: an error here
            return
        slots = self._slots(hashes)
        byte, mask = _bits(slots)
        seen_before = slots[(self._seen_bits[byte] & mask) != 0]
        ordered = np.sort(slots)
        twice_here = ordered[1:][ordered[1:] == ordered[:-1]]
        if seen_before.shape[0] or twice_here.shape[0]:
            self._any_suspect = True
            for suspect in (seen_before, twice_here):
                _set_bits(self._suspect_bits, *_bits(suspect))
        _set_bits(self._seen_bits, byte, mask)

    def recount(self, hashes: Hashes) -> None:
        """Second pass: one batch's hashes again; keeps those on a suspect bit."""
        if self._suspects is None:
            self._suspects = []
            self._seen_bits = np.zeros(0, dtype=np.uint8)
        byte, mask = _bits(self._slots(hashes))
        kept = hashes[(self._suspect_bits[byte] & mask) != 0]
        if kept.shape[0]:
            self._suspects.append(kept)

    def n_distinct(self) -> int:
        """Distinct hashes among the rows (the first pass must have seen ``n_rows`` rows)."""
        if self._seen != self._n_rows:
            raise ValueError(f"saw {self._seen} hashes, expected {self._n_rows}")
        if self._keep:
            self._kept.sort()
            return _n_sorted_unique(self._kept)
        if not self._any_suspect:
            return self._n_rows
        if self._suspects is None:
            raise ValueError("the second pass (recount) has not run")
        suspects = np.concatenate(self._suspects) if self._suspects else self._kept
        suspects.sort()
        return self._n_rows - (int(suspects.shape[0]) - _n_sorted_unique(suspects))

    def _slots(self, hashes: Hashes) -> npt.NDArray[np.uint32]:
        """Each hash's bit number in a bitmap (below 2^32)."""
        slots = ((hashes >> np.uint64(32)) * np.uint64(self._bits)) >> np.uint64(32)
        return slots.astype(np.uint32)


def _bits(slots: npt.NDArray[np.uint32]) -> _Bits:
    """Bit numbers as (byte, the bit's mask in that byte)."""
    byte = (slots >> np.uint32(3)).astype(np.intp)
    mask = np.left_shift(np.uint8(1), (slots & np.uint32(7)).astype(np.uint8))
    return byte, mask


def _set_bits(
    bitmap: npt.NDArray[np.uint8], byte: npt.NDArray[np.intp], mask: npt.NDArray[np.uint8]
) -> None:
    """``bitmap[byte] |= mask`` for every pair, also when a byte repeats (a fancy-index
    assignment keeps one write per byte; the bits it lost are set again, rarely more than
    twice; several times faster than ``numpy.bitwise_or.at``)."""
    while byte.shape[0]:
        bitmap[byte] |= mask
        lost = (bitmap[byte] & mask) == 0
        byte, mask = byte[lost], mask[lost]


def _n_sorted_unique(values: Hashes) -> int:
    """Distinct values of a sorted array."""
    return int(values.shape[0] and 1 + np.count_nonzero(values[1:] != values[:-1]))
