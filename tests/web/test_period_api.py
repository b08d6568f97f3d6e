"""``GET /api/reports/period``: the CLI's period report as a download, in every format."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from campaigns.models import Campaign
from metrics.reports import campaign_report
from publicist.core.clock import FrozenClock
from publicist.core.database import session_scope
from publicist.core.settings import Settings
from publicist.web.app import create_app
from publicist.web.tokens import Role, create_token
from tests.web.seed import MAIN, START, Seeded

PERIOD = {"from": "2026-04-01", "to": "2026-04-30"}


@pytest.fixture(scope="module")
def seeded(seeded_db: tuple[Settings, Seeded]) -> Seeded:
    return seeded_db[1]


@pytest.fixture
def viewer(seeded_db: tuple[Settings, Seeded]) -> Iterator[TestClient]:
    settings, _ = seeded_db
    clock = FrozenClock(START)
    with session_scope() as session:
        secret = create_token(session, role=Role.VIEWER, name="wall", now=clock.now()).secret
    with TestClient(create_app(settings, clock=clock), raise_server_exceptions=True) as client:
        client.headers["Authorization"] = f"Bearer {secret}"
        yield client


def test_json_totals_equal_the_campaign_report(viewer: TestClient, seeded: Seeded) -> None:
    response = viewer.get("/api/reports/period", params={**PERIOD, "campaign": MAIN})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-disposition"] == (
        'attachment; filename="publicist-report-2026-04-01-2026-04-30-'
        'ip-creates-a-better-life.json"'
    )
    data = response.json()
    with session_scope() as session:
        expected = campaign_report(session, campaign=session.get_one(Campaign, seeded.campaign_id))
    assert (data["totals"]["published"], data["totals"]["views"]) == (
        expected.published,
        expected.views,
    )
    assert data["totals"]["interactions"] == expected.interactions
    assert data["summary"].startswith(
        f'In April 2026, the campaign "{MAIN}" published {expected.published} articles'
    )


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [
        ("csv", "text/csv; charset=utf-8"),
        ("html", "text/html; charset=utf-8"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("pdf", "application/pdf"),
    ],
)
def test_every_format_downloads_with_its_type_and_name(
    viewer: TestClient, fmt: str, media_type: str
) -> None:
    response = viewer.get(
        "/api/reports/period",
        params={**PERIOD, "account": "mock:@IPRinCN", "format": fmt, "language": "zh_CN"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == media_type
    assert response.headers["content-disposition"].endswith(f'-mock-iprincn.{fmt}"')
    whole = viewer.get("/api/reports/period", params={**PERIOD, "account": "mock:@IPRinCN"})
    published = whole.json()["totals"]["published"]
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(response.text)))
        total = next(r for r in rows if r["table"] == "total" and r["platform"] == "all")
        assert int(total["published"]) == published
    elif fmt == "xlsx":
        book = load_workbook(io.BytesIO(response.content))
        rows = list(book["按平台"].iter_rows(values_only=True))
        assert rows[-1][1:3] == ("合计", published)
    elif fmt == "html":
        assert "期间报告" in response.text
    else:
        assert response.content.startswith(b"%PDF-")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-04-31", "to": "2026-05-01"}, "from"),
        ({"from": "2026-05-01", "to": "2026-04-01"}, "to"),
        ({**PERIOD, "format": "docx"}, "format"),
        ({**PERIOD, "language": "fr"}, "language"),
        ({**PERIOD, "campaign": "No Such Campaign"}, "campaign"),
        ({**PERIOD, "account": "mock:@nobody"}, "account"),
        ({**PERIOD, "campaign": MAIN, "account": "mock:@IPRinCN"}, "account"),
        ({"to": "2026-04-30"}, "from"),
        ({"from": "9999-12-30", "to": "9999-12-31"}, "to"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(
    viewer: TestClient, params: dict[str, str], field: str
) -> None:
    response = viewer.get("/api/reports/period", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field


def test_the_report_needs_a_token(seeded_db: tuple[Settings, Seeded]) -> None:
    settings, _ = seeded_db
    with TestClient(create_app(settings, clock=FrozenClock(START))) as client:
        assert client.get("/api/reports/period", params=PERIOD).status_code == 401


def test_pdf_without_pango_is_a_503_naming_the_packages(
    viewer: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # as if it could not load
    response = viewer.get("/api/reports/period", params={**PERIOD, "format": "pdf"})
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["type"] == "unavailable"
    assert "libpango-1.0-0" in error["message"]
