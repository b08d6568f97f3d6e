"""Revision 0020 on a database with history: what was planned stays planned, the rest waits
in the queue, the indexes match the models, and the revision goes down and up."""

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

NEW = {
    "ix_deliveries_publishing_lease_until",
    "ix_deliveries_submitted_updated_at",
    "ix_deliveries_metrics_unplanned",
    "ix_deliveries_never_tried_due_at",
    "ix_delivery_metrics_collect_due",
    "metrics_planned",
}
STAMP = "2026-04-20 00:00:00+00:00"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ticks.db'}"
        return
    address, admin = postgres_database("publicist_ticks_migrate")
    try:
        yield address
    finally:
        drop_postgres_database(address, admin)


def _history(connection: sa.Connection) -> None:
    """Three published deliveries, two of them planned (a metrics row), one scheduled."""
    run = connection.execute
    run(
        sa.text(
            "INSERT INTO campaigns (id, name, timezone, hashtags, created_at, late_policy) "
            "VALUES (1, 'IP Week', 'Asia/Shanghai', '[]', :at, 'publish')"
        ),
        {"at": STAMP},
    )
    run(
        sa.text(
            "INSERT INTO accounts (id, platform, handle, credentials_encrypted, created_at) "
            "VALUES (1, 'mock', '@IPRinCN', :secret, :at)"
        ),
        {"secret": b"\x00", "at": STAMP},
    )
    for n in range(1, 5):
        run(
            sa.text(
                "INSERT INTO posts (id, campaign_id, text, media, state, created_at) "
                "VALUES (:n, 1, 'post', '[]', 'scheduled', :at)"
            ),
            {"n": n, "at": STAMP},
        )
        published = n < 4
        run(
            sa.text(
                "INSERT INTO deliveries (id, post_id, account_id, state, due_at, "
                "next_attempt_at, ticket, attempts, published_at, remote_id, updated_at) "
                "VALUES (:n, :n, 1, :state, :at, :at, 1, 1, :published, :remote, :at)"
            ),
            {
                "n": n,
                "state": "published" if published else "scheduled",
                "at": STAMP,
                "published": STAMP if published else None,
                "remote": f"r{n}" if published else None,
            },
        )
    for n in (1, 2):
        run(
            sa.text(
                "INSERT INTO delivery_metrics (delivery_id, campaign_id, account_id, platform, "
                "collected_at, interactions, extras, next_collect_at, collections) "
                "VALUES (:n, 1, 1, 'mock', :at, 0, '{}', :next, 1)"
            ),
            {"n": n, "at": STAMP, "next": STAMP if n == 1 else None},
        )


def _names(engine: sa.Engine) -> set[str]:
    inspector = sa.inspect(engine)
    indexes = {
        i["name"] or ""
        for table in ("deliveries", "delivery_metrics")
        for i in inspector.get_indexes(table)
    }
    columns = {c["name"] for c in inspector.get_columns("deliveries")}
    return (indexes | columns) & NEW


def test_planned_deliveries_stay_planned_and_the_revision_reverses(url: str) -> None:
    upgrade(url, "0016")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            _history(connection)
        upgrade(url)
        with engine.connect() as connection:
            planned: dict[int, object] = dict(
                connection.execute(sa.text("SELECT id, metrics_planned FROM deliveries")).all()
            )
            assert {k: bool(v) for k, v in planned.items()} == {
                1: True,
                2: True,
                3: False,  # published, never planned: the first tick plans it
                4: False,  # scheduled: enters the queue when it is published
            }
            differences = [
                d
                for d in compare_metadata(MigrationContext.configure(connection), Base.metadata)
                if any(name in repr(d) for name in NEW)
                or "ix_delivery_metrics_next_collect_at" in repr(d)
            ]
            assert differences == []
        assert _names(engine) == NEW
        command.downgrade(alembic_config(url), "0016")
        engine.dispose()
        assert _names(engine) == {"ix_deliveries_never_tried_due_at"}
        command.upgrade(alembic_config(url), "head")
        engine.dispose()
        assert _names(engine) == NEW
    finally:
        engine.dispose()
