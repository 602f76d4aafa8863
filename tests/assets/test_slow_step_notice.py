"""Progress of a long compute step: a line once it has run past the threshold and one when
it ends; nothing for a quick step or with the threshold off."""

from __future__ import annotations

import time

import pytest

from assets.resources import DatasreConfig
from assets.sli_asset import SlowStepNotice


def _config(seconds: float) -> DatasreConfig:
    return DatasreConfig(config_path="unused", state_dir="unused", slow_step_seconds=seconds)


def test_a_slow_step_says_it_is_running_and_when_it_ends(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with SlowStepNotice("toy 2026-03-02: drift_slis", _config(0.05)) as notice:
        time.sleep(0.3)
        notice.result = "49 SLI rows"
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "  toy 2026-03-02: drift_slis: running for 0.05 s ..."
    assert lines[1].startswith("  toy 2026-03-02: drift_slis: 49 SLI rows in 0.")
    assert len(lines) == 2


def test_a_quick_step_or_no_threshold_says_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    with SlowStepNotice("quick", _config(5.0)) as notice:
        notice.result = "1 SLI rows"
    with SlowStepNotice("off", _config(0.0)):
        time.sleep(0.1)
    assert capsys.readouterr().err == ""


def test_a_slow_step_that_raises_says_it_failed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(RuntimeError), SlowStepNotice("bad", _config(0.05)):
        time.sleep(0.2)
        raise RuntimeError("boom")
    assert capsys.readouterr().err.splitlines()[-1].startswith("  bad: failed in 0.")
