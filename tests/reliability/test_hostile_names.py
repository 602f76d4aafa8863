"""Hostile names end to end: a feature named with a tab, category values with ESC, a
newline, ``<b>``, ``|``, ``\\|``, backticks and ``&``, through the contract, ``datasre
run`` and ``datasre gate`` in every format.

The values stay verbatim in the store and in JSON; each other format shows them as text:
one line per record on the terminal (no raw ESC), valid XML, Markdown whose tables keep
their cells and which passes no raw HTML.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from assets.store import SliStore
from pipelines.cli import main
from tests.fixtures import FIRST_DAY, contract_dict, write_model
from tests.promtool import parse_samples, run_promtool

NOW = "2026-04-01T00:00:00+00:00"
AS_OF = "2026-03-03T12:00:00+00:00"
ROWS = 600
FEATURE = "c\t"
#: The fixture's categories a, b, c become these.
HOSTILE: dict[str, str] = {
    "a": "\x1b[31mred\x1b[0m",
    "b": "b\t",
    "c": "two\nlines <b>bold</b> a|b a\\|b `tick` & co",
}


def _hostile_column(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col("c").replace_strict(HOSTILE).alias(FEATURE)).drop("c")


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One day of a hostile-names model, run and gated in every format."""
    root = tmp_path_factory.mktemp("hostile")
    body = contract_dict(slices=[FEATURE], min_slice_rows=10, owner="team <b>sre</b> | ops")
    body["features"] = {
        "x": body["features"]["x"],
        "k": body["features"]["k"],
        FEATURE: {"dtype": "String", "nullable": True, "allowed_values": list(HOSTILE.values())},
    }
    body["sources"]["labels"] = "toy/labels/{date}.parquet"
    body["predictions"]["target"] = "label"
    # A blocking slice SLO nobody meets: the hostile slice values become gate evidence.
    body["slos"]["model"]["slice_accuracy"] = {"objective": 0.999, "blocking": True}
    contract = write_model(root, days=1, rows=ROWS, contract=body)
    toy = root / "toy"
    day = FIRST_DAY.isoformat()
    for path in (toy / "training.parquet", toy / "features" / f"{day}.parquet"):
        _hostile_column(pl.read_parquet(path)).write_parquet(path)
    predictions = pl.read_parquet(toy / "predictions" / f"{day}.parquet")
    rng = np.random.default_rng(7)
    predicted = predictions["predicted_label"].to_numpy()
    truth = np.where(rng.uniform(0, 1, ROWS) < 0.2, 1 - predicted, predicted)
    (toy / "labels").mkdir()
    pl.DataFrame({"id": predictions["id"], "label": truth}).write_parquet(
        toy / "labels" / f"{day}.parquet"
    )
    db = root / "s.duckdb"
    common = ["--config", str(contract), "--db", str(db)]
    # mypy: capsys is function-scoped, so output goes through files here.
    out: dict[str, Any] = {"db": db, "contract": contract}
    import contextlib
    import io

    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        out["run_code"] = main(["run", *common, "--now", NOW, "--quiet", "--partition", day])
    out["run_stdout"], out["run_stderr"] = stdout.getvalue(), stderr.getvalue()
    for fmt in ("text", "json", "junit", "markdown"):
        report = root / f"gate.{fmt}"
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            out[f"{fmt}_code"] = main(
                [
                    "gate",
                    *common,
                    "--model",
                    "toy",
                    "--as-of",
                    AS_OF,
                    "--format",
                    fmt,
                    "--output",
                    str(report),
                    "--no-record",
                ]
            )
        out[fmt] = report.read_text(encoding="utf-8")
    return out


def test_the_store_keeps_names_and_values_verbatim(hostile_run: dict[str, Any]) -> None:
    store = SliStore(hostile_run["db"])
    query = "select distinct slice from sli_latest where slice is not null"
    slices = {s for (s,) in store.fetchall(query)}
    assert slices == {f"{FEATURE}={value}" for value in HOSTILE.values()}
    # "b\t" is an allowed value of the data as it is: nothing flagged (it used to be
    # stripped to "b", and the real "b\t" was then not allowed).
    validity = store.fetchall(
        "select value from sli_latest where sli = 'schema_validity' and feature is null"
    )
    assert validity == [(1.0,)]
    features = {f for (f,) in store.fetchall("select distinct feature from sli_latest")}
    assert FEATURE in features


def test_run_summary_is_one_line_per_record_without_raw_control_characters(
    hostile_run: dict[str, Any],
) -> None:
    assert hostile_run["run_code"] == 0, hostile_run["run_stderr"]
    out: str = hostile_run["run_stdout"]
    assert "\x1b" not in out and "\t" not in out
    lines = out.splitlines()
    # header, one partition, blank, title, one line per breached worst slice (one SLI)
    assert lines[0].split()[0] == "model" and lines[1].startswith("toy ")
    assert lines[3] == "worst slice per SLI, where it breached:"
    assert len(lines) == 5, lines
    assert "c\\t=" in lines[4]
    assert any(f"c\\t={shown}" in lines[4] for shown in ("\\x1b[31mred\\x1b[0m", "b\\t", "two\\n"))


