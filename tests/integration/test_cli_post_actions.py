"""``publicist post edit`` and ``post retry``: changes stored, refusals one line and exit 2."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from campaigns import services
from campaigns.models import Post
from publicist.cli import posts as cli_posts
from tests.integration import test_cli
from tests.integration.test_cli import Run

# The CLI fixtures of test_cli: a throwaway database, an account and a campaign.
run = test_cli.run
world = test_cli.world


def _query(workdir: Path, sql: str) -> list[tuple[object, ...]]:
    engine = sa.create_engine(f"sqlite:///{workdir / 'publicist.db'}")
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(sql))]
    finally:
        engine.dispose()


def _one_line_error(code: int, err: str) -> str:
    assert code == 2, err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    return lines[0]


def _scheduled_post(world: Run) -> None:
    code, out, err = world(
        "post", "add", "-c", "IP Creates a Better Life", "-t", "Opening today",
        "--to", "mock:@IPRinCN", "--at", "2099-04-20 09:30", "--approve",
    )  # fmt: skip
    assert code == 0, err
    assert out.startswith("post 1: scheduled")


def test_a_scheduled_post_is_edited_back_to_a_draft(world: Run, embedded_env: Path) -> None:
    _scheduled_post(world)
    code, out, err = world(
        "post", "edit", "1", "--text", "Opening at 10:00", "--text-for", "mock=十点开幕",
        "--title", "Opening",
    )  # fmt: skip
    assert code == 0, err
    assert "post 1: draft (edited)" in out
    assert _query(embedded_env, "SELECT state, text, title FROM posts") == [
        ("draft", "Opening at 10:00", "Opening")
    ]
    assert _query(embedded_env, "SELECT platform, text FROM post_variants") == [
        ("mock", "十点开幕")
    ]
    assert _query(embedded_env, "SELECT count(*) FROM deliveries") == [(0,)]


def test_an_edit_the_post_refuses_is_one_line_and_writes_nothing(
    world: Run, embedded_env: Path
) -> None:
    _scheduled_post(world)
    assert world("post", "cancel", "1")[0] == 0
    line = _one_line_error(*world("post", "edit", "1", "--text", "Changed")[::2])
    assert "post 1 is cancelled; it cannot be edited" in line
    line = _one_line_error(*world("post", "edit", "1")[::2])
    assert "changes" in line
    assert _query(embedded_env, "SELECT state, text FROM posts") == [("cancelled", "Opening today")]


def test_a_bad_edit_names_the_field(world: Run, embedded_env: Path) -> None:
    _scheduled_post(world)
    line = _one_line_error(*world("post", "edit", "1", "--text-for", "weibo=微博")[::2])
    assert "variant" in line
    assert "weibo" in line
    assert _query(embedded_env, "SELECT state FROM posts") == [("scheduled",)]


def test_retry_with_nothing_to_retry_is_one_line(world: Run, embedded_env: Path) -> None:
    _scheduled_post(world)
    line = _one_line_error(*world("post", "retry", "1")[::2])
    assert "no failed, missed or unknown deliveries to retry" in line
    engine = sa.create_engine(f"sqlite:///{embedded_env / 'publicist.db'}")
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE deliveries SET state = 'failed', attempts = 5"))
    engine.dispose()
    code, out, err = world("post", "retry", "1")
    assert code == 0, err
    assert "delivery 1 to mock:@IPRinCN: scheduled again" in out
    assert _query(embedded_env, "SELECT state, attempts FROM deliveries") == [("scheduled", 0)]


def test_several_posts_are_approved_in_id_order(
    world: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each approval locks its post; two commands naming the same posts in opposite orders
    would otherwise deadlock on PostgreSQL."""
    for _ in range(2):
        code, _, err = world(
            "post", "add", "-c", "IP Creates a Better Life", "-t", "Opening today",
            "--to", "mock:@IPRinCN", "--at", "2099-04-20 09:30",
        )  # fmt: skip
        assert code == 0, err
    locked: list[int] = []

    def approve_post(
        session: Session, *, post_id: int, now: datetime, from_draft: bool = False
    ) -> Post:
        locked.append(post_id)
        return services.approve_post(session, post_id=post_id, now=now, from_draft=from_draft)

    monkeypatch.setattr(cli_posts, "approve_post", approve_post)
    code, out, err = world("post", "approve", "2", "1")
    assert code == 0, err
    assert locked == [1, 2]
    assert out.splitlines() == ["post 1: scheduled", "post 2: scheduled"]
