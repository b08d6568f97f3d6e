"""The calendar page: who may read and move, the reschedule rules in the person's language,
filters and zones, and the secret iCalendar feed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx2
import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar

from campaigns.models import Delivery, Post
from campaigns.people.roles import Role
from campaigns.people.services import add_person
from campaigns.schemas import PostInput
from campaigns.services import add_post, cancel_post
from publicist.web.redact import redact
from tests import factories
from tests.web.conftest import Api

PASSWORD = "correct horse battery"


@pytest.fixture
def plan(api: Api) -> dict[str, int]:
    """Two campaigns (Shanghai, New York), three posts, people of each role."""
    now = api.clock.now()  # Monday 2026-04-20 09:00 in Shanghai
    with api.sessions() as session, session.begin():
        factories.account(session, handle="@IPRinCN", now=now)
        factories.account(session, handle="cnipa", now=now)
        main = factories.campaign(session, name="Main", now=now)
        york = factories.campaign(session, name="York", now=now, timezone="America/New_York")
        first = add_post(
            session,
            data=PostInput(
                campaign="Main",
                text="专利如何走进千家万户\nsecond line",
                accounts=["mock:@IPRinCN", "mock:cnipa"],
                at="2026-04-22 09:30",
            ),
            now=now,
            approve=True,
        )
        dst = add_post(
            session,
            data=PostInput(
                campaign="York",
                text="Spring forward",
                accounts=["mock:cnipa"],
                at="2027-03-10 09:00",
            ),
            now=now,
            approve=True,
        )
        gone = add_post(
            session,
            data=PostInput(
                campaign="Main", text="Called off", accounts=["mock:cnipa"], at="2026-04-23 10:00"
            ),
            now=now,
            approve=True,
        )
        cancel_post(session, post_id=gone.id, now=now)
        for role in Role:
            add_person(
                session,
                name=f"{role.value} person",
                email=f"{role.value}@example.org",
                role=role,
                password=PASSWORD,
                now=now,
                timezone="Europe/Berlin" if role is Role.APPROVER else None,
            )
        return {"main": main.id, "york": york.id, "first": first.id, "dst": dst.id, "gone": gone.id}


@pytest.fixture
def people(api: Api) -> Iterator[dict[str, TestClient]]:
    clients: dict[str, TestClient] = {}
    yield clients
    for client in clients.values():
        client.close()


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None, page[:500]
    return found.group(1)


def _signed_in(api: Api, role: Role, language: str = "en") -> TestClient:
    client = TestClient(api.client.app, raise_server_exceptions=True)
    client.headers["Accept-Language"] = "zh-CN" if language == "zh_CN" else "en"
    csrf = _csrf(client.get("/signin").text)
    response = client.post(
        "/signin",
        data={"email": f"{role.value}@example.org", "password": PASSWORD, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


def _move(client: TestClient, post_id: int, **fields: str) -> httpx2.Response:
    page = client.get(f"/calendar?post={post_id}")
    return client.post(
        "/calendar/reschedule",
        data={"csrf_token": _csrf(page.text), "post_id": str(post_id), **fields},
        follow_redirects=False,
    )


def _publish_at(api: Api, post_id: int) -> tuple[datetime | None, list[datetime]]:
    with api.sessions() as session:
        post = session.get(Post, post_id)
        assert post is not None
        due = [d.due_at for d in session.query(Delivery).filter(Delivery.post_id == post_id)]
        return post.publish_at, due


def test_a_signed_out_browser_is_sent_to_sign_in(api: Api, plan: dict[str, int]) -> None:
    response = api.client.get("/calendar?view=month", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=%2Fcalendar%3Fview%3Dmonth"


def test_a_viewer_reads_the_week_in_chinese_and_may_not_move(
    api: Api, plan: dict[str, int]
) -> None:
    viewer = _signed_in(api, Role.VIEWER, "zh_CN")
    page = viewer.get("/calendar")
    assert page.status_code == 200
    text = page.text
    assert 'lang="zh-CN"' in text
    assert "2026-04-20 – 2026-04-26" in text
    assert text.count('class="entry state-scheduled"') == 2  # one per account
    assert "专利如何走进千家万户" in text
    assert "second line" not in text
    assert "已排期" in text
    assert "已取消" in text
    assert "draggable" not in text
    assert 'action="/calendar/reschedule"' not in text
    refused = viewer.post(
        "/calendar/reschedule",
        data={
            "csrf_token": _csrf(text),
            "post_id": str(plan["first"]),
            "date": "2026-04-24",
            "time": "09:30",
        },
    )
    assert refused.status_code == 403
    assert _publish_at(api, plan["first"])[0] == datetime(2026, 4, 22, 1, 30, tzinfo=UTC)


def test_an_approver_moves_a_post_with_the_form(api: Api, plan: dict[str, int]) -> None:
    approver = _signed_in(api, Role.APPROVER)
    response = _move(
        approver, plan["first"], date="2026-04-24", time="18:00", campaign=str(plan["main"])
    )
    assert response.status_code == 303, response.text
    moved = datetime(2026, 4, 24, 10, 0, tzinfo=UTC)  # 18:00 in Shanghai
    assert _publish_at(api, plan["first"]) == (moved, [moved, moved])
    page = approver.get(response.headers["location"])
    assert (
        f"Post {plan['first']} moved to 2026-04-24 18:00+08:00 (CST, Asia/Shanghai)." in page.text
    )


def test_a_form_without_the_csrf_token_is_refused(api: Api, plan: dict[str, int]) -> None:
    approver = _signed_in(api, Role.APPROVER)
    response = approver.post(
        "/calendar/reschedule",
        data={"post_id": str(plan["first"]), "date": "2026-04-24", "time": "18:00"},
    )
    assert response.status_code == 403
    assert _publish_at(api, plan["first"])[0] == datetime(2026, 4, 22, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "does not exist in America/New_York"), ("zh_CN", "在 America/New_York 不存在")],
)
def test_a_time_the_clocks_skip_is_refused_with_its_neighbours(
    api: Api, plan: dict[str, int], language: str, words: str
) -> None:
    approver = _signed_in(api, Role.APPROVER, language)
    response = _move(
        approver, plan["dst"], date="2027-03-14", time="02:30", campaign=str(plan["york"])
    )
    assert response.status_code == 422
    assert words in response.text
    assert "2027-03-14 01:59-05:00 (EST)" in response.text
    assert "2027-03-14 03:00-04:00 (EDT)" in response.text
    assert _publish_at(api, plan["dst"])[0] == datetime(2027, 3, 10, 14, 0, tzinfo=UTC)
    # One of the offered times, sent back as offered, is taken.
    chosen = approver.post(
        "/calendar/reschedule",
        data={
            "csrf_token": _csrf(response.text),
            "post_id": str(plan["dst"]),
            "at": "2027-03-14 03:00-04:00",
            "campaign": str(plan["york"]),
        },
        follow_redirects=False,
    )
    assert chosen.status_code == 303, chosen.text
    assert _publish_at(api, plan["dst"])[0] == datetime(2027, 3, 14, 7, 0, tzinfo=UTC)


def test_a_time_the_clocks_pass_twice_asks_which_one(api: Api, plan: dict[str, int]) -> None:
    approver = _signed_in(api, Role.APPROVER)
    response = _move(
        approver, plan["dst"], date="2026-11-01", time="01:30", campaign=str(plan["york"])
    )
    assert response.status_code == 422
    assert "happens twice in America/New_York" in response.text
    assert "2026-11-01 01:30-04:00 (EDT)" in response.text
    assert "2026-11-01 01:30-05:00 (EST)" in response.text


@pytest.mark.parametrize(("language", "words"), [("en", "is in the past"), ("zh_CN", "已经过去")])
def test_a_past_time_is_refused(api: Api, plan: dict[str, int], language: str, words: str) -> None:
    approver = _signed_in(api, Role.APPROVER, language)
    response = _move(approver, plan["first"], date="2026-04-19", time="09:00")
    assert response.status_code == 422
    assert words in response.text
    assert _publish_at(api, plan["first"])[0] == datetime(2026, 4, 22, 1, 30, tzinfo=UTC)


def test_a_cancelled_post_is_a_conflict(api: Api, plan: dict[str, int]) -> None:
    approver = _signed_in(api, Role.APPROVER, "zh_CN")
    response = _move(approver, plan["gone"], date="2026-04-25", time="09:00")
    assert response.status_code == 409
    assert "冲突" in response.text
    assert "已取消" in response.text


def test_the_approver_reads_and_moves_in_their_own_zone(api: Api, plan: dict[str, int]) -> None:
    approver = _signed_in(api, Role.APPROVER)
    page = approver.get(f"/calendar?zone=Europe/Berlin&post={plan['first']}")
    assert "My zone (Europe/Berlin)" in page.text
    assert '<span class="time">03:30</span>' in page.text  # 09:30 in Shanghai
    response = _move(approver, plan["first"], date="2026-04-24", time="12:00", zone="Europe/Berlin")
    assert response.status_code == 303, response.text
    assert _publish_at(api, plan["first"])[0] == datetime(2026, 4, 24, 10, 0, tzinfo=UTC)


def test_filters_and_views(api: Api, plan: dict[str, int]) -> None:
    viewer = _signed_in(api, Role.VIEWER)
    cancelled = viewer.get("/calendar?view=list&state=cancelled").text
    assert "Called off" in cancelled
    assert "专利" not in cancelled
    month = viewer.get(f"/calendar?view=month&start=2027-03-01&campaign={plan['york']}").text
    assert "Spring forward" in month
    assert "2027-03" in month
    assert "Called off" not in viewer.get(f"/calendar?campaign={plan['york']}").text


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("view=year", "view"),
        ("start=2026-13-01", "start"),
        ("state=lost", "state"),
        ("zone=Mars/Base", "zone"),
        ("campaign=x", "campaign"),
    ],
)
def test_a_bad_address_names_the_field(
    api: Api, plan: dict[str, int], query: str, field: str
) -> None:
    viewer = _signed_in(api, Role.VIEWER)
    response = viewer.get(f"/calendar?{query}")
    assert response.status_code == 422
    assert "This page could not be shown" in response.text
    assert field in response.text


def test_an_unknown_campaign_is_not_found(api: Api, plan: dict[str, int]) -> None:
    response = _signed_in(api, Role.VIEWER).get("/calendar?campaign=999")
    assert response.status_code == 404
    assert "campaign 999 does not exist" in response.text


def test_the_feed_is_made_read_back_and_revoked(api: Api, plan: dict[str, int]) -> None:
    editor = _signed_in(api, Role.EDITOR)
    page = editor.get(f"/calendar?campaign={plan['main']}")
    made = editor.post(
        "/calendar/feeds", data={"csrf_token": _csrf(page.text), "campaign": str(plan["main"])}
    )
    assert made.status_code == 200
    found = re.findall(
        r'value="(http://testserver/calendar/feeds/([A-Za-z0-9_-]{43,})\.ics)"', made.text
    )
    assert len(found) == 1
    address, secret = found[0]
    # Anyone with the address reads it, without signing in.
    feed = api.client.get(address.removeprefix("http://testserver"))
    assert feed.status_code == 200
    assert feed.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(feed.content)
    events = sorted(calendar.walk("VEVENT"), key=lambda e: str(e["uid"]))
    assert len(events) == 3  # two accounts of the first post, and the cancelled one
    first = [e for e in events if "专利" in str(e["summary"])]
    assert len(first) == 2
    assert first[0].decoded("dtstart") == datetime(2026, 4, 22, 1, 30, tzinfo=UTC)
    assert str(first[0]["summary"]).startswith("[mock] ")
    assert "State: scheduled" in str(first[0]["description"])
    assert "mock:@IPRinCN, mock:cnipa" in str(first[0]["description"])
    assert str(first[0]["url"]).startswith("http://testserver/calendar?campaign=")
    assert [str(e.get("status")) for e in events if "Called off" in str(e["summary"])] == [
        "CANCELLED"
    ]
    uids = {str(e["uid"]) for e in events}
    again = Calendar.from_ical(api.client.get(address.removeprefix("http://testserver")).content)
    assert {str(e["uid"]) for e in again.walk("VEVENT")} == uids  # stable
    # The page never shows the secret again; revoking it ends the feed.
    page = editor.get(f"/calendar?campaign={plan['main']}")
    assert secret not in page.text
    feed_id = re.search(r'action="/calendar/feeds/(\d+)/revoke"', page.text)
    assert feed_id is not None
    revoked = editor.post(
        f"/calendar/feeds/{feed_id.group(1)}/revoke",
        data={"csrf_token": _csrf(page.text), "campaign": str(plan["main"])},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    assert api.client.get(address.removeprefix("http://testserver")).status_code == 404


def test_a_viewer_makes_no_feed_and_a_wrong_secret_is_not_found(
    api: Api, plan: dict[str, int]
) -> None:
    viewer = _signed_in(api, Role.VIEWER)
    page = viewer.get(f"/calendar?campaign={plan['main']}")
    assert "/calendar/feeds" not in page.text
    made = viewer.post(
        "/calendar/feeds", data={"csrf_token": _csrf(page.text), "campaign": str(plan["main"])}
    )
    assert made.status_code == 403
    assert api.client.get("/calendar/feeds/" + "A" * 43 + ".ics").status_code == 404
    assert api.client.get("/calendar/feeds/short.ics").status_code == 404


def test_a_feed_secret_never_reaches_the_access_log() -> None:
    secret = "Zq3" * 15
    line = f'127.0.0.1:5555 - "GET /calendar/feeds/{secret}.ics HTTP/1.1" 200'
    assert secret not in redact(line)
    assert "/calendar/feeds/[redacted].ics" in redact(line)


def test_an_editor_may_not_move_a_post(api: Api, plan: dict[str, int]) -> None:
    editor = _signed_in(api, Role.EDITOR)
    response = _move(editor, plan["first"], date="2026-04-24", time="18:00")
    assert response.status_code == 403
    assert "Only approvers and admins may move posts." in response.text
