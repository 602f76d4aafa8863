"""The console script exits without the interpreter's teardown, and loses nothing by it:
buffered output, the exit status, ``atexit`` handlers, threads still working."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str, **kwargs: object) -> subprocess.Popen[bytes]:
    """``code`` in a child whose stdout is block-buffered, as a user's is."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kwargs,
    )


@pytest.mark.parametrize("code", [0, 1, 2, 130])
def test_buffered_output_the_status_and_atexit_handlers_are_kept(code: int, tmp_path: Path) -> None:
    marker = tmp_path / "atexit-ran"
    process = _python(f"""
        import atexit, pathlib, sys
        from pipelines.process_exit import exit_now
        atexit.register(lambda: pathlib.Path({str(marker)!r}).write_text("yes"))
        for i in range(100_000):  # small writes: the last ones are still buffered at exit
            print(i)
        print("on stderr", file=sys.stderr)
        exit_now({code})
        print("never")
    """)
    out, err = process.communicate(timeout=60)
    assert process.returncode == code, err
    assert out == "".join(f"{i}\n" for i in range(100_000)).encode()
    assert err == b"on stderr\n"
    assert marker.read_text() == "yes"


def test_a_thread_still_working_is_waited_for(tmp_path: Path) -> None:
    marker = tmp_path / "thread-finished"
    process = _python(f"""
        import pathlib, threading, time
        from pipelines.process_exit import exit_now

        def work():
            time.sleep(0.5)
            pathlib.Path({str(marker)!r}).write_text("done")

        threading.Thread(target=work).start()
        exit_now(0)
    """)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert marker.read_text() == "done"


def test_a_reader_gone_before_the_last_flush_gives_the_sigpipe_status() -> None:
    process = _python(
        """
        import sys
        from pipelines.process_exit import exit_now
        sys.stdin.readline()  # until the reader has closed its end
        sys.stdout.write("buffered, flushed only at exit\\n")
        exit_now(0)
        """,
        stdin=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stdin is not None
    process.stdout.close()
    process.stdin.write(b"go\n")
    process.stdin.close()
    assert process.wait(timeout=60) == 141


def test_the_console_script_prints_everything_and_keeps_the_status(tmp_path: Path) -> None:
    """The installed ``datasre`` (which exits through :func:`exit_now`) against
    :func:`pipelines.cli.main` in this process: the same stdout, the same status."""
    datasre = Path(sys.executable).with_name("datasre")
    assert "console_main" in datasre.read_text(), "reinstall: pip install -e ."
    day = Path("data/samples/fraud_detection/features")
    drift = ["drift", "--format", "json", str(day / "2026-11-01.parquet"),
             str(day / "2026-11-06.parquet")]  # fmt: skip
    for argv, status in ((drift, 1), (["gate"], 2)):
        done = subprocess.run(
            [str(datasre), *argv], cwd=ROOT, capture_output=True, timeout=120, check=False
        )
        assert done.returncode == status, done.stderr
        if argv is drift:
            inline = subprocess.run(
                [sys.executable, "-c", "import sys; from pipelines.cli import main; "
                 "sys.exit(main())", *argv],
                cwd=ROOT, capture_output=True, timeout=120, check=False,
            )  # fmt: skip
            assert inline.returncode == status
            assert done.stdout == inline.stdout and len(done.stdout) > 5_000
        else:
            assert done.stderr.startswith(b"datasre: error:")


@pytest.mark.parametrize("closed", [1, 2])
def test_a_command_started_with_stdout_or_stderr_closed_keeps_its_status(closed: int) -> None:
    """``datasre gate >&-``: Python has no ``sys.stdout`` then; the usage error is still
    exit 2 (it was 1, with a traceback from flushing ``None``)."""
    datasre = Path(sys.executable).with_name("datasre")
    done = subprocess.run(
        [str(datasre), "gate"],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        check=False,
        preexec_fn=lambda: os.close(closed),
    )
    assert done.returncode == 2, done.stderr
    if closed == 1:
        assert done.stderr.startswith(b"datasre: error:"), done.stderr
