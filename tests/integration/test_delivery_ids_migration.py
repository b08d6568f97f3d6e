"""Revision 0009: on SQLite a removed delivery's id is never given to a new one; it reverses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from publicist.core.database import make_engine
from publicist.core.migrate import alembic_config, upgrade
from tests.conftest import drop_postgres_database, postgres_database

STAMP = "2026-04-20 00:00:00+00:00"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    address, admin = postgres_database("publicist_migrate")
    try:
        yield address
    finally:
        drop_postgres_database(address, admin)


def _delivery(connection: sa.Connection, post_id: int) -> int:
    row = connection.execute(
        sa.text(
            "INSERT INTO deliveries (post_id, account_id, state, due_at, next_attempt_at, "
            "ticket, attempts, updated_at) "
            "VALUES (:post, 1, 'scheduled', :at, :at, 0, 0, :at) RETURNING id"
        ),
        {"post": post_id, "at": STAMP},
    )
    return int(row.scalar_one())


def _seed(connection: sa.Connection) -> None:
    connection.execute(
        sa.text(
            "INSERT INTO campaigns (id, name, timezone, hashtags, created_at, late_policy) "
            "VALUES (1, 'IP Week', 'Asia/Shanghai', '[]', :at, 'publish')"
        ),
        {"at": STAMP},
    )
    connection.execute(
        sa.text(
            "INSERT INTO accounts (id, platform, handle, credentials_encrypted, created_at) "
            "VALUES (1, 'mock', '@IPRinCN', :secret, :at)"
        ),
        {"secret": b"\x00", "at": STAMP},
    )
    connection.execute(
        sa.text(
            "INSERT INTO posts (id, campaign_id, text, media, state, created_at) "
            "VALUES (1, 1, 'Opening', '[]', 'scheduled', :at), "
            "(2, 1, 'Closing', '[]', 'scheduled', :at), (3, 1, 'Later', '[]', 'draft', :at)"
        ),
        {"at": STAMP},
    )


def test_a_removed_delivery_s_id_is_never_reused_and_the_revision_reverses(url: str) -> None:
    upgrade(url, "0005")
    engine = make_engine(url)  # as the application opens it: SQLite with foreign keys on
    try:
        with engine.begin() as connection:
            _seed(connection)
            first = _delivery(connection, 1)
            connection.execute(
                sa.text(
                    "INSERT INTO delivery_attempts (delivery_id, number, started_at, outcome) "
                    "VALUES (:id, 1, :at, 'published')"
                ),
                {"id": first, "at": STAMP},
            )
            newest = _delivery(connection, 2)

        upgrade(url, "0009")

        with engine.begin() as connection:
            kept = connection.execute(
                sa.text(
                    "SELECT d.id FROM deliveries d JOIN delivery_attempts a ON a.delivery_id = d.id"
                )
            ).scalars()
            assert list(kept) == [first]
            connection.execute(sa.text("DELETE FROM deliveries WHERE id = :id"), {"id": newest})
            assert _delivery(connection, 3) > newest
            names = set(
                sa.inspect(connection).get_indexes("deliveries")[i]["name"] for i in range(3)
            )
            assert "ix_deliveries_state_next_attempt_at" in names

        command.downgrade(alembic_config(url), "0005")
        with engine.begin() as connection:
            assert connection.execute(sa.text("SELECT count(*) FROM deliveries")).scalar() == 2
            attempts = connection.execute(sa.text("SELECT delivery_id FROM delivery_attempts"))
            assert list(attempts.scalars()) == [first]
        upgrade(url)
    finally:
        engine.dispose()
