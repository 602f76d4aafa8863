"""Escaping for the report's HTML, SVG and Dagster Markdown: names from a contract or the
data are always text.

Feature names, slice values, categories, owners and messages are verbatim in the store; a
``<script>``, a quote, an ESC or a newline are legal there. :func:`text` shows control
characters as Python-style escapes (as the terminal and Markdown outputs do) and then
``html.escape``s with quotes, so the result is safe as HTML/SVG text and inside a quoted
attribute. A runbook becomes a link only when it is a plain ``http(s)`` URL.
"""

from __future__ import annotations

import html
import re
from typing import Final

__all__ = ["markdown_cell", "runbook_href", "text"]

#: C0/C1 controls, line separators and bidi overrides: shown as escapes, never acted on.
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
#: Markdown punctuation that can start markup inside a table cell.
_MARKDOWN_PUNCTUATION: Final = re.compile(r"([\\`*_\[\]|~])")
#: A runbook shown as a link: http(s), nothing an attribute or a URL parser would reread.
_PLAIN_URL: Final = re.compile(r"https?://[^\s<>()\[\]|`\\\"']+\Z")


def _escape_control(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def text(value: object) -> str:
    """``value`` as HTML/SVG text or a quoted attribute value."""
    return html.escape(_CONTROL.sub(_escape_control, str(value)), quote=True)


def runbook_href(runbook: str | None) -> str:
    """A link to ``runbook`` when it is a plain http(s) URL, else its escaped text."""
    if not runbook:
        return "<span class='note'>no runbook declared</span>"
    if _PLAIN_URL.match(runbook):
        return f'<a href="{text(runbook)}" rel="noreferrer">runbook</a>'
    return f"runbook: {text(runbook)}"


def markdown_cell(value: object) -> str:
    """``value`` as literal text in a Markdown table cell (the Dagster UI's breach table):
    control characters as escapes, Markdown punctuation backslash-escaped, ``&<>`` as
    entities (the UI renders raw HTML)."""
    shown = _MARKDOWN_PUNCTUATION.sub(r"\\\1", _CONTROL.sub(_escape_control, str(value)))
    return shown.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
