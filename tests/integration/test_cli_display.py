"""Stored names are shown as written: Rich markup in them is text, terminal controls are gone."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from campaigns.states import DeliveryState
from connectors.base import MetricCounts
from metrics.cadence import Cadence
from metrics.collection import record_counts
from publicist.cli.main import main
from publicist.core.database import dispose_engines, make_engine, session_scope
from publicist.core.migrate import upgrade
from publicist.web.tokens import Role, create_token
from tests.unit.metrics import builders

Run = Callable[..., tuple[int, str, str]]
NOW = datetime(2021, 4, 26, 1, 0, tzinfo=UTC)
# Markup that breaks a Rich string ("[/]" closes nothing), a style tag, an emoji code,
# a screen-clearing CSI, a window-title OSC, an 8-bit CSI, a BEL and a right-to-left override.
HOSTILE = "Go [/] [b]x[/b] :smile: \x1b[2J\x1b]0;owned\x07\x9b31m\x07\u202eevil"
SHOWN = "Go [/] [b]x[/b] :smile: evil"
CONTROLS = ("\x1b", "\x07", "\x9b", "\u202e", "owned", "[2J", "31m")


@pytest.fixture
def run(
    embedded_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Run]:
    # Wide enough that no cell wraps; the consoles are the ones the commands use.
    monkeypatch.setattr("publicist.cli.common.console", Console(width=400, emoji=False))
    for module in ("accounts", "campaigns", "posts", "reports", "api"):
        monkeypatch.setattr(
            f"publicist.cli.{module}.console", Console(width=400, emoji=False), raising=False
        )

    def invoke(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr("sys.argv", ["publicist", *args])
        capsys.readouterr()
        with pytest.raises(SystemExit) as caught:
            main()
        captured = capsys.readouterr()
        code = caught.value.code
        return (code if isinstance(code, int) else 0), captured.out, captured.err

    yield invoke
    dispose_engines()


@pytest.fixture
def seeded(run: Run, embedded_env: Path) -> Run:
    """A campaign, an account, a published and a failed post and a token, all named HOSTILE."""
    url = f"sqlite:///{embedded_env / 'publicist.db'}"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        campaign = builders.campaign(session, name=HOSTILE, now=NOW)
        account = builders.account(session, platform="mock", handle=HOSTILE, now=NOW)
        published = builders.delivery(
            session, campaign=campaign, account=account, at=NOW, text=HOSTILE
        )
        failed = builders.delivery(
            session,
            campaign=campaign,
            account=account,
            at=NOW,
            text=HOSTILE,
            state=DeliveryState.FAILED,
        )
        failed.last_error = HOSTILE
        record_counts(
            session,
            capabilities=builders.MOCK,
            delivery_ids={str(published.remote_id): published.id},
            counts=[
                MetricCounts(
                    remote_id=str(published.remote_id), views=10, likes=1, comments=0, shares=0
                )
            ],
            cadence=Cadence(),
            now=NOW + timedelta(hours=1),
        )
        create_token(session, role=Role.VIEWER, name=HOSTILE, now=NOW)
    engine.dispose()
    return run


@pytest.mark.parametrize(
    "command",
    [
        ["account", "list"],
        ["campaign", "list"],
        ["campaign", "show", "1"],
        ["post", "list"],
        ["post", "list", "--failed"],
        ["report"],
        ["report", "1"],
        ["report", "1", "--daily"],
        ["report", "--account", "1"],
        ["token", "list"],
    ],
)
def test_every_listing_and_report_shows_hostile_names_as_plain_text(
    seeded: Run, command: list[str]
) -> None:
    code, out, err = seeded(*command)
    assert code == 0, err
    assert SHOWN in out, out
    for control in CONTROLS:
        assert control not in out + err


def test_a_message_with_a_hostile_name_prints_it_as_text(run: Run) -> None:
    run("campaign", "list")  # creates the schema first
    code, out, err = run("campaign", "create", HOSTILE, "--timezone", "Asia/Shanghai")
    assert code == 0, err
    assert f"created campaign {SHOWN} (id 1" in out
    for control in CONTROLS:
        assert control not in out + err


def test_an_error_naming_a_hostile_value_is_one_clean_line(run: Run) -> None:
    run("campaign", "list")  # creates the schema first
    code, _, err = run("campaign", "show", "Nope [/] \x1b[2J\u202e")
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Nope [/]" in lines[0]
    assert "\x1b" not in err


@pytest.mark.parametrize(
    ("command", "path"),
    [
        (["report", "1", "--format", "json"], ("campaign",)),
        (["report", "--format", "json"], (0, "campaign")),
        (["report", "--account", "1", "--format", "json"], ("campaigns", 0, "campaign")),
    ],
)
def test_json_reports_keep_the_exact_name_without_raw_controls(
    seeded: Run, command: list[str], path: tuple[str | int, ...]
) -> None:
    code, out, err = seeded(*command)
    assert code == 0, err
    for control in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert control not in out
    value: object = json.loads(out)
    for key in path:
        value = value[key]  # type: ignore[index]
    assert value == HOSTILE
