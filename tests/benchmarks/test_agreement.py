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


def _auc_row(value: float, null_sd: float) -> dict[str, object]:
    detail = f"threshold = baseline-vs-baseline mean 0.4992 + 4 x sd {null_sd} over 6 splits"
    return {"sli": "domain_classifier_auc", "category": "drift", "value": value, "detail": detail}


def test_two_sampled_aucs_agree_within_4_sqrt2_null_sds_not_a_fixed_002() -> None:
    # 100M vs 5M rows measured 0.600 against 0.629 with a null sd of 0.0107: 1.9 sd of the
    # difference of two sampled AUCs, allowed (limit 4 x sqrt(2) x 0.0107 = 0.0605).
    rule, holds = agreement._verdict(_auc_row(0.600, 0.0107), _auc_row(0.629, 0.0107), 20.0)
    assert rule.startswith("sampled AUC") and holds
    assert not agreement._verdict(_auc_row(0.560, 0.0107), _auc_row(0.629, 0.0107), 20.0)[1]
    other = {"sli": "importance_weighted_drift", "category": "drift", "detail": ""}
    assert not agreement._verdict({**other, "value": 0.05}, {**other, "value": 0.08}, 20.0)[1]
