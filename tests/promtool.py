"""``promtool`` (Debian's ``prometheus`` package) for the export tests, installed by
scripts/ensure_promtool.sh when missing (CI: root on a fresh Debian with apt)."""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: ``name{label="value",...} number``: one sample line of the text exposition.
SAMPLE_LINE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)\{(?P<labels>.*)\} (?P<value>\S+)$")
_LABEL = re.compile(r'(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)="(?P<value>(?:[^"\\]|\\.)*)"(?:,|$)')
_UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


@functools.cache
def promtool() -> str:
    """The promtool binary; installs it when missing, skips when that is impossible."""
    found = shutil.which("promtool")
    if found:
        return found
    script = ROOT / "scripts" / "ensure_promtool.sh"
    done = subprocess.run([str(script)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"promtool unavailable: {done.stderr.strip().splitlines()[-1:]}")
    return done.stdout.strip().splitlines()[-1]


def run_promtool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool(), *args], input=stdin, capture_output=True, text=True, check=False
    )


def parse_labels(text: str) -> dict[str, str]:
    """The label set of a sample line, unescaped as the text format defines (written
    here from the format's definition, independently of pipelines.escape)."""
    labels: dict[str, str] = {}
    position = 0
    while position < len(text):
        match = _LABEL.match(text, position)
        assert match is not None, f"bad label syntax at {text[position:]!r}"
        raw = match.group("value")
        labels[match.group("name")] = re.sub(r"\\.", lambda m: _UNESCAPE[m.group(0)], raw)
        position = match.end()
    return labels


def parse_samples(exposition: str) -> list[tuple[str, dict[str, str], float]]:
    """Every sample of an exposition as (metric name, labels, value)."""
    samples = []
    for line in exposition.splitlines():
        if not line or line.startswith("#"):
            continue
        match = SAMPLE_LINE.match(line)
        assert match is not None, f"not a sample line: {line!r}"
        samples.append(
            (match.group("name"), parse_labels(match.group("labels")), float(match.group("value")))
        )
    return samples
