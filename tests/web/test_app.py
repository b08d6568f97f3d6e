"""The application around the routes: health, OpenAPI, the database's own refusals."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import sessionmaker

from publicist.core.database import make_engine
from publicist.web.app import create_app
from tests.web.conftest import Api, app_settings


def test_health_needs_no_token(api: Api) -> None:
    response = api.client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "reachable"}


def test_health_is_503_when_the_database_does_not_answer(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'missing' / 'no.db'}")
    app = create_app(app_settings(), sessions=sessionmaker(bind=engine))
    with TestClient(app, raise_server_exceptions=True) as client:
        response = client.get("/health")
    engine.dispose()
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_openapi_documents_every_route_and_the_bearer_scheme(api: Api) -> None:
    assert api.client.get("/docs").status_code == 200
    schema = api.client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/accounts",
        "/api/campaigns",
        "/api/posts",
        "/api/posts/{post_id}/reschedule",
        "/api/imports",
        "/api/tokens",
        "/api/reports/campaigns",
        "/api/reports/campaigns/{campaign_id}/series",
        "/api/reports/accounts/{account_id}",
        "/health",
    ):
        assert path in paths, path
    assert "/dashboard" not in paths
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    account = schema["components"]["schemas"]["AccountOut"]["properties"]
    assert not {"access_token", "refresh_token", "client_secret", "extra"} & set(account)
    report = schema["components"]["schemas"]["CampaignReport"]["properties"]
    assert {"views", "interactions", "platforms", "top_posts", "daily"} <= set(report)


def test_a_value_too_long_for_its_column_is_422_not_500(api: Api) -> None:
    """The services check column sizes, so SQLite (which would store it) agrees with PostgreSQL."""
    account = {"platform": "mock", "handle": "@IPRinCN", "access_token": "t"}
    assert api.client.post("/api/accounts", json=account, headers=api.admin).status_code == 201
    campaign = {"name": "IP Week", "timezone": "Asia/Shanghai"}
    assert api.client.post("/api/campaigns", json=campaign, headers=api.editor).status_code == 201
    csv = f"campaign,at,accounts,text,title\nIP Week,2026-04-21 10:00,@IPRinCN,t,{'T' * 300}\n"
    response = api.client.post(
        "/api/imports", content=csv.encode(), headers={**api.approver, "Content-Type": "text/csv"}
    )
    assert response.status_code == 422, response.text
    assert "title" in response.text
    assert "the limit is 200" in response.text
