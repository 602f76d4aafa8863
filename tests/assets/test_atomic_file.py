"""``write_atomically``: the whole new file or the old one, never a part or a stray
temporary file; mode 0644 whatever the umask."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from assets.atomic_file import write_atomically


def test_text_and_bytes_are_written_whole_with_mode_0644(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        text = write_atomically(tmp_path / "new" / "dir" / "a.txt", "héllo\n")
        data = write_atomically(tmp_path / "b.bin", b"\x00\x01")
    finally:
        os.umask(old)
    assert text.read_bytes() == "héllo\n".encode() and data.read_bytes() == b"\x00\x01"
    assert stat.S_IMODE(text.stat().st_mode) == 0o644


def test_a_failed_rename_keeps_the_old_file_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.html"
    target.write_text("old")

    def refuse(source: str, destination: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="No space left"):
        write_atomically(target, "new")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]
