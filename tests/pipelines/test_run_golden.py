"""``datasre run`` on the sample data, against golden files (like the gate's).

Each case is a pair in tests/golden/run/: ``<case>.args`` (in: the command line, one
argument per line, run from the repository root with a fresh store) and ``<case>.out``
(out: the exit code, stdout and stderr). Regenerate the outputs with
``DATASRE_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/pipelines/test_run_golden.py``
and review the diff. The repository's absolute path is written ``<REPO>``.
"""

from __future__ import annotations

from pathlib import Path

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

CASES = command_cases("run")


@pytest.mark.parametrize("case", CASES)
def test_run_output_matches_golden_files(
    case: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.delenv("DATASRE_STATE_DIR", raising=False)
    monkeypatch.setenv("DATASRE_STAGING", str(tmp_path / "staging"))
    args = command_args("run", case)
    code = main([*args, "--db", str(tmp_path / "datasre.duckdb")])
    out, err = capsys.readouterr()
    assert_golden(GOLDEN / "run" / f"{case}.out", render_command(code, out, err))
