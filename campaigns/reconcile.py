"""Finding work that lost its worker, so nothing stays stuck or is doubled."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, literal_column, select, update
from sqlalchemy.orm import Session

from campaigns.content import content_for
from campaigns.models import Account, Delivery, DeliveryAttempt
from campaigns.publishing import AttemptStart
from campaigns.states import DeliveryState


def expired_leases(
    session: Session,
    *,
    now: datetime,
    claim_for: timedelta,
    margin: timedelta,
    limit: int = 200,
) -> list[AttemptStart]:
    """``publishing`` deliveries whose worker vanished: the attempts to settle.

    A lease counts as over only ``margin`` after it ended: an attempt may start the request
    that creates its post until ``margin`` before its lease ends, and the platform must not
    be asked before that request can have ended. Each is taken over by moving its lease
    ``claim_for`` ahead and raising its ticket with a compare-and-set on the old lease, so
    reconcilers running at once (after a restart) never settle the same delivery, and every
    later renewal, result or creation of the old attempt is refused.
    """
    candidates = session.execute(
        select(Delivery.id, Delivery.lease_until)
        .where(
            # A literal state: the planner must see ix_deliveries_publishing_lease_until's
            # predicate, so the scan reads only attempts in flight, whatever the history.
            Delivery.state == literal_column("'publishing'"),
            Delivery.lease_until < now - margin,
        )
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
            .values(lease_until=now + claim_for, ticket=Delivery.ticket + 1)
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
                ticket=delivery.ticket,
                account_id=account.id,
                platform=account.platform,
                content=content_for(delivery.post, account.platform, marker=delivery.marker),
                started_at=attempt.started_at if attempt else delivery.updated_at,
            )
        )
    return starts


DUE_COUNT_CAP = 100_000
"""Counted per state at most: beyond it the gauge says "at least this many"."""


def count_due_unstarted(session: Session, *, now: datetime, cap: int = DUE_COUNT_CAP) -> int:
    """Deliveries due by ``now`` and not started (``scheduled`` or ``queued``): the queue's
    depth, for monitoring, counting at most ``cap`` of each state.

    One range read of ``ix_deliveries_state_next_attempt_at`` per state, in index order with
    a limit: the planner cannot tell that the deliveries due in the past are nearly all
    published (it multiplies the two conditions' shares), and for a plain count it chose to
    scan every delivery (270 ms at 1M deliveries, benchmarks/ticks.py). Read this way the
    count costs what is due, never the history.
    """
    total = 0
    for state in (DeliveryState.SCHEDULED, DeliveryState.QUEUED):
        due = (
            select(Delivery.id)
            .where(Delivery.state == state, Delivery.next_attempt_at <= now)
            .order_by(Delivery.next_attempt_at)
            .limit(cap)
            .subquery()
        )
        total += session.scalar(select(func.count()).select_from(due)) or 0
    return total
