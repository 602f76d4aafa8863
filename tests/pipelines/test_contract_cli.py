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


def test_contract_check_lists_every_problem_of_every_file_with_its_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: x\ntype: forecasting\nversion: '1'\nowner: o\ncolour: red\n")
    fraud = tmp_path / "fraud.yaml"
    sample = Path("data/samples/contracts/fraud_detection.yaml").read_text(encoding="utf-8")
    fraud.write_text(sample.replace("tier: 1", "tier: 7"), encoding="utf-8")
    tier_line = sample.splitlines().index("tier: 1") + 1
    assert main(["contract", "check", str(bad), str(fraud)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"datasre: error: {bad}:1:1: sources: required key is missing",
        f"datasre: error: {bad}:1:1: features: required key is missing",
        f"datasre: error: {bad}:2:1: type: Input should be 'classification', 'regression' "
        "or 'ranking'",
        f"datasre: error: {bad}:5:1: colour: unknown key",
        f"datasre: error: {fraud}:{tier_line}:1: tier: Input should be less than or equal to 3",
    ]
