"""Usage errors: one line on stderr naming the problem and where the help is, exit 2."""

from __future__ import annotations

import pytest

from pipelines.cli import main
from pipelines.commands.drift import main as drift_main


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ["run", "--bogus"],
            "datasre: error: unrecognized arguments: --bogus (see `datasre run --help`)",
        ),
        (
            ["gate"],
            "datasre: error: the following arguments are required: --model "
            "(see `datasre gate --help`)",
        ),
        (
            ["run", "--format", "xml"],
            "datasre: error: argument --format: invalid choice: 'xml' (choose from 'table', "
            "'json') (see `datasre run --help`)",
        ),
        (
            [],
            "datasre: error: the following arguments are required: COMMAND (see `datasre --help`)",
        ),
        (
            ["explain", "--model", "m", "--partition", "2026-02-30"],
            "datasre: error: --partition: '2026-02-30' is not a YYYY-MM-DD day",
        ),
        (
            ["run", "--partition", "20260301"],
            "datasre: error: --partition: '20260301' is not a YYYY-MM-DD day",
        ),
    ],
)
def test_a_usage_error_is_one_line_and_exit_2(
    argv: list[str], line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err == line + "\n"
    assert captured.out == ""


def test_the_standalone_drift_entry_point_says_it_in_one_line_too(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert drift_main(["only-baseline.parquet"]) == 2
    assert capsys.readouterr().err == (
        "datasre: error: the following arguments are required: CURRENT "
        "(see `datasre drift --help`)\n"
    )


def test_help_still_prints_the_usage_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["gate", "--help"])
    assert stopped.value.code == 0
    assert "--model MODEL" in capsys.readouterr().out


def test_a_reader_that_closed_the_pipe_ends_the_command_quietly() -> None:
    """`datasre ... | head`: the reader goes away; no traceback, the SIGPIPE status."""
    import subprocess
    import sys
    from pathlib import Path

    day = Path("data/samples/fraud_detection/features")
    command = [str(Path(sys.executable).with_name("datasre")), "drift", "--format", "csv",
               "--columns", "amount,country",
               str(day / "2026-11-01.parquet"), str(day / "2026-11-02.parquet")]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # before it writes anything: every write is a broken pipe
    error = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141, error
    assert error == ""


def test_export_options_given_before_its_target_are_kept() -> None:
    from pipelines.cli import build_parser

    parser = build_parser()
    before = parser.parse_args(["export", "--db", "x.duckdb", "--config", "c", "--debug",
                                "prometheus"])  # fmt: skip
    assert (before.db, before.config, before.debug) == ("x.duckdb", "c", True)
    after = parser.parse_args(["export", "alerts", "--db", "y.duckdb"])
    assert (after.db, after.config, after.debug) == ("y.duckdb", None, False)
