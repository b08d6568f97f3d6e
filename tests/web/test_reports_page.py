"""The Reports page: signed-in people choose a period, campaign or account, language and
format; the summary and totals show first; the download is the same report; errors are
named in the person's language."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from campaigns.people.roles import Role
from campaigns.people.services import add_person
from metrics.period import period_report
from publicist.core.clock import FrozenClock
from publicist.core.database import session_scope
from publicist.core.settings import Settings
from publicist.web.app import create_app
from publicist.web.report_periods import preset_period
from tests.web.seed import MAIN, START, Seeded

PASSWORD = "correct horse battery"
APRIL = {"from": "2026-04-01", "to": "2026-04-30"}


@pytest.fixture(scope="module")
def app_and_people(seeded_db: tuple[Settings, Seeded]) -> tuple[Settings, Seeded]:
    settings, seeded = seeded_db
    with session_scope() as session:
        add_person(
            session,
            name="Viewer",
            email="viewer-reports@example.org",
            role=Role.VIEWER,
            password=PASSWORD,
            now=START,
        )
    return settings, seeded


def _client(settings: Settings, language: str) -> TestClient:
    client = TestClient(create_app(settings, clock=FrozenClock(START)))
    client.headers["Accept-Language"] = "zh-CN" if language == "zh_CN" else "en"
    page = client.get("/signin").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None
    response = client.post(
        "/signin",
        data={
            "email": "viewer-reports@example.org",
            "password": PASSWORD,
            "csrf_token": csrf.group(1),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


@pytest.fixture
def viewer(app_and_people: tuple[Settings, Seeded]) -> Iterator[TestClient]:
    with _client(app_and_people[0], "en") as client:
        yield client


@pytest.fixture
def viewer_zh(app_and_people: tuple[Settings, Seeded]) -> Iterator[TestClient]:
    with _client(app_and_people[0], "zh_CN") as client:
        yield client


def _value(page: str, key: str) -> str:
    found = re.search(rf'data-k="{re.escape(key)}"[^>]*>([^<]*)<', page)
    assert found is not None, key
    return found.group(1).strip()


def test_signed_out_people_are_sent_to_sign_in(app_and_people: tuple[Settings, Seeded]) -> None:
    with TestClient(create_app(app_and_people[0], clock=FrozenClock(START))) as client:
        for path in ("/reports", "/reports/download?from=2026-04-01&to=2026-04-30"):
            response = client.get(path, follow_redirects=False)
            assert response.status_code == 303
            assert response.headers["location"] == "/signin?next=%2Freports"


def test_the_page_shows_the_summary_and_totals_of_the_period_report(
    viewer: TestClient, app_and_people: tuple[Settings, Seeded]
) -> None:
    _, seeded = app_and_people
    page = viewer.get("/reports", params={**APRIL, "campaign": seeded.campaign_id})
    assert page.status_code == 200
    with session_scope() as session:
        from campaigns.models import Campaign

        campaign = session.get_one(Campaign, seeded.campaign_id)
        expected = period_report(
            session, start=date(2026, 4, 1), end=date(2026, 4, 30), campaign=campaign
        )
    assert expected.totals.published > 0
    assert _value(page.text, "summary") == expected.summary.replace('"', "&#34;")
    assert _value(page.text, "total-published") == f"{expected.totals.published:,}"
    assert _value(page.text, "total-interactions") == f"{expected.totals.interactions:,}"
    assert _value(page.text, "month-2026-04-published") == f"{expected.totals.published:,}"
    assert f'value="{seeded.campaign_id}" selected' in page.text
    assert 'aria-current="page">Reports<' in page.text


def test_the_download_is_the_same_report(
    viewer: TestClient, app_and_people: tuple[Settings, Seeded]
) -> None:
    _, seeded = app_and_people
    page = viewer.get(
        "/reports", params={**APRIL, "campaign": seeded.campaign_id, "format": "xlsx"}
    ).text
    link = re.search(r'href="(/reports/download\?[^"]+)"', page)
    assert link is not None
    response = viewer.get(link.group(1).replace("&amp;", "&"))
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    cells = [
        str(cell) for row in workbook.worksheets[0].iter_rows(values_only=True) for cell in row
    ]
    assert _value(page, "total-published").replace(",", "") in cells
    assert _value(page, "total-interactions").replace(",", "") in cells
    assert MAIN in " ".join(cells)


def test_the_summary_comes_in_the_chosen_language(viewer: TestClient) -> None:
    page = viewer.get("/reports", params={**APRIL, "language": "zh_CN"}).text
    summary = _value(page, "summary")
    assert summary.startswith("2026年4月")
    assert 'lang="zh-CN" data-k="summary"' in page


@pytest.mark.parametrize(
    ("params", "status", "english", "chinese"),
    [
        (
            {"from": "2026-05-01", "to": "2026-04-01"},
            422,
            "The period ends ('2026-04-01') before it starts.",
            "报告期的结束日（'2026-04-01'）早于开始日。",
        ),
        (
            {**APRIL, "campaign": "999999"},
            404,
            "There is no campaign with the id 999999.",
            "没有编号为 999999 的活动。",
        ),
        (
            {"from": "2026-13-01", "to": "2026-04-30"},
            422,
            "From: '2026-13-01' is not a date (YYYY-MM-DD).",
            "开始日期：'2026-13-01' 不是日期（YYYY-MM-DD）。",
        ),
    ],
    ids=["ends before it starts", "unknown campaign", "not a date"],
)
def test_errors_are_named_in_the_persons_language(
    viewer: TestClient,
    viewer_zh: TestClient,
    params: dict[str, str],
    status: int,
    english: str,
    chinese: str,
) -> None:
    for client, message in ((viewer, english), (viewer_zh, chinese)):
        for path in ("/reports", "/reports/download"):
            response = client.get(path, params=params)
            assert response.status_code == status
            assert _value(response.text, "problem").replace("&#39;", "'") == message


@pytest.mark.parametrize(
    ("name", "today", "first", "last"),
    [
        ("this-month", date(2026, 12, 2), date(2026, 12, 1), date(2026, 12, 2)),
        ("last-quarter", date(2026, 12, 2), date(2026, 7, 1), date(2026, 9, 30)),
        ("last-quarter", date(2026, 2, 14), date(2025, 10, 1), date(2025, 12, 31)),
        ("this-year", date(2026, 12, 2), date(2026, 1, 1), date(2026, 12, 2)),
    ],
)
def test_presets(name: str, today: date, first: date, last: date) -> None:
    assert preset_period(name, today=today) == (first, last)
