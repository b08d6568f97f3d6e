"""``publicist calendar``: a feed URL printed once, listed without it, revoked."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest

from campaigns.calendar.feeds import find_feed
from publicist.cli.main import main
from publicist.core.database import session_scope

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(
    embedded_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Run:
    monkeypatch.setenv("COLUMNS", "200")

    def invoke(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr("sys.argv", ["publicist", *args])
        monkeypatch.setattr("sys.stdin", io.StringIO(""))
        capsys.readouterr()
        code: object = 0
        try:
            main()
        except SystemExit as exit_:
            code = exit_.code
        captured = capsys.readouterr()
        return (code if isinstance(code, int) else 0), captured.out, captured.err

    return invoke


def test_a_feed_url_is_printed_once_and_revoked(run: Run) -> None:
    assert (
        run("campaign", "create", "IP Creates a Better Life", "--timezone", "Asia/Shanghai")[0] == 0
    )
    code, out, err = run(
        "calendar",
        "feed",
        "IP Creates a Better Life",
        "--base-url",
        "https://publicist.example.org/",
    )
    assert code == 0, err
    url = out.strip()
    assert url.startswith("https://publicist.example.org/calendar/feeds/")
    assert url.endswith(".ics")
    secret = url.removeprefix("https://publicist.example.org/calendar/feeds/").removesuffix(".ics")
    assert len(secret) >= 43  # 32 random bytes
    with session_scope() as session:
        feed = find_feed(session, secret=secret)
        assert feed is not None
        feed_id = feed.id
    code, out, _ = run("calendar", "feeds")
    assert code == 0
    assert "IP Creates a Better Life" in out
    assert secret not in out
    assert run("calendar", "revoke", str(feed_id))[0] == 0
    with session_scope() as session:
        assert find_feed(session, secret=secret) is None
    code, _, err = run("calendar", "revoke", str(feed_id))
    assert code == 2
    assert "already revoked" in err


def test_bad_input_is_one_line_and_exit_2(run: Run) -> None:
    code, _, err = run("calendar", "feed", "No such campaign")
    assert code == 2
    assert "campaign" in err
    run("campaign", "create", "C", "--timezone", "Asia/Shanghai")
    code, _, err = run("calendar", "feed", "C", "--base-url", "ftp://x")
    assert code == 2
    assert "base-url" in err
    code, _, err = run("calendar", "revoke", "x1")
    assert code == 2
    assert "feed" in err
