"""`publicist demo` ends by serving the workspace: one demo person per role, each able to sign
in with the password printed once, and a CI run skips the step."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any, ClassVar

import pytest
from typer.testing import CliRunner

from campaigns.people.services import check_password
from publicist import demo
from publicist.cli.main import app
from publicist.core.database import session_scope
from publicist.core.settings import Settings


class _ServerThatStopsAtOnce:
    """Stands in for the ``publicist api`` process: records how it was started."""

    started: ClassVar[list[list[str]]] = []

    def __init__(self, argv: list[str], **_: Any) -> None:
        self.started.append(argv)

    def wait(self, timeout: float | None = None) -> int:
        return 0

    def poll(self) -> int:
        return 0


def test_the_demo_serves_the_workspace_with_a_person_per_role(
    configured_db: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(subprocess, "Popen", _ServerThatStopsAtOnce)
    demo._serve_workspace({}, tmp_path, 8765)
    shown = capsys.readouterr().out
    assert "http://127.0.0.1:8765/signin" in shown
    assert _ServerThatStopsAtOnce.started[-1][-4:] == ["--host", "127.0.0.1", "--port", "8765"]
    with session_scope() as session:
        for _, email, role in demo.DEMO_PEOPLE:
            match = re.search(
                rf"{re.escape(role.value)}\s*│\s*{re.escape(email)}\s*│\s*(\S+)", shown
            )
            assert match is not None, shown
            person = check_password(session, email=email, password=match.group(1))
            assert person is not None
            assert person.role == role.value


@pytest.mark.parametrize(("ci", "serves"), [("true", False), ("", True)])
def test_ci_turns_the_serving_step_off(
    monkeypatch: pytest.MonkeyPatch, ci: str, serves: bool
) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(demo, "run_demo", lambda **kwargs: calls.append(kwargs))
    monkeypatch.setenv("CI", ci)
    result = CliRunner().invoke(app, ["demo", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert calls == [{"keep": False, "serve_port": 8123 if serves else None}]
