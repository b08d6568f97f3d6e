"""Recording events: a row in the outbox, inserted in the transaction of the change behind it.

Nothing here talks to the network; the notify task reads the outbox later, so a failure of
a chat service or a webhook can never touch the publishing path.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaigns.events.kinds import EventKind
from campaigns.events.models import Event
from campaigns.models import Delivery
from campaigns.states import DeliveryState
from connectors.errors import ConnectorError, RateLimited


def link_for(
    *, post_id: int | None = None, account_id: int | None = None, campaign_id: int | None = None
) -> str:
    """The workspace path a message points at (the base URL setting is put in front)."""
    if post_id is not None:
        return f"/posts/{post_id}"
    if account_id is not None:
        return "/accounts"
    if campaign_id is not None:
        return f"/campaigns/{campaign_id}"
    return "/calendar"


def record_event(
    session: Session,
    *,
    kind: EventKind,
    reason: str,
    now: datetime,
    post_id: int | None = None,
    delivery_id: int | None = None,
    account_id: int | None = None,
    campaign_id: int | None = None,
    dedup_key: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Event | None:
    """Add an event to the outbox; the caller's transaction commits or discards it.

    With ``dedup_key``, a fact already recorded under that key is not recorded again
    (returns ``None``): periodic checks call this on every tick.
    """
    payload: dict[str, Any] = {
        "reason": reason,
        "link": link_for(post_id=post_id, account_id=account_id, campaign_id=campaign_id),
    }
    payload |= extra or {}
    event = Event(
        kind=kind.value,
        post_id=post_id,
        delivery_id=delivery_id,
        account_id=account_id,
        campaign_id=campaign_id,
        payload=payload,
        dedup_key=dedup_key,
        created_at=now,
    )
    if dedup_key is None:
        session.add(event)
        session.flush()
        return event
    if session.scalars(select(Event.id).where(Event.dedup_key == dedup_key)).first():
        return None
    try:
        # A savepoint: a concurrent check that recorded the same key first costs only this row.
        with session.begin_nested():
            session.add(event)
    except IntegrityError:
        return None
    return event


LONG_RATE_LIMIT = timedelta(hours=1)
"""A platform that holds an account back longer than this is worth telling staff about."""


def record_delivery_event(
    session: Session, *, delivery: Delivery, reason: str | None, now: datetime
) -> Event | None:
    """The event of a delivery that just ended badly (``failed`` or ``unknown``), if it did;
    a call after any other change records nothing."""
    kinds = {
        DeliveryState.FAILED: EventKind.DELIVERY_FAILED,
        DeliveryState.UNKNOWN: EventKind.OUTCOME_UNKNOWN,
    }
    kind = kinds.get(delivery.state)
    if kind is None:
        return None
    return _delivery_event(session, kind=kind, delivery=delivery, reason=reason, now=now)


def record_rate_limit(
    session: Session,
    *,
    delivery: Delivery,
    error: ConnectorError,
    retry_at: datetime | None,
    now: datetime,
) -> Event | None:
    """A rate limit that postpones a delivery by more than an hour is an event; shorter
    ones are routine and only delay the post."""
    if not isinstance(error, RateLimited) or retry_at is None:
        return None
    if retry_at - now <= LONG_RATE_LIMIT:
        return None
    reason = f"rate-limited by the platform until {retry_at.isoformat(timespec='minutes')}"
    return _delivery_event(
        session, kind=EventKind.RATE_LIMITED, delivery=delivery, reason=reason, now=now
    )


def _delivery_event(
    session: Session, *, kind: EventKind, delivery: Delivery, reason: str | None, now: datetime
) -> Event | None:
    return record_event(
        session,
        kind=kind,
        reason=reason or kind.value,
        now=now,
        post_id=delivery.post_id,
        delivery_id=delivery.id,
        account_id=delivery.account_id,
        campaign_id=delivery.post.campaign_id,
        extra={"attempts": delivery.attempts, "account": delivery.account.label},
    )


def account_needs_reconnect(
    session: Session, *, account_id: int, reason: str, now: datetime
) -> Event | None:
    """Tell staff an account must be authorised again (its refresh failed for good); once
    per failed token, however many workers find it."""
    return record_event(
        session,
        kind=EventKind.ACCOUNT_RECONNECT,
        reason=reason,
        now=now,
        account_id=account_id,
        dedup_key=f"reconnect:{account_id}:{now.date().isoformat()}",
    )
