"""``datasre drift``: exit codes 0/1/2, formats, parquet or profile baseline."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from checks.errors import InputError
from pipelines.commands.drift import main, register, run


def _write(path: Path, n: int, seed: int, shift: float = 0.0) -> Path:
    rng = np.random.default_rng(seed)
    pl.DataFrame(
        {
            "amount usd": rng.normal(shift, 1.0, n),
            "kind/code": rng.choice(["a", "b", "c"], n),
            "when": pl.Series(np.arange(n), dtype=pl.Int64).cast(pl.Datetime("us")),
        }
    ).write_parquet(path)
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    return {
        "base": _write(tmp_path / "base.parquet", 3000, 1),
        "same": _write(tmp_path / "same.parquet", 3000, 2),
        "shifted": _write(tmp_path / "shifted.parquet", 3000, 3, shift=1.0),
    }


@pytest.fixture
def saved_profile(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Path:
    """The stored profile of ``files["base"]`` (its save's output discarded)."""
    profile = tmp_path / "profile"
    run(_args(str(files["base"]), str(files["same"]), "--save-profile", str(profile)))
    capsys.readouterr()
    return profile


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    ns = parser.parse_args(["drift", *argv])
    ns.config = None
    ns.debug = False
    return ns


def test_no_drift_exits_0_and_prints_a_table(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(_args(str(files["base"]), str(files["same"]))) == 0
    out = capsys.readouterr().out
    assert "0 of 2 features drifted" in out
    assert "amount usd" in out and "kind/code" in out


def test_drift_exits_1_and_json_rows_carry_the_rule(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(_args(str(files["base"]), str(files["shifted"]), "--format", "json")) == 1
    rows = json.loads(capsys.readouterr().out)
    ks = next(r for r in rows if r["feature"] == "amount usd" and r["method"] == "ks")
    for key in ("statistic", "p_value", "q_value", "threshold", "comparator", "drifted"):
        assert key in ks
    assert ks["drifted"] is True


def test_csv_format_and_method_selection(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(
        _args(str(files["base"]), str(files["shifted"]), "--format", "csv", "--methods", "psi")
    )
    assert code == 1
    frame = pl.read_csv(capsys.readouterr().out.encode())
    assert set(frame["method"]) == {"psi"}


def test_stored_profile_baseline_gives_the_same_answer(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prof = tmp_path / "profile"
    run(
        _args(
            str(files["base"]),
            str(files["shifted"]),
            "--format",
            "csv",
            "--save-profile",
            str(prof),
        )
    )
    first = capsys.readouterr().out
    assert run(_args(str(prof), str(files["shifted"]), "--format", "csv")) == 1
    assert capsys.readouterr().out == first
    assert run(_args(str(prof), str(files["shifted"]), "--sketch")) == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["missing.parquet", "{same}"], "missing.parquet: snapshot file not found"),
        (["{base}", "{same}", "--columns", "nope"], "column 'nope': not found"),
        (["{base}", "{garbage}"], "not a readable parquet file"),
        (["{base}", "{other}"], "no feature column in common"),
        (["{base}", "{same}", "--columns", "when"], "neither numeric nor categorical"),
    ],
)
def test_bad_input_raises_input_error_naming_file_and_field(
    files: dict[str, Path], tmp_path: Path, argv: list[str], message: str
) -> None:
    garbage = tmp_path / "garbage.parquet"
    garbage.write_text("not parquet")
    other = tmp_path / "other.parquet"
    pl.DataFrame({"zzz": [1.0]}).write_parquet(other)
    paths = {**{k: str(v) for k, v in files.items()}, "garbage": str(garbage), "other": str(other)}
    with pytest.raises(InputError, match=message):
        run(_args(*[a.format(**paths) for a in argv]))


def test_standalone_main_maps_input_errors_to_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("datasre: error: ") and "a.parquet: snapshot file not found" in err
    assert len(err.strip().splitlines()) == 1


def test_degenerate_current_inputs_are_input_errors_or_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipelines.cli import main as datasre

    base = tmp_path / "base.parquet"
    rng = np.random.default_rng(5)
    frame = pl.DataFrame({"x": rng.normal(0, 1, 500), "c": rng.choice(["a", "b"], 500)})
    frame.write_parquet(base)
    empty, text, narrow = (tmp_path / f"{n}.parquet" for n in ("empty", "text", "narrow"))
    frame.head(0).write_parquet(empty)
    frame.with_columns(pl.col("x").cast(pl.String)).write_parquet(text)
    frame.drop("c").write_parquet(narrow)
    assert datasre(["drift", str(base), str(empty)]) == 2
    assert capsys.readouterr().err == (
        f"datasre: error: {empty}: snapshot has no rows: no feature can have a verdict "
        "(each needs at least 30 non-null values)\n"
    )
    assert datasre(["drift", str(base), str(text)]) == 2
    assert "column 'x': String (categorical) here, numeric in the baseline" in (
        capsys.readouterr().err
    )
    assert datasre(["drift", str(base), str(narrow)]) == 0
    assert "missing from CURRENT, not compared: c" in capsys.readouterr().err


def test_no_verdict_for_any_feature_is_said_plainly_and_exits_2(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    small = _write(tmp_path / "small.parquet", 20, 4)  # under 30 values: insufficient_data
    from pipelines.cli import main as datasre

    assert datasre(["drift", str(files["base"]), str(small)]) == 2
    captured = capsys.readouterr()
    summary = (
        "no feature had a verdict: all 2 had insufficient data (fewer than 30 non-null "
        "values on a side): amount usd, kind/code"
    )
    assert captured.out.splitlines()[-1] == summary
    assert "drifted" not in captured.out.splitlines()[-1]
    assert captured.err == f"datasre: error: {small}: {summary}\n"
    assert datasre(["drift", str(files["base"]), str(small), "--format", "json"]) == 2
    rows = json.loads(capsys.readouterr().out)
    assert {r["status"] for r in rows} == {"insufficient_data"}


def test_a_mix_counts_only_the_judged_features_and_names_the_others(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sparse = tmp_path / "sparse.parquet"
    pl.read_parquet(files["shifted"]).with_columns(
        pl.when(pl.int_range(pl.len()) < 10).then(pl.col("kind/code")).alias("kind/code")
    ).write_parquet(sparse)  # 10 non-null categories: no verdict; amount usd shifted
    assert run(_args(str(files["base"]), str(sparse))) == 1
    assert capsys.readouterr().out.splitlines()[-1] == (
        "1 of 1 features with a verdict drifted: amount usd; 1 had insufficient data "
        "(fewer than 30 non-null values on a side): kind/code"
    )


def test_a_profile_baseline_switches_to_the_sketch_engine_when_exact_does_not_fit(
    files: dict[str, Path],
    saved_profile: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from assets.memory_budget import MemoryBudget

    def ks_binning() -> tuple[int, str, str]:
        code = run(_args(str(saved_profile), str(files["shifted"]), "--format", "json"))
        out, err = capsys.readouterr()
        rows = json.loads(out)
        return code, next(r["binning"] for r in rows if r["method"] == "ks"), err

    code, binning, err = ks_binning()
    assert (code, binning, err) == (1, "exact ECDFs", "")
    # The exact engine needs 3,000 rows x 48 B + 3,000 stored values x 8 B = 168,000 B;
    # the sketch engine's floor (one column of one file) is 3,000 x 16 B = 48,000 B.
    left = MemoryBudget(60_000, "test limit of 60,000 B", counts_mapped_files=False)
    monkeypatch.setattr("assets.memory_budget.available_memory", lambda: left)
    code, binning, err = ks_binning()
    assert code == 1 and binning.startswith("sketch grid of")
    assert err.startswith("datasre drift: note: the exact engine needs ~0 MiB, 0 MiB left")
    assert "test limit of 60,000 B" in err and "using the sketch engine" in err


def test_sketch_mode_reads_row_group_by_row_group_so_only_one_group_must_fit(
    files: dict[str, Path],
    saved_profile: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from assets.memory_budget import MemoryBudget

    grouped = tmp_path / "grouped.parquet"
    pl.read_parquet(files["shifted"]).write_parquet(grouped, row_group_size=500)
    whole = run(_args(str(saved_profile), str(files["shifted"]), "--sketch", "--format", "json"))
    expected = json.loads(capsys.readouterr().out)
    # One column of the whole file (3,000 rows x 16 B) does not fit; of a group (500) does.
    left = MemoryBudget(20_000, "test limit of 20,000 B", counts_mapped_files=False)
    monkeypatch.setattr("assets.memory_budget.available_memory", lambda: left)
    with pytest.raises(InputError, match="comparing 3,000 rows needs at least"):
        run(_args(str(saved_profile), str(files["shifted"]), "--sketch"))
    grouped_code = run(_args(str(saved_profile), str(grouped), "--sketch", "--format", "json"))
    assert grouped_code == whole == 1
    assert json.loads(capsys.readouterr().out) == expected


@pytest.mark.parametrize("baseline", ["parquet", "stored profile"])
def test_an_id_column_is_left_out_of_an_unnamed_comparison_and_said_so(
    baseline: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two clean days whose ids differ: every id is a new category (PSI ~2), so an id
    column compared as a feature reads as drift. It is left out, on stderr, unless named."""
    base, same = _write(tmp_path / "a.parquet", 3000, 1), _write(tmp_path / "b.parquet", 3000, 2)
    for path, day in ((base, "d1"), (same, "d2")):
        frame = pl.read_parquet(path)
        ids = pl.Series("txn id", [f"{day}-{i:05d}" for i in range(frame.height)])
        frame.with_columns(ids).write_parquet(path)
    source = str(base)
    if baseline == "stored profile":
        source = str(tmp_path / "profile")
        run(_args(str(base), str(same), "--save-profile", source))
        capsys.readouterr()
    assert run(_args(source, str(same))) == 0
    captured = capsys.readouterr()
    assert "0 of 2 features drifted" in captured.out and "txn id" not in captured.out
    assert captured.err == (
        "datasre drift: note: not compared, every baseline value distinct (an identifier, "
        "not a feature): txn id; name it in --columns to compare it anyway\n"
    )
    assert run(_args(source, str(same), "--columns", "txn id,amount usd")) == 1  # named: compared


def test_identifier_columns_need_every_value_distinct_and_enough_of_them() -> None:
    from checks.drift.features import IDENTIFIER_MIN_VALUES, identifier_columns

    n = IDENTIFIER_MIN_VALUES
    distinct = [f"x{i}" for i in range(n + 1)]
    frame = pl.DataFrame(
        {
            "id": distinct,
            "distinct_and_a_null": [*distinct[:n], None],  # n values, all different
            "one_repeat": ["x0", *distinct[:n]],
            "too_few": [*distinct[: n - 1], None, None],
        }
    )
    assert identifier_columns(frame.lazy(), frame.columns) == ["id", "distinct_and_a_null"]
