"""Every problem of a contract file at once, each at the line and column it is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.contract import ContractError, ContractFileError, load_contract

SAMPLE = Path("data/samples/contracts/fraud_detection.yaml")


def _line_of(text: str, needle: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if needle in line)


def _problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "fraud.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ContractFileError) as raised:
        load_contract(path)
    assert isinstance(raised.value, ContractError)  # what every caller catches
    return [line.removeprefix(f"{path}:") for line in raised.value.located]


def test_three_independent_errors_are_all_reported_at_their_lines(tmp_path: Path) -> None:
    sample = SAMPLE.read_text(encoding="utf-8")
    text = (
        sample.replace("tier: 1", "tier: 7")
        .replace("amount:                {dtype: Float64,", "amount:                {dtype: Float,")
        .replace("timezone: UTC", "timezone: Mars/Base")
    )
    problems = _problems(tmp_path, text)
    assert len(problems) == 3
    tier, dtype, timezone = problems
    assert tier == f"{_line_of(text, 'tier: 7')}:1: tier: Input should be less than or equal to 3"
    amount_line = _line_of(text, "  amount: ")
    column = text.splitlines()[amount_line - 1].index("dtype") + 1
    assert dtype.startswith(f"{amount_line}:{column}: features.amount.dtype: Input should be")
    assert timezone == (
        f"{_line_of(text, 'Mars/Base')}:3: schedule.timezone: unknown timezone 'Mars/Base'"
    )


def test_cross_field_errors_point_at_the_key_their_message_names(tmp_path: Path) -> None:
    sample = SAMPLE.read_text(encoding="utf-8")
    text = sample.replace("slices: [country]", "slices: [planet]")
    assert text != sample
    [problem] = _problems(tmp_path, text)
    assert (
        problem
        == f"{_line_of(text, 'slices: [planet]')}:1: slices: 'planet' is not a declared feature"
    )


def test_the_message_of_the_error_stays_one_unlocated_line(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("model: x\ntype: forecasting\n", encoding="utf-8")
    with pytest.raises(ContractFileError) as raised:
        load_contract(path)
    assert str(raised.value) == (
        f"{path}: type: Input should be 'classification', 'regression' or 'ranking'"
    )


def test_a_yaml_error_is_one_problem_at_its_line(tmp_path: Path) -> None:
    [problem] = _problems(tmp_path, "model: x\nmodel: y\n")
    assert problem == "2:1: duplicate key 'model'"
