"""Review over the API: the role each post route needs, 409/403/422 for the review rules,
self-approval through owned tokens, expired posts, and the audit reads."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from campaigns.people.models import Person
from campaigns.people.roles import Role
from publicist.web.tokens import create_token
from tests.web.conftest import Api

CAMPAIGN = "IP Creates a Better Life"
AT = "2026-04-21 09:30"  # Asia/Shanghai; the test clock is 2026-04-20 01:00 UTC

# (method, path, body, the lowest role allowed); ids that do not exist are fine: roles first.
ROUTES: list[tuple[str, str, Any, Role]] = [
    ("GET", "/api/posts", None, Role.VIEWER),
    ("GET", "/api/posts/1", None, Role.VIEWER),
    ("GET", "/api/posts/1/audit", None, Role.VIEWER),
    ("GET", "/api/audit?from=2026-04-01&to=2026-04-30", None, Role.ADMIN),
    ("POST", "/api/posts", {"campaign": "x", "text": "t", "accounts": ["a"]}, Role.EDITOR),
    ("PATCH", "/api/posts/1", {"text": "t"}, Role.EDITOR),
    ("POST", "/api/posts/1/submit", None, Role.EDITOR),
    ("POST", "/api/posts/1/approve", None, Role.APPROVER),
    ("POST", "/api/posts/1/reject", {"comment": "no"}, Role.APPROVER),
    ("POST", "/api/posts/1/schedule", None, Role.APPROVER),
    ("POST", "/api/posts/1/reschedule", {"at": "2030-01-01 09:00"}, Role.APPROVER),
    ("POST", "/api/posts/1/cancel", None, Role.APPROVER),
    ("POST", "/api/posts/1/retry", None, Role.APPROVER),
]
ORDER = [Role.VIEWER, Role.EDITOR, Role.APPROVER, Role.ADMIN]


@pytest.mark.parametrize(("method", "path", "body", "needed"), ROUTES)
def test_each_route_needs_its_role(
    api: Api, method: str, path: str, body: Any, needed: Role
) -> None:
    for role in ORDER:
        response = api.client.request(method, path, json=body, headers=api.auth(role))
        if role.allows(needed):
            assert response.status_code != 403, (role, response.text)
        else:
            assert response.status_code == 403, (role, response.text)
            assert response.json()["error"]["type"] == "forbidden"


def _owned_token(api: Api, email: str, role: Role) -> tuple[int, dict[str, str]]:
    """A person (straight into the table: passwords are not the point) and a token of theirs."""
    with api.sessions() as session, session.begin():
        person = Person(
            name=email,
            email=email,
            password_hash="x",
            role=role.value,
            disabled=False,
            created_at=api.clock.now(),
        )
        session.add(person)
        session.flush()
        secret = create_token(
            session, role=role, name=email, now=api.clock.now(), owner=person
        ).secret
        return person.id, {"Authorization": f"Bearer {secret}"}


def _setup(api: Api) -> None:
    body = {"platform": "mock", "handle": "@IPRinCN", "access_token": "secret-access-abc"}
    assert api.client.post("/api/accounts", json=body, headers=api.admin).status_code == 201
    body = {"name": CAMPAIGN, "timezone": "Asia/Shanghai"}
    assert api.client.post("/api/campaigns", json=body, headers=api.editor).status_code == 201


def _create(api: Api, headers: dict[str, str], **fields: Any) -> Any:
    body = {"campaign": CAMPAIGN, "text": "Hello", "accounts": ["mock:@IPRinCN"], "at": AT}
    return api.client.post("/api/posts", json={**body, **fields}, headers=headers)


def _act(api: Api, post_id: int, action: str, headers: dict[str, str], body: Any = None) -> Any:
    return api.client.post(f"/api/posts/{post_id}/{action}", json=body, headers=headers)


def test_an_editor_submits_and_a_colleague_approves_never_the_author(api: Api) -> None:
    _setup(api)
    li, li_editor = _owned_token(api, "li.na@example.org", Role.EDITOR)
    wang, wang_approver = _owned_token(api, "wang@example.org", Role.APPROVER)
    created = _create(api, li_editor)
    assert created.status_code == 201, created.text
    post = created.json()
    assert (post["state"], post["created_by"]) == ("draft", li)
    assert _act(api, post["id"], "approve", wang_approver).status_code == 409  # not in review
    assert _act(api, post["id"], "submit", li_editor).json()["state"] == "in_review"
    assert _act(api, post["id"], "approve", li_editor).status_code == 403  # an editor
    approved = _act(api, post["id"], "approve", wang_approver)
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "scheduled"
    assert _act(api, post["id"], "approve", wang_approver).status_code == 409

    own = _create(api, wang_approver).json()
    _act(api, own["id"], "submit", wang_approver)
    refused = _act(api, own["id"], "approve", wang_approver)
    assert refused.status_code == 403
    assert "self-approval" in refused.json()["error"]["message"]
    assert _create(api, wang_approver, approve=True).status_code == 403

    history = api.client.get(f"/api/posts/{post['id']}/audit", headers=api.viewer).json()
    assert [(e["action"], e["actor"], e["person_id"]) for e in history] == [
        ("post.create", "token", li),
        ("post.submit", "token", li),
        ("post.approve", "token", wang),
    ]
    assert history[2]["before"]["state"] == "in_review"
    assert history[2]["after"]["state"] == "scheduled"


def test_a_rejection_needs_a_comment_and_reaches_the_editor(api: Api) -> None:
    _setup(api)
    post = _create(api, api.editor).json()
    _act(api, post["id"], "submit", api.editor)
    missing = _act(api, post["id"], "reject", api.approver, {"comment": "  "})
    assert missing.status_code == 422
    assert missing.json()["error"]["field"] == "comment"
    assert _act(api, post["id"], "reject", api.approver, {}).status_code == 422
    rejected = _act(api, post["id"], "reject", api.approver, {"comment": "Add the link"})
    assert rejected.status_code == 200
    assert (rejected.json()["state"], rejected.json()["review_comment"]) == (
        "rejected",
        "Add the link",
    )
    assert _act(api, post["id"], "reject", api.approver, {"comment": "again"}).status_code == 409
    edited = api.client.patch(
        f"/api/posts/{post['id']}", json={"text": "With the link"}, headers=api.editor
    )
    assert edited.json()["state"] == "draft"


def test_a_post_in_review_at_its_time_reads_as_expired(api: Api) -> None:
    _setup(api)
    post = _create(api, api.editor).json()
    _act(api, post["id"], "submit", api.editor)
    api.clock.advance(timedelta(days=2))
    shown = api.client.get(f"/api/posts/{post['id']}", headers=api.viewer).json()
    assert shown["state"] == "expired"
    expired = api.client.get("/api/posts?state=expired", headers=api.viewer).json()
    assert [p["id"] for p in expired] == [post["id"]]
    refused = _act(api, post["id"], "approve", api.approver)
    assert refused.status_code == 409
    assert "expired" in refused.json()["error"]["message"]


def test_the_audit_of_a_period_lists_every_change(api: Api) -> None:
    _setup(api)
    _create(api, api.editor)
    day = api.clock.now().date().isoformat()
    entries = api.client.get(f"/api/audit?from={day}&to={day}", headers=api.admin).json()
    # The fixture's four tokens, then what this test did.
    assert [e["action"] for e in entries] == [
        *["token.create"] * 4,
        "account.create",
        "post.create",
    ]
    account = entries[4]
    assert (account["actor"], account["after"]["handle"]) == ("token", "@IPRinCN")
    assert "secret-access-abc" not in str(entries)
    reversed_ = api.client.get("/api/audit?from=2026-04-20&to=2026-04-19", headers=api.admin)
    assert reversed_.status_code == 422
    assert reversed_.json()["error"]["field"] == "to"


def test_tokens_made_and_revoked_are_audited_without_their_secrets(api: Api) -> None:
    made = api.client.post(
        "/api/tokens", json={"name": "wall", "role": "viewer"}, headers=api.admin
    )
    assert made.status_code == 201
    token = made.json()
    assert api.client.delete(f"/api/tokens/{token['id']}", headers=api.admin).status_code == 200
    day = api.clock.now().date().isoformat()
    entries = api.client.get(f"/api/audit?from={day}&to={day}", headers=api.admin).json()
    mine = [e for e in entries if e["object_kind"] == "token" and e["object_id"] == token["id"]]
    assert [(e["action"], e["actor"]) for e in mine] == [
        ("token.create", "token"),
        ("token.revoke", "token"),
    ]
    assert mine[0]["after"]["role"] == "viewer"
    assert mine[1]["before"] == {"revoked_at": None}
    assert token["token"] not in str(entries)
