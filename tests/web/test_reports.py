"""Dashboard endpoints over data made by the real pipeline: the same numbers as the reports."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from campaigns.accounts import get_account
from campaigns.models import Campaign
from campaigns.queries import Windows
from metrics.reports import (
    account_report,
    campaign_report,
    campaign_summaries,
    daily_series,
)
from publicist.core.clock import FrozenClock
from publicist.core.database import session_scope
from publicist.core.settings import Settings
from publicist.web.app import create_app
from publicist.web.tokens import Role, create_token
from tests.web.seed import START, Seeded


@pytest.fixture(scope="module")
def seeded(seeded_db: tuple[Settings, Seeded]) -> Seeded:
    return seeded_db[1]


@pytest.fixture
def viewer(seeded_db: tuple[Settings, Seeded]) -> Iterator[TestClient]:
    settings, _ = seeded_db
    clock = FrozenClock(START)
    with session_scope() as session:
        secret = create_token(session, role=Role.VIEWER, name="wall", now=clock.now()).secret
    app = create_app(settings, clock=clock)  # default sessions: the settings' database
    with TestClient(app, raise_server_exceptions=True) as client:
        client.headers["Authorization"] = f"Bearer {secret}"
        yield client


def _as_of(seeded_db: tuple[Settings, Seeded]) -> dict[str, Any]:
    """What the API passes the reports: its clock's time and its settings' windows."""
    return {"now": START, "windows": Windows.from_settings(seeded_db[0])}


def normal(value: Any) -> Any:
    """JSON from the API and ``to_dict()`` from the CLI, with times compared as times."""
    if isinstance(value, dict):
        return {key: normal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [normal(item) for item in value]
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-" and value[7] == "-":
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def test_the_campaign_list_equals_the_summaries(
    viewer: TestClient, seeded: Seeded, seeded_db: tuple[Settings, Seeded]
) -> None:
    response = viewer.get("/api/reports/campaigns")
    assert response.status_code == 200
    with session_scope() as session:
        expected = [s.to_dict() for s in campaign_summaries(session, **_as_of(seeded_db))]
    assert normal(response.json()) == normal(expected)
    names = [c["campaign"] for c in response.json()]
    assert names == ["GI Stories on the Dining Table", "IP Creates a Better Life"]
    main = response.json()[1]
    assert main["published"] == 12
    assert main["failed"] == 1
    assert (main["unknown"], main["attention"]) == (0, 1)  # the failed one
    assert main["views"] > 0
    assert main["interactions"] > 0


def test_the_campaign_report_equals_the_cli_json(
    viewer: TestClient, seeded: Seeded, seeded_db: tuple[Settings, Seeded]
) -> None:
    response = viewer.get(f"/api/reports/campaigns/{seeded.campaign_id}", params={"top": 3})
    assert response.status_code == 200
    with session_scope() as session:
        campaign = session.get_one(Campaign, seeded.campaign_id)
        expected = campaign_report(session, campaign=campaign, top=3, **_as_of(seeded_db)).to_dict()
    assert normal(response.json()) == normal(expected)
    assert len(response.json()["top_posts"]) == 3


def test_the_fast_totals_equal_the_report(viewer: TestClient, seeded: Seeded) -> None:
    report = viewer.get(f"/api/reports/campaigns/{seeded.campaign_id}").json()
    totals = viewer.get(f"/api/reports/campaigns/{seeded.campaign_id}/totals").json()
    for key in ("views", "interactions", "engagement_rate", "views_coverage"):
        assert totals[key] == report[key]


def test_per_platform_rows_add_up_to_the_totals(viewer: TestClient, seeded: Seeded) -> None:
    report = viewer.get(f"/api/reports/campaigns/{seeded.campaign_id}").json()
    platforms = viewer.get(f"/api/reports/campaigns/{seeded.campaign_id}/platforms").json()
    assert platforms == report["platforms"]
    assert sum(p["views"] for p in platforms) == report["views"]
    assert sum(p["interactions"] for p in platforms) == report["interactions"]
    assert sum(p["published"] for p in platforms) == report["published"]


def test_the_daily_series_adds_up_to_each_platform_total(
    viewer: TestClient, seeded: Seeded
) -> None:
    series = viewer.get(f"/api/reports/campaigns/{seeded.campaign_id}/series").json()
    with session_scope() as session:
        expected = [p.to_dict() for p in daily_series(session, campaign_id=seeded.campaign_id)]
    assert normal(series) == normal(expected)
    assert len({point["day"] for point in series}) >= 3
    growth: dict[str, int] = defaultdict(int)
    for point in series:
        growth[point["platform"]] += point["interactions"]
    report = viewer.get(f"/api/reports/campaigns/{seeded.campaign_id}").json()
    assert dict(growth) == {p["platform"]: p["interactions"] for p in report["platforms"]}


def test_the_chart_is_an_svg_image(viewer: TestClient, seeded: Seeded) -> None:
    response = viewer.get(f"/api/reports/campaigns/{seeded.campaign_id}/chart.svg")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.text.lstrip().startswith("<svg")
    assert "IP Creates a Better Life" in response.text


def test_top_posts_come_with_urls_most_interactions_first(
    viewer: TestClient, seeded: Seeded
) -> None:
    top = viewer.get(
        f"/api/reports/campaigns/{seeded.campaign_id}/top-posts", params={"limit": 5}
    ).json()
    assert len(top) == 5
    assert all(post["url"] for post in top)
    interactions = [post["interactions"] for post in top]
    assert interactions == sorted(interactions, reverse=True)


def test_failures_show_the_platforms_reason(viewer: TestClient, seeded: Seeded) -> None:
    failures = viewer.get(f"/api/reports/campaigns/{seeded.campaign_id}/failures").json()
    assert [(f["post_id"], f["state"]) for f in failures] == [(seeded.failed_post_id, "failed")]
    assert "injected" in failures[0]["error"]
    assert viewer.get(f"/api/reports/campaigns/{seeded.other_campaign_id}/failures").json() == []
    assert viewer.get("/api/reports/failures").json() == failures


def test_the_whole_account_view(
    viewer: TestClient, seeded: Seeded, seeded_db: tuple[Settings, Seeded]
) -> None:
    response = viewer.get(f"/api/reports/accounts/{seeded.account_id}")
    assert response.status_code == 200
    with session_scope() as session:
        account = get_account(session, seeded.account_id)
        expected = account_report(session, account=account, **_as_of(seeded_db)).to_dict()
    body = response.json()
    assert normal(body) == normal(expected)
    assert body["account"] == "mock:@IPRinCN"
    assert body["published"] == 6
    assert body["failed"] == 1
    assert (body["unknown"], body["attention"]) == (0, 1)
    every = viewer.get("/api/reports/accounts").json()
    assert [a["account"] for a in every] == ["mock:@IPRinCN", "mock:cnipa"]
    assert sum(a["views"] for a in every) == sum(
        c["views"] for c in viewer.get("/api/reports/campaigns").json()
    )
