from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.cli import main


def test_contract_check_summarises_each_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["contract", "check", "data/samples/contracts"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3  # the header, one row per model
    assert lines[0].split() == [
        "model",
        "version",
        "type",
        "tier",
        "features",
        "model_slos",
        "infra_slos",
        "owner",
        "file",
    ]
    assert lines[2].split()[:5] == ["fraud_detection", "2.3.0", "classification", "1", "19"]


def test_contract_check_reports_the_first_problem_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: x\ntype: forecasting\n")
    assert main(["contract", "check", str(bad)]) == 2
    assert capsys.readouterr().err == (
        f"datasre: error: {bad}: type: Input should be 'classification', 'regression' "
        "or 'ranking'\n"
    )
