"""What both cluster tests need first: the Debian servers, installed by the project's own
script (``scripts/cluster/install.sh``), or a skip where that cannot be done."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

__all__ = ["REPO", "SCRIPTS", "install_or_skip"]

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts" / "cluster"


def install_or_skip() -> None:
    """Install PostgreSQL and Redis (no-op when present); skip when not root and missing."""
    done = subprocess.run(
        ["bash", str(SCRIPTS / "install.sh")], capture_output=True, text=True, check=False
    )
    if done.returncode == 3:  # not root and the packages are missing
        pytest.skip(done.stderr.strip())
    assert done.returncode == 0, done.stderr
