"""``publicist account connect`` as an operator runs it: the address printed, the browser's
Allow on the X simulator, the local callback caught, the account stored; and ``account
disable/remove`` listing the deliveries they cancel before asking."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from queue import Empty, Queue

import httpx
import pytest
from sqlalchemy import select

from campaigns.models import Account, Delivery
from campaigns.states import AccountStatus, DeliveryState
from publicist.core.clock import system_clock
from publicist.core.database import dispose_engines, session_scope
from publicist.core.settings import reset_settings
from simulators.control import SimulatorControl
from simulators.server import SimulatorServer
from tests.conftest import TEST_SECRET
from tests.integration.oauth_rig import press_for_location
from tests.integration.test_cli import Run, run  # noqa: F401 - the fixture

STARTUP = 60.0


@pytest.fixture(scope="module")
def x_simulator() -> Iterator[tuple[str, dict[str, str]]]:
    with SimulatorServer(["twitter"]) as server:
        base = server.base_url("twitter")
        control = SimulatorControl(base)
        try:
            app = control.add_account("@IPRinCN")
        finally:
            control.close()
        yield base, {"client_id": str(app["client_id"]), "secret": str(app["client_secret"])}


def _connect(workdir: Path, base: str, app: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "PUBLICIST_DATABASE_URL": f"sqlite:///{workdir / 'publicist.db'}",
        "PUBLICIST_SECRET_KEY": TEST_SECRET,
        "PUBLICIST_X_CLIENT_ID": app["client_id"],
        "PUBLICIST_X_CLIENT_SECRET": app["secret"],
        "PUBLICIST_X_API_BASE": base,
        "PUBLICIST_X_AUTH_BASE": base,
        "COLUMNS": "400",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "publicist", "account", "connect", "twitter", *extra],
        env=env,
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


END = "\x00end"


def _lines(process: subprocess.Popen[str]) -> Queue[str]:
    """The process's output, line by line, as it comes; ``END`` once it closed."""
    lines: Queue[str] = Queue()

    def pump() -> None:
        if process.stdout is not None:
            with process.stdout:
                for line in process.stdout:
                    lines.put(line)
        lines.put(END)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _rest(lines: Queue[str]) -> str:
    collected = []
    while (line := lines.get(timeout=STARTUP)) != END:
        collected.append(line)
    return "".join(collected)


def _address(lines: Queue[str], seen: list[str]) -> str:
    while True:
        try:
            line = lines.get(timeout=STARTUP)
        except Empty:
            pytest.fail("the CLI printed no authorisation address:\n" + "".join(seen))
        seen.append(line)
        if line.startswith("http"):
            return line.strip()


def test_connect_prints_the_address_and_completes_on_the_local_callback(
    tmp_path: Path, x_simulator: tuple[str, dict[str, str]]
) -> None:
    base, app = x_simulator
    process = _connect(tmp_path, base, app, "--timeout", "60")
    seen: list[str] = []
    lines = _lines(process)
    try:
        address = _address(lines, seen)
        assert address.startswith(f"{base}/i/oauth2/authorize?")
        assert "code_challenge_method=S256" in address
        back = press_for_location(address, "allow")
        assert back.startswith("http://127.0.0.1:")
        assert httpx.get(back).status_code == 200  # the CLI's listener
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = "".join(seen) + _rest(lines)
    assert "connected account twitter:IPRinCN" in output
    assert app["secret"] not in output


def test_connect_refused_consent_says_so_and_stores_nothing(
    tmp_path: Path, x_simulator: tuple[str, dict[str, str]]
) -> None:
    base, app = x_simulator
    process = _connect(tmp_path, base, app, "--timeout", "60")
    seen: list[str] = []
    lines = _lines(process)
    try:
        address = _address(lines, seen)
        httpx.get(press_for_location(address, "deny"))
        assert process.wait(timeout=60) == 2  # the CLI's exit code for a refusal
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = "".join(seen) + _rest(lines)
    assert "access was refused" in output
    engine_url = f"sqlite:///{tmp_path / 'publicist.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PUBLICIST_DATABASE_URL", engine_url)
        reset_settings()
        dispose_engines()
        with session_scope() as session:
            assert session.scalars(select(Account)).all() == []
        dispose_engines()
    reset_settings()


def test_disable_lists_the_deliveries_and_asks_first(
    run: Run,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert run("account", "add", "mock", "cnipa", "--token", "t-1")[0] == 0
    assert run("campaign", "create", "IP Week", "--timezone", "Asia/Shanghai")[0] == 0
    at = (system_clock.now() + timedelta(days=2)).isoformat()
    code, out, err = run(
        "post",
        "add",
        "-c",
        "IP Week",
        "-t",
        "知识产权宣传周开幕",
        "--to",
        "mock:cnipa",
        "--at",
        at,
        "--approve",
    )
    assert code == 0, err
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))  # the operator answers no
    code, out, err = run("account", "disable", "mock:cnipa")
    assert code != 0
    assert "知识产权宣传周开幕" in out
    with session_scope() as session:
        assert session.scalars(select(Account)).one().status is AccountStatus.ACTIVE
    code, out, err = run("account", "disable", "mock:cnipa", "--yes")
    assert code == 0, err
    assert "1 deliveries cancelled" in out
    with session_scope() as session:
        account = session.scalars(select(Account)).one()
        assert account.status is AccountStatus.DISABLED
        assert [d.state for d in session.scalars(select(Delivery))] == [DeliveryState.CANCELLED]
    code, out, err = run("account", "remove", "mock:cnipa", "--yes")
    assert code == 0, err
    assert "history stays in reports" in out
