"""``publicist user``: add (generated or piped password), list, disable, reset-password."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest

from campaigns.people.services import check_password
from publicist.cli.main import main
from publicist.core.database import dispose_engines, session_scope

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(
    embedded_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Run:
    monkeypatch.setenv("COLUMNS", "200")  # Rich tables keep whole e-mail addresses

    def invoke(*args: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr("sys.argv", ["publicist", *args])
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        capsys.readouterr()
        code: object = 0
        try:
            main()
        except SystemExit as exit_:
            code = exit_.code
        captured = capsys.readouterr()
        return (code if isinstance(code, int) else 0), captured.out, captured.err

    return invoke


def _signs_in(email: str, password: str) -> bool:
    with session_scope() as session:
        return check_password(session, email=email, password=password) is not None


def test_people_are_added_listed_reset_and_disabled(run: Run) -> None:
    try:
        code, out, err = run("user", "add", "Li Na", "Li.Na@example.org", "--role", "approver")
        assert code == 0, err
        generated = out.strip()
        assert len(generated) >= 20
        assert "not shown again" in err
        assert _signs_in("li.na@example.org", generated)

        code, out, err = run(
            "user", "add", "Wang Wei", "wang@example.org", "--role", "viewer", "--password-stdin",
            stdin="a piped passphrase\n",
        )  # fmt: skip
        assert code == 0, err
        assert out == ""  # nothing to show: the person chose it
        assert _signs_in("wang@example.org", "a piped passphrase")

        code, out, err = run("user", "list")
        assert code == 0, err
        for text in ("li.na@example.org", "approver", "wang@example.org", "viewer", "active"):
            assert text in out
        assert generated not in out + err

        code, _, err = run(
            "user", "reset-password", "wang@example.org", "--password-stdin",
            stdin="another passphrase\n",
        )  # fmt: skip
        assert code == 0, err
        assert not _signs_in("wang@example.org", "a piped passphrase")
        assert _signs_in("wang@example.org", "another passphrase")

        code, _, err = run("user", "disable", "wang@example.org")
        assert code == 0, err
        assert not _signs_in("wang@example.org", "another passphrase")
        assert "disabled" in run("user", "list")[1]
    finally:
        dispose_engines()


def test_bad_input_is_one_line_naming_the_field_with_exit_2(run: Run) -> None:
    try:
        cases = [
            (("user", "add", "A", "not-an-address", "--role", "viewer"), "email"),
            (("user", "add", "A", "a@example.org", "--role", "owner"), "owner"),
            (("user", "disable", "nobody@example.org"), "nobody@example.org"),
        ]
        for arguments, named in cases:
            code, out, err = run(*arguments)
            assert code == 2, (arguments, out, err)
            assert named in err
        code, out, err = run(
            "user", "add", "A", "a@example.org", "--role", "viewer", "--password-stdin",
            stdin="tiny\n",
        )  # fmt: skip
        assert code == 2
        assert "password" in err
        assert "tiny" not in out + err
        assert "at least 10 characters" in err
        assert "a@example.org" not in run("user", "list")[1]
    finally:
        dispose_engines()


def test_a_token_made_for_a_person_is_listed_with_them_and_capped(run: Run) -> None:
    try:
        assert run("user", "add", "Li Na", "li.na@example.org", "--role", "editor")[0] == 0
        code, _, err = run("token", "create", "--role", "admin", "--owner", "li.na@example.org")
        assert code == 2
        assert "above its owner's role (editor, li.na@example.org)" in err
        code, out, err = run("token", "create", "--role", "viewer", "--owner", "LI.NA@example.org")
        assert code == 0, err
        assert out.startswith("pub_")
        listed = run("token", "list")[1]
        assert "li.na@example.org" in listed
        code, _, err = run("token", "create", "--role", "viewer", "--owner", "x@example.org")
        assert code == 2
        assert "x@example.org" in err
    finally:
        dispose_engines()
