"""Finding work that lost its worker or its message, so nothing stays stuck or is doubled."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaigns.content import content_for
from campaigns.models import Account, Delivery, DeliveryAttempt
from campaigns.publishing import AttemptStart
from campaigns.states import DeliveryState


def expired_leases(session: Session, *, now: datetime, limit: int = 200) -> list[AttemptStart]:
    """``publishing`` deliveries whose worker vanished (lease over): the attempt to settle."""
    deliveries = session.scalars(
        select(Delivery)
        .where(Delivery.state == DeliveryState.PUBLISHING, Delivery.lease_until < now)
        .order_by(Delivery.lease_until)
        .limit(limit)
    ).all()
    starts = []
    for delivery in deliveries:
        attempt = session.scalars(
            select(DeliveryAttempt).where(
                DeliveryAttempt.delivery_id == delivery.id,
                DeliveryAttempt.number == delivery.attempts,
            )
        ).first()
        account = session.get_one(Account, delivery.account_id)
        starts.append(
            AttemptStart(
                delivery_id=delivery.id,
                attempt=delivery.attempts,
                account_id=account.id,
                platform=account.platform,
                content=content_for(delivery.post, account.platform, marker=delivery.marker),
                started_at=attempt.started_at if attempt else delivery.updated_at,
            )
        )
    return starts


def requeue_stale(session: Session, *, now: datetime, after: timedelta) -> int:
    """Queued deliveries whose task never started (message lost): back to the schedule.

    The dispatcher queues them again under a new ticket, so if the old message turns up
    after all it finds nothing to do.
    """
    result = session.execute(
        update(Delivery)
        .where(Delivery.state == DeliveryState.QUEUED, Delivery.next_attempt_at < now - after)
        .values(state=DeliveryState.SCHEDULED, updated_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
