"""``datasre init``: golden contracts drafted from the sample models and the public data
set, refusing to overwrite, one-line errors.

Regenerate the goldens after a deliberate change with
``DATASRE_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/pipelines/test_init_cli.py``
and review the diff. The repository's absolute path is written as ``REPO``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from checks.contract import load_contract
from pipelines.cli import main
from tests.golden_files import GOLDEN as GOLDEN_ROOT
from tests.golden_files import REPO, assert_golden

GOLDEN = GOLDEN_ROOT / "init"

MODELS = {
    "fraud_detection": ("classification", "1", REPO / "data" / "samples" / "fraud_detection"),
    "delivery_eta": ("regression", "1", REPO / "data" / "samples" / "delivery_eta"),
    "fair_affairs": ("classification", "2", REPO / "examples" / "public_model" / "fair_affairs"),
}


def init_argv(model: str, output: Path) -> list[str]:
    """The one ``datasre init`` command line of a bundled model."""
    kind, tier, data = MODELS[model]
    return [
        "init", "--model", model, "--type", kind, "--tier", tier,
        "--training", str(data / "training.parquet"),
        "--features", str(data / "features" / "*.parquet"),
        "--predictions", str(data / "predictions" / "*.parquet"),
        "--labels", str(data / "labels" / "*.parquet"),
        "--output", str(output),
    ]  # fmt: skip


@pytest.mark.parametrize("model", sorted(MODELS))
def test_init_drafts_the_golden_contract_that_contract_check_accepts(
    model: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "contracts" / f"{model}.yaml"
    assert main(init_argv(model, output)) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"wrote {output}: {model} 0.1.0")
    # What to run next names the file written (a bare `contract check` checks the samples).
    assert f"`datasre contract check {output}`" in out
    assert f"`datasre run --config {output} --model {model} --all`" in out
    assert f"`datasre gate --config {output} --model {model}`" in out
    assert "without --predictions" not in out
    # init writes a path relative to the contract when the two share more than the root
    # (a clone under /tmp beside pytest's tmp_path), else absolute: both read as REPO.
    text = output.read_text(encoding="utf-8")
    text = text.replace(os.path.relpath(REPO, output.parent), "REPO").replace(str(REPO), "REPO")
    golden = GOLDEN / f"{model}.yaml"
    assert_golden(golden, text)
    assert main(["contract", "check", str(output)]) == 0
    assert load_contract(output).model == model
    # Valid, but not shippable yet: check says what the gate would block on.
    warnings = capsys.readouterr().err.splitlines()
    assert [w.rsplit(": ", 1)[-1] for w in warnings] == [
        "contract_no_owner)",
        "contract_no_runbook)",
    ]
    assert "owner is datasre init's placeholder TODO-owner@example.com" in warnings[0]


def test_init_writes_paths_relative_to_the_contract_when_they_share_a_directory(
    tmp_path: Path,
) -> None:
    data = tmp_path / "fair_affairs"
    shutil.copytree(MODELS["fair_affairs"][2], data)
    output = tmp_path / "contracts" / "fair.yaml"
    argv = init_argv("fair_affairs", output)
    argv = [arg.replace(str(MODELS["fair_affairs"][2]), str(data)) for arg in argv]
    assert main(argv) == 0
    contract = load_contract(output)
    assert contract.sources.training == "../fair_affairs/training.parquet"
    assert contract.sources.features == "../fair_affairs/features/{date}.parquet"


def test_init_refuses_to_overwrite_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "fair.yaml"
    output.write_text("mine\n", encoding="utf-8")
    assert main(init_argv("fair_affairs", output)) == 2
    err = capsys.readouterr().err
    assert err == f"datasre: error: {output}: already exists (pass --force to overwrite it)\n"
    assert output.read_text(encoding="utf-8") == "mine\n"
    assert main([*init_argv("fair_affairs", output), "--force"]) == 0
    assert load_contract(output).model == "fair_affairs"


def test_daily_files_without_a_day_in_their_name_are_one_line_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = MODELS["fair_affairs"][2]
    odd = tmp_path / "features"
    odd.mkdir()
    shutil.copy(data / "features" / "2026-11-01.parquet", odd / "latest.parquet")
    argv = init_argv("fair_affairs", tmp_path / "c.yaml")
    argv[argv.index("--features") + 1] = str(odd / "*.parquet")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err == (
        f"datasre: error: {odd / 'latest.parquet'}: --features: file name must carry its day "
        "once (YYYY-MM-DD); for days in directories or several files a day, give the "
        "pattern with {date}, e.g. 'features/dt={date}/*.parquet'\n"
    )


def test_days_in_directories_and_several_files_a_day_by_a_date_pattern(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Hive layout (``dt=DAY/part-N.parquet``) was refused, and so was a pattern with
    ``{date}`` (found by a new user); the draft is the flat layout's but for the paths."""
    import polars as pl

    flat = tmp_path / "flat.yaml"
    assert main(init_argv("fair_affairs", flat)) == 0
    data = MODELS["fair_affairs"][2]
    hive = tmp_path / "hive"
    for source in ("features", "predictions", "labels"):
        for file in sorted((data / source).glob("*.parquet")):
            day = hive / source / f"dt={file.stem}"
            day.mkdir(parents=True)
            frame = pl.read_parquet(file)
            half = frame.height // 2
            frame.head(half).write_parquet(day / "part-0.parquet")
            frame.tail(frame.height - half).write_parquet(day / "part-1.parquet")
    argv = init_argv("fair_affairs", tmp_path / "contracts" / "hive.yaml")
    for source in ("features", "predictions", "labels"):
        argv[argv.index(f"--{source}") + 1] = str(hive / source / "dt={date}" / "*.parquet")
    assert main(argv) == 0
    contract = load_contract(tmp_path / "contracts" / "hive.yaml")
    assert contract.sources.features == "../hive/features/dt={date}/*.parquet"
    drafted = load_contract(flat)
    assert contract.features == drafted.features and contract.slos == drafted.slos
    capsys.readouterr()
    assert main(["contract", "check", str(tmp_path / "contracts" / "hive.yaml")]) == 0


def test_a_missing_training_file_is_one_line_naming_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = init_argv("fair_affairs", tmp_path / "c.yaml")
    missing = tmp_path / "nope.parquet"
    argv[argv.index("--training") + 1] = str(missing)
    assert main(argv) == 2
    assert capsys.readouterr().err == f"datasre: error: {missing}: --training: no file matches\n"


def test_without_a_prediction_log_or_label_times_init_says_what_it_could_not_know(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A contract drafted without --predictions has no infra SLO, so the gate blocks
    every version (contract_no_infra_slo), and nothing said so; a label delay with no
    label timestamps to measure it by was commented as measured (found by review)."""
    import polars as pl

    data = MODELS["fraud_detection"][2]
    labels = tmp_path / "labels"
    labels.mkdir()
    for path in sorted((data / "labels").glob("*.parquet"))[:3]:
        pl.read_parquet(path).drop("label_ts").write_parquet(labels / path.name)
    output = tmp_path / "fraud.yaml"
    argv = init_argv("fraud_detection", output)
    at = argv.index("--predictions")
    argv = [*argv[:at], *argv[at + 2 :]]
    argv[argv.index("--labels") + 1] = str(labels / "*.parquet")
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "without --predictions the contract has no infra SLO" in out
    assert "contract_no_infra_slo" in out
    delay = next(line for line in output.read_text(encoding="utf-8").splitlines()
                 if "max_label_delay_days" in line)  # fmt: skip
    assert "a default: the label files have no timestamp column" in delay
