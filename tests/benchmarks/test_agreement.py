"""``benchmarks/agreement.py`` end to end on small days: the sketch engine forced on the
big day (a tiny drift budget), its rows agree with the exact engine's on the day's first
rows: KS inside the stated interval, every share-statistic equal, throughput scaled."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchmarks import agreement, partition


@pytest.mark.slow
def test_a_sketched_day_agrees_with_the_exact_run_on_its_first_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(partition, "OUT", tmp_path)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    code = agreement.main(["--big", "20000", "--small", "5000", "--big-budget-mb", "0.01"])
    out = capsys.readouterr().out
    assert code == 0, out
    counts = dict(re.findall(r"^(.+): (\d+) rows agree, 0 disagree$", out, flags=re.MULTILINE))
    assert int(counts["sketch interval holds the exact value"]) >= 13  # every numeric KS
    assert int(counts["equal"]) > 100
    assert int(counts["scales with the day"]) == 1
    assert "DISAGREES" not in out
