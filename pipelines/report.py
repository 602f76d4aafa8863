"""Gate verdicts rendered for people and CI: text, JSON, JUnit XML and Markdown.

- ``text``: the terminal report of ``datasre gate``.
- ``json``: one object, documented by ``docs/gate-json-schema.json`` (``schema_version``
  1); non-finite numbers (an infinite burn rate at target 1) are ``null``.
- ``junit``: ``<testsuites><testsuite><testcase>`` with one test case per readiness check
  (the layout of junit-10.xsd that Jenkins, GitLab and GitHub test reporters read): a
  failed check is a ``<failure message type>``, warnings and waivers pass and are told
  in ``<system-out>``.
- ``markdown``: for ``$GITHUB_STEP_SUMMARY``; kept under GitHub's 1 MiB limit by dropping
  evidence tables first (see :data:`MARKDOWN_LIMIT_BYTES`).

Names and values (features, slices, owners, messages) are verbatim in the verdict and
escaped here per format by :mod:`pipelines.escape`.
"""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from checks.gate_checks import NO_EVIDENCE_REASON
from checks.gate_verdict import CheckName, CheckStatus, Reason, Severity, Verdict
from pipelines.escape import terminal, xml_text
from pipelines.tables import markdown_cell, markdown_table, text_table

if TYPE_CHECKING:
    from assets.weighted_drift import DayDriftRanking

__all__ = [
    "FORMATS",
    "JSON_SCHEMA_VERSION",
    "MARKDOWN_LIMIT_BYTES",
    "blocked_on_the_data",
    "render",
    "to_json",
    "to_junit",
    "to_markdown",
    "to_text",
    "verdict_dict",
]

JSON_SCHEMA_VERSION: Final = 1
#: GitHub rejects step summaries above 1 MiB; stay well below with a margin for others.
MARKDOWN_LIMIT_BYTES: Final = 900 * 1024


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def verdict_dict(verdict: Verdict) -> dict[str, Any]:
    """The verdict as plain JSON values (the ``json`` format)."""
    severities = [r.severity for r in verdict.reasons]
    now = verdict.decided_at
    out: dict[str, Any] = _finite(
        {
            "schema_version": JSON_SCHEMA_VERSION,
            "model": verdict.model,
            "model_version": verdict.model_version,
            "ready": verdict.ready,
            "verdict": "ready" if verdict.ready else "blocked",
            "decided_at": verdict.decided_at.isoformat() if verdict.decided_at else None,
            "reference_day": verdict.reference_day.isoformat() if verdict.reference_day else None,
            "owner": verdict.owner,
            "runbook": verdict.runbook,
            "options": verdict.options.as_dict(),
            "summary": {
                "blocking": severities.count(Severity.BLOCK),
                "warnings": severities.count(Severity.WARN),
                "waived": severities.count(Severity.WAIVED),
            },
            "checks": [c.as_dict() for c in verdict.checks],
            "reasons": [r.as_dict() for r in verdict.reasons],
            "budgets": [b.as_dict() for b in verdict.budgets],
            "waivers": [
                w.as_dict() | {"active": now is not None and w.active_on(now)}
                for w in verdict.waivers
            ],
        }
    )
    return out


def to_json(verdict: Verdict) -> str:
    return json.dumps(verdict_dict(verdict), indent=2, sort_keys=False) + "\n"


# --- text -------------------------------------------------------------------------------


def _num(value: float | None, spec: str = ".3g") -> str:
    if value is None:
        return "-"
    if math.isinf(value):
        return "inf"
    return format(value, spec)


def _pct(value: float | None) -> str:
    # round() then + 0.0: float noise like -2e-16 must print as 0%, not -0%.
    return "-" if value is None else f"{round(value, 4) + 0.0:.0%}"


def _counts(verdict: Verdict) -> str:
    severities = [r.severity for r in verdict.reasons]
    return (
        f"{severities.count(Severity.BLOCK)} blocking, {severities.count(Severity.WARN)} "
        f"warning(s), {severities.count(Severity.WAIVED)} waived"
    )


