"""Periodic checks that find events no single change causes: approvals that expired, due
posts that no worker picked up, and tokens that cannot be refreshed and lapse soon. Each fact
is recorded once (an event's ``dedup_key``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.connections.queries import lapsing_tokens
from campaigns.events.kinds import EventKind
from campaigns.events.services import record_event
from campaigns.models import Delivery, Post
from campaigns.states import DeliveryState, PostState

UNCLAIMED_AFTER = timedelta(minutes=1)
EXPIRED_LOOKBACK = timedelta(days=1)
"""Posts that expired longer ago are not news (and an upgrade must not flood anyone)."""


def record_expired(session: Session, *, now: datetime, limit: int = 200) -> int:
    """An event for each post still in review at its time, once per post and time."""
    posts = session.execute(
        select(Post.id, Post.campaign_id, Post.publish_at)
        .where(
            Post.state == PostState.IN_REVIEW,
            Post.publish_at <= now,
            Post.publish_at > now - EXPIRED_LOOKBACK,
        )
        .order_by(Post.publish_at)
        .limit(limit)
    ).all()
    recorded = 0
    for post_id, campaign_id, publish_at in posts:
        if publish_at is None:  # excluded by the query; keeps the type checker sure
            continue
        event = record_event(
            session,
            kind=EventKind.APPROVAL_EXPIRED,
            reason=f"still in review at its publish time {publish_at.isoformat()}; "
            "approve it with a new time or cancel it",
            now=now,
            post_id=post_id,
            campaign_id=campaign_id,
            dedup_key=f"expired:{post_id}:{publish_at.isoformat()}",
        )
        recorded += event is not None
    return recorded


def record_unclaimed(session: Session, *, now: datetime) -> bool:
    """One event per incident when deliveries are due for over a minute and still waiting.

    While the workers are down, the oldest waiting delivery stays the same, so it names the
    incident: later ticks of the same outage find the same key and record nothing.
    """
    waiting = (
        Delivery.state.in_((DeliveryState.SCHEDULED, DeliveryState.QUEUED)),
        Delivery.next_attempt_at < now - UNCLAIMED_AFTER,
    )
    oldest = session.execute(
        select(Delivery.id, Delivery.next_attempt_at, Delivery.post_id)
        .where(*waiting)
        .order_by(Delivery.next_attempt_at)
        .limit(1)
    ).first()
    if oldest is None:
        return False
    delivery_id, due, post_id = oldest
    count = len(session.scalars(select(Delivery.id).where(*waiting).limit(1000)).all())
    event = record_event(
        session,
        kind=EventKind.DUE_UNCLAIMED,
        reason=f"{count} deliveries are due and waiting, the oldest since {due.isoformat()}; "
        "the publishing workers may be down",
        now=now,
        post_id=post_id,
        delivery_id=delivery_id,
        dedup_key=f"unclaimed:{delivery_id}:{due.isoformat()}",
        extra={"waiting": count},
    )
    return event is not None


def record_lapsing(session: Session, *, now: datetime) -> int:
    """An event for each account whose token cannot be refreshed (Weibo) and lapses within
    the warning window, once per account and expiry: reconnecting gives a new expiry."""
    recorded = 0
    for account in lapsing_tokens(session, now=now):
        expires = account.token_expires_at
        if expires is None:  # excluded by the query; keeps the type checker sure
            continue
        event = record_event(
            session,
            kind=EventKind.TOKEN_LAPSING,
            reason=f"its token cannot be refreshed and lapses on {expires:%Y-%m-%d %H:%M} UTC; "
            "reconnect the account before then or its posts will fail",
            now=now,
            account_id=account.id,
            dedup_key=f"lapsing:{account.id}:{expires.isoformat()}",
            extra={"account": account.label},
        )
        recorded += event is not None
    return recorded
