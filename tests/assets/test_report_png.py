"""The summary PNG's browser: the one $DATASRE_CHROMIUM names, or a one-line error."""

from __future__ import annotations

import sys

import pytest

from assets.report.png import CHROMIUM_ENV, find_chromium
from checks.errors import InputError


def test_the_named_browser_is_used_and_a_wrong_name_is_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A wrong $DATASRE_CHROMIUM fell back to the Chromium on PATH without a word."""
    monkeypatch.setenv(CHROMIUM_ENV, sys.executable)  # any program stands in for it
    assert find_chromium() == sys.executable
    monkeypatch.setenv(CHROMIUM_ENV, "/nonexistent/chromium")
    with pytest.raises(InputError) as raised:
        find_chromium()
    assert str(raised.value) == "$DATASRE_CHROMIUM: /nonexistent/chromium: no such program"
