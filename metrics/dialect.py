"""The one place that knows SQLite and PostgreSQL spell "insert ... on conflict" apart."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from publicist.core.errors import PublicistError


def insert_for(session: Session, model: Any) -> postgresql.Insert | sqlite.Insert:
    """An ``INSERT`` with ``on_conflict_do_nothing``/``on_conflict_do_update`` for the engine."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(model)
    if name == "sqlite":
        return sqlite.insert(model)
    raise PublicistError(f"database {name!r} is not supported (use SQLite or PostgreSQL)")
