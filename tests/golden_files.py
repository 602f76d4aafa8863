"""Golden files under tests/golden/: an output is compared with its file, or the file is
rewritten when ``DATASRE_UPDATE_GOLDEN`` is set (then review the diff). The command cases
(``run``, ``drift``) are pairs ``<case>.args`` (the command line, one argument per line,
run from the repository root) and ``<case>.out`` (exit code, stdout, stderr), with the
repository's absolute path written ``<REPO>``."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["GOLDEN", "REPO", "assert_golden", "command_args", "command_cases", "render_command"]

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "golden"


def assert_golden(path: Path, text: str) -> None:
    """``text`` equals the golden file at ``path`` (written first under DATASRE_UPDATE_GOLDEN)."""
    if os.environ.get("DATASRE_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; set DATASRE_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


def command_cases(command: str) -> list[str]:
    """The case names of ``tests/golden/<command>/*.args``, sorted."""
    return sorted(path.stem for path in (GOLDEN / command).glob("*.args"))


def command_args(command: str, case: str) -> list[str]:
    """The command line of one case."""
    return (GOLDEN / command / f"{case}.args").read_text(encoding="utf-8").splitlines()


def render_command(code: int, out: str, err: str) -> str:
    """What a case's ``.out`` file holds: exit code, stdout, stderr, ``<REPO>`` for the path."""
    text = f"exit: {code}\n--- stdout\n{out}--- stderr\n{err}"
    return text.replace(str(REPO), "<REPO>")
