"""Inbox test data: a scheduled post whose deliveries ended as a worker leaves them (failed
with a platform's refusal, unknown, rate-limited), an expired post, and people of each role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from campaigns.models import Delivery
from campaigns.people.roles import Role
from campaigns.people.services import add_person
from campaigns.schemas import PostInput
from campaigns.services import add_post, submit_post
from campaigns.states import DeliveryState
from tests import factories

PASSWORD = "correct horse battery"
DUPLICATE = "mock: Status is a duplicate."


@dataclass(frozen=True)
class InboxPlan:
    failed: int
    unknown: int
    limited: int
    expired_post: int
    post: int


def end_as(
    delivery: Delivery,
    state: DeliveryState,
    *,
    now: datetime,
    error: str | None = None,
    code: str | None = None,
    kind: str | None = None,
    retry_at: datetime | None = None,
) -> None:
    """What the worker's record_error / record_unknown leave on a delivery."""
    delivery.state = state
    delivery.attempts = 1
    delivery.last_error = error
    delivery.last_error_code = code
    delivery.last_error_kind = kind
    delivery.updated_at = now
    if retry_at is not None:
        delivery.next_attempt_at = retry_at


def make_plan(session: Session, now: datetime) -> InboxPlan:
    factories.account(session, handle="@IPRinCN", now=now)
    factories.account(session, handle="cnipa", now=now)
    factories.account(session, handle="weibo_ip", now=now)
    factories.campaign(session, name="Main", now=now)
    post = add_post(
        session,
        data=PostInput(
            campaign="Main",
            text="专利如何走进千家万户 — how patents reach every home",
            accounts=["mock:@IPRinCN", "mock:cnipa", "mock:weibo_ip"],
            at=(now + timedelta(minutes=30)).isoformat(),
        ),
        now=now,
        approve=True,
    )
    failed, unknown, limited = sorted(post.deliveries, key=lambda d: d.id)
    end_as(failed, DeliveryState.FAILED, now=now, error=DUPLICATE, code="187", kind="duplicate")
    end_as(
        unknown,
        DeliveryState.UNKNOWN,
        now=now,
        error="the response was lost after 30 s",
        kind="outcome_unknown",
    )
    end_as(
        limited,
        DeliveryState.SCHEDULED,
        now=now,
        error="mock: Too Many Requests",
        code="429",
        kind="rate_limited",
        retry_at=now + timedelta(minutes=45),
    )
    late = add_post(
        session,
        data=PostInput(
            campaign="Main",
            text="Still waiting for approval",
            accounts=["mock:cnipa"],
            at=(now + timedelta(seconds=30)).isoformat(),
        ),
        now=now,
    )
    submit_post(session, post_id=late.id, now=now)
    for role in Role:
        add_person(
            session,
            name=f"{role.value} person",
            email=f"{role.value}@example.org",
            role=role,
            password=PASSWORD,
            now=now,
        )
    session.flush()
    return InboxPlan(
        failed=failed.id,
        unknown=unknown.id,
        limited=limited.id,
        expired_post=late.id,
        post=post.id,
    )
