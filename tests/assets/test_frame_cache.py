"""Frames kept in the state directory until their inputs change: the estimated quality's
reference days are read once, and again only when a file of the day is rewritten."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from pathlib import Path

import polars as pl
import pytest

from assets import estimated_quality
from assets.estimated_quality import estimated_quality_slis
from assets.files import file_stamps
from assets.frame_cache import cached_frame
from checks.contract import load_contracts
from checks.errors import InputError


def test_a_frame_is_built_once_per_key_and_the_old_entry_removed(tmp_path: Path) -> None:
    built: list[int] = []

    def build() -> pl.DataFrame:
        built.append(1)
        return pl.DataFrame({"x": [len(built)]})

    first = cached_frame(tmp_path, "2026-11-01", {"v": 1}, build)
    again = cached_frame(tmp_path, "2026-11-01", {"v": 1}, build)
    assert first is not None and again is not None and again.equals(first) and len(built) == 1
    changed = cached_frame(tmp_path, "2026-11-01", {"v": 2}, build)
    assert changed is not None and changed.item() == 2 and len(built) == 2
    assert len(list(tmp_path.glob("2026-11-01.*.parquet"))) == 1


def test_nothing_is_kept_for_a_missing_input_and_a_damaged_entry_is_rebuilt(
    tmp_path: Path,
) -> None:
    assert cached_frame(tmp_path, "d", {"v": 1}, lambda: None) is None
    assert not list(tmp_path.glob("*.parquet"))
    cached_frame(tmp_path, "d", {"v": 1}, lambda: pl.DataFrame({"x": [1]}))
    (entry,) = tmp_path.glob("d.*.parquet")
    entry.write_bytes(b"garbage")
    rebuilt = cached_frame(tmp_path, "d", {"v": 1}, lambda: pl.DataFrame({"x": [7]}))
    assert rebuilt is not None and rebuilt.item() == 7
    assert pl.read_parquet(entry).item() == 7


def test_file_stamps_change_when_a_file_is_rewritten(tmp_path: Path) -> None:
    file = tmp_path / "a.parquet"
    with pytest.raises(InputError, match=re.escape(f"{file}: snapshot file not found")):
        file_stamps(str(file))
    pl.DataFrame({"x": [1]}).write_parquet(file)
    before = file_stamps(str(file))
    pl.DataFrame({"x": [1, 2]}).write_parquet(file)
    assert file_stamps(str(file)) != before


def test_reference_days_are_read_once_and_again_when_a_label_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    samples = Path("data/samples")
    shutil.copytree(samples / "fraud_detection", tmp_path / "fraud_detection")
    shutil.copytree(samples / "contracts", tmp_path / "contracts")
    contract = {c.model: c for c in load_contracts(tmp_path / "contracts")}["fraud_detection"]
    day = dt.date(2026, 11, 13)
    assert contract.resolve(contract.sources.labels or "", day).startswith(str(tmp_path))
    reads: list[dt.date] = []
    original = estimated_quality._labelled

    def counting(contract_: object, reference_day: dt.date) -> pl.DataFrame | None:
        reads.append(reference_day)
        return original(contract_, reference_day)  # type: ignore[arg-type]

    monkeypatch.setattr(estimated_quality, "_labelled", counting)
    cache = tmp_path / "state"
    first = estimated_quality_slis(contract, day, cache)
    assert len(reads) == 7
    assert estimated_quality_slis(contract, day, cache).equals(first)
    assert len(reads) == 7  # every reference day came from the state directory
    assert first.equals(estimated_quality_slis(contract, day))  # the same rows uncached
    reads.clear()
    labels = Path(contract.resolve(contract.sources.labels or "", dt.date(2026, 11, 8)))
    pl.read_parquet(labels).head(100).write_parquet(labels)  # a restated label file
    os.utime(labels, ns=(1, 1))
    changed = estimated_quality_slis(contract, day, cache)
    assert reads == [dt.date(2026, 11, 8)] and not changed.equals(first)
