"""``datasre drift`` on the sample data, against golden files (like the gate's and run's).

Each case is a pair in tests/golden/drift/: ``<case>.args`` (in: the command line, one
argument per line, run from the repository root) and ``<case>.out`` (out: the exit code,
stdout and stderr). Regenerate the outputs with
``DATASRE_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/pipelines/test_drift_golden.py``
and review the diff. The repository's absolute path is written ``<REPO>``.
"""

from __future__ import annotations

import pytest

from pipelines.cli import main
from tests.golden_files import (
    GOLDEN,
    REPO,
    assert_golden,
    command_args,
    command_cases,
    render_command,
)

CASES = command_cases("drift")


@pytest.mark.parametrize("case", CASES)
def test_drift_output_matches_golden_files(
    case: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    args = command_args("drift", case)
    code = main(args)
    out, err = capsys.readouterr()
    assert_golden(GOLDEN / "drift" / f"{case}.out", render_command(code, out, err))


def test_every_case_has_its_golden_output() -> None:
    assert CASES, "no golden drift cases"
    assert all((GOLDEN / "drift" / f"{case}.out").exists() for case in CASES)
