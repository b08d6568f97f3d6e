"""Revision 0004 on a database with metrics: rollups backfilled so days add up to totals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from publicist.core.migrate import alembic_config, upgrade
from tests.conftest import drop_postgres_database, postgres_database


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


def test_existing_latest_values_become_growth_on_their_day_and_the_revision_reverses(
    url: str,
) -> None:
    upgrade(url, "0003")
    engine = sa.create_engine(url)
    stamp = "2021-04-20 00:00:00+00:00"
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO campaigns (id, name, timezone, hashtags, created_at, "
                    "late_policy) VALUES (1, 'IP Week', 'Asia/Shanghai', '[]', :at, 'publish')"
                ),
                {"at": stamp},
            )
            connection.execute(
                sa.text(
                    "INSERT INTO accounts (id, platform, handle, credentials_encrypted, "
                    "created_at) VALUES (1, 'mock', '@IPRinCN', :secret, :at)"
                ),
                {"secret": b"\x00", "at": stamp},
            )
            connection.execute(
                sa.text(
                    "INSERT INTO posts (id, campaign_id, text, media, state, created_at) "
                    "VALUES (1, 1, 'Opening', '[]', 'scheduled', :at), "
                    "(2, 1, 'Closing', '[]', 'scheduled', :at)"
                ),
                {"at": stamp},
            )
            for delivery in (1, 2):
                connection.execute(
                    sa.text(
                        "INSERT INTO deliveries (id, post_id, account_id, state, due_at, "
                        "next_attempt_at, ticket, attempts, updated_at) "
                        "VALUES (:id, :id, 1, 'published', :at, :at, 1, 1, :at)"
                    ),
                    {"id": delivery, "at": stamp},
                )
            # 17:00 UTC is 01:00 the next day in Shanghai; 03:00 UTC is 11:00 the same day.
            for delivery, collected, views in ((1, "17:00", 1000), (2, "03:00", 500)):
                connection.execute(
                    sa.text(
                        "INSERT INTO delivery_metrics (delivery_id, campaign_id, account_id, "
                        "platform, collected_at, views, likes, comments, shares, "
                        "interactions, extras) VALUES (:id, 1, 1, 'mock', :at, :views, 30, 5, "
                        "NULL, 35, '{}')"
                    ),
                    {"id": delivery, "at": f"2021-04-20 {collected}:00+00:00", "views": views},
                )

        upgrade(url, "0004")

        with engine.begin() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT day, views, likes, shares, interactions FROM metric_daily_rollups "
                    "ORDER BY day"
                )
            ).all()
            collections = connection.execute(
                sa.text("SELECT collections FROM delivery_metrics")
            ).scalars()
            assert set(collections) == {1}
        assert [(str(r.day), r.views, r.likes, r.shares, r.interactions) for r in rows] == [
            (str(date(2021, 4, 20)), 500, 30, None, 35),
            (str(date(2021, 4, 21)), 1000, 30, None, 35),
        ]

        command.downgrade(alembic_config(url), "0003")
        with engine.connect() as connection:
            assert "metric_daily_rollups" not in sa.inspect(connection).get_table_names()
        upgrade(url)
    finally:
        engine.dispose()
