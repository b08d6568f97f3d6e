"""Revisions 0022 to 0024 (issue 12, "Reads"): the indexes of posts in review and of a
campaign's deliveries that ended badly, the account index's carried columns and the kept
account totals match the models, are used by the reads, and go down and up."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from publicist.core.database import Base
from publicist.core.migrate import alembic_config
from tests.conftest import migrated_database

INDEXES = {
    "posts": "ix_posts_in_review_publish_at",
    "deliveries": "ix_deliveries_ended_badly_campaign_due_at",
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    with migrated_database(request.param, tmp_path, "read_indexes") as database:
        yield database


def _names(engine: Engine, table: str) -> set[str]:
    return {str(index["name"]) for index in inspect(engine).get_indexes(table)}


def test_revision_0022_matches_the_models_and_goes_down_and_up(
    database: tuple[str, Engine],
) -> None:
    url, engine = database
    with engine.connect() as connection:
        differences = [
            d
            for d in compare_metadata(MigrationContext.configure(connection), Base.metadata)
            if any(name in repr(d) for name in INDEXES.values())
        ]
    assert differences == []
    config = alembic_config(url)
    command.downgrade(config, "0021")
    engine.dispose()
    for table, name in INDEXES.items():
        assert name not in _names(engine, table)
    command.upgrade(config, "head")
    engine.dispose()
    for table, name in INDEXES.items():
        assert name in _names(engine, table)


@pytest.fixture
def postgres() -> Iterator[Engine]:
    with migrated_database("postgres", Path(), "read_plans") as (_, engine):
        yield engine


@pytest.mark.postgres
def test_the_expired_review_count_and_a_campaigns_failures_read_their_indexes(
    postgres: Engine,
) -> None:
    with postgres.connect() as connection:
        connection.execute(text("SET enable_seqscan = off"))  # an empty table: no statistics

        def plan(query: str) -> str:
            return "\n".join(str(row[0]) for row in connection.execute(text("EXPLAIN " + query)))

        expired = plan(
            "SELECT count(*) FROM posts WHERE posts.state = 'in_review' "
            "AND posts.publish_at IS NOT NULL AND posts.publish_at <= now()"
        )
        failures = plan(
            "SELECT id FROM deliveries WHERE deliveries.state IN "
            "('failed', 'unknown', 'missed') AND deliveries.campaign_id = 1 "
            "ORDER BY due_at DESC, id DESC LIMIT 100"
        )
    assert "ix_posts_in_review_publish_at" in expired
    assert "ix_deliveries_ended_badly_campaign_due_at" in failures


ACCOUNT_INDEX = "ix_delivery_metrics_account_interactions"


def _carried(engine: Engine) -> list[str]:
    for index in inspect(engine).get_indexes("delivery_metrics"):
        if index["name"] == ACCOUNT_INDEX:
            return list(index.get("dialect_options", {}).get("postgresql_include") or [])
    raise AssertionError(f"{ACCOUNT_INDEX} is missing")


@pytest.mark.postgres
def test_revision_0023_carries_the_account_sums_in_the_account_index_and_goes_down_and_up(
    postgres_database: tuple[str, Engine],
) -> None:
    url, engine = postgres_database
    carried = ["campaign_id", "platform", "views", "likes", "comments", "shares"]
    assert set(carried) <= set(_carried(engine))
    config = alembic_config(url)
    command.downgrade(config, "0022")
    engine.dispose()
    assert _carried(engine) == []
    command.upgrade(config, "head")
    engine.dispose()
    assert set(carried) <= set(_carried(engine))


@pytest.fixture
def postgres_database(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    with migrated_database("postgres", tmp_path, "account_cover") as database:
        yield database


@pytest.mark.postgres
def test_the_account_views_sums_read_the_kept_rows_of_the_account(postgres: Engine) -> None:
    """The statement the account view sends, as PostgreSQL plans it once prepared: a range
    of the kept account totals (0024), not the account's posts."""
    from metrics.reports import _ACCOUNT_SUMS

    statement = _ACCOUNT_SUMS.params(account_id=1)
    compiled = str(
        statement.compile(dialect=postgres.dialect, compile_kwargs={"literal_binds": True})
    )
    with postgres.connect() as connection:
        connection.execute(text("SET enable_seqscan = off"))  # an empty table: no statistics
        connection.execute(text("SET enable_bitmapscan = off"))
        plan = "\n".join(str(row[0]) for row in connection.execute(text("EXPLAIN " + compiled)))
    assert "pk_account_metric_totals" in plan, plan
    assert "delivery_metrics" not in plan, plan


def test_revision_0024_matches_the_model(database: tuple[str, Engine]) -> None:
    """The kept account totals' table as the migration makes it is the model's."""
    _, engine = database
    with engine.connect() as connection:
        differences = [
            d
            for d in compare_metadata(MigrationContext.configure(connection), Base.metadata)
            if "account_metric_totals" in repr(d)
        ]
    assert differences == []
