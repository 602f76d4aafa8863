"""Names of exported objects that other systems constrain.

Kubernetes object names (a PrometheusRule's ``metadata.name``) and OpenSLO
``metadata.name`` must be RFC 1123 labels: lowercase letters, digits and ``-``. Model
names are lowercase letters, digits and ``_`` (``checks.contract.MODEL_NAME_RULE``) and
SLO names are catalog names of the same alphabet, so ``_`` becomes ``-``; any other
character (none today) becomes ``-`` too, so the result is always a valid name.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["MAX_NAME_LENGTH", "rfc1123_name"]

#: RFC 1123 label length.
MAX_NAME_LENGTH: Final = 63
_NOT_ALLOWED: Final = re.compile(r"[^a-z0-9-]+")


def rfc1123_name(*parts: str) -> str:
    """``parts`` joined by ``-`` as an RFC 1123 label (lowercase, ``[a-z0-9-]``, at most
    63 characters, starting and ending with a letter or digit)."""
    joined = "-".join(parts).lower()
    name = _NOT_ALLOWED.sub("-", joined)
    name = re.sub(r"-{2,}", "-", name).strip("-")[:MAX_NAME_LENGTH].rstrip("-")
    if not name:
        raise ValueError(f"no RFC 1123 name can be made of {parts!r}")
    return name
