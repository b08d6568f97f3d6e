"""Revision 0015 (error kinds, the dispatch heartbeat, series) matches the models and
reverses, on both engines."""

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

NEW = ("last_error_kind", "dispatch_heartbeat", "post_series", "series_id")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    address, admin = postgres_database("publicist_inbox_migration")
    try:
        yield address
    finally:
        drop_postgres_database(address, admin)


def test_the_revision_matches_the_models_and_reverses(url: str) -> None:
    upgrade(url, "0015")
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            differences = [
                d
                for d in compare_metadata(context, Base.metadata)
                if any(name in repr(d) for name in NEW)
            ]
            assert differences == []
        command.downgrade(alembic_config(url), "0017")
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            assert "post_series" not in inspector.get_table_names()
            assert "dispatch_heartbeat" not in inspector.get_table_names()
            assert "series_id" not in {c["name"] for c in inspector.get_columns("posts")}
            columns = {c["name"] for c in inspector.get_columns("deliveries")}
            assert "last_error_kind" not in columns
        upgrade(url)
    finally:
        engine.dispose()
