"""pipelines.held_interrupts: a Ctrl-C during an import waits for the import's end."""

from __future__ import annotations

import importlib
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest

from pipelines.held_interrupts import import_holding_interrupts

#: A module that is interrupted halfway through its own import (as Ctrl-C would).
_INTERRUPTED_MODULE = """
import os, signal
signal.raise_signal(signal.SIGINT)
finished = True
"""


@pytest.fixture
def interrupted_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    name = f"interrupted_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(_INTERRUPTED_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_a_plain_import_is_cut_short(interrupted_module: str) -> None:
    """What the hold prevents: the interrupt lands inside the module's code."""
    with pytest.raises(KeyboardInterrupt):
        importlib.import_module(interrupted_module)
    assert interrupted_module not in sys.modules


def test_the_import_finishes_then_the_interrupt_is_raised(interrupted_module: str) -> None:
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        import_holding_interrupts(interrupted_module)
    assert sys.modules[interrupted_module].finished is True
    assert signal.getsignal(signal.SIGINT) is before


def test_the_held_interrupt_goes_to_the_handler_in_place(
    interrupted_module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []

    def handler(signum: int, _frame: FrameType | None) -> None:
        seen.append(signum)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        module = import_holding_interrupts(interrupted_module)
        assert module.finished is True
        assert seen == [signal.SIGINT]
        assert signal.getsignal(signal.SIGINT) is handler
    finally:
        signal.signal(signal.SIGINT, previous)


def test_without_an_interrupt_it_is_a_plain_import() -> None:
    before = signal.getsignal(signal.SIGINT)
    assert import_holding_interrupts("json") is sys.modules["json"]
    assert signal.getsignal(signal.SIGINT) is before


def test_the_cli_imports_polars_held_before_a_command_that_uses_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import pipelines.cli

    held: list[str] = []
    monkeypatch.setattr(pipelines.cli, "import_holding_interrupts", held.append)
    assert pipelines.cli.main(["contract", "schema", "--output", str(tmp_path / "s.json")]) == 0
    assert held == []  # writes a JSON Schema: no polars
    assert pipelines.cli.main(["contract", "check", "data/samples/contracts"]) == 0
    assert held == ["polars"]
    run_args = pipelines.cli.build_parser().parse_args(["run", "--partition", "2026-11-12"])
    assert run_args.import_polars_first is False  # run imports it after starting its worker
