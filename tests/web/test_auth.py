"""Tokens and roles: 401 without a valid token, 403 below the role a route needs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from publicist.core.crypto import secret_digest
from publicist.web.models import ApiToken
from publicist.web.tokens import Role
from tests.web.conftest import Api

ACCOUNT = {"platform": "mock", "handle": "@IPRinCN", "access_token": "secret-access-abc"}

# (method, path, body) for every write; ids that do not exist are fine: roles are checked first.
EDITOR_WRITES: list[tuple[str, str, Any]] = [
    ("POST", "/api/campaigns", {"name": "IP Week"}),
    ("POST", "/api/posts", {"campaign": "x", "text": "t", "accounts": ["a"]}),
    ("POST", "/api/posts/1/approve", None),
    ("POST", "/api/posts/1/schedule", None),
    ("POST", "/api/posts/1/cancel", None),
    ("POST", "/api/posts/1/reschedule", {"at": "2030-01-01 09:00"}),
    ("POST", "/api/posts/1/retry", None),
    ("PATCH", "/api/posts/1", {"text": "t"}),
    ("POST", "/api/imports", None),
]
ADMIN_ONLY: list[tuple[str, str, Any]] = [
    ("POST", "/api/accounts", ACCOUNT),
    ("GET", "/api/tokens", None),
    ("POST", "/api/tokens", {"name": "x", "role": "viewer"}),
    ("DELETE", "/api/tokens/1", None),
]
EDITOR_READS = ["/api/accounts", "/api/campaigns"]
VIEWER_READS = [
    "/api/reports/campaigns",
    "/api/reports/failures",
    "/api/reports/accounts",
    "/api/reports/campaigns/1",
]


def _call(api: Api, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    return api.client.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer pub_not-a-real-token"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer " + "x" * 5000},
    ],
    ids=["missing", "empty", "unknown", "basic", "huge"],
)
@pytest.mark.parametrize("path", ["/api/reports/campaigns", "/api/campaigns", "/api/tokens"])
def test_no_valid_token_is_401(api: Api, headers: dict[str, str], path: str) -> None:
    response = api.client.get(path, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"]["type"] == "unauthorized"


@pytest.mark.parametrize(("method", "path", "body"), EDITOR_WRITES + ADMIN_ONLY)
def test_a_viewer_cannot_write(api: Api, method: str, path: str, body: Any) -> None:
    response = _call(api, method, path, body, api.viewer)
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["type"] == "forbidden"
    assert "viewer" in error["message"]


@pytest.mark.parametrize("path", EDITOR_READS)
def test_a_viewer_reads_reports_only(api: Api, path: str) -> None:
    assert api.client.get(path, headers=api.viewer).status_code == 403


@pytest.mark.parametrize("path", VIEWER_READS)
def test_a_viewer_reads_the_dashboard_endpoints(api: Api, path: str) -> None:
    response = api.client.get(path, headers=api.viewer)
    assert response.status_code in (200, 404)  # campaign 1 may not exist; never 401/403
    assert response.status_code == 200 or response.json()["error"]["type"] == "not_found"


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ONLY)
def test_an_editor_cannot_manage_accounts_or_tokens(
    api: Api, method: str, path: str, body: Any
) -> None:
    response = _call(api, method, path, body, api.editor)
    assert response.status_code == 403
    assert "admin" in response.json()["error"]["message"]


def test_an_editor_writes(api: Api) -> None:
    response = api.client.post("/api/campaigns", json={"name": "IP Week"}, headers=api.editor)
    assert response.status_code == 201


def test_an_admin_writes_too(api: Api) -> None:
    response = api.client.post("/api/campaigns", json={"name": "IP Week"}, headers=api.admin)
    assert response.status_code == 201


def test_an_admin_issues_lists_and_revokes_tokens(api: Api) -> None:
    created = api.client.post(
        "/api/tokens", json={"name": "wall display", "role": "viewer"}, headers=api.admin
    )
    assert created.status_code == 201
    body = created.json()
    secret = body["token"]
    assert body["role"] == "viewer"
    assert secret.startswith("pub_")

    mine = {"Authorization": f"Bearer {secret}"}
    assert api.client.get("/api/reports/campaigns", headers=mine).status_code == 200

    listed = api.client.get("/api/tokens", headers=api.admin)
    assert listed.status_code == 200
    assert secret not in listed.text  # shown once, never again
    assert {t["name"] for t in listed.json()} >= {"wall display", "test admin"}

    revoked = api.client.delete(f"/api/tokens/{body['id']}", headers=api.admin)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert api.client.get("/api/reports/campaigns", headers=mine).status_code == 401
    again = api.client.delete(f"/api/tokens/{body['id']}", headers=api.admin)
    assert again.status_code == 409


def test_tokens_are_stored_only_as_hashes(api: Api) -> None:
    with api.sessions() as session:
        rows = list(session.scalars(select(ApiToken)))
    stored = {row.token_hash for row in rows}
    for secret in api.tokens.values():
        assert secret not in stored
        assert secret_digest(secret) in stored
        assert all(secret not in repr(row) for row in rows)


def test_a_bad_role_is_refused_with_the_rule(api: Api) -> None:
    response = api.client.post(
        "/api/tokens", json={"name": "x", "role": "owner"}, headers=api.admin
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == "role"
    assert "viewer" in error["rule"]


def test_last_use_is_recorded(api: Api) -> None:
    api.clock.advance(timedelta(minutes=5))
    api.client.get("/api/reports/campaigns", headers=api.viewer)
    with api.sessions() as session:
        token = session.scalars(
            select(ApiToken).where(ApiToken.token_hash == secret_digest(api.tokens[Role.VIEWER]))
        ).one()
    assert token.last_used_at == api.clock.now()
