"""Open a local HTML file in headless Chromium and report what a person would see.

Drives Debian's chromium through the Chrome DevTools protocol over a pipe
(``--remote-debugging-pipe``: JSON messages separated by NUL bytes on file descriptors 3
and 4), so no websocket library, no npm package and no port are needed. What it collects:

- console errors and uncaught exceptions (``Runtime.consoleAPICalled`` of type error,
  ``Runtime.exceptionThrown``, ``Log.entryAdded`` of level error: a failed load shows here);
- every network request that is not ``file:`` or ``data:`` (a self-contained report
  makes none);
- the result of a JavaScript expression evaluated once the page has loaded (the caller's
  DOM checks);
- a full-page PNG screenshot and the load time (``loadEventEnd - startTime``, ms).

The browser gets a new empty profile directory and the flags that keep it from calling
home (no sync, no component updates, no background networking, no QUIC).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from assets.report.png import HEADLESS_FLAGS

__all__ = ["BROWSER_FLAGS", "PageReport", "find_chromium", "open_page"]

ENSURE_SCRIPT: Final = Path(__file__).resolve().parents[1] / "scripts" / "ensure_chromium.sh"

#: The report's own headless flags (assets/report/png.py) plus the DevTools pipe; the
#: page's background stays the browser default.
BROWSER_FLAGS: Final = (
    *(f for f in HEADLESS_FLAGS if not f.startswith("--default-background-color")),
    "--remote-debugging-pipe",
)


def find_chromium() -> str:
    """The browser's path, installed with the project's script when missing."""
    done = subprocess.run(
        ["bash", str(ENSURE_SCRIPT)], capture_output=True, text=True, check=False, timeout=900
    )
    if done.returncode != 0:
        raise RuntimeError(f"{ENSURE_SCRIPT.name}: {done.stderr.strip()}")
    return done.stdout.strip().splitlines()[-1]


@dataclass
class PageReport:
    """What the page did: errors, foreign requests, the evaluated DOM checks, the picture."""

    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    checks: Any = None
    screenshot: bytes = b""
    load_ms: float = float("nan")


class _Pipe:
    """One DevTools session over the browser's pipe (fd 3: commands in, fd 4: out)."""

    def __init__(self, write_fd: int, read_fd: int) -> None:
        self.write_fd = write_fd
        self.read_fd = read_fd
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> int:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.write_fd, json.dumps(message).encode() + b"\0")
        return self.next_id

    def _read_one(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self.buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("no answer from chromium")
            chunk = os.read(self.read_fd, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self.buffer += chunk
        raw, _, self.buffer = self.buffer.partition(b"\0")
        message: dict[str, Any] = json.loads(raw)
        return message

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session: str | None = None,
        timeout_s: float = 60.0,
    ) -> dict[str, Any]:
        wanted = self.send(method, params, session)
        deadline = time.monotonic() + timeout_s
        while True:
            message = self._read_one(deadline)
            if message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            if "method" in message:
                self.events.append(message)

    def wait_event(self, method: str, timeout_s: float = 60.0) -> dict[str, Any]:
        for event in self.events:
            if event["method"] == method:
                return event
        deadline = time.monotonic() + timeout_s
        while True:
            message = self._read_one(deadline)
            if "method" in message:
                self.events.append(message)
                if message["method"] == method:
                    return message


def _high_fd(fd: int) -> int:
    """A copy of ``fd`` numbered 10 or more, so placing fds 3 and 4 cannot clobber it."""
    copy = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return copy


def _errors(events: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for event in events:
        params = event.get("params", {})
        if event["method"] == "Runtime.consoleAPICalled" and params.get("type") == "error":
            out.append(" ".join(str(a.get("value", a.get("description"))) for a in params["args"]))
        elif event["method"] == "Runtime.exceptionThrown":
            out.append(json.dumps(params.get("exceptionDetails", {}))[:500])
        elif event["method"] == "Log.entryAdded" and params["entry"].get("level") == "error":
            out.append(f"{params['entry'].get('url', '')}: {params['entry'].get('text', '')}")
    return out


def open_page(
    path: Path, checks_js: str, *, width: int = 1280, browser: str | None = None
) -> PageReport:
    """Load ``path`` (a local file), evaluate ``checks_js`` (its value is returned by
    value in :attr:`PageReport.checks`) and take a full-page screenshot ``width`` px wide.
    """
    chromium = browser or find_chromium()
    commands_read, commands_write = os.pipe()
    answers_read, answers_write = os.pipe()
    commands_read, answers_write = _high_fd(commands_read), _high_fd(answers_write)

    report = PageReport()
    with tempfile.TemporaryDirectory(prefix="datasre-chromium-") as profile:
        # bash puts the pipe ends on fds 3 and 4, where the browser expects them, then
        # becomes the browser (exec): no preexec_fn, which is unsafe with threads (and
        # not /bin/sh: dash cannot name a descriptor above 9).
        placement = (
            f'exec "$0" "$@" 3<&{commands_read} 4>&{answers_write} '
            f"{commands_read}<&- {answers_write}>&-"
        )
        process = subprocess.Popen(
            [
                "/bin/bash",
                "-c",
                placement,
                chromium,
                *BROWSER_FLAGS,
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(commands_read, answers_write),
        )
        os.close(commands_read)
        os.close(answers_write)
        pipe = _Pipe(commands_write, answers_read)
        try:
            target = pipe.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = pipe.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
                "sessionId"
            ]
            for domain in ("Runtime", "Log", "Network", "Page"):
                pipe.call(f"{domain}.enable", session=session)
            pipe.call(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False},
                session=session,
            )
            pipe.call("Page.navigate", {"url": path.resolve().as_uri()}, session=session)
            pipe.wait_event("Page.loadEventFired")
            timing = pipe.call(
                "Runtime.evaluate",
                {
                    "expression": "(() => { const n = performance.getEntriesByType("
                    "'navigation')[0]; return n.loadEventEnd - n.startTime; })()",
                    "returnByValue": True,
                },
                session=session,
            )
            report.load_ms = float(timing["result"]["value"])
            evaluated = pipe.call(
                "Runtime.evaluate",
                {"expression": checks_js, "returnByValue": True},
                session=session,
            )
            if "exceptionDetails" in evaluated:
                raise RuntimeError(f"checks_js failed: {evaluated['exceptionDetails']}")
            report.checks = evaluated["result"].get("value")
            shot = pipe.call(
                "Page.captureScreenshot",
                {"format": "png", "captureBeyondViewport": True},
                session=session,
            )
            report.screenshot = base64.b64decode(shot["data"])
            report.console_errors = _errors(pipe.events)
            report.foreign_requests = [
                e["params"]["request"]["url"]
                for e in pipe.events
                if e["method"] == "Network.requestWillBeSent"
                and not e["params"]["request"]["url"].startswith(("file:", "data:"))
            ]
            pipe.send("Browser.close")
        finally:
            os.close(commands_write)
            os.close(answers_read)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=20)
    return report
