"""The inbox page: reasons in plain words (en, zh_CN), actions as htmx rows through the
delivery services, roles, CSRF, the nav count; and the workers-down banner."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from campaigns.audit.models import AuditEntry
from campaigns.heartbeat import record_tick
from campaigns.models import Delivery
from campaigns.people.roles import Role
from campaigns.states import DeliveryState
from tests.web.conftest import Api
from tests.web.inbox_data import DUPLICATE, PASSWORD, InboxPlan, make_plan

HTMX = {"HX-Request": "true"}


@pytest.fixture
def plan(api: Api) -> InboxPlan:
    with api.sessions() as session, session.begin():
        found = make_plan(session, api.clock.now())
    api.clock.advance(timedelta(minutes=1))  # the review post has expired
    return found


@pytest.fixture
def clients(api: Api) -> Iterator[list[TestClient]]:
    opened: list[TestClient] = []
    yield opened
    for client in opened:
        client.close()


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None, page[:500]
    return found.group(1)


@pytest.fixture
def sign_in(api: Api, clients: list[TestClient]):  # type: ignore[no-untyped-def]
    def signed_in(role: Role, language: str = "en") -> TestClient:
        client = TestClient(api.client.app, raise_server_exceptions=True)
        clients.append(client)
        client.headers["Accept-Language"] = "zh-CN" if language == "zh_CN" else "en"
        csrf = _csrf(client.get("/signin").text)
        response = client.post(
            "/signin",
            data={"email": f"{role.value}@example.org", "password": PASSWORD, "csrf_token": csrf},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        return client

    return signed_in


def _state(api: Api, delivery_id: int) -> Delivery:
    with api.sessions() as session:
        delivery = session.get_one(Delivery, delivery_id)
        session.expunge(delivery)
        return delivery


def test_anonymous_is_sent_to_sign_in(api: Api) -> None:
    response = api.client.get("/inbox", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=%2Finbox"


def test_rows_say_why_in_plain_words_and_keep_the_platforms_message(
    api: Api, plan: InboxPlan, sign_in
) -> None:
    page = sign_in(Role.APPROVER).get("/inbox").text
    assert "The platform refused the post because it repeats a recent post." in page
    assert DUPLICATE in page
    assert "(code 187)" in page
    assert "The answer was lost: the post may or may not be live." in page
    assert "The platform limits how often this account may post" in page
    assert "It was still waiting for approval at its time" in page
    assert "专利如何走进千家万户" in page
    assert "Main" in page
    assert "mock:@IPRinCN" in page
    # Times in the campaign's zone (Asia/Shanghai: 09:30 CST for 01:30Z).
    assert "2026-04-20 09:30 CST" in page
    keys = re.findall(r'id="item-([a-z]+-\d+)"', page)
    assert set(keys) == {
        f"deliveries-{plan.failed}",
        f"deliveries-{plan.unknown}",
        f"deliveries-{plan.limited}",
        f"posts-{plan.expired_post}",
    }
    # The nav's count says the same number.
    assert re.search(r'data-k="inbox-count"><span class="visually-hidden">Items: </span>4<', page)


def test_chinese_rows(api: Api, plan: InboxPlan, sign_in) -> None:
    page = sign_in(Role.APPROVER, "zh_CN").get("/inbox").text
    assert "平台拒绝了这条内容，因为它与最近的一条重复。" in page
    assert "收件箱" in page
    assert "立即重试" in page


def test_retry_now_replaces_the_row_and_updates_the_count(
    api: Api, plan: InboxPlan, sign_in
) -> None:
    client = sign_in(Role.APPROVER)
    csrf = _csrf(client.get("/inbox").text)
    answer = client.post(
        f"/inbox/deliveries/{plan.failed}/retry", data={"csrf_token": csrf}, headers=HTMX
    )
    assert answer.status_code == 200
    assert f'id="item-deliveries-{plan.failed}" data-k="inbox-done"' in answer.text
    assert "Scheduled again" in answer.text
    assert 'id="inbox-badge" data-k="inbox-count" hx-swap-oob="true"' in answer.text
    assert ">3</span>" in answer.text
    delivery = _state(api, plan.failed)
    assert delivery.state is DeliveryState.SCHEDULED
    assert delivery.next_attempt_at == api.clock.now()
    with api.sessions() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.object_id == plan.failed)
        ).all()
    assert "delivery.retry" in actions


def test_a_second_action_on_a_stale_row_gets_a_translated_conflict(
    api: Api, plan: InboxPlan, sign_in
) -> None:
    first = sign_in(Role.APPROVER)
    second = sign_in(Role.ADMIN, "zh_CN")
    csrf_first = _csrf(first.get("/inbox").text)
    csrf_second = _csrf(second.get("/inbox").text)
    first.post(
        f"/inbox/deliveries/{plan.failed}/cancel", data={"csrf_token": csrf_first}, headers=HTMX
    )
    late = second.post(
        f"/inbox/deliveries/{plan.failed}/retry", data={"csrf_token": csrf_second}, headers=HTMX
    )
    assert "已有人先处理了" in late.text
    assert _state(api, plan.failed).state is DeliveryState.CANCELLED
    plain = second.post(f"/inbox/deliveries/{plan.failed}/retry", data={"csrf_token": csrf_second})
    assert plain.status_code == 409


def test_unknown_confirmed_live_with_an_http_url_only(api: Api, plan: InboxPlan, sign_in) -> None:
    client = sign_in(Role.APPROVER)
    csrf = _csrf(client.get("/inbox").text)
    bad = client.post(
        f"/inbox/deliveries/{plan.unknown}/confirm",
        data={"csrf_token": csrf, "url": "javascript:alert(1)"},
        headers=HTMX,
    )
    assert "is not a web address" in bad.text
    assert _state(api, plan.unknown).state is DeliveryState.UNKNOWN
    good = client.post(
        f"/inbox/deliveries/{plan.unknown}/confirm",
        data={"csrf_token": csrf, "url": "https://x.com/IPRinCN/status/1"},
        headers=HTMX,
    )
    assert "Recorded as published" in good.text
    delivery = _state(api, plan.unknown)
    assert delivery.state is DeliveryState.PUBLISHED
    assert delivery.url == "https://x.com/IPRinCN/status/1"
    with api.sessions() as session:
        entry = session.scalars(
            select(AuditEntry).where(
                AuditEntry.object_id == plan.unknown, AuditEntry.action == "delivery.confirm"
            )
        ).one()
    assert entry.after is not None
    assert entry.after["url"] == "https://x.com/IPRinCN/status/1"
    assert entry.person_id is not None


def test_publish_again_needs_the_duplicate_warning_ticked(
    api: Api, plan: InboxPlan, sign_in
) -> None:
    client = sign_in(Role.APPROVER)
    page = client.get("/inbox").text
    assert "I understand it may then appear twice on the platform" in page
    csrf = _csrf(page)
    unticked = client.post(
        f"/inbox/deliveries/{plan.unknown}/republish", data={"csrf_token": csrf}, headers=HTMX
    )
    assert "Tick the box first" in unticked.text
    assert _state(api, plan.unknown).state is DeliveryState.UNKNOWN
    ticked = client.post(
        f"/inbox/deliveries/{plan.unknown}/republish",
        data={"csrf_token": csrf, "duplicate_ok": "yes"},
        headers=HTMX,
    )
    assert "Publishing again now." in ticked.text
    assert _state(api, plan.unknown).state is DeliveryState.SCHEDULED


def test_reschedule_follows_the_dst_rule_and_the_campaign_zone(
    api: Api, plan: InboxPlan, sign_in
) -> None:
    client = sign_in(Role.APPROVER)
    csrf = _csrf(client.get("/inbox").text)
    past = client.post(
        f"/inbox/deliveries/{plan.failed}/reschedule",
        data={"csrf_token": csrf, "at": "2026-04-19T09:00"},
        headers=HTMX,
    )
    assert "is in the past" in past.text
    moved = client.post(
        f"/inbox/deliveries/{plan.failed}/reschedule",
        data={"csrf_token": csrf, "at": "2026-04-21T10:15"},
        headers=HTMX,
    )
    assert "Rescheduled." in moved.text
    delivery = _state(api, plan.failed)
    assert delivery.state is DeliveryState.SCHEDULED
    assert delivery.due_at.isoformat() == "2026-04-21T02:15:00+00:00"  # 10:15 in Shanghai


def test_expired_post_rescheduled_from_the_inbox(api: Api, plan: InboxPlan, sign_in) -> None:
    client = sign_in(Role.APPROVER)
    csrf = _csrf(client.get("/inbox").text)
    answer = client.post(
        f"/inbox/posts/{plan.expired_post}/reschedule",
        data={"csrf_token": csrf, "at": "2026-04-22T09:00"},
        headers=HTMX,
    )
    assert f'id="item-posts-{plan.expired_post}" data-k="inbox-done"' in answer.text


def test_viewers_read_but_do_not_act(api: Api, plan: InboxPlan, sign_in) -> None:
    client = sign_in(Role.VIEWER)
    page = client.get("/inbox").text
    assert "approvers and admins act on it" in page
    assert 'data-k="retry"' not in page
    answer = client.post(f"/inbox/deliveries/{plan.failed}/retry", data={"csrf_token": _csrf(page)})
    assert answer.status_code == 403
    assert _state(api, plan.failed).state is DeliveryState.FAILED


def test_an_action_without_the_csrf_token_is_refused(api: Api, plan: InboxPlan, sign_in) -> None:
    client = sign_in(Role.APPROVER)
    answer = client.post(f"/inbox/deliveries/{plan.failed}/retry", data={})
    assert answer.status_code == 403
    assert _state(api, plan.failed).state is DeliveryState.FAILED


def test_the_banner_shows_while_nothing_dispatches_and_hides_after_a_tick(
    api: Api, plan: InboxPlan, sign_in
) -> None:
    client = sign_in(Role.EDITOR)
    page = client.get("/calendar").text
    assert 'data-k="workers-banner"' in page
    assert "The scheduler has never run" in page
    assert "publicist worker" in page
    assert "publicist run" in page
    with api.sessions() as session, session.begin():
        record_tick(session, now=api.clock.now())
    assert 'data-k="workers-banner"' not in client.get("/calendar").text
    api.clock.advance(timedelta(seconds=61))
    stale = client.get("/inbox").text
    assert "The scheduler last ran at" in stale
    zh = sign_in(Role.APPROVER, "zh_CN").get("/dashboard").text
    assert 'data-k="workers-banner"' in zh
    assert "没有任何内容在发布" in zh


def test_the_banner_names_due_deliveries_nobody_took(api: Api, plan: InboxPlan, sign_in) -> None:
    client = sign_in(Role.EDITOR)
    api.clock.advance(timedelta(minutes=60))  # the limited delivery is 14 minutes late
    with api.sessions() as session, session.begin():
        record_tick(session, now=api.clock.now())
    page = client.get("/inbox").text
    assert "have not been picked up by a worker" in page
    assert "Nothing is being published" not in page


def test_no_banner_when_nothing_waits(api: Api, sign_in) -> None:
    with api.sessions() as session, session.begin():
        make_plan(session, api.clock.now())
        for delivery in session.scalars(select(Delivery)):
            delivery.state = DeliveryState.PUBLISHED
    assert 'data-k="workers-banner"' not in sign_in(Role.EDITOR).get("/calendar").text


def test_a_plain_form_is_redirected_back_after_acting(api: Api, plan: InboxPlan, sign_in) -> None:
    client = sign_in(Role.APPROVER)
    csrf = _csrf(client.get("/inbox").text)
    answer = client.post(
        f"/inbox/deliveries/{plan.failed}/retry", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/inbox"
    assert _state(api, plan.failed).state is DeliveryState.SCHEDULED
