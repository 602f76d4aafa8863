"""How ``datasre init`` writes values into the drafted contract's YAML.

Strings are plain when YAML cannot misread them, else JSON-quoted; numbers lose a trailing
``.0``; an inferred bound is rounded away from the data to three significant digits, so
the contract reads ``max: 1500`` rather than ``max: 1497.3316`` and still contains every
value seen. A :class:`YamlLine` carries the comment saying where its value came from.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

__all__ = ["YamlLine", "round_out", "yaml_number", "yaml_scalar"]

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-/]*\Z")
_YAML_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"})


def yaml_scalar(value: str) -> str:
    """A string as YAML: plain when unambiguous, else JSON-quoted (valid YAML too)."""
    if _PLAIN.match(value) and value.lower() not in _YAML_WORDS:
        return value
    return json.dumps(value, ensure_ascii=False)


def yaml_number(value: float) -> str:
    """A number as YAML, without a trailing ``.0`` on whole values."""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def round_out(value: float, *, up: bool) -> float:
    """``value`` rounded away from the data to 3 significant digits (a readable bound that
    still contains it)."""
    if value == 0 or not math.isfinite(value):
        return value
    step = 10.0 ** (math.floor(math.log10(abs(value))) - 2)
    return (math.ceil(value / step) if up else math.floor(value / step)) * step


@dataclass(frozen=True)
class YamlLine:
    """One YAML line (indented text) with an optional trailing comment."""

    text: str
    comment: str | None = None

    def render(self) -> str:
        return f"{self.text}  # {self.comment}" if self.comment else self.text
