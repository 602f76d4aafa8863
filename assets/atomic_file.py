"""One way to write a file that readers see whole or not at all.

Why: reports, exported rules, published manifests and the state directory's JSON records
are read by other processes (a browser, Prometheus, a downstream job, a parallel worker)
while they are being rewritten. A temporary file in the same directory, flushed to disk
and renamed over the target, means a reader sees the old file or the new one, never a
part, and a crash leaves no half-written file under the real name.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["write_atomically"]


def write_atomically(path: str | Path, data: str | bytes, *, mode: int = 0o644) -> Path:
    """Write ``data`` (text as UTF-8 with ``\\n`` line ends, or bytes) to ``path``, creating
    its directory; the file gets permission bits ``mode``. Raises :class:`OSError` (the
    caller names the file in its own error); the temporary file is removed then."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data.encode("utf-8") if isinstance(data, str) else data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
