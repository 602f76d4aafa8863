"""``datasre drift`` on the sample data, against golden files (like the gate's and run's).

Each case is a pair in tests/golden/drift/: ``<case>.args`` (in: the command line, one
argument per line, run from the repository root) and ``<case>.out`` (out: the exit code,
stdout and stderr). Regenerate the outputs with
``DATASRE_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/pipelines/test_drift_golden.py``
and review the diff. The repository's absolute path is written ``<REPO>``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipelines.cli import main

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden" / "drift"
CASES = sorted(path.stem for path in GOLDEN.glob("*.args"))


def _render(code: int, out: str, err: str) -> str:
    text = f"exit: {code}\n--- stdout\n{out}--- stderr\n{err}"
    return text.replace(str(REPO), "<REPO>")


@pytest.mark.parametrize("case", CASES)
def test_drift_output_matches_golden_files(
    case: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    args = (GOLDEN / f"{case}.args").read_text(encoding="utf-8").splitlines()
    code = main(args)
    out, err = capsys.readouterr()
    shown = _render(code, out, err)
    golden = GOLDEN / f"{case}.out"
    if os.environ.get("DATASRE_UPDATE_GOLDEN"):
        golden.write_text(shown, encoding="utf-8")
    assert golden.exists(), f"missing golden file {golden}; set DATASRE_UPDATE_GOLDEN=1"
    assert shown == golden.read_text(encoding="utf-8")


def test_every_case_has_its_golden_output() -> None:
    assert CASES, "no golden drift cases"
    assert all((GOLDEN / f"{case}.out").exists() for case in CASES)
