"""Rasterise an SVG picture to PNG with headless Chromium (``datasre report --png``).

Why a browser and not a Python rasteriser: the report's pictures are drawn once, as SVG
(:mod:`assets.report.charts`); a PNG for a CI job summary must look the same, and the
browser that renders the HTML report is the renderer of record. Chromium is Debian's
package (``scripts/ensure_chromium.sh`` installs it); it runs with a new empty profile,
no network features, and a 60 s limit. Only the PNG path needs it: the HTML report does
not.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Final

from checks.errors import InputError

__all__ = ["CHROMIUM_ENV", "HEADLESS_FLAGS", "find_chromium", "svg_to_png"]

#: Environment variable naming the browser binary (default: the first of
#: chromium, chromium-browser, google-chrome on PATH).
CHROMIUM_ENV: Final = "DATASRE_CHROMIUM"
HEADLESS_FLAGS: Final = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--default-background-color=ffffffff",
)
_TIMEOUT_S: Final = 60.0


def find_chromium() -> str:
    """The browser binary: ``$DATASRE_CHROMIUM`` when set (an :class:`InputError` naming
    it when it is no program: a browser other than the one asked for would be used
    silently), else the first Chromium on PATH; :class:`InputError` (one line) when there
    is none."""
    named = os.environ.get(CHROMIUM_ENV, "")
    if named:
        if found := shutil.which(named):
            return found
        raise InputError(f"${CHROMIUM_ENV}: {named}: no such program")
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    raise InputError(
        "--png: needs Chromium on PATH (or $DATASRE_CHROMIUM); "
        "scripts/ensure_chromium.sh installs Debian's package"
    )


def svg_to_png(svg: str, width: float, height: float, output: Path) -> Path:
    """Draw ``svg`` (``width`` x ``height`` CSS px) into the PNG file ``output``."""
    browser = find_chromium()
    with tempfile.TemporaryDirectory(prefix="datasre-png-") as scratch:
        page = Path(scratch) / "summary.html"
        page.write_text(
            "<!DOCTYPE html><html><head><meta charset='utf-8'><style>html,body{margin:0}"
            f"</style></head><body>{svg}</body></html>",
            encoding="utf-8",
        )
        shot = Path(scratch) / "summary.png"
        command = [
            browser,
            *HEADLESS_FLAGS,
            f"--user-data-dir={Path(scratch) / 'profile'}",
            f"--window-size={math.ceil(width)},{math.ceil(height)}",
            f"--screenshot={shot}",
            page.as_uri(),
        ]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            raise InputError(f"--png: {browser} did not finish in {_TIMEOUT_S:g} s") from None
        if done.returncode != 0 or not shot.is_file():
            lines = done.stderr.strip().splitlines()
            raise InputError(
                f"--png: {browser} exited {done.returncode}: {lines[-1] if lines else 'no output'}"
            )
        output.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(shot), output)
    return output
