"""Idle accounts keep their authorisation: their tokens are refreshed before they lapse."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from campaigns.accounts import create_account, find_account, read_credentials
from connectors.base import Credentials
from connectors.errors import ReauthorizationRequired
from connectors.mock import MockConnector
from publicist.core.clock import FrozenClock
from publicist.core.database import session_scope
from publicist.core.settings import Settings
from scheduler.tokens import run_keep_tokens_alive
from tests import factories

NOW = datetime(2027, 4, 20, 1, 0, tzinfo=UTC)


def _account(handle: str, *, expired_days_ago: float, refreshable: bool = True) -> None:
    with session_scope() as session:
        create_account(
            session,
            platform="mock",
            handle=handle,
            credentials=Credentials(
                access_token=f"access-{handle}",
                refresh_token=f"refresh-{handle}" if refreshable else None,
                expires_at=NOW - timedelta(days=expired_days_ago),
                user_id=handle,
            ),
            secret=factories.SECRET,
            now=NOW - timedelta(days=400),
        )


def _credentials(handle: str) -> Credentials:
    with session_scope() as session:
        return read_credentials(find_account(session, f"mock:{handle}"), secret=factories.SECRET)


def test_only_tokens_idle_longer_than_the_setting_are_refreshed(configured_db: Settings) -> None:
    _account("idle", expired_days_ago=40)
    _account("recent", expired_days_ago=3)
    _account("no-refresh-token", expired_days_ago=40, refreshable=False)

    assert run_keep_tokens_alive(settings=configured_db, clock=FrozenClock(NOW)) == 1

    idle = _credentials("idle")
    assert idle.access_token != "access-idle"
    assert idle.refresh_token not in (None, "refresh-idle")  # rotated, and stored
    assert idle.expires_at is not None
    assert idle.expires_at > NOW
    assert _credentials("recent").access_token == "access-recent"
    assert _credentials("no-refresh-token").access_token == "access-no-refresh-token"
    # refreshed now, so the next run leaves it alone
    assert run_keep_tokens_alive(settings=configured_db, clock=FrozenClock(NOW)) == 0


def test_zero_days_turns_it_off(configured_db: Settings) -> None:
    _account("idle", expired_days_ago=400)
    settings = configured_db.model_copy(update={"token_keepalive_days": 0})
    assert run_keep_tokens_alive(settings=settings, clock=FrozenClock(NOW)) == 0
    assert _credentials("idle").access_token == "access-idle"


def test_an_account_that_needs_authorising_again_is_reported_and_the_rest_go_on(
    configured_db: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _account("revoked", expired_days_ago=40)
    _account("idle", expired_days_ago=40)
    real = MockConnector.refresh_credentials

    def refresh(connector: MockConnector) -> Credentials:
        if connector.credentials.user_id == "revoked":
            raise ReauthorizationRequired("the refresh token was revoked", platform="mock")
        return real(connector)

    monkeypatch.setattr(MockConnector, "refresh_credentials", refresh)
    with caplog.at_level(logging.WARNING, logger="publicist.scheduler"):
        assert run_keep_tokens_alive(settings=configured_db, clock=FrozenClock(NOW)) == 1
    assert "mock:revoked" in caplog.text
    assert "revoked" in caplog.text
    assert "access-revoked" not in caplog.text  # never a token in the log
    assert _credentials("revoked").access_token == "access-revoked"
    assert _credentials("idle").access_token != "access-idle"


def test_an_account_whose_credentials_cannot_be_read_does_not_stop_the_others(
    configured_db: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with session_scope() as session:
        create_account(
            session,
            platform="mock",
            handle="other-key",
            credentials=Credentials(
                access_token="access-other",
                refresh_token="refresh-other",
                expires_at=NOW - timedelta(days=40),
            ),
            secret="a-key-this-installation-does-not-have",
            now=NOW - timedelta(days=400),
        )
    _account("idle", expired_days_ago=40)
    with caplog.at_level(logging.WARNING, logger="publicist.scheduler"):
        assert run_keep_tokens_alive(settings=configured_db, clock=FrozenClock(NOW)) == 1
    assert "mock:other-key" in caplog.text
    assert _credentials("idle").access_token != "access-idle"


def test_a_keepalive_beyond_ten_years_is_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(token_keepalive_days=float("inf"))
    with pytest.raises(ValidationError):
        Settings(token_keepalive_days=4000)
