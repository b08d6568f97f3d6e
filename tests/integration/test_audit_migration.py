"""Revision 0011 (review states, audit log) goes up and down on SQLite and PostgreSQL, and
the database itself refuses to change or remove an audit entry."""

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

NEW_COLUMNS = ("self_approval", "created_by", "review_comment", "audit_entries")
LATER_TABLES = ("post_series",)
"""Tables of later revisions that also have such columns (checked by their own tests)."""
ENTRY = (
    "INSERT INTO audit_entries (at, actor, action, object_kind, object_id, post_id) "
    "VALUES ('2026-04-20 00:00:00+00:00', 'cli', 'post.create', 'post', 1, 1)"
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    address, admin = postgres_database("publicist_audit")
    try:
        yield address
    finally:
        drop_postgres_database(address, admin)


def test_audit_rows_cannot_be_updated_or_deleted(url: str) -> None:
    upgrade(url)
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(ENTRY))
        for statement in (
            "UPDATE audit_entries SET action = 'post.approve'",
            "DELETE FROM audit_entries",
        ):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as c:
                c.execute(sa.text(statement))
        with engine.connect() as connection:
            row = connection.execute(sa.text("SELECT action FROM audit_entries")).one()
        assert tuple(row) == ("post.create",)
    finally:
        engine.dispose()


def test_the_revision_matches_the_models_and_reverses(url: str) -> None:
    upgrade(url, "0012")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO campaigns (name, timezone, hashtags, late_policy, created_at) "
                    "VALUES ('IP Week', 'Asia/Shanghai', '[]', 'publish', "
                    "'2026-04-20 00:00:00+00:00')"
                )
            )
        upgrade(url, "0013")
        with engine.connect() as connection:
            allowed = connection.execute(sa.text("SELECT self_approval FROM campaigns")).scalar()
            assert allowed in (False, 0)  # existing campaigns keep the rule: off
            context = MigrationContext.configure(connection)
            differences = [
                d
                for d in compare_metadata(context, Base.metadata)
                if any(name in repr(d) for name in NEW_COLUMNS)
                and not any(name in repr(d) for name in LATER_TABLES)
            ]
            assert differences == []
        if engine.dialect.name == "postgresql":
            # The CHECK on posts' states (PostgreSQL only; see the revision's docstring).
            with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
                connection.execute(
                    sa.text(
                        "INSERT INTO posts (campaign_id, text, media, state, created_at) "
                        "VALUES (1, 't', '[]', 'nonsense', '2026-04-20 00:00:00+00:00')"
                    )
                )
        command.downgrade(alembic_config(url), "0012")
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            assert "audit_entries" not in inspector.get_table_names()
            assert "created_by" not in {c["name"] for c in inspector.get_columns("posts")}
            assert "self_approval" not in {c["name"] for c in inspector.get_columns("campaigns")}
        upgrade(url)
    finally:
        engine.dispose()
