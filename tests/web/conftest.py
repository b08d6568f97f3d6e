"""Fixtures for the HTTP API: an app on a rolled-back transaction, and a token per role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from connectors.mock import MockPlatform
from publicist.core.clock import FrozenClock
from publicist.core.database import dispose_engines
from publicist.core.migrate import upgrade
from publicist.core.settings import Settings, get_settings, reset_settings
from publicist.web.app import create_app
from publicist.web.tokens import Role, create_token
from tests.conftest import TEST_SECRET
from tests.web.browsing import chromium
from tests.web.seed import START, Seeded, seed_engagement


@dataclass
class Api:
    """A client for the app plus a ready token of each role."""

    client: TestClient
    sessions: sessionmaker[Session]
    clock: FrozenClock
    tokens: dict[Role, str]

    def auth(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    @property
    def admin(self) -> dict[str, str]:
        return self.auth(Role.ADMIN)

    @property
    def approver(self) -> dict[str, str]:
        return self.auth(Role.APPROVER)

    @property
    def editor(self) -> dict[str, str]:
        return self.auth(Role.EDITOR)

    @property
    def viewer(self) -> dict[str, str]:
        return self.auth(Role.VIEWER)


def app_settings() -> Settings:
    return Settings(secret_key=TEST_SECRET, default_timezone="Asia/Shanghai")


def issue_tokens(sessions: sessionmaker[Session], clock: FrozenClock) -> dict[Role, str]:
    with sessions() as session, session.begin():
        issued = {
            role: create_token(session, role=role, name=f"test {role.value}", now=clock.now())
            for role in Role
        }
        return {role: token.secret for role, token in issued.items()}


@pytest.fixture
def rolled_back_sessions(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions that commit savepoints inside one outer transaction, rolled back at the end.

    Each request still gets its own session that commits or rolls back, as in production.
    """
    connection = engine.connect()
    outer = connection.begin()
    try:
        yield sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
    finally:
        outer.rollback()
        connection.close()


@pytest.fixture
def api(rolled_back_sessions: sessionmaker[Session], clock: FrozenClock) -> Iterator[Api]:
    app: FastAPI = create_app(app_settings(), clock=clock, sessions=rolled_back_sessions)
    tokens = issue_tokens(rolled_back_sessions, clock)
    # raise_server_exceptions: any 500 fails the test loudly instead of hiding in a status.
    with TestClient(app, raise_server_exceptions=True) as client:
        yield Api(client=client, sessions=rolled_back_sessions, clock=clock, tokens=tokens)


@pytest.fixture(scope="module")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Seeded]]:
    """One SQLite database per test module, filled by the real pipeline; its tests only read.

    Seeding takes seconds (days of publishing and collecting), so it is done once per module.
    """
    url = f"sqlite:///{tmp_path_factory.mktemp('seeded') / 'publicist.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PUBLICIST_DATABASE_URL", url)
        patch.setenv("PUBLICIST_SECRET_KEY", TEST_SECRET)
        reset_settings()
        dispose_engines()
        upgrade(url)
        MockPlatform.forget_memory()
        try:
            settings = get_settings()
            yield settings, seed_engagement(settings, FrozenClock(START), MockPlatform.open())
        finally:
            MockPlatform.forget_memory()
            dispose_engines()
    reset_settings()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's chromium, headless, once per browser-test module (no browser download)."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium(), headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()
