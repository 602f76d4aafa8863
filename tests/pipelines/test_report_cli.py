"""``datasre report`` end to end on a toy model, and the ``model_report`` asset.

- usage and input errors are one line and exit 2;
- hostile names (a feature called ``<svg onload=...>``, categories holding ``<script>``
  and an ``onerror`` image, an owner with markup, a ``javascript:`` runbook) are text in
  the page: the parsed HTML holds no element or attribute that came from them, and
  Chromium runs no script and logs no error while showing them;
- the asset writes the report and puts tables and Markdown on the materialisation.
"""

from __future__ import annotations

import contextlib
import io
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import pytest

from assets.model_report import build_model_report_asset
from assets.partitions import model_day_partitions
from assets.resources import DatasreConfig, SliStoreResource
from checks.contract import load_contracts
from pipelines.cli import main
from tests.fixtures import FIRST_DAY, contract_dict, write_model
from tests.report_browser import open_page

NOW = "2026-04-01T00:00:00+00:00"
FEATURE = "<svg onload=alert(1)>"
HOSTILE = {
    "a": "<script>alert(2)</script>",
    "b": '"><img src=x onerror=alert(3)>',
    "c": "\x1b[31mred & co",
}
OWNER = "team <b onclick=alert(4)>sre</b>"


def _call(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _hostile(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col("c").replace_strict(HOSTILE).alias(FEATURE)).drop("c")


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("report-toy")
    body = contract_dict(owner=OWNER, runbook="javascript:alert(5)")
    body["features"] = {
        "x": body["features"]["x"],
        "k": body["features"]["k"],
        FEATURE: {"dtype": "String", "nullable": True, "allowed_values": list(HOSTILE.values())},
    }
    contract = write_model(root, days=2, contract=body)
    for path in (root / "toy").rglob("*.parquet"):
        frame = pl.read_parquet(path)
        if "c" in frame.columns:
            _hostile(frame).write_parquet(path)
    db = root / "s.duckdb"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATASRE_STAGING", str(root / "staging"))
        patch.setenv("DATASRE_STATE_DIR", str(root / "state"))
        code, _, err = _call(
            ["run", "--all", "--config", str(contract), "--db", str(db), "--now", NOW, "--quiet"]
        )
    assert code == 0, err
    return {"root": root, "contract": contract, "db": db, "state": root / "state"}


def _report(toy: dict[str, Any], *extra: str) -> tuple[int, str, str]:
    return _call(
        ["report", "--model", "toy", "--config", str(toy["contract"]), "--db", str(toy["db"]),
         "--state-dir", str(toy["state"]), *extra]
    )  # fmt: skip


class _Tags(HTMLParser):
    """Every start tag and attribute name of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.update(name for name, _ in attrs)
        self.hrefs += [value or "" for name, value in attrs if name == "href"]


ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "p",
    "ul", "li", "span", "code", "a", "nav", "main", "section", "table", "thead", "tbody",
    "tr", "th", "td", "div", "figure", "figcaption", "details", "summary", "footer",
    "svg", "path", "rect", "circle", "text",
}  # fmt: skip


def test_hostile_names_are_text_in_the_page(toy: dict[str, Any]) -> None:
    output = toy["root"] / "hostile.html"
    code, _, err = _report(toy, "--output", str(output))
    assert code == 0, err
    page = output.read_text(encoding="utf-8")
    parsed = _Tags()
    parsed.feed(page)
    assert parsed.tags <= ALLOWED_TAGS, parsed.tags - ALLOWED_TAGS
    assert not {a for a in parsed.attributes if a.startswith("on")}
    assert all(h.startswith(("#", "https://")) for h in parsed.hrefs), parsed.hrefs
    assert "\x1b" not in page
    # The names are there, as text.
    assert "&lt;svg onload=alert(1)&gt;" in page
    assert "team &lt;b onclick=alert(4)&gt;sre&lt;/b&gt;" in page
    assert "runbook: javascript:alert(5)" in page
    shown = open_page(
        output,
        "({text: document.body.innerText, charts: document.querySelectorAll('figure.chart svg')"
        ".length, injected: document.querySelectorAll('script, img, b, svg[onload]').length})",
    )
    assert shown.console_errors == []
    assert shown.foreign_requests == []
    assert shown.checks["injected"] == 0
    assert FEATURE in shown.checks["text"]
    assert OWNER in shown.checks["text"]
    assert shown.checks["charts"] > 0


def test_the_default_output_is_in_the_state_directory(toy: dict[str, Any]) -> None:
    code, out, err = _report(toy)
    assert code == 0, err
    day = (FIRST_DAY.replace(day=FIRST_DAY.day + 1)).isoformat()
    expected = toy["state"] / "reports" / "toy" / "1.0.0" / f"{day}.html"
    assert expected.is_file()
    assert out == ""
    assert str(expected) in err and len(err.splitlines()) == 1


def test_without_a_day_the_verdict_is_the_gates_now(
    toy: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --partition the page said "(ready)" as of the newest day's evaluation,
    whatever its age, while `datasre gate` blocked on stale evidence (found by review)."""
    later = "2026-06-01T00:00:00+00:00"  # two months after the last run
    monkeypatch.setenv("DATASRE_NOW", later)
    code, _, err = _report(toy)
    assert code == 0, err
    assert "(blocked as of 2026-06-01T00:00Z)" in err
    gate = _call(["gate", "--model", "toy", "--config", str(toy["contract"]),
                  "--db", str(toy["db"]), "--no-record"])  # fmt: skip
    assert gate[0] == 1 and "evidence_stale" in gate[1]
    # A day asked for is the page of that day as it was judged then, and says when.
    day = FIRST_DAY.replace(day=FIRST_DAY.day + 1).isoformat()
    code, _, err = _report(toy, "--partition", day)
    assert code == 0, err
    assert "as of 2026-06-01" not in err and f"{day} (" in err and " as of " in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--partition", "2026-13-01"], "--partition: '2026-13-01' is not a YYYY-MM-DD day"),
        (["--partition", "2026-01-01"], "--partition: 2026-01-01: no SLI rows for 'toy'"),
        (["--window-days", "0"], "--window-days: must be between 1 and 366"),
        (["--as-of", "yesterday"], "--as-of: 'yesterday' is not an ISO 8601 time"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(
    toy: dict[str, Any], extra: list[str], message: str
) -> None:
    code, out, err = _report(toy, *extra)
    assert code == 2
    assert out == ""
    assert err.startswith(f"datasre: error: {message}")
    assert len(err.splitlines()) == 1


def test_an_unknown_model_or_a_missing_store_is_exit_2(toy: dict[str, Any]) -> None:
    code, _, err = _call(
        ["report", "--model", "nope", "--config", str(toy["contract"]), "--db", str(toy["db"])]
    )
    assert code == 2 and "--model: unknown model 'nope'" in err
    missing = toy["root"] / "missing.duckdb"
    code, _, err = _call(
        ["report", "--model", "toy", "--config", str(toy["contract"]), "--db", str(missing)]
    )
    assert code == 2 and "no SLI database yet" in err and len(err.splitlines()) == 1


def test_the_model_report_asset_puts_tables_and_markdown_on_the_materialisation(
    toy: dict[str, Any],
) -> None:
    contracts = load_contracts(toy["contract"])
    asset = build_model_report_asset(model_day_partitions(contracts))
    day = FIRST_DAY.isoformat()
    result = dg.materialize(
        [asset],
        partition_key=f"{day}|toy",
        resources={
            "datasre": DatasreConfig(config_path=str(toy["contract"]), state_dir=str(toy["state"])),
            "sli_store": SliStoreResource(database=str(toy["db"])),
        },
    )
    assert result.success
    (materialization,) = result.asset_materializations_for_node("model_report")
    metadata = materialization.metadata
    report = Path(str(metadata["report"].value))
    assert report.is_file() and report.name == f"{day}.html"
    assert Path(str(metadata["summary_svg"].value)).read_text().startswith("<svg")
    assert isinstance(metadata["slo_budgets"], dg.TableMetadataValue)
    budgets = {r.data["slo"] for r in metadata["slo_budgets"].records}
    assert {"latency_p99_ms", "null_rate", "schema_valid"} <= budgets
    assert isinstance(metadata["partition_slis"], dg.TableMetadataValue)
    features = {r.data["feature"] for r in metadata["partition_slis"].records}
    assert FEATURE in features  # verbatim in a table value; the UI shows it as text
    assert isinstance(metadata["breaches"], dg.MarkdownMetadataValue)
    assert metadata["verdict"].value in ("ready", "blocked")
