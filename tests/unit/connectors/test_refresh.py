"""The refresh grant fails the same way in every connector that refreshes (connectors.oauth).

Table-driven: each row is one connector with its token endpoint's own way of saying "this
refresh token is revoked or expired" and of answering success; every test runs over all rows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from connectors import registry
from connectors.base import Credentials
from connectors.errors import AuthExpired, ReauthorizationRequired, TransientError
from publicist.core.clock import FrozenClock

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


@dataclass(frozen=True)
class Row:
    slug: str
    revoked: tuple[int, dict[str, Any]]
    """The platform's answer to a revoked or expired refresh token."""
    success: dict[str, Any]


ROWS = [
    Row(
        "twitter",
        (400, {"error": "invalid_request", "error_description": "token was invalid"}),
        {"access_token": "new-at", "refresh_token": "new-rt", "expires_in": 7200},
    ),
    Row(
        "weibo",
        (400, {"error": "expired_token", "error_code": 21327, "request": "/oauth2"}),
        {"access_token": "new-at", "refresh_token": "new-rt", "expires_in": "7200", "uid": "1"},
    ),
    Row(
        "tiktok",
        (400, {"error": "invalid_grant", "error_description": "Refresh token is invalid"}),
        {
            "access_token": "new-at",
            "refresh_token": "new-rt",
            "expires_in": 7200,
            "refresh_expires_in": 31_536_000,
            "open_id": "u",
        },
    ),
    Row(
        "douyin",
        (200, {"data": {"error_code": 10010, "description": "refresh_token过期"}}),
        {
            "data": {
                "error_code": 0,
                "access_token": "new-at",
                "refresh_token": "new-rt",
                "expires_in": 7200,
                "refresh_expires_in": 30 * 86_400,
                "open_id": "u",
            }
        },
    ),
]

CREDENTIALS = Credentials(
    access_token="old-at",
    refresh_token="old-rt",
    client_id="app",
    client_secret="secret",
    user_id="u",
)


def refresh(row: Row, credentials: Credentials, answer: httpx.Response | None) -> Credentials:
    """Refresh through the real connector; ``answer`` is what the token endpoint says
    (``None``: the test expects no request at all)."""
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if answer is None:
            raise AssertionError(f"{row.slug}: a refresh that cannot succeed was sent")
        return answer

    http = httpx.Client(base_url="https://platform.test", transport=httpx.MockTransport(handler))
    connector = registry.load(row.slug)(credentials, http=http, clock=FrozenClock(NOW))
    with http:
        return connector.refresh_credentials()


def needs_reconnect(error: BaseException) -> None:
    assert isinstance(error, ReauthorizationRequired)
    assert isinstance(error, AuthExpired)  # the family: an authorisation problem ...
    assert not error.retryable  # ... that no refresh or retry cures


@pytest.fixture(params=ROWS, ids=[row.slug for row in ROWS])
def row(request: pytest.FixtureRequest) -> Row:
    return request.param  # type: ignore[no-any-return]  # pytest's param is Any


def test_no_refresh_token_needs_reconnect_and_sends_nothing(row: Row) -> None:
    with pytest.raises(ReauthorizationRequired) as raised:
        refresh(row, replace(CREDENTIALS, refresh_token=None), None)
    needs_reconnect(raised.value)
    assert raised.value.code == "no_refresh_token"


def test_a_refresh_token_past_its_stored_expiry_needs_reconnect_and_sends_nothing(
    row: Row,
) -> None:
    expired = {"refresh_expires_at": (NOW - timedelta(seconds=1)).isoformat()}
    with pytest.raises(ReauthorizationRequired) as raised:
        refresh(row, replace(CREDENTIALS, extra=expired), None)
    needs_reconnect(raised.value)
    assert raised.value.code == "refresh_token_expired"


def test_a_revoked_or_expired_refresh_token_needs_reconnect(row: Row) -> None:
    status, body = row.revoked
    with pytest.raises(ReauthorizationRequired) as raised:
        refresh(row, CREDENTIALS, httpx.Response(status, json=body))
    needs_reconnect(raised.value)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_during_refresh_is_transient(row: Row, status: int) -> None:
    with pytest.raises(TransientError) as raised:
        refresh(row, CREDENTIALS, httpx.Response(status, text="upstream unavailable"))
    assert type(raised.value) is TransientError  # not "outcome unknown": nothing is created
    assert raised.value.retryable


def test_an_answer_without_an_access_token_is_transient(row: Row) -> None:
    body: dict[str, Any] = {"data": {"error_code": 0}} if row.slug == "douyin" else {}
    with pytest.raises(TransientError):
        refresh(row, CREDENTIALS, httpx.Response(200, json=body))


def test_a_successful_refresh_keeps_the_rotated_token_and_its_lifetime(row: Row) -> None:
    fresh = refresh(row, CREDENTIALS, httpx.Response(200, json=row.success))
    assert fresh.access_token == "new-at"
    assert fresh.refresh_token == "new-rt"
    assert fresh.expires_at == NOW + timedelta(seconds=7200)
    assert (fresh.client_id, fresh.client_secret) == ("app", "secret")
