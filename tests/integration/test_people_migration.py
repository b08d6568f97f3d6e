"""Revision 0008 (people, sessions, token owners) goes up and down on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from publicist.core.database import Base
from publicist.core.migrate import alembic_config, upgrade
from tests.conftest import drop_postgres_database, postgres_database

NEW_TABLES = {"people", "web_sessions", "signin_failures"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    address, admin = postgres_database("publicist_people")
    try:
        yield address
    finally:
        drop_postgres_database(address, admin)


def _added_later(difference: object) -> bool:
    """A table of a later revision that refers to people (e.g. calendar_feeds' creator)."""
    if not isinstance(difference, tuple) or difference[0] != "add_table":
        return False
    return difference[1].name not in NEW_TABLES


def test_people_arrive_existing_tokens_stay_and_the_revision_reverses(url: str) -> None:
    upgrade(url, "0005")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO api_tokens (name, role, token_hash, created_at) "
                    "VALUES ('wall', 'viewer', :hash, '2026-04-20 00:00:00+00:00')"
                ),
                {"hash": "a" * 64},
            )
        upgrade(url, "0008")
        with engine.connect() as connection:
            tables = set(sa.inspect(connection).get_table_names())
            assert tables >= NEW_TABLES
            token = connection.execute(sa.text("SELECT role, owner_id FROM api_tokens")).one()
            assert tuple(token) == ("viewer", None)
            # The tables the models describe are exactly those the migration made.
            context = MigrationContext.configure(connection)
            differences = [
                d
                for d in compare_metadata(context, Base.metadata)
                if any(name in repr(d) for name in (*NEW_TABLES, "owner_id"))
                and not _added_later(d)
            ]
            assert differences == []
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO people (name, email, password_hash, role, created_at) "
                    "VALUES ('A', 'a@example.org', 'x', 'admin', '2026-04-20 00:00:00+00:00')"
                )
            )
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO people (name, email, password_hash, role, created_at) "
                    "VALUES ('B', 'a@example.org', 'x', 'viewer', '2026-04-20 00:00:00+00:00')"
                )
            )

        command.downgrade(alembic_config(url), "0005")
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            assert not (set(inspector.get_table_names()) & NEW_TABLES)
            columns = {c["name"] for c in inspector.get_columns("api_tokens")}
            assert "owner_id" not in columns
            assert connection.execute(sa.text("SELECT count(*) FROM api_tokens")).scalar() == 1
        upgrade(url)
    finally:
        engine.dispose()
