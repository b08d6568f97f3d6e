"""``/api/inbox``, ``/api/deliveries/{id}/…`` and ``/api/series``: the same services as the
inbox page and the CLI, with roles, errors as JSON, and the series page."""

from __future__ import annotations

from datetime import timedelta

import pytest

from campaigns.people.roles import Role
from campaigns.queries import Windows, inbox, inbox_count
from tests.web.conftest import Api, app_settings
from tests.web.inbox_data import PASSWORD, InboxPlan, make_plan
from tests.web.test_inbox import _csrf


@pytest.fixture
def plan(api: Api) -> InboxPlan:
    with api.sessions() as session, session.begin():
        found = make_plan(session, api.clock.now())
    api.clock.advance(timedelta(minutes=1))
    return found


def test_inbox_lists_items_with_reasons_and_actions(api: Api, plan: InboxPlan) -> None:
    response = api.client.get("/api/inbox", headers=api.viewer)
    assert response.status_code == 200
    items = {(i["kind"], i["delivery_id"] or i["post_id"]): i for i in response.json()}
    failed = items[("delivery", plan.failed)]
    assert failed["reason"] == "duplicate"
    assert failed["reason_text"].startswith("The platform refused the post because it repeats")
    assert failed["detail"] == "mock: Status is a duplicate."
    assert failed["code"] == "187"
    assert failed["actions"] == ["retry", "reschedule", "cancel"]
    assert items[("delivery", plan.unknown)]["actions"] == ["confirm", "republish", "cancel"]
    assert items[("delivery", plan.limited)]["state"] == "rate_limited"
    assert items[("post", plan.expired_post)]["state"] == "expired"
    dues = [i["due_at"] for i in response.json()]
    assert dues == sorted(dues, reverse=True)


def test_the_badge_counts_every_kind_the_inbox_lists(api: Api, plan: InboxPlan) -> None:
    """Ended badly, rate-limited and expired in review: the count every page shows (one
    statement, built once) equals the inbox's length, and follows the clock."""
    windows = Windows.from_settings(app_settings())
    with api.sessions() as session:
        for moment in (api.clock.now(), api.clock.now() + timedelta(days=2)):
            listed = inbox(session, now=moment, windows=windows)
            assert inbox_count(session, now=moment, windows=windows) == len(listed)
            assert {item.state for item in listed} >= {"failed", "unknown", "expired"}


def test_delivery_actions_need_an_approver(api: Api, plan: InboxPlan) -> None:
    refused = api.client.post(f"/api/deliveries/{plan.failed}/retry", headers=api.editor)
    assert refused.status_code == 403
    done = api.client.post(f"/api/deliveries/{plan.failed}/retry", headers=api.approver)
    assert done.status_code == 200
    assert done.json()["state"] == "scheduled"
    again = api.client.post(
        f"/api/deliveries/{plan.failed}/confirm",
        headers=api.approver,
        json={"url": "https://x.com/a/1"},
    )
    assert again.status_code == 409
    assert "cannot become published" in again.json()["error"]["message"]


def test_confirm_refuses_a_non_http_url(api: Api, plan: InboxPlan) -> None:
    for url in ("ftp://x.com/a", "javascript:alert(1)", "https://user:pw@x.com/a", "x.com/a"):
        bad = api.client.post(
            f"/api/deliveries/{plan.unknown}/confirm", headers=api.approver, json={"url": url}
        )
        assert bad.status_code == 422, url
        assert bad.json()["error"]["field"] == "url"
    good = api.client.post(
        f"/api/deliveries/{plan.unknown}/confirm",
        headers=api.approver,
        json={"url": "https://x.com/IPRinCN/status/1"},
    )
    assert good.json()["state"] == "published"
    assert good.json()["url"] == "https://x.com/IPRinCN/status/1"


def test_republish_reschedule_and_cancel(api: Api, plan: InboxPlan) -> None:
    republished = api.client.post(f"/api/deliveries/{plan.unknown}/republish", headers=api.approver)
    assert republished.json()["state"] == "scheduled"
    gap = api.client.post(
        f"/api/deliveries/{plan.limited}/reschedule",
        headers=api.approver,
        json={"at": "2026-04-19 10:00"},
    )
    assert gap.status_code == 422
    assert "in the past" in gap.json()["error"]["rule"]
    moved = api.client.post(
        f"/api/deliveries/{plan.limited}/reschedule",
        headers=api.approver,
        json={"at": "2026-04-21 10:00"},
    )
    assert moved.json()["due_at"] == "2026-04-21T02:00:00Z"
    cancelled = api.client.post(f"/api/deliveries/{plan.failed}/cancel", headers=api.approver)
    assert cancelled.json()["state"] == "cancelled"
    missing = api.client.post("/api/deliveries/999999/cancel", headers=api.approver)
    assert missing.status_code == 404


SERIES = {
    "campaign": "Main",
    "text": "Tip of the day",
    "accounts": ["mock:cnipa"],
    "rule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
    "starts": "2026-04-20 09:30",
    "until": "2026-04-26",
}


def test_series_through_the_api(api: Api, plan: InboxPlan) -> None:
    made = api.client.post("/api/series", headers=api.approver, json=SERIES | {"approve": True})
    assert made.status_code == 201, made.text
    body = made.json()
    assert len(body["occurrences"]) == 5
    assert body["occurrences"][0]["publish_at"] == "2026-04-20T01:30:00Z"
    assert {o["state"] for o in body["occurrences"]} == {"scheduled"}
    shown = api.client.get(f"/api/series/{body['id']}", headers=api.viewer).json()
    assert shown == body
    listed = api.client.get("/api/series", headers=api.viewer).json()
    assert [s["id"] for s in listed] == [body["id"]]
    cancelled = api.client.post(f"/api/series/{body['id']}/cancel", headers=api.approver).json()
    assert len(cancelled["cancelled"]) == 5
    assert {o["state"] for o in cancelled["series"]["occurrences"]} == {"cancelled"}


def test_series_errors_name_field_and_rule(api: Api, plan: InboxPlan) -> None:
    too_many = api.client.post(
        "/api/series",
        headers=api.editor,
        json=SERIES | {"rule": "FREQ=HOURLY", "until": "2026-06-01"},
    )
    assert too_many.status_code == 422
    assert too_many.json()["error"]["field"] == "rule"
    assert "more than 500" in too_many.json()["error"]["rule"]
    with_at = api.client.post("/api/series", headers=api.editor, json=SERIES | {"at": "x"})
    assert with_at.status_code == 422
    editor_approves = api.client.post(
        "/api/series", headers=api.editor, json=SERIES | {"approve": True}
    )
    assert editor_approves.status_code == 403
    assert api.client.get("/api/inbox").status_code == 401


def test_series_page_lists_occurrences_with_links(api: Api, plan: InboxPlan) -> None:
    made = api.client.post("/api/series", headers=api.approver, json=SERIES).json()
    client = api.client
    csrf = _csrf(client.get("/signin").text)
    client.post(
        "/signin",
        data={
            "email": f"{Role.APPROVER.value}@example.org",
            "password": PASSWORD,
            "csrf_token": csrf,
        },
    )
    page = client.get(f"/series/{made['id']}").text
    for occurrence in made["occurrences"]:
        assert f'href="/posts/{occurrence["post_id"]}"' in page
    assert "2026-04-20 09:30 CST" in page
    assert f'href="/series/{made["id"]}"' in client.get("/series").text
    cancelled = client.post(f"/series/{made['id']}/cancel", data={"csrf_token": _csrf(page)})
    assert "Cancelled 5 future posts of this series." in cancelled.text
    assert client.get("/series/999999").status_code == 404