def _budget_rows(verdict: Verdict) -> list[list[str]]:
    return [
        [
            b.track,
            b.slo,
            f"{b.target:g}",
            str(b.evaluations),
            str(b.bad),
            f"{b.budget:.2f}",
            _pct(b.remaining_fraction),
            _num(b.burn_rate_short),
            _num(b.burn_rate_long),
            b.alert_level.value,
            b.state,
        ]
        for b in verdict.budgets
    ]


def _budget_header(verdict: Verdict) -> tuple[str, ...]:
    """The error-budget table's columns; the burn rates are named by the policy's windows."""
    policy = verdict.options.policy
    return (
        "track",
        "slo",
        "target",
        "evals",
        "bad",
        "budget",
        "remaining",
        f"burn {policy.short_window_days}d",
        f"burn {policy.long_window_days}d",
        "alert",
        "state",
    )


def to_text(verdict: Verdict) -> str:
    """The terminal report: the decision, the checks, the reasons, the budgets."""
    word = "READY" if verdict.ready else "BLOCKED"
    lines = [
        f"datasre gate: {verdict.model} {verdict.model_version}: {word} ({_counts(verdict)})",
        f"decided at {verdict.decided_at.isoformat() if verdict.decided_at else '-'}; "
        f"newest partition {verdict.reference_day or '-'}; owner {verdict.owner or '-'}; "
        f"runbook {verdict.runbook or '-'}",
        "",
        "checks:",
    ]
    lines += text_table(
        ("status", "check", "summary"),
        [[c.status.value.upper(), c.name.value, c.summary] for c in verdict.checks],
        indent="  ",
    )
    if verdict.reasons:
        lines += ["", "reasons:"]
        for reason in verdict.reasons:
            lines.append(f"  [{reason.severity.value}] {reason.code}: {reason.message}")
    if verdict.budgets:
        window = verdict.budgets[0]
        lines += ["", f"error budgets (window ending {window.reference_day}):"]
        lines += text_table(_budget_header(verdict), _budget_rows(verdict), indent="  ")
    if verdict.waivers:
        lines += ["", "waivers:"]
        now = verdict.decided_at
        for w in verdict.waivers:
            state = w.state_on(now) if now is not None else "expired"
            lines.append(
                f"  {w.slo} ({w.model_version or 'all versions'}) until {w.honoured_until} "
                f"[{state}]: {w.reason}" + (f" (by {w.created_by})" if w.created_by else "")
            )
    # One record per line, whatever the values hold: no raw ESC, no embedded newline.
    return "\n".join(terminal(line) for line in lines) + "\n"


# --- JUnit XML --------------------------------------------------------------------------


def _reason_text(reason: Reason) -> str:
    text = f"[{reason.severity.value}] {reason.code}: {reason.message}"
    for row in reason.evidence:
        text += "\n    " + json.dumps(_finite(row), sort_keys=False)
    if reason.evidence_truncated:
        text += "\n    ... (more evidence rows in the JSON report)"
    return text


