"""Shared fixtures: databases on SQLite and on the real PostgreSQL, each test rolled back."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from connectors.mock import MockPlatform
from publicist.core.clock import FrozenClock
from publicist.core.database import dispose_engines, make_engine
from publicist.core.migrate import upgrade
from publicist.core.settings import Settings, get_settings, reset_settings

POSTGRES_ADMIN_URL = os.environ.get(
    "PUBLICIST_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
TEST_SECRET = "test-secret-key-not-for-production"


def postgres_database(prefix: str) -> tuple[str, Engine]:
    """Create a fresh PostgreSQL database; returns its URL and an admin engine to drop it."""
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", admin


def drop_postgres_database(url: str, admin: Engine) -> None:
    name = url.rsplit("/", 1)[1]
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def migrated_database(kind: str, folder: Path, name: str) -> Iterator[tuple[str, Engine]]:
    """A fresh database of ``kind`` ("sqlite" in ``folder``, or "postgres") at the head
    revision, its URL and engine; removed afterwards. For tests of migrations and plans."""
    if kind == "sqlite":
        url = f"sqlite:///{folder / f'{name}.db'}"
        upgrade(url)
        engine = make_engine(url)
        yield url, engine
        engine.dispose()
        return
    url, admin = postgres_database(f"publicist_{name}")
    try:
        upgrade(url)
        engine = make_engine(url)
        yield url, engine
        engine.dispose()
    finally:
        drop_postgres_database(url, admin)


@pytest.fixture(scope="session", autouse=True)
def media_library_outside_the_checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Settings built in tests keep the media library in a temporary folder, never in ./media
    of the checkout; a test that wants the default removes the variable."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PUBLICIST_MEDIA_DIR", str(tmp_path_factory.mktemp("media")))
        yield


@pytest.fixture(scope="session")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine]:
    url, admin = postgres_database("publicist_test")
    try:
        upgrade(url)
        engine = make_engine(url)
        yield engine
        engine.dispose()
    finally:
        drop_postgres_database(url, admin)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Engine:
    return request.getfixturevalue(f"{request.param}_engine")  # type: ignore[no-any-return]


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside an outer transaction that is rolled back after the test.

    Service code may flush and even commit savepoints; nothing survives the test.
    """
    connection = engine.connect()
    outer = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield db
    finally:
        db.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 4, 20, 1, 0, tzinfo=UTC))


@pytest.fixture
def mock_platform() -> Iterator[MockPlatform]:
    """The process-wide in-memory mock platform, emptied before and after each test."""
    MockPlatform.forget_memory()
    yield MockPlatform.open("memory")
    MockPlatform.forget_memory()


@pytest.fixture
def configured_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """A migrated SQLite database that ``session_scope()`` and the units of work use."""
    url = f"sqlite:///{tmp_path / 'publicist.db'}"
    monkeypatch.setenv("PUBLICIST_DATABASE_URL", url)
    monkeypatch.setenv("PUBLICIST_SECRET_KEY", TEST_SECRET)
    reset_settings()
    dispose_engines()
    upgrade(url)
    yield get_settings()
    dispose_engines()
    reset_settings()


@pytest.fixture
def embedded_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Settings pointing at a throwaway SQLite database in ``tmp_path`` (for CLI tests)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PUBLICIST_DATABASE_URL", f"sqlite:///{tmp_path / 'publicist.db'}")
    monkeypatch.setenv("PUBLICIST_SECRET_KEY", TEST_SECRET)
    reset_settings()
    yield tmp_path
    reset_settings()
