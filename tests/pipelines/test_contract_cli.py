from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml

from checks.contract_loader import ContractLoader
from pipelines.cli import main
from pipelines.commands.contract import DOCS_PATH
from pipelines.contract_reference import with_key_reference


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


def test_contract_check_reads_the_training_footers_for_the_declared_features(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A misspelt feature passed the check and crashed the first run (new-user walkthrough);
    training data that cannot be read from here is only a warning (a CI job without it)."""
    samples = Path("data/samples/contracts").resolve()
    text = (samples / "fraud_detection.yaml").read_text(encoding="utf-8")
    text = text.replace("../fraud_detection", str(samples.parent / "fraud_detection"))
    misspelt = tmp_path / "misspelt.yaml"
    misspelt.write_text(text.replace("\n  amount:", "\n  amont:", 1), encoding="utf-8")
    assert main(["contract", "check", str(misspelt)]) == 2
    err = capsys.readouterr().err
    assert "training data lacks the declared features.amont (did you mean 'amount'?)" in err
    assert err.startswith(f"datasre: error: {misspelt}: ") and len(err.splitlines()) == 1
    elsewhere = tmp_path / "elsewhere.yaml"
    elsewhere.write_text(text.replace("training.parquet", "absent.parquet"), encoding="utf-8")
    assert main(["contract", "check", str(elsewhere)]) == 0
    captured = capsys.readouterr()
    assert "datasre: warning:" in captured.err and "sources.training: not checked:" in captured.err
    assert "fraud_detection" in captured.out
    # A dtype other than training's passed, then breached schema_valid every day (found by
    # a new user): a warning, as serving may write another type than training did.
    retyped = tmp_path / "retyped.yaml"
    retyped.write_text(text.replace("{dtype: Int64", "{dtype: Int32", 1), encoding="utf-8")
    assert text != retyped.read_text(encoding="utf-8")
    assert main(["contract", "check", str(retyped)]) == 0
    err = capsys.readouterr().err
    assert "datasre: warning:" in err and ": declared Int32, but " in err
    assert "has Int64: daily files typed like training would breach schema_valid" in err


def _schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    out = tmp_path / "contract.schema.json"
    assert main(["contract", "schema", "--output", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"
    schema: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return schema


def _yaml(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=ContractLoader)


@pytest.mark.parametrize("sample", sorted(Path("data/samples/contracts").glob("*.yaml")))
def test_the_sample_contracts_validate_against_the_json_schema(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    validator = jsonschema.Draft202012Validator(_schema(tmp_path, capsys))
    assert list(validator.iter_errors(_yaml(sample))) == []


def test_the_json_schema_refuses_a_broken_contract_at_each_bad_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = _yaml(Path("data/samples/contracts/fraud_detection.yaml"))
    body["tier"] = 7
    body["features"]["amount"]["dtype"] = "Float"
    body["colour"] = "red"
    validator = jsonschema.Draft202012Validator(_schema(tmp_path, capsys))
    paths = sorted(".".join(map(str, e.absolute_path)) for e in validator.iter_errors(body))
    assert paths == ["", "features.amount.dtype", "tier"]  # "": colour is not allowed


def test_every_key_of_the_json_schema_has_a_description(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = _schema(tmp_path, capsys)
    models = [schema, *schema["$defs"].values()]
    undescribed = [
        f"{model.get('title')}.{key}"
        for model in models
        for key, spec in model.get("properties", {}).items()
        if not spec.get("description")
    ]
    assert undescribed == []
    assert "path" not in schema["properties"]  # set by the loader, never written


def test_the_committed_key_reference_of_docs_contract_md_is_fresh() -> None:
    document = DOCS_PATH.read_text(encoding="utf-8")
    assert with_key_reference(document, DOCS_PATH) == document, (
        "docs/contract.md is stale: run `datasre contract docs`"
    )
    assert "| `features.<feature>.dtype` |" in document


def test_contract_docs_check_fails_on_a_stale_copy_and_docs_regenerates_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fresh = DOCS_PATH.read_text(encoding="utf-8")
    stale = tmp_path / "contract.md"
    stale.write_text(fresh.replace("| `owner` | string |", "| `owner` | number |"))
    assert main(["contract", "docs", "--output", str(stale), "--check"]) == 1
    assert main(["contract", "docs", "--output", str(stale)]) == 0
    assert stale.read_text(encoding="utf-8") == fresh
    assert main(["contract", "docs", "--output", str(stale), "--check"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"{stale}: key reference is up to date"
