"""Finding work that lost its worker or its message, so nothing stays stuck or is doubled."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaigns.content import content_for
from campaigns.models import Account, Delivery, DeliveryAttempt
from campaigns.publishing import AttemptStart
from campaigns.states import DeliveryState


def expired_leases(
    session: Session, *, now: datetime, claim_for: timedelta, limit: int = 200
) -> list[AttemptStart]:
    """``publishing`` deliveries whose worker vanished (lease over): the attempts to settle.

    Each is claimed by moving its lease ``claim_for`` ahead with a compare-and-set on the old
    lease, so reconcilers running at once (after a restart) never settle the same delivery.
    """
    candidates = session.execute(
        select(Delivery.id, Delivery.lease_until)
        .where(Delivery.state == DeliveryState.PUBLISHING, Delivery.lease_until < now)
        .order_by(Delivery.lease_until)
        .limit(limit)
    ).all()
    claimed = []
    for delivery_id, lease_until in candidates:
        result = session.execute(
            update(Delivery)
            .where(
                Delivery.id == delivery_id,
                Delivery.state == DeliveryState.PUBLISHING,
                Delivery.lease_until == lease_until,
            )
            .values(lease_until=now + claim_for)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(delivery_id)
    deliveries = [session.get_one(Delivery, delivery_id) for delivery_id in claimed]
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
