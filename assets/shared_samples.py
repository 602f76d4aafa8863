"""A directory where the processes of one run share the day samples they draw.

``datasre run`` computes the multivariate SLIs in a worker process and
``importance_weighted_drift`` in its own, from the same seeded sample of the same day
(:mod:`assets.sample_read`); drawing it is a pass over the day's feature columns (~1 s
of a 5M-row day, ~20 s of a 100M-row one). The directory named by :data:`SHARED_DIR_ENV`
lets the second process load the first one's sample instead. Kept apart from
:mod:`assets.sample_read` so that the run can set it up before it starts the worker
without importing polars first (which would delay the worker's start).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from secrets import token_hex
from typing import Final

__all__ = ["SHARED_DIR_ENV", "create_shared_dir", "shared_dir", "sharing_samples"]

#: Environment variable naming the directory (unset: each process draws its own).
SHARED_DIR_ENV: Final = "DATASRE_SHARED_SAMPLES"


def shared_dir() -> Path | None:
    """The run's shared directory, None when there is none."""
    directory = os.environ.get(SHARED_DIR_ENV)
    return Path(directory) if directory else None


@contextlib.contextmanager
def sharing_samples() -> Iterator[Path]:
    """A fresh directory name under ``TMPDIR``, set in this process's environment (so the
    processes it starts inherit it) until the block ends; then the directory is removed
    with its files. It is created by the first sample stored in it
    (:func:`create_shared_dir`), so a run that samples no large day leaves nothing behind
    even when it is killed."""
    previous = os.environ.get(SHARED_DIR_ENV)
    directory = Path(tempfile.gettempdir()) / f"datasre-samples-{os.getpid()}-{token_hex(8)}"
    os.environ[SHARED_DIR_ENV] = str(directory)
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)
        if previous is None:
            os.environ.pop(SHARED_DIR_ENV, None)
        else:
            os.environ[SHARED_DIR_ENV] = previous


def create_shared_dir(directory: Path) -> None:
    """Create the run's directory (readable by this user only) if it is not there yet."""
    directory.mkdir(mode=0o700, exist_ok=True)
