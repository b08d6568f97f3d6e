"""Every refusal is the API's JSON error, including those decided before any handler runs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from publicist.core.clock import FrozenClock
from publicist.web.app import MAX_BODY_BYTES, create_app
from tests.web.conftest import Api, app_settings


@pytest.mark.parametrize(
    "path", ["/api/posts", "/api/imports", "/api/accounts", "/dashboard/login", "/api/nowhere"]
)
def test_a_declared_body_over_the_limit_is_a_json_413(api: Api, path: str) -> None:
    body = b'{"text": "' + b"x" * MAX_BODY_BYTES + b'"}'
    response = api.client.post(
        path, content=body, headers={**api.admin, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["type"] == "too_large"
    assert str(MAX_BODY_BYTES) in error["message"]


def test_a_streamed_body_over_the_limit_is_a_json_413(api: Api) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(MAX_BODY_BYTES // (1024 * 1024) + 1):
            yield b"x" * (1024 * 1024)

    response = api.client.post(
        "/api/imports", content=chunks(), headers={**api.approver, "Content-Type": "text/csv"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["type"] == "too_large"


def test_a_body_at_the_limit_is_read(api: Api) -> None:
    body = b"campaign,at,accounts,text\n" + b"#" * (MAX_BODY_BYTES - 100)
    response = api.client.post(
        "/api/imports", content=body, headers={**api.approver, "Content-Type": "text/csv"}
    )
    assert response.status_code == 422  # read, then refused for what it says
    assert response.json()["error"]["field"] == "file"


@pytest.fixture
def seeded(api: Api) -> Api:
    account = {"platform": "mock", "handle": "@IPRinCN", "access_token": "secret-access-abc"}
    assert api.client.post("/api/accounts", json=account, headers=api.admin).status_code == 201
    campaign = {"name": "IP Week", "timezone": "Asia/Shanghai"}
    assert api.client.post("/api/campaigns", json=campaign, headers=api.editor).status_code == 201
    return api


@pytest.mark.parametrize("campaign", ["%00", "IP%00Week", "IP Week%00"])
def test_a_nul_in_a_query_reference_names_the_field(seeded: Api, campaign: str) -> None:
    """PostgreSQL refused these with "the database refused a value" and no field."""
    response = seeded.client.get(f"/api/posts?campaign={campaign}", headers=seeded.editor)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == "campaign"
    assert "NUL" in error["rule"]


ROWS = {
    "campaign": b"IP\x00Week,2099-04-21 10:00,mock:@IPRinCN,b,t,x",
    "accounts": b"IP Week,2099-04-21 10:00,mock:@IPR\x00inCN,b,t,x",
    "title": b"IP Week,2099-04-21 10:00,mock:@IPRinCN,b,t\x00t,x",
    "variant": b"IP Week,2099-04-21 10:00,mock:@IPRinCN,b,t,x\x00y",
}


@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
def test_a_nul_in_an_imported_file_names_its_line_and_writes_nothing(
    seeded: Api, row: bytes
) -> None:
    good = b"IP Week,2099-04-21 10:00,mock:@IPRinCN,fine,t,x"
    data = b"campaign,at,accounts,text,title,text@mock\n" + good + b"\n" + row + b"\n"
    response = seeded.client.post(
        "/api/imports", content=data, headers={**seeded.approver, "Content-Type": "text/csv"}
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == "line 3"
    assert "NUL" in error["rule"]
    assert seeded.client.get("/api/posts", headers=seeded.editor).json() == []


def test_a_route_with_a_larger_limit_reads_more_and_still_answers_json(
    rolled_back_sessions: sessionmaker[Session], clock: FrozenClock
) -> None:
    """Limits stay FastAPI's own, so an upload route may allow more than the API's 6 MiB."""
    app = create_app(app_settings(), clock=clock, sessions=rolled_back_sessions)

    @app.post("/big", max_body_size=2 * MAX_BODY_BYTES)
    async def big(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    with TestClient(app) as client:
        fits = client.post("/big", content=b"x" * (MAX_BODY_BYTES + 1))
        assert fits.json() == {"size": MAX_BODY_BYTES + 1}
        over = client.post("/big", content=b"x" * (2 * MAX_BODY_BYTES + 1))
        assert over.status_code == 413
        assert over.headers["content-type"] == "application/json"
        assert str(2 * MAX_BODY_BYTES) in over.json()["error"]["message"]
