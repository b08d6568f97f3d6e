"""Migration 0011 (the media library) goes up and down on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from publicist.core.migrate import alembic_config
from tests.conftest import drop_postgres_database, postgres_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    made, admin = postgres_database("publicist_media_migration")
    try:
        yield made
    finally:
        drop_postgres_database(made, admin)


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return set(sa.inspect(connection).get_table_names())
    finally:
        engine.dispose()


def test_the_media_table_comes_and_goes_with_its_revision(url: str) -> None:
    config = alembic_config(url)
    before = ScriptDirectory.from_config(config).get_revision("0011").down_revision
    assert isinstance(before, str)
    command.upgrade(config, before)
    assert "media_items" not in _tables(url)
    command.upgrade(config, "0011")
    assert "media_items" in _tables(url)
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            row = {
                "kind": "image",
                "content_type": "image/png",
                "size_bytes": 6 * 1024**3,  # above 2**31: the column is a BIGINT
                "sha256": "a" * 64,
                "name": "poster",
                "stored_name": "a" * 64 + ".png",
                "created_at": "2026-04-20 01:00:00+00:00",
            }
            insert = sa.text(
                "INSERT INTO media_items (kind, content_type, size_bytes, sha256, name, "
                "stored_name, created_at) VALUES (:kind, :content_type, :size_bytes, :sha256, "
                ":name, :stored_name, :created_at)"
            )
            connection.execute(insert, row)
            with pytest.raises(sa.exc.IntegrityError), connection.begin_nested():
                connection.execute(insert, row)  # one item per sha256
    finally:
        engine.dispose()
    command.downgrade(config, before)
    assert "media_items" not in _tables(url)
