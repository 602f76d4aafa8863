"""The multivariate asset fits its classifiers on one OpenMP thread, also when scikit-learn
is first imported by the asset itself (a fresh worker process): threadpoolctl limits only
the libraries loaded when its block is entered, and a default pool of two spinning
threads made the asset 25x slower on a busy 2-core host."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

SCRIPT = """
import datetime as dt, json, sys
from threadpoolctl import threadpool_info
from checks.contract import load_contracts
from checks.multivariate import domain_classifier
from assets.multivariate_day import multivariate_slis

assert "sklearn.ensemble" not in sys.modules  # the asset is the first to load it
seen = []
original = domain_classifier._classifier
def recording(*args, **kwargs):
    model = original(*args, **kwargs)
    seen.extend(i["num_threads"] for i in threadpool_info() if i["user_api"] == "openmp")
    return model
domain_classifier._classifier = recording
contract = {c.model: c for c in load_contracts("data/samples/contracts")}["fraud_detection"]
multivariate_slis(contract, dt.date(2026, 11, 3), sys.argv[1])
print(json.dumps(seen))
"""


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: every pool has one thread")
def test_the_classifier_fits_on_one_openmp_thread_in_a_fresh_process(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS",)}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "profiles")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    threads = json.loads(result.stdout.strip().splitlines()[-1])
    assert threads and set(threads) == {1}