def to_junit(verdict: Verdict) -> str:
    """JUnit XML: one test case per readiness check (``classname`` = model, version)."""
    suite_name = f"datasre gate {verdict.model} {verdict.model_version}"
    failures = sum(c.status == CheckStatus.FAIL for c in verdict.checks)
    tests = str(len(verdict.checks))
    root = ET.Element(
        "testsuites",
        {
            "name": "datasre gate",
            "tests": tests,
            "failures": str(failures),
            "errors": "0",
            "time": "0.000",
        },
    )
    suite = ET.SubElement(
        root,
        "testsuite",
        {
            "name": suite_name,
            "tests": tests,
            "failures": str(failures),
            "errors": "0",
            "skipped": "0",
            "time": "0.000",
            "timestamp": verdict.decided_at.isoformat() if verdict.decided_at else "",
        },
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("model", verdict.model),
        ("model_version", verdict.model_version),
        ("ready", "true" if verdict.ready else "false"),
        ("reference_day", str(verdict.reference_day or "")),
        ("runbook", verdict.runbook or ""),
    ):
        ET.SubElement(properties, "property", {"name": name, "value": value})
    classname = f"datasre.gate.{verdict.model}.{verdict.model_version}"
    for check in verdict.checks:
        case = ET.SubElement(
            suite,
            "testcase",
            {"classname": classname, "name": f"{check.name.value}: {check.title}", "time": "0.000"},
        )
        blocking = [r for r in check.reasons if r.severity == Severity.BLOCK]
        if blocking:
            failure = ET.SubElement(
                case,
                "failure",
                {"message": blocking[0].message, "type": blocking[0].code},
            )
            failure.text = "\n".join(_reason_text(r) for r in blocking)
        others = [r for r in check.reasons if r.severity != Severity.BLOCK]
        out = ET.SubElement(case, "system-out")
        out.text = "\n".join([check.summary, *(_reason_text(r) for r in others)])
    for element in root.iter():
        element.text = None if element.text is None else xml_text(element.text)
        for key, value in element.attrib.items():
            element.attrib[key] = xml_text(value)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


# --- Markdown ---------------------------------------------------------------------------

_ICONS: Final = {
    CheckStatus.PASS: "✅",
    CheckStatus.FAIL: "❌",
    CheckStatus.WARN: "⚠️",
    CheckStatus.WAIVED: "🟡",
}


#: A runbook shown as a link: an http(s) URL with nothing Markdown or HTML would read.
_PLAIN_URL: Final = re.compile(r"https?://[^\s<>()\[\]|`\\\"']+\Z")


def _runbook_link(runbook: str | None) -> str:
    if not runbook:
        return "none"
    if _PLAIN_URL.match(runbook):
        return f"[{runbook}]({runbook})"
    return markdown_cell(runbook)


def blocked_on_the_data(verdict: Verdict) -> bool:
    """A blocking reason is about what the data measured (a breach, a budget), not only
    about the contract or the evidence (stale, missing, a crashed run, an SLO with no
    recent evidence): only then does the reference day's drift ranking say anything about
    why."""
    about_evidence = (CheckName.CONTRACT, CheckName.EVIDENCE_FRESH)
    return any(
        r.severity == Severity.BLOCK
        and r.check not in about_evidence
        and r.code != NO_EVIDENCE_REASON
        for r in verdict.reasons
    )


#: Features listed under "what drives it" in the Markdown of a blocked verdict.
MAX_MARKDOWN_DRIVERS: Final = 5


def _drivers_markdown(verdict: Verdict, drivers: DayDriftRanking | None) -> list[str]:
    """A short "what drives it" list (``datasre explain``'s drift ranking of the newest
    partition) under a verdict blocked on the data; nothing when ready, blocked only on the
    contract or the evidence, or not ranked."""
    if not blocked_on_the_data(verdict) or drivers is None or not drivers.features:
        return []
    lines = [
        "",
        f"### What drives it ({verdict.reference_day}: importance_weighted_drift "
        f"{drivers.value:.4f})",
        "",
    ]
    lines.extend(
        f"- **{markdown_cell(f.feature)}**: weighted effect {f.weighted_effect:.4f} "
        f"({f.method} effect {f.effect:.3f}, importance {f.importance:.3f})"
        for f in drivers.features[:MAX_MARKDOWN_DRIVERS]
    )
    lines += [
        "",
        f"datasre explain --model {markdown_cell(verdict.model)} --partition "
        f"{verdict.reference_day} ranks the slices and says since when.",
    ]
    return lines


def _image_markdown(image: str | None) -> list[str]:
    """The picture of the verdict and every SLO's burn-down (``datasre report --png``),
    embedded under the title; the link text is fixed, the address escaped for Markdown."""
    if not image:
        return []
    address = image.replace("\\", "%5C").replace(" ", "%20").replace("(", "%28")
    address = address.replace(")", "%29").replace("<", "%3C").replace(">", "%3E")
    return [f"![verdict and error-budget burn-downs]({address})", ""]


