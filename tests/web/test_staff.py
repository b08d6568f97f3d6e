"""Staff endpoints: accounts (never a secret), campaigns, posts through their life, CSV import."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from campaigns.models import Delivery, Post
from campaigns.states import DeliveryState
from tests.web.conftest import Api

SECRETS = {
    "access_token": "secret-access-abc",
    "refresh_token": "secret-refresh-def",
    "client_secret": "secret-client-ghi",
}


def _account(api: Api, handle: str = "@IPRinCN", **extra: Any) -> dict[str, Any]:
    body = {
        "platform": "mock",
        "handle": handle,
        **SECRETS,
        "client_id": "app-1",
        "extra": {"store": "memory", "signing_key": "secret-extra-jkl"},
        **extra,
    }
    response = api.client.post("/api/accounts", json=body, headers=api.admin)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _campaign(api: Api, name: str = "IP Creates a Better Life", **extra: Any) -> dict[str, Any]:
    body = {"name": name, "timezone": "Asia/Shanghai", **extra}
    response = api.client.post("/api/campaigns", json=body, headers=api.approver)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _post(api: Api, **fields: Any) -> Any:
    body = {
        "campaign": "IP Creates a Better Life",
        "text": "How a patent reaches your home",
        "accounts": ["mock:@IPRinCN"],
        **fields,
    }
    return api.client.post("/api/posts", json=body, headers=api.approver)


def _no_secret_in(text: str) -> None:
    for secret in [*SECRETS.values(), "secret-extra-jkl", "signing_key"]:
        assert secret not in text


def test_accounts_never_show_a_secret(api: Api) -> None:
    created = _account(api, api_base_url="https://sim.example/api")
    assert created["label"] == "mock:@IPRinCN"
    assert created["api_base_url"] == "https://sim.example/api"
    # A password in the endpoint would be shown in lists and the audit log: refused.
    refused = api.client.post(
        "/api/accounts",
        json={
            "platform": "mock",
            "handle": "@third",
            "api_base_url": "https://user:pa55word@sim.example/api",
            **SECRETS,
        },
        headers=api.admin,
    )
    assert refused.status_code == 422
    assert "pa55word" not in refused.text
    responses = [
        api.client.post(
            "/api/accounts",
            json={"platform": "mock", "handle": "@other", **SECRETS},
            headers=api.admin,
        ),
        api.client.get("/api/accounts", headers=api.approver),
        api.client.get(f"/api/accounts/{created['id']}", headers=api.approver),
        api.client.get("/api/reports/accounts", headers=api.viewer),
        api.client.get(f"/api/reports/accounts/{created['id']}", headers=api.viewer),
    ]
    for response in responses:
        assert response.status_code in (200, 201), response.text
        _no_secret_in(response.text)
        assert "pa55word" not in response.text
    assert [a["handle"] for a in responses[1].json()] == ["@IPRinCN", "@other"]


def test_a_duplicate_account_is_a_conflict_that_shows_no_secret(api: Api) -> None:
    _account(api)
    again = api.client.post(
        "/api/accounts",
        json={"platform": "mock", "handle": "@IPRinCN", **SECRETS},
        headers=api.admin,
    )
    assert again.status_code == 409
    _no_secret_in(again.text)


def test_an_unknown_platform_names_the_field(api: Api) -> None:
    response = api.client.post(
        "/api/accounts",
        json={"platform": "twittter", "handle": "@x", "access_token": "secret-access-abc"},
        headers=api.admin,
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "platform"
    _no_secret_in(response.text)


def test_campaigns_are_created_listed_and_shown(api: Api) -> None:
    created = _campaign(
        api, hashtags=["#IP", " "], starts_on="2026-04-26", ends_on="2026-05-02", owner="press"
    )
    assert created["hashtags"] == ["#IP"]
    assert created["late_policy"] == "publish"
    listed = api.client.get("/api/campaigns", headers=api.approver).json()
    assert [c["name"] for c in listed] == ["IP Creates a Better Life"]
    shown = api.client.get(f"/api/campaigns/{created['id']}", headers=api.approver).json()
    assert shown["starts_on"] == "2026-04-26"
    assert shown["posts"] == 0


def test_a_campaign_without_zone_takes_the_default(api: Api) -> None:
    response = api.client.post("/api/campaigns", json={"name": "IP Week"}, headers=api.approver)
    assert response.json()["timezone"] == "Asia/Shanghai"


def test_a_duplicate_campaign_is_a_conflict(api: Api) -> None:
    _campaign(api)
    response = api.client.post(
        "/api/campaigns", json={"name": "IP Creates a Better Life"}, headers=api.approver
    )
    assert response.status_code == 409
    assert "already exists" in response.json()["error"]["message"]


def test_a_post_with_variants_is_drafted_approved_and_scheduled(api: Api) -> None:
    _account(api)
    _account(api, handle="cnipa")
    campaign = _campaign(api)
    response = _post(
        api,
        accounts=["mock:@IPRinCN", "cnipa"],
        at="2026-04-21 09:30",
        title="Patents at home",
        media=[{"kind": "image", "url": "https://cdn.example.com/poster.jpg", "alt_text": "a"}],
        variants={"mock": {"text": "专利如何走进千家万户"}},
    )
    assert response.status_code == 201, response.text
    post = response.json()
    assert post["state"] == "draft"
    assert post["deliveries"] == []
    assert post["variants"]["mock"]["text"] == "专利如何走进千家万户"
    assert post["media"] == [
        {"kind": "image", "url": "https://cdn.example.com/poster.jpg", "alt_text": "a"}
    ]
    # A naive time is read in the campaign's zone (+08:00).
    assert post["publish_at"] == "2026-04-21T01:30:00Z"
    assert post["publish_at_local"] == "2026-04-21T09:30:00+08:00"

    api.client.post(f"/api/posts/{post['id']}/submit", headers=api.approver)

    approved = api.client.post(f"/api/posts/{post['id']}/approve", headers=api.approver)
    assert approved.status_code == 200
    assert approved.json()["state"] == "scheduled"
    assert {d["account"] for d in approved.json()["deliveries"]} == {"mock:@IPRinCN", "mock:cnipa"}
    assert {d["state"] for d in approved.json()["deliveries"]} == {"scheduled"}

    listed = api.client.get(f"/api/campaigns/{campaign['id']}/posts", headers=api.approver).json()
    assert [p["id"] for p in listed] == [post["id"]]
    by_state = api.client.get("/api/posts?state=scheduled", headers=api.approver).json()
    assert [p["id"] for p in by_state] == [post["id"]]
    by_campaign = api.client.get(
        "/api/posts", params={"campaign": "IP Creates a Better Life"}, headers=api.approver
    ).json()
    assert [p["id"] for p in by_campaign] == [post["id"]]


def test_an_approved_post_without_time_is_scheduled_with_one(api: Api) -> None:
    _account(api)
    _campaign(api)
    post = _post(api).json()
    api.client.post(f"/api/posts/{post['id']}/submit", headers=api.approver)
    api.client.post(f"/api/posts/{post['id']}/approve", headers=api.approver)
    without_time = api.client.post(f"/api/posts/{post['id']}/schedule", headers=api.approver)
    assert without_time.status_code == 422, without_time.text
    assert without_time.json()["error"]["field"] == "at"
    scheduled = api.client.post(
        f"/api/posts/{post['id']}/schedule",
        json={"at": "2026-04-22T08:00:00+08:00"},
        headers=api.approver,
    )
    assert scheduled.status_code == 200, scheduled.text
    assert scheduled.json()["state"] == "scheduled"
    assert scheduled.json()["deliveries"][0]["due_at"] == "2026-04-22T00:00:00Z"


def test_a_draft_cannot_be_scheduled_and_nothing_is_written(api: Api) -> None:
    _account(api)
    _campaign(api)
    post = _post(api).json()
    response = api.client.post(
        f"/api/posts/{post['id']}/schedule", json={"at": "2026-04-22 08:00"}, headers=api.approver
    )
    assert response.status_code == 409
    shown = api.client.get(f"/api/posts/{post['id']}", headers=api.approver).json()
    assert shown["publish_at"] is None  # the time set before the refusal was rolled back


def test_a_post_is_rescheduled_then_cancelled(api: Api) -> None:
    _account(api)
    _campaign(api)
    post = _post(api, at="2026-04-21 09:30", approve=True).json()
    assert post["state"] == "scheduled"
    moved = api.client.post(
        f"/api/posts/{post['id']}/reschedule", json={"at": "2026-04-23 10:00"}, headers=api.approver
    )
    assert moved.status_code == 200
    assert moved.json()["publish_at_local"] == "2026-04-23T10:00:00+08:00"
    assert moved.json()["deliveries"][0]["due_at"] == "2026-04-23T02:00:00Z"
    cancelled = api.client.post(f"/api/posts/{post['id']}/cancel", headers=api.approver)
    assert cancelled.status_code == 200
    assert cancelled.json()["state"] == "cancelled"
    assert cancelled.json()["deliveries"][0]["state"] == "cancelled"
    again = api.client.post(f"/api/posts/{post['id']}/cancel", headers=api.approver)
    assert again.status_code == 409


def test_failed_deliveries_are_retried(api: Api) -> None:
    _account(api)
    _campaign(api)
    post = _post(api, at="2026-04-21 09:30", approve=True).json()
    nothing = api.client.post(f"/api/posts/{post['id']}/retry", headers=api.approver)
    assert nothing.status_code == 409
    assert "no failed, missed or unknown deliveries" in nothing.json()["error"]["message"]
    with api.sessions() as session, session.begin():
        delivery = session.get_one(Delivery, post["deliveries"][0]["id"])
        delivery.state = DeliveryState.FAILED
        delivery.last_error = "content violates policy"
    failures = api.client.get("/api/reports/failures", headers=api.viewer).json()
    assert [(f["delivery_id"], f["error"]) for f in failures] == [
        (delivery.id, "content violates policy")
    ]
    api.clock.advance(timedelta(hours=1))
    retried = api.client.post(f"/api/posts/{post['id']}/retry", headers=api.approver)
    assert retried.status_code == 200, retried.text
    assert retried.json()["retried"] == [delivery.id]
    assert retried.json()["post"]["deliveries"][0]["state"] == "scheduled"
    assert api.client.get("/api/reports/failures", headers=api.viewer).json() == []


CSV = (
    "campaign,at,accounts,text,text@mock\n"
    "IP Creates a Better Life,2026-04-21 09:30,mock:@IPRinCN,How a patent reaches your home,"
    "专利如何走进千家万户\n"
    "IP Creates a Better Life,2026-04-22 09:30,@IPRinCN,Second post,\n"
)


def _import(api: Api, data: bytes, *, draft: bool = False) -> Any:
    return api.client.post(
        "/api/imports",
        params={"draft": draft},
        content=data,
        headers={**api.approver, "Content-Type": "text/csv"},
    )


def test_a_csv_schedule_is_imported(api: Api) -> None:
    _account(api)
    _campaign(api)
    response = _import(api, CSV.encode("utf-8-sig"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["imported"], body["deliveries"], body["drafts"]) == (2, 2, False)
    first = api.client.get(f"/api/posts/{body['post_ids'][0]}", headers=api.approver).json()
    assert first["variants"]["mock"]["text"] == "专利如何走进千家万户"


def test_a_csv_schedule_is_imported_as_drafts(api: Api) -> None:
    _account(api)
    _campaign(api)
    body = _import(api, CSV.encode(), draft=True).json()
    assert (body["imported"], body["deliveries"], body["drafts"]) == (2, 0, True)


def test_a_bad_csv_lists_every_bad_row_and_writes_nothing(api: Api) -> None:
    _account(api)
    _campaign(api)
    bad = (
        CSV
        + "Nope,2026-04-22 09:30,mock:@IPRinCN,x,\n"
        + "IP Creates a Better Life,soon,@IPRinCN,y,\n"
    )
    response = _import(api, bad.encode())
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["type"] == "import_failed"
    assert [e["field"] for e in error["errors"]] == ["line 4", "line 5"]
    assert "campaign" in error["errors"][0]["rule"]
    with api.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Post)) == 0
