"""Worker threads never race polars' lazy numpy import.

polars imports numpy on first use through a proxy; threads touching it first at once
can make some of them raise ``TypeError: 'module' object does not support item
assignment`` (eight threads released by a barrier in a fresh interpreter where numpy is
not yet imported: every try here). The window is short once numpy is imported, so the
test checks the cure itself: :class:`assets.drift_runner.ColumnRunner` resolves the
proxy before its threads start, and each thread finds it resolved. It runs in a fresh
interpreter where polars is imported first, as in the CLI, so the proxy starts
unresolved.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

_RACE = textwrap.dedent(
    """
    import threading
    import polars
    from polars import _dependencies as dependencies

    proxy = vars(dependencies)["numpy"]
    assert type(proxy).__name__ == "_LazyModule", type(proxy)
    from assets.drift_runner import ColumnRunner

    barrier = threading.Barrier(4)

    def first_touch(index):
        resolved = "ndarray" in vars(proxy)
        barrier.wait()
        return resolved, proxy.ndarray.__name__

    print(ColumnRunner(threads=4, processes=1)(first_touch, [(i,) for i in range(4)]))
    """
)


def test_column_runner_threads_touching_polars_numpy_proxy_first_all_succeed() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _RACE], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == str([(True, "ndarray")] * 4)
