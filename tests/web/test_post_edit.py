"""``PATCH /api/posts/{id}`` and the answers of actions a post's state refuses."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from campaigns.models import Delivery
from campaigns.states import DeliveryState
from tests.web.conftest import Api


def _setup(api: Api) -> None:
    for handle in ("@IPRinCN", "cnipa"):
        body = {"platform": "mock", "handle": handle, "access_token": "secret-access-abc"}
        assert api.client.post("/api/accounts", json=body, headers=api.admin).status_code == 201
    body = {"name": "IP Creates a Better Life", "timezone": "Asia/Shanghai"}
    assert api.client.post("/api/campaigns", json=body, headers=api.approver).status_code == 201


def _post(api: Api, **fields: Any) -> dict[str, Any]:
    body = {
        "campaign": "IP Creates a Better Life",
        "text": "How a patent reaches your home",
        "accounts": ["mock:@IPRinCN", "mock:cnipa"],
        "at": "2026-04-21 09:30",
        "title": "Patents",
        "variants": {"mock": {"title": "Patents at home"}},
        **fields,
    }
    response = api.client.post("/api/posts", json=body, headers=api.approver)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _patch(api: Api, post_id: int, body: Any) -> Any:
    return api.client.patch(f"/api/posts/{post_id}", json=body, headers=api.approver)


def test_a_scheduled_post_is_edited_back_to_a_draft_and_approved_again(api: Api) -> None:
    _setup(api)
    post = _post(api, approve=True)
    assert post["state"] == "scheduled"
    edited = _patch(
        api,
        post["id"],
        {"text": "Patents reach your home", "variants": {"mock": {"text": "专利走进千家万户"}}},
    )
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert (body["state"], body["text"], body["deliveries"]) == (
        "draft",
        "Patents reach your home",
        [],
    )
    assert body["variants"]["mock"]["text"] == "专利走进千家万户"
    assert body["variants"]["mock"]["title"] == "Patents at home"  # not named: kept
    assert body["publish_at_local"] == "2026-04-21T09:30:00+08:00"
    api.client.post(f"/api/posts/{post['id']}/submit", headers=api.approver)
    again = api.client.post(f"/api/posts/{post['id']}/approve", headers=api.approver)
    assert again.status_code == 200, again.text
    assert [d["state"] for d in again.json()["deliveries"]] == ["scheduled", "scheduled"]


def test_an_edit_replaces_accounts_and_removes_a_variant(api: Api) -> None:
    _setup(api)
    post = _post(api)
    edited = _patch(api, post["id"], {"accounts": ["cnipa"], "variants": {"mock": None}})
    assert edited.status_code == 200, edited.text
    assert (edited.json()["accounts"], edited.json()["variants"]) == (["mock:cnipa"], {})


def test_a_post_being_published_cannot_be_edited(api: Api) -> None:
    _setup(api)
    post = _post(api, approve=True)
    with api.sessions() as session, session.begin():
        session.execute(
            update(Delivery)
            .where(Delivery.id == post["deliveries"][0]["id"])
            .values(state=DeliveryState.PUBLISHED, started_at=api.clock.now())
        )
    refused = _patch(api, post["id"], {"text": "Too late"})
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["type"] == "conflict"
    assert "already published; it cannot be edited" in refused.json()["error"]["message"]
    shown = api.client.get(f"/api/posts/{post['id']}", headers=api.approver).json()
    assert (shown["state"], shown["text"]) == ("scheduled", "How a patent reaches your home")


def test_a_bad_edit_names_the_field_and_writes_nothing(api: Api) -> None:
    _setup(api)
    post = _post(api, approve=True)
    for body, field in [
        ({"text": " "}, "text"),
        ({"accounts": ["mock:nobody"]}, "accounts"),
        ({"variants": {"weibo": {"text": "微博"}}}, "variant"),
        ({}, "changes"),
        ({"campaign": "Other"}, "campaign"),
    ]:
        refused = _patch(api, post["id"], body)
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["field"] == field
    shown = api.client.get(f"/api/posts/{post['id']}", headers=api.approver).json()
    assert shown["state"] == "scheduled"
    assert len(shown["deliveries"]) == 2


def test_editing_an_unknown_post_is_404(api: Api) -> None:
    assert _patch(api, 999, {"text": "Hello"}).status_code == 404


def test_a_second_cancel_and_a_cancelled_post_s_edit_are_409(api: Api) -> None:
    _setup(api)
    post = _post(api, approve=True)
    cancelled = api.client.post(f"/api/posts/{post['id']}/cancel", headers=api.approver)
    assert cancelled.status_code == 200
    for response in (
        api.client.post(f"/api/posts/{post['id']}/cancel", headers=api.approver),
        api.client.post(f"/api/posts/{post['id']}/retry", headers=api.approver),
        _patch(api, post["id"], {"text": "Changed"}),
    ):
        assert response.status_code == 409, response.text
        assert response.json()["error"]["type"] == "conflict"
