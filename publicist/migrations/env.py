"""Alembic environment: the URL comes from the caller (``publicist db``) or settings."""

from __future__ import annotations

from alembic import context

# Imported for their side effect: each registers its tables on Base.metadata.
import campaigns.audit.models
import campaigns.calendar.models
import campaigns.connections.models
import campaigns.events.models
import campaigns.models
import campaigns.people.models  # noqa: F401
import metrics.models  # noqa: F401
import publicist.web.models  # noqa: F401
from publicist.core.database import Base, get_engine
from publicist.core.settings import get_settings

config = context.config
url = config.get_main_option("sqlalchemy.url") or get_settings().database_url


def run_offline() -> None:
    context.configure(
        url=url, target_metadata=Base.metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    engine = get_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
