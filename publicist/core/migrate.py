"""Schema management through Alembic only: upgrade, and upgrade-if-empty on first use."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect

from publicist.core.database import get_engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def ensure_schema(url: str) -> bool:
    """Create the schema on an empty database; returns True when it migrated."""
    engine = get_engine(url)
    with engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
    if "alembic_version" in tables:
        return False
    upgrade(url)
    return True
