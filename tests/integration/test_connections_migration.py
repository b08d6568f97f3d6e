"""Revision 0016 on both engines: it matches the models, goes down and up again, and an
account made before it is active afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

import campaigns.connections.models  # noqa: F401 - registers the pending authorisations
from publicist.core.database import Base
from publicist.core.migrate import alembic_config
from tests.conftest import migrated_database

NOW = datetime(2026, 4, 20, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    with migrated_database(request.param, tmp_path, "connections") as database:
        yield database


def test_revision_0016_matches_the_models_and_goes_down_and_up(
    database: tuple[str, Engine],
) -> None:
    url, engine = database
    with engine.connect() as connection:
        differences = [
            d
            for d in compare_metadata(MigrationContext.configure(connection), Base.metadata)
            if "pending_authorizations" in repr(d) or "status" in repr(d)
        ]
    assert differences == []
    config = alembic_config(url)
    command.downgrade(config, "0015")
    engine.dispose()
    assert "pending_authorizations" not in inspect(engine).get_table_names()
    assert "status" not in {c["name"] for c in inspect(engine).get_columns("accounts")}
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO accounts (platform, handle, credentials_encrypted, created_at) "
                "VALUES ('mock', 'old', :blob, :now)"
            ),
            {"blob": b"x", "now": NOW},
        )
    command.upgrade(config, "head")
    engine.dispose()
    with engine.connect() as connection:
        status = connection.execute(text("SELECT status FROM accounts")).scalar_one()
    assert status == "active"
    assert "pending_authorizations" in inspect(engine).get_table_names()