def _markdown(
    verdict: Verdict, *, evidence: bool, drivers: DayDriftRanking | None, image: str | None
) -> str:
    icon = "✅" if verdict.ready else "❌"
    word = "ready to ship" if verdict.ready else "blocked"
    lines = [
        f"## {icon} datasre gate: `{verdict.model}` "
        f"{markdown_cell(verdict.model_version)} is {word}",
        "",
        f"{_counts(verdict)}. Newest partition {verdict.reference_day or '-'}; owner "
        f"{markdown_cell(verdict.owner or '-')}; runbook "
        + _runbook_link(verdict.runbook)
        + f"; decided at {verdict.decided_at.isoformat() if verdict.decided_at else '-'}.",
        "",
        *_image_markdown(image),
    ]
    lines += markdown_table(
        ("", "check", "result"),
        [
            (_ICONS[c.status], markdown_cell(c.title), markdown_cell(c.summary))
            for c in verdict.checks
        ],
    )
    if verdict.reasons:
        lines += ["", "### Reasons", ""]
        for r in verdict.reasons:
            lines.append(f"- **{r.severity.value}** `{r.code}`: {markdown_cell(r.message)}")
            if evidence and r.evidence:
                columns = list(r.evidence[0])
                lines.append("")
                lines += markdown_table(
                    [markdown_cell(c) for c in columns],
                    [[markdown_cell(_finite(row.get(c))) for c in columns] for row in r.evidence],
                    indent="  ",
                )
                if r.evidence_truncated:
                    lines.append("  \n  (more rows in the JSON report)")
                lines.append("")
    lines += _drivers_markdown(verdict, drivers)
    if verdict.budgets:
        lines += [
            "",
            f"### Error budgets (window ending {verdict.budgets[0].reference_day})",
            "",
        ]
        lines += markdown_table(
            _budget_header(verdict),
            [[markdown_cell(c) for c in row] for row in _budget_rows(verdict)],
        )
    if verdict.waivers:
        now = verdict.decided_at
        lines += ["", "### Waivers", ""]
        lines += markdown_table(
            ("slo", "version", "expires", "state", "reason"),
            [
                (
                    markdown_cell(w.slo),
                    markdown_cell(w.model_version or "all"),
                    str(w.honoured_until),
                    w.state_on(now) if now is not None else "expired",
                    markdown_cell(w.reason),
                )
                for w in verdict.waivers
            ],
        )
    return "\n".join(lines) + "\n"


def to_markdown(
    verdict: Verdict, drivers: DayDriftRanking | None = None, image: str | None = None
) -> str:
    """Markdown for a CI job summary, always under :data:`MARKDOWN_LIMIT_BYTES`; a
    blocked verdict lists ``drivers`` (the newest partition's drift ranking) when given;
    ``image`` (a URL or path of ``datasre report --png``) is embedded under the title."""
    text = _markdown(verdict, evidence=True, drivers=drivers, image=image)
    if len(text.encode("utf-8")) > MARKDOWN_LIMIT_BYTES:
        text = _markdown(verdict, evidence=False, drivers=drivers, image=image)
    encoded = text.encode("utf-8")
    if len(encoded) > MARKDOWN_LIMIT_BYTES:
        note = "\n\n(summary truncated; the JSON report has everything)\n"
        cut = encoded[: MARKDOWN_LIMIT_BYTES - len(note)].decode("utf-8", errors="ignore")
        text = cut + note
    return text


FORMATS: Final[dict[str, Callable[[Verdict], str]]] = {
    "text": to_text,
    "json": to_json,
    "junit": to_junit,
    "markdown": to_markdown,
}


def render(
    verdict: Verdict,
    fmt: str,
    drivers: DayDriftRanking | None = None,
    image: str | None = None,
) -> str:
    """The verdict in one of :data:`FORMATS` (``drivers`` and ``image`` only show in
    Markdown)."""
    if fmt == "markdown":
        return to_markdown(verdict, drivers, image)
    try:
        return FORMATS[fmt](verdict)
    except KeyError:
        raise ValueError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})") from None