def test_gate_text_has_one_line_per_record_and_no_raw_escape(hostile_run: dict[str, Any]) -> None:
    assert hostile_run["text_code"] == 1  # blocked by the slice SLO
    text: str = hostile_run["text"]
    assert "\x1b" not in text and "\t" not in text
    blocking = json.loads(hostile_run["json"])["summary"]["blocking"]
    assert sum(line.startswith("  [block] ") for line in text.splitlines()) == blocking
    assert "owner team <b>sre</b> | ops" in text  # a terminal shows markup as it is


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_gate_json_round_trips_the_values(hostile_run: dict[str, Any]) -> None:
    document = json.loads(hostile_run["json"])
    assert document["verdict"] == "blocked"
    assert document["owner"] == "team <b>sre</b> | ops"
    evidence = [
        row
        for reason in document["reasons"]
        if reason["slo"] == "slice_accuracy"
        for row in reason["evidence"]
    ]
    assert {row["slice"] for row in evidence} <= {f"{FEATURE}={v}" for v in HOSTILE.values()}
    assert evidence
    assert all(row["feature"] is None or row["feature"] == FEATURE for row in evidence)
    assert "\x1b" not in hostile_run["json"]  # json escapes it as \u001b


def test_gate_junit_is_valid_xml_holding_the_values_as_text(hostile_run: dict[str, Any]) -> None:
    xml_text: str = hostile_run["junit"]
    assert "\x1b" not in xml_text
    root = ET.fromstring(xml_text)  # raises on a control character XML 1.0 forbids
    failures = root.findall(".//failure")
    assert failures
    body = "\n".join(f.text or "" for f in failures)
    assert "\\x1b[31mred\\x1b[0m" in body or "<b>bold</b>" in body
    owner = [p for p in root.iter("property") if p.get("name") == "runbook"]
    assert owner


def test_gate_markdown_escapes_markup_and_keeps_table_cells(hostile_run: dict[str, Any]) -> None:
    markdown_it = pytest.importorskip("markdown_it")
    source: str = hostile_run["markdown"]
    assert "\x1b" not in source
    assert "<b>" not in source  # no raw HTML from values
    html = markdown_it.MarkdownIt("commonmark").enable("table").render(source)
    assert "<b>" not in html and "&lt;b&gt;sre&lt;/b&gt;" in html
    # Every row of every table has as many cells as its header.
    tables = re.findall(r"<table>(.*?)</table>", html, re.S)
    assert len(tables) >= 3  # checks, evidence, budgets
    for table in tables:
        header = len(re.findall(r"<th[ >]", table.split("</thead>")[0]))
        rows = re.findall(r"<tr>(.*?)</tr>", table.split("</thead>")[1], re.S)
        assert rows and all(len(re.findall(r"<td[ >]", row)) == header for row in rows), table
    # The owner's "|" and the value's "a\|b" render as themselves.
    assert "team &lt;b&gt;sre&lt;/b&gt; | ops" in html
    assert "a|b a\\|b <code>" not in html and "a|b a\\|b `tick` &amp; co" in html


def test_contract_check_prints_an_owner_with_control_characters_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    contract = write_model(tmp_path, days=1, contract=contract_dict(owner="ops\x1b[2J\nteam"))
    assert main(["contract", "check", str(contract)]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 2 and "\x1b" not in out  # the header and one row
    assert "  ops\\x1b[2J\\nteam  " in out.splitlines()[1]


def test_prometheus_export_keeps_hostile_names_as_escaped_label_values(
    hostile_run: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "datasre.prom"
    code = main(
        ["export", "prometheus", "--config", str(hostile_run["contract"]),
         "--db", str(hostile_run["db"]), "--as-of", AS_OF, "--output", str(out)]
    )  # fmt: skip
    assert code == 0
    text = out.read_text(encoding="utf-8")
    checked = run_promtool("check", "metrics", stdin=text)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # A newline in a value is escaped: every line is a comment or one sample.
    assert all(line.startswith(("# ", "datasre_")) for line in text.splitlines())
    samples = parse_samples(text)
    series = [labels for name, labels, _ in samples if name == "datasre_sli_value"]
    # Unescaped by the format's rules, each name is exactly the data's.
    assert {s["slice"] for s in series if s["slice"]} == {
        f"{FEATURE}={value}" for value in HOSTILE.values()
    }
    assert FEATURE in {s["feature"] for s in series}
