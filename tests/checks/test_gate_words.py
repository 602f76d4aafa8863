"""gate_words.without_runbook_text: the page links the runbook once, waived or not."""

from __future__ import annotations

from checks.gate_words import runbook_text, without_runbook_text

URL = "https://runbooks.example.com/toy"


def test_the_runbook_is_taken_off_the_end_or_before_a_waiver_note() -> None:
    message = f"accuracy budget spent; {runbook_text(URL)}"
    assert without_runbook_text(message, URL) == "accuracy budget spent"
    waived = f"{message}; waived until 2026-12-01 (vendor outage)"
    assert without_runbook_text(waived, URL) == (
        "accuracy budget spent; waived until 2026-12-01 (vendor outage)"
    )
    expired = f"{message} (waiver expired 2026-11-01)"
    assert without_runbook_text(expired, URL) == "accuracy budget spent (waiver expired 2026-11-01)"
    none = f"no runbook; {runbook_text(None)}"
    assert without_runbook_text(none, None) == "no runbook"
    # A runbook named mid-sentence, not as the appended part, stays.
    inline = f"see; {runbook_text(URL)}-old for the history"
    assert without_runbook_text(inline, URL) == inline
    assert without_runbook_text("no runbook here", URL) == "no runbook here"
