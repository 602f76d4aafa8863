"""Import a module with Ctrl-C held until it has loaded.

Why: polars' Rust extension runs Python code while it loads (it imports ``atexit`` and
registers with it) and unwraps the result. A KeyboardInterrupt raised in there is a Rust
panic: a Rust backtrace on stderr and pyo3's ``PanicException`` instead of the CLI's one
line ``datasre: interrupted`` (seen in CI: Ctrl-C in the first second of ``datasre run``).
A SIGINT that arrives during the import is noted, and sent again once the import has
returned, to whatever handler was in place (Python's default: KeyboardInterrupt).
The CLI imports polars so before every command that uses it (``datasre run`` itself,
after it has started its worker, whose own start is guarded in
:mod:`assets.drift_workers`).
"""

from __future__ import annotations

import importlib
import signal
import threading
from types import FrameType, ModuleType

__all__ = ["import_holding_interrupts"]


def import_holding_interrupts(name: str) -> ModuleType:
    """``importlib.import_module(name)`` with SIGINT held until it returns (see above).

    Outside the main thread this is a plain import: Python handles signals (raises
    KeyboardInterrupt) only in the main thread, and only it can set a handler."""
    if threading.current_thread() is not threading.main_thread():
        return importlib.import_module(name)
    received: list[int] = []

    def note(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)

    previous = signal.signal(signal.SIGINT, note)
    try:
        module = importlib.import_module(name)
    finally:
        signal.signal(signal.SIGINT, previous)
        if received:
            signal.raise_signal(signal.SIGINT)
    return module
