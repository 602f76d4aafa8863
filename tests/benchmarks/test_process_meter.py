"""benchmarks/process_meter.timed: the summed peaks bound the memory held at once, which
sees a worker that lives only after the main process let its own peak go."""

from __future__ import annotations

import sys
from pathlib import Path

from benchmarks.process_meter import timed

# Main: 300 MB, freed; then a worker holding 300 MB while the main holds little.
_SEQUENTIAL = """
import multiprocessing, time, numpy as np
def worker():
    block = np.ones(300 * 2**20 // 8); time.sleep(0.5)
if __name__ == "__main__":
    block = np.ones(300 * 2**20 // 8); time.sleep(0.3); del block
    process = multiprocessing.get_context("spawn").Process(target=worker)
    process.start(); process.join()
"""


def test_memory_at_once_sees_peaks_that_do_not_coincide(tmp_path: Path) -> None:
    script = tmp_path / "sequential.py"
    script.write_text(_SEQUENTIAL)
    measure = timed([sys.executable, str(script)], cwd=tmp_path)
    assert measure.processes >= 2
    assert measure.rss_mib > 600  # two peaks of 300 MiB each, summed
    assert 300 < measure.rss_at_once_mib < measure.rss_mib - 200
