"""End the ``datasre`` process without tearing the interpreter down.

Why: at a normal exit Python frees every module and object it loaded (Dagster's
definitions, SQLAlchemy, pydantic models, polars, DuckDB), one by one, and runs the
cyclic garbage collector over all of them. For ``datasre run`` that took 1.7-2.0 s of CPU
after the command had finished (9.4 s -> 11.1 s wall on a 10,000-row day; the sample
``gate`` pays it too), time spent on memory the kernel reclaims anyway when the process
ends. ``os._exit`` skips it.

What a normal exit does that matters is kept, in the same order: other threads are
waited for (when any non-daemon thread is still alive this falls back to the normal
exit, which waits for it), the ``atexit`` handlers run (logging's flush, ``tempfile``
and ``weakref.finalize`` clean-ups, multiprocessing's), then stdout and stderr are
flushed. Files and connections of the command are closed by the command itself (the
store commits each run in one transaction and closes its connection).
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import Final, NoReturn

__all__ = ["EXIT_BROKEN_PIPE", "exit_now"]

#: The reader of stdout went away (128 + SIGPIPE, as a shell reports a process it ended).
EXIT_BROKEN_PIPE: Final = 141


def exit_now(code: int) -> NoReturn:
    """Exit with ``code`` as :func:`sys.exit` would, minus the interpreter's teardown
    (see the module docstring); the normal exit when another non-daemon thread is alive
    or this interpreter lacks ``atexit._run_exitfuncs``."""
    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    main = threading.main_thread()
    others = [t for t in threading.enumerate() if t is not main and not t.daemon]
    if others or run_exit_handlers is None or threading.current_thread() is not main:
        sys.exit(code)
    run_exit_handlers()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:
            code = EXIT_BROKEN_PIPE if stream is sys.stdout else code
        except (OSError, ValueError, AttributeError):  # closed, detached or None (fd shut)
            pass
    os._exit(code)
