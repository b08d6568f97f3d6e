"""A month of a 10,000-post campaign is read from the due-time index; revision 0012 reverses."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, event, insert, inspect, text

import campaigns.calendar.models  # noqa: F401 - registers the feed table and the index
from campaigns.calendar.queries import Filters, entries
from campaigns.models import Delivery, Post
from campaigns.states import DeliveryState, PostState
from publicist.core.database import Base, session_scope
from publicist.core.migrate import alembic_config
from tests import factories
from tests.conftest import migrated_database

NOW = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)
POSTS = 10_000


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    with migrated_database(request.param, tmp_path, "calendar") as database:
        yield database


def _fill(engine: Engine) -> int:
    """A 10,000-post campaign, one post an hour for over a year, and a small other one."""
    with session_scope(engine) as session:
        account_id = factories.account(session, handle="a", now=NOW).id
        big = factories.campaign(session, name="Big", now=NOW).id
        small = factories.campaign(session, name="Small", now=NOW).id
        posts = [
            {
                "campaign_id": big if n < POSTS else small,
                "text": f"post {n}",
                "media": [],
                "state": PostState.SCHEDULED,
                "created_at": NOW,
            }
            for n in range(POSTS + 50)
        ]
        ids = list(session.scalars(insert(Post).returning(Post.id), posts))
        session.execute(
            insert(Delivery),
            [
                {
                    "post_id": post_id,
                    "account_id": account_id,
                    "state": DeliveryState.SCHEDULED,
                    "due_at": NOW + timedelta(hours=n),
                    "next_attempt_at": NOW + timedelta(hours=n),
                    "ticket": 0,
                    "attempts": 0,
                    "updated_at": NOW,
                }
                for n, post_id in enumerate(ids)
            ],
        )
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    return big


def _plan(engine: Engine, start: datetime, end: datetime, filters: Filters) -> str:
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "deliveries" in statement and not statement.startswith("EXPLAIN"):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with session_scope(engine) as session:
            found = entries(session, start=start, end=end, filters=filters)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert len(found) == 30 * 24
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(explain + statements[0][0], statements[0][1]).all()
    return "\n".join(str(row[-1]) for row in rows)


def test_a_month_of_a_big_campaign_is_an_index_range_read(database: tuple[str, Engine]) -> None:
    _, engine = database
    big = _fill(engine)
    start = NOW + timedelta(days=60)
    plan = _plan(engine, start, start + timedelta(days=30), Filters(campaign_id=big))
    assert "ix_deliveries_due_at" in plan, plan


def test_revision_0012_goes_down_and_up_and_matches_the_models(
    database: tuple[str, Engine],
) -> None:
    url, engine = database
    config = alembic_config(url)
    with engine.connect() as connection:
        differences = [
            d
            for d in compare_metadata(MigrationContext.configure(connection), Base.metadata)
            if "calendar_feeds" in repr(d) or "ix_deliveries_due_at" in repr(d)
        ]
    assert differences == []
    command.downgrade(config, "0011")
    engine.dispose()
    assert "calendar_feeds" not in inspect(engine).get_table_names()
    assert "ix_deliveries_due_at" not in {
        i["name"] for i in inspect(engine).get_indexes("deliveries")
    }
    command.upgrade(config, "head")
    engine.dispose()
    assert "calendar_feeds" in inspect(engine).get_table_names()
    assert "ix_deliveries_due_at" in {i["name"] for i in inspect(engine).get_indexes("deliveries")}
