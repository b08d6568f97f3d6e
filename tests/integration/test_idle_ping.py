"""Pooled PostgreSQL connections are pinged only after sitting idle, and one that died
while idle is replaced before use (publicist.core.idle_ping)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text

from publicist.core import idle_ping
from publicist.core.database import make_engine
from tests.conftest import POSTGRES_ADMIN_URL

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine() -> Iterator[Engine]:
    made = make_engine(POSTGRES_ADMIN_URL)
    yield made
    made.dispose()


@pytest.fixture
def pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    counted: list[int] = []
    real = engine.dialect.do_ping

    def counting(dbapi_connection: Any) -> bool:
        counted.append(1)
        return real(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counting)
    return counted


def _backend(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_connection_in_use_is_not_pinged_again(engine: Engine, pings: list[int]) -> None:
    first = _backend(engine)
    pinged = len(pings)
    for _ in range(5):
        assert _backend(engine) == first
    assert len(pings) == pinged


def test_an_idle_connection_is_pinged_and_a_dead_one_replaced(
    engine: Engine, pings: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = _backend(engine)
    admin = make_engine(POSTGRES_ADMIN_URL)
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": dead})
            connection.commit()
    finally:
        admin.dispose()
    monkeypatch.setattr(idle_ping, "PING_AFTER_IDLE", 0.0)
    pinged = len(pings)
    replacement = _backend(engine)  # no error: the failed ping made the pool reconnect
    assert replacement != dead
    assert len(pings) > pinged
