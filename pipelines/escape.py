"""Escaping of names and values per output format: the one home of it.

Feature names, slice values, allowed values, owners and reasons reach datasre's outputs
verbatim from the data and the contract: a tab, an ESC, a newline, ``<b>`` or ``|`` are
legal there. Each format shows them as text, never as markup or terminal control:

- :func:`terminal`: control characters (C0, DEL, C1) as Python-style escapes (``\\x1b``,
  ``\\n``, ``\\t``), so a value can neither recolour the terminal nor split a line.
- :func:`markdown`: :func:`terminal`, then backslash escapes for Markdown's own
  punctuation and HTML entities for ``&``, ``<``, ``>`` (GitHub renders raw HTML), so a
  table cell is one cell and ``a\\|b`` renders as ``a\\|b``.
- :func:`html_text`: :func:`html.escape` (quotes too, so attribute values are safe).
- :func:`xml_text`: characters XML 1.0 forbids (most C0 controls, U+FFFE/U+FFFF,
  lone surrogates) as :func:`terminal` escapes; ElementTree escapes ``&``, ``<``, ``>``.
- :func:`prometheus_label`: a label value as the text exposition format wants it.

JSON needs nothing here: :func:`json.dumps` escapes control characters itself.
"""

from __future__ import annotations

import html
import re
from typing import Final

__all__ = ["html_text", "markdown", "prometheus_label", "terminal", "xml_text"]

_NAMED: Final = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
#: C0 controls, DEL and C1 controls (terminals act on them: ESC starts a sequence), the
#: Unicode line and paragraph separators and the bidirectional overrides (which reorder
#: what is shown).
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
#: Characters XML 1.0 cannot hold at all (tab, newline and carriage return it can).
_NOT_XML: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
#: Markdown punctuation that can start markup inside a paragraph or a table cell.
_MARKDOWN_PUNCTUATION: Final = re.compile(r"([\\`*_\[\]|~])")
_MARKDOWN_ENTITIES: Final = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def _escape_char(match: re.Match[str]) -> str:
    char = match.group(0)
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def terminal(text: str) -> str:
    """``text`` safe for a terminal line: control characters shown as escapes."""
    return _CONTROL.sub(_escape_char, text)


def markdown(text: str) -> str:
    """``text`` as literal Markdown inline text (a paragraph or a table cell)."""
    shown = _MARKDOWN_PUNCTUATION.sub(r"\\\1", terminal(text))
    return "".join(_MARKDOWN_ENTITIES.get(char, char) for char in shown)


def html_text(text: str) -> str:
    """``text`` as HTML text or a quoted attribute value."""
    return html.escape(terminal(text), quote=True)


def xml_text(text: str) -> str:
    """``text`` that XML 1.0 can hold (for ElementTree, which escapes markup itself)."""
    return _NOT_XML.sub(_escape_char, text)


def prometheus_label(text: str) -> str:
    """A Prometheus label value for the text exposition format (backslash, double quote
    and newline escaped as the format defines)."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
