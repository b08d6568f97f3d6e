"""What the browser tests share: Debian's chromium, a served `publicist api`, stopping it."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 60


def chromium() -> str:
    """Debian's chromium; without it the test fails, so a missing browser never passes."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(
            "Chromium is not installed, so the workspace cannot be checked in a browser. "
            "Install Debian's package: apt-get install -y chromium (make test does this)."
        )
    return found


def wait_for_url(process: subprocess.Popen[bytes], log: Path) -> str:
    """The address `publicist api` prints, once its /health answers."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"publicist api exited with {process.returncode}:\n{log.read_text()}")
        found = re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", log.read_text())
        if found:
            url = found.group(1)
            try:
                if httpx.get(url + "/health", timeout=5).status_code == 200:
                    return url
            except httpx.TransportError:
                pass
        time.sleep(0.2)
    pytest.fail(f"publicist api did not start in {STARTUP_SECONDS} s:\n{log.read_text()}")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """End a process started in its own group: politely, then after 20 s for good."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
