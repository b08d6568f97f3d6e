"""What staff do about one delivery that needs them (the inbox, ``publicist delivery``,
``/api/deliveries``): retry now, reschedule, cancel, confirm a lost outcome as live, or
publish it again.

Each action locks the delivery's post first (``_lock_post``), so of two concurrent actions
on one delivery the second sees what the first did and is refused with a conflict; each is
written to the audit log in the same transaction. The caller commits.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.actors import OPERATOR, Actor
from campaigns.audit.log import delivery_fields, post_fields, record, record_delivery
from campaigns.models import Delivery, Post
from campaigns.people.roles import Role
from campaigns.services import _lock_post, set_delivery_state
from campaigns.states import (
    ENDED_BADLY,
    DeliveryState,
    InvalidTransition,
    PostState,
    check_post_transition,
)
from campaigns.validation import parse_publish_time, parse_timezone, require_future
from publicist.core.errors import InvalidInput, NotFound

URL_LIMIT = 1000
"""The size of ``deliveries.url``."""
RETRYABLE = (*ENDED_BADLY, DeliveryState.SCHEDULED, DeliveryState.QUEUED)
"""States "retry now" and "reschedule" accept: ended badly, or waiting (rate-limited, late)."""


class DeliveryChanged(InvalidTransition):
    """Someone (a colleague, a worker) moved the delivery on first: the action no longer fits."""


def _locked(session: Session, delivery_id: int) -> tuple[Post, Delivery]:
    """The delivery and its post, locked as every staff action on a post is."""
    post_id = session.scalar(select(Delivery.post_id).where(Delivery.id == delivery_id))
    if post_id is None:
        raise NotFound("delivery", delivery_id, "see 'publicist inbox'")
    post = _lock_post(session, post_id)
    for delivery in post.deliveries:
        if delivery.id == delivery_id:
            return post, delivery
    raise NotFound("delivery", delivery_id, "see 'publicist inbox'")


def _require(delivery: Delivery, allowed: tuple[DeliveryState, ...], target: str) -> None:
    if delivery.state not in allowed:
        raise DeliveryChanged("delivery", delivery.id, delivery.state.value, target)


def _schedule_again(delivery: Delivery, *, at: datetime, now: datetime) -> None:
    if delivery.state is not DeliveryState.SCHEDULED:
        set_delivery_state(delivery, DeliveryState.SCHEDULED, now=now)
    delivery.next_attempt_at = at
    delivery.attempts = 0
    delivery.reserved_slot_at = None
    # Asked for by a person: no longer waiting on what the last error said (the message
    # itself stays, as history).
    delivery.last_error_kind = None
    delivery.updated_at = now


def retry_delivery(
    session: Session, *, delivery_id: int, now: datetime, actor: Actor = OPERATOR
) -> Delivery:
    """Try a failed, missed or waiting (rate-limited, late) delivery again now.

    An ``unknown`` one is refused: it may be live already, so it is confirmed or published
    again on purpose (:func:`republish_delivery`)."""
    actor.require(Role.APPROVER, "retrying a delivery")
    post, delivery = _locked(session, delivery_id)
    allowed = tuple(s for s in RETRYABLE if s is not DeliveryState.UNKNOWN)
    _require(delivery, allowed, DeliveryState.SCHEDULED.value)
    _require_scheduled_post(post, delivery)
    before = delivery_fields(delivery)
    _schedule_again(delivery, at=now, now=now)
    session.flush()
    record_delivery(session, delivery, "delivery.retry", before, actor=actor, now=now)
    return delivery


def reschedule_delivery(
    session: Session,
    *,
    delivery_id: int,
    at: str | datetime,
    now: datetime,
    actor: Actor = OPERATOR,
) -> Delivery:
    """Publish a failed, missed or waiting delivery at another time, read in the campaign's
    zone under the DST rule of every publish time (a gap refused with its neighbours, an
    overlap needing the offset)."""
    actor.require(Role.APPROVER, "rescheduling a delivery")
    post, delivery = _locked(session, delivery_id)
    allowed = tuple(s for s in RETRYABLE if s is not DeliveryState.UNKNOWN)
    _require(delivery, allowed, DeliveryState.SCHEDULED.value)
    _require_scheduled_post(post, delivery)
    moment = parse_publish_time(at, zone=parse_timezone(post.campaign.timezone))
    require_future(moment, now=now)
    before = delivery_fields(delivery)
    _schedule_again(delivery, at=moment, now=now)
    delivery.due_at = moment
    session.flush()
    record_delivery(session, delivery, "delivery.reschedule", before, actor=actor, now=now)
    return delivery


def cancel_delivery(
    session: Session, *, delivery_id: int, now: datetime, actor: Actor = OPERATOR
) -> Delivery:
    """Give up on one delivery; the post's other deliveries are left as they are. A post
    left with nothing but cancelled deliveries is cancelled too."""
    actor.require(Role.APPROVER, "cancelling a delivery")
    post, delivery = _locked(session, delivery_id)
    _require(delivery, RETRYABLE, DeliveryState.CANCELLED.value)
    before = delivery_fields(delivery)
    set_delivery_state(delivery, DeliveryState.CANCELLED, now=now)
    session.flush()
    record_delivery(session, delivery, "delivery.cancel", before, actor=actor, now=now)
    if post.state is not PostState.CANCELLED and all(
        d.state is DeliveryState.CANCELLED for d in post.deliveries
    ):
        old = post_fields(post)
        check_post_transition(post.id, post.state, PostState.CANCELLED)
        post.state = PostState.CANCELLED
        session.flush()
        record(
            session,
            actor=actor,
            action="post.cancel",
            kind="post",
            object_id=post.id,
            post_id=post.id,
            before=old,
            after=post_fields(post),
            now=now,
        )
    return delivery


def check_live_url(url: str, *, field: str = "url") -> str:
    """An http(s) URL with a host, as someone copies it from the platform's page."""
    text = url.strip()
    if not text or len(text) > URL_LIMIT:
        raise InvalidInput(
            field, text[:80], f"must be an http(s) URL of 1 to {URL_LIMIT} characters"
        )
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        raise InvalidInput(field, text[:80], "is not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise InvalidInput(field, text[:80], "must be an http or https URL with a host")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput(field, host, "must not carry a user name or password")
    if any(ch.isspace() or ord(ch) < 32 for ch in text):
        raise InvalidInput(field, text[:80], "must not contain spaces or control characters")
    return text


def confirm_delivery(
    session: Session, *, delivery_id: int, url: str, now: datetime, actor: Actor = OPERATOR
) -> Delivery:
    """A person checked the account: the post whose outcome was lost is live at ``url``.

    Records the delivery as published there (audited with who said so), without calling the
    platform; only an ``unknown`` delivery may be confirmed."""
    actor.require(Role.APPROVER, "confirming a delivery")
    live = check_live_url(url)
    _, delivery = _locked(session, delivery_id)
    _require(delivery, (DeliveryState.UNKNOWN,), DeliveryState.PUBLISHED.value)
    before = delivery_fields(delivery)
    set_delivery_state(delivery, DeliveryState.PUBLISHED, now=now)
    delivery.url = live
    delivery.published_at = now
    delivery.lease_until = None
    delivery.last_error = None
    delivery.last_error_code = None
    delivery.last_error_kind = None
    session.flush()
    record_delivery(session, delivery, "delivery.confirm", before, actor=actor, now=now)
    return delivery


def republish_delivery(
    session: Session, *, delivery_id: int, now: datetime, actor: Actor = OPERATOR
) -> Delivery:
    """Publish a delivery whose outcome was lost again, now: the person accepts that the
    post may then be on the platform twice (the interfaces ask them to confirm first)."""
    actor.require(Role.APPROVER, "publishing a delivery again")
    post, delivery = _locked(session, delivery_id)
    _require(delivery, (DeliveryState.UNKNOWN,), DeliveryState.SCHEDULED.value)
    _require_scheduled_post(post, delivery)
    before = delivery_fields(delivery)
    _schedule_again(delivery, at=now, now=now)
    session.flush()
    record_delivery(session, delivery, "delivery.republish", before, actor=actor, now=now)
    return delivery


def _require_scheduled_post(post: Post, delivery: Delivery) -> None:
    """The dispatcher only claims deliveries of a scheduled post."""
    if post.state is not PostState.SCHEDULED:
        raise DeliveryChanged("post", post.id, post.state.value, DeliveryState.SCHEDULED.value)
