"""The dispatcher's per-tick reads are index reads, and revision 0010 goes up and down."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, event, insert, inspect, text

from campaigns.models import Delivery, Post
from campaigns.publishing import mark_missed, resend_lost
from campaigns.states import DeliveryState, LatePolicy, PostState
from publicist.core.database import session_scope
from publicist.core.migrate import alembic_config
from tests import factories
from tests.conftest import migrated_database

NOW = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)
FUTURE = 3000
"""Deliveries scheduled for later: what a full-table or whole-state read would wade through."""
HISTORY = 3000
"""Deliveries published in the past, as every running system has: what a read by due time
alone (the calendar's ix_deliveries_due_at) would wade through."""
PARTIAL = {"ix_deliveries_never_tried_due_at"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    with migrated_database(request.param, tmp_path, "indexes") as database:
        yield database


def _fill(engine: Engine) -> None:
    """Many deliveries due later, a few queued ones, one missed-candidate."""
    with session_scope(engine) as session:
        account_id = factories.account(session, handle="a", now=NOW).id
        campaign = factories.campaign(session, now=NOW)
        campaign.late_policy = LatePolicy.MISS
        session.flush()
        posts = [
            {
                "campaign_id": campaign.id,
                "text": f"p{n}",
                "media": [],
                "state": PostState.SCHEDULED,
                "created_at": NOW,
            }
            for n in range(FUTURE + 20)
        ]
        ids = list(session.scalars(insert(Post).returning(Post.id), posts))
        history = list(session.scalars(insert(Post).returning(Post.id), posts[:HISTORY]))
        rows = [
            {
                "post_id": post_id,
                "account_id": account_id,
                "state": DeliveryState.PUBLISHED,
                "due_at": NOW - timedelta(days=1 + n / 10),
                "next_attempt_at": NOW - timedelta(days=1 + n / 10),
                "ticket": 1,
                "attempts": 1,
                "updated_at": NOW,
            }
            for n, post_id in enumerate(history)
        ]
        for n, post_id in enumerate(ids):
            due = NOW + timedelta(days=1 + n) if n < FUTURE else NOW - timedelta(hours=1)
            state = DeliveryState.SCHEDULED if n <= FUTURE else DeliveryState.QUEUED
            rows.append(
                {
                    "post_id": post_id,
                    "account_id": account_id,
                    "state": state,
                    "due_at": due,
                    "next_attempt_at": due,
                    "queued_at": due if state is DeliveryState.QUEUED else None,
                    "ticket": 1,
                    "attempts": 0,
                    "updated_at": NOW,
                }
            )
        session.execute(insert(Delivery), rows)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("ANALYZE deliveries"))


def _plans(engine: Engine, call: Any) -> list[str]:
    """The query plan of every statement ``call`` runs against the deliveries."""
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "deliveries" in statement and not statement.startswith("EXPLAIN"):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with session_scope(engine) as session:
            call(session)
            session.rollback()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    plans = []
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("SET enable_seqscan = off")
        for statement, parameters in statements:
            rows = connection.exec_driver_sql(explain + statement, parameters).all()
            plans.append("\n".join(str(row[-1]) for row in rows))
        connection.rollback()
    return plans


def test_resending_lost_messages_reads_only_late_queued_deliveries_from_an_index(
    database: tuple[str, Engine],
) -> None:
    _, engine = database
    _fill(engine)
    plans = _plans(engine, lambda s: resend_lost(s, now=NOW, after=timedelta(seconds=3)))
    assert plans
    # a range on both columns: only queued deliveries already late are read
    if engine.dialect.name == "sqlite":
        assert "ix_deliveries_state_next_attempt_at (state=? AND next_attempt_at<?)" in plans[0]
    else:
        assert (
            "Index Cond: (((state)::text = 'queued'::text) AND (next_attempt_at <" in (plans[0])
        ), plans[0]
    with session_scope(engine) as session:
        assert len(resend_lost(session, now=NOW, after=timedelta(seconds=3))) == 19


def test_the_missed_post_check_reads_only_the_never_tried_index(
    database: tuple[str, Engine],
) -> None:
    _, engine = database
    _fill(engine)
    plans = _plans(engine, lambda s: mark_missed(s, now=NOW, grace=timedelta(minutes=5)))
    assert plans
    assert "ix_deliveries_never_tried_due_at" in plans[0], plans[0]
    with session_scope(engine) as session:
        assert len(mark_missed(session, now=NOW, grace=timedelta(minutes=5))) == 1


def test_revision_0010_goes_down_and_up(database: tuple[str, Engine]) -> None:
    url, engine = database
    config = alembic_config(url)
    command.downgrade(config, "0009")
    assert not PARTIAL & {i["name"] for i in inspect(engine).get_indexes("deliveries")}
    command.upgrade(config, "head")
    engine.dispose()
    assert {i["name"] for i in inspect(engine).get_indexes("deliveries")} >= PARTIAL
