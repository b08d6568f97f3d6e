"""``publicist notify`` and ``publicist webhook``: channels kept secret, subscriptions,
webhook secrets shown once, private targets refused, report schedules."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest

from publicist.cli.main import main

Run = Callable[..., tuple[int, str, str]]
SMTP_URL = "mailtos://ann:Sup3rSecret@smtp.example.org?from=publicist@example.org"


@pytest.fixture
def run(
    embedded_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Run:
    monkeypatch.setenv("COLUMNS", "200")

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


def test_a_channel_url_is_read_from_stdin_and_never_shown(run: Run) -> None:
    code, out, _ = run("notify", "channel", "add", "-", "--name", "mail", stdin=SMTP_URL + "\n")
    assert code == 0
    assert "channel 1 (email) added" in out
    code, listed, _ = run("notify", "channel", "list")
    assert code == 0
    assert "mail" in listed
    assert "Sup3rSecret" not in out + listed
    code, _, err = run("notify", "channel", "add", "nonsense://x", "--name", "bad")
    assert code == 2
    assert "is not a notification URL Apprise understands" in err


def test_subscriptions_name_known_events_only(run: Run) -> None:
    run("notify", "channel", "add", "-", "--name", "mail", stdin=SMTP_URL)
    code, _, _ = run(
        "user",
        "add",
        "Ann",
        "ann@example.org",
        "--role",
        "editor",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    assert code == 0
    code, _, err = run(
        "notify", "subscribe", "ann@example.org", "--channel", "mail", "--event", "nope"
    )
    assert code == 2
    assert "'nope' is not an event kind" in err


def test_a_webhook_secret_is_printed_once_and_private_targets_need_allowing(run: Run) -> None:
    code, _, err = run("webhook", "add", "http://10.0.0.8/hook")
    assert code == 2
    assert "private address" in err
    code, out, err = run("webhook", "add", "http://10.0.0.8/hook", "--allow-private")
    assert code == 0
    assert out.strip().startswith("whsec_")
    assert "shown only now" in err
    code, listed, _ = run("webhook", "list")
    assert "http://10.0.0.8/hook" in listed
    assert out.strip() not in listed
    code, _, _ = run("webhook", "log")
    assert code == 0


def test_a_weekly_report_is_scheduled_to_the_email_channel(run: Run) -> None:
    assert run("campaign", "create", "IP Week")[0] == 0
    code, _, err = run("notify", "schedule-report", "IP Week", "--every", "week", "--to", "a@b.org")
    assert code == 2
    assert "no e-mail channel" in err
    run("notify", "channel", "add", "-", "--name", "mail", stdin=SMTP_URL)
    code, _, err = run(
        "notify", "schedule-report", "IP Week", "--every", "fortnight", "--to", "a@b.org"
    )
    assert code == 2
    assert "must be 'week' or 'month'" in err
    code, out, _ = run(
        "notify", "schedule-report", "IP Week", "--every", "month", "--to", "lead@example.org"
    )
    assert code == 0
    assert "report schedule 1: first sent" in out
    code, listed, _ = run("notify", "report-schedules")
    assert "lead@example.org" in listed
    assert "month" in listed
