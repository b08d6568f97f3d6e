"""``publicist inbox``, ``publicist delivery …`` and ``publicist series …`` on the embedded
database: the same services as the workspace and the API."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.integration import test_cli
from tests.integration.test_cli import Run

run = test_cli.run
world = test_cli.world


def _sql(workdir: Path, statement: str) -> list[tuple[object, ...]]:
    engine = sa.create_engine(f"sqlite:///{workdir / 'publicist.db'}")
    try:
        with engine.begin() as connection:
            result = connection.execute(sa.text(statement))
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def _lost_delivery(world: Run, workdir: Path) -> None:
    code, _, err = world(
        "post", "add", "-c", "IP Creates a Better Life", "-t", "Opening today",
        "--to", "mock:@IPRinCN", "--at", "2099-04-20 09:30", "--approve",
    )  # fmt: skip
    assert code == 0, err
    _sql(
        workdir,
        "UPDATE deliveries SET state = 'unknown', attempts = 1, "
        "last_error = 'the response was lost', last_error_kind = 'outcome_unknown'",
    )


def test_inbox_then_confirm_with_a_url(world: Run, embedded_env: Path) -> None:
    _lost_delivery(world, embedded_env)
    code, out, err = world("inbox")
    assert code == 0, err
    assert "The answer was lost" in out
    assert "1 items need a person" in out
    code, _, err = world("delivery", "confirm", "1", "--url", "javascript:alert(1)")
    assert code == 2
    assert "url" in err
    assert "http or https" in err
    code, out, err = world("delivery", "confirm", "1", "--url", "https://x.com/IPRinCN/status/9")
    assert code == 0, err
    assert "published at https://x.com/IPRinCN/status/9" in out
    assert _sql(embedded_env, "SELECT state, url FROM deliveries") == [
        ("published", "https://x.com/IPRinCN/status/9")
    ]
    actions = _sql(embedded_env, "SELECT action, actor FROM audit_entries ORDER BY id")
    assert ("delivery.confirm", "cli") in actions


def test_republish_asks_first(
    world: Run, embedded_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _lost_delivery(world, embedded_env)
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    code, _, _ = world("delivery", "republish", "1")  # answered no: aborted
    assert code != 0
    assert _sql(embedded_env, "SELECT state FROM deliveries") == [("unknown",)]
    code, _out, err = world("delivery", "republish", "1", "--yes")
    assert code == 0, err
    assert _sql(embedded_env, "SELECT state FROM deliveries") == [("scheduled",)]
    code, _, err = world("delivery", "republish", "1", "--yes")
    assert code == 2
    assert "cannot become scheduled" in err


def test_series_add_show_cancel(world: Run, embedded_env: Path) -> None:
    code, out, err = world(
        "series", "add", "-c", "IP Creates a Better Life", "-t", "Tip of the day",
        "--to", "mock:@IPRinCN", "--rule", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        "--starts", "2099-04-20 09:30", "--until", "2099-04-26", "--approve",
    )  # fmt: skip
    assert code == 0, err
    assert "series 1: 5 posts" in out
    code, out, err = world("series", "show", "1")
    assert code == 0, err
    assert out.count("scheduled") == 5
    assert "09:30" in out
    code, out, err = world("series", "list")
    assert code == 0
    assert "FREQ=WEEKLY" in out
    code, out, err = world("series", "cancel", "1")
    assert code == 0, err
    assert "cancelled 5 posts" in out
    assert _sql(embedded_env, "SELECT DISTINCT state FROM posts") == [("cancelled",)]


def test_series_refused_whole(world: Run, embedded_env: Path) -> None:
    code, _, err = world(
        "series", "add", "-c", "IP Creates a Better Life", "-t", "Tip",
        "--to", "mock:@IPRinCN", "--rule", "FREQ=DAILY;COUNT=501", "--starts", "2099-04-20 09:30",
    )  # fmt: skip
    assert code == 2
    assert "limit is 500" in err
    assert _sql(embedded_env, "SELECT count(*) FROM posts") == [(0,)]
