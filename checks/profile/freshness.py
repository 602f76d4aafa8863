"""When a stored baseline profile may be reused: the one owner of the stored format's
version and of the staleness key.

The rule: a stored profile is reused only when it was built from training files with the
same content hash (and the same feature section and PSI bins) and written in the same
:data:`FORMAT_VERSION`; anything else is rebuilt. The hashing of the files' bytes is I/O
and lives with the store (``assets.drift``); this module only says what the key is and
when two keys match, so the CLI, the assets and the profile writer share one definition.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "FORMAT_VERSION",
    "READABLE_FORMAT_VERSIONS",
    "ProfileKey",
    "is_reusable",
    "source_hash",
]

#: Version of the stored layout, written into ``profile.json`` and the key file. 1: cut
#: points, counts, sorted values, sketch grids; 2: adds each numeric feature's KS grid
#: (``checks.stats.ecdf.KsAnchor``). Bump it when the layout changes: every stored
#: profile of another version is then rebuilt by the assets.
FORMAT_VERSION: Final = 2
#: Versions a reader still accepts (``datasre drift`` on an old profile directory): a
#: version-1 profile lacks only the KS grids, which KS then fits on every run.
READABLE_FORMAT_VERSIONS: Final = frozenset({1, FORMAT_VERSION})


def source_hash(file_digests: Sequence[tuple[int, str]], sections: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of what a profile is built from: the (bytes, content hash) of each
    training file in path order, and the sections that shape it (features, bins,
    columns), JSON with sorted keys."""
    payload = json.dumps({"files": list(file_digests), **sections}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class ProfileKey:
    """What a stored profile was built from (:func:`source_hash`) and in which format."""

    source_hash: str
    format_version: int = FORMAT_VERSION

    def to_json(self) -> dict[str, Any]:
        """The key as stored beside the profile."""
        return {"signature": self.source_hash, "format_version": self.format_version}

    @classmethod
    def from_json(cls, stored: Mapping[str, Any]) -> ProfileKey | None:
        """The key read back; ``layout`` is the format's name before it had one owner
        (absent: version 1). None when the file holds no source hash."""
        signature = stored.get("signature")
        if not isinstance(signature, str):
            return None
        version = stored.get("format_version", stored.get("layout", 1))
        return cls(source_hash=signature, format_version=int(version))


def is_reusable(stored: ProfileKey | None, wanted: ProfileKey) -> bool:
    """Whether a stored profile can stand for the one ``wanted`` describes: the same
    source hash and the same format version; a missing key never can."""
    return stored is not None and stored == wanted
