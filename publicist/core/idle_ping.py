"""Check a pooled PostgreSQL connection before use only when it has been idle a while.

SQLAlchemy's ``pool_pre_ping`` sends ``SELECT 1`` on every checkout: one more round trip in
every API request and every task, to guard against connections a database restart left
dead. A restart takes seconds, so a connection last used less than :data:`PING_AFTER_IDLE`
ago cannot have missed one unnoticed: a restart while it was busy already failed that work,
and SQLAlchemy then invalidated the whole pool. Connections idle longer, or never used,
are pinged as before; a failed ping makes the pool replace the connection and try again
(SQLAlchemy's documented "pessimistic" handling through a checkout event).
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, event, exc

PING_AFTER_IDLE = 1.0
"""Seconds a connection may sit in the pool and still be used without a ping."""

_IDLE_SINCE = "publicist_idle_since"


def ping_when_idle(engine: Engine) -> None:
    """Install the idle-only ping on ``engine`` (made without ``pool_pre_ping``)."""

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _taken(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is not None and time.monotonic() - idle_since < PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise exc.DisconnectionError("the pooled connection is gone") from error
