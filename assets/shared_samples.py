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
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Final

__all__ = ["SHARED_DIR_ENV", "shared_dir", "sharing_samples"]

#: Environment variable naming the directory (unset: each process draws its own).
SHARED_DIR_ENV: Final = "DATASRE_SHARED_SAMPLES"


def shared_dir() -> Path | None:
    """The run's shared directory, None when there is none."""
    directory = os.environ.get(SHARED_DIR_ENV)
    return Path(directory) if directory else None


@contextlib.contextmanager
def sharing_samples() -> Iterator[Path]:
    """A fresh directory under ``TMPDIR``, named in this process's environment (so the
    processes it starts inherit it) until the block ends; then removed with its files."""
    previous = os.environ.get(SHARED_DIR_ENV)
    with tempfile.TemporaryDirectory(prefix="datasre-samples-") as directory:
        os.environ[SHARED_DIR_ENV] = directory
        try:
            yield Path(directory)
        finally:
            if previous is None:
                os.environ.pop(SHARED_DIR_ENV, None)
            else:
                os.environ[SHARED_DIR_ENV] = previous
