"""The publishing path as services: claim due work, begin an attempt, record its outcome.

Every state change is a compare-and-set on the delivery row, so a duplicated or stale task
finds nothing to do. The attempt is written and committed before the platform is called.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.orm import Session, joinedload

from campaigns.content import content_for
from campaigns.models import Account, Campaign, Delivery, DeliveryAttempt, Post
from campaigns.retry import Decision
from campaigns.services import set_delivery_state
from campaigns.states import DeliveryState, LatePolicy, check_delivery_transition
from connectors.base import Content, PublishResult, PublishState, RemotePost
from connectors.errors import ConnectorError
from publicist.core.database import UTCDateTime


@dataclass(frozen=True)
class Claim:
    delivery_id: int
    ticket: int
    eta: datetime


@dataclass(frozen=True)
class AttemptStart:
    """All a worker needs to call the platform without holding a transaction open."""

    delivery_id: int
    attempt: int
    account_id: int
    platform: str
    content: Content
    started_at: datetime
    lateness_ms: int | None = None
    """Recorded by the delivery's first attempt; ``None`` when not known to the caller."""


def claim_due(
    session: Session, *, now: datetime, lookahead: timedelta, limit: int = 2000
) -> list[Claim]:
    """Mark due deliveries ``queued`` and return them; concurrent claimers never overlap.

    PostgreSQL: ``FOR UPDATE SKIP LOCKED``. SQLite: the session begins ``IMMEDIATE``, so a
    second claimer waits for the first to commit and then sees the rows already queued.
    """
    rows = session.execute(
        select(Delivery.id, Delivery.ticket, Delivery.next_attempt_at)
        .where(
            Delivery.state == DeliveryState.SCHEDULED, Delivery.next_attempt_at <= now + lookahead
        )
        .order_by(Delivery.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    claims = []
    for delivery_id, ticket, next_attempt_at in rows:
        result = session.execute(
            update(Delivery)
            .where(
                Delivery.id == delivery_id,
                Delivery.state == DeliveryState.SCHEDULED,
                Delivery.ticket == ticket,
            )
            .values(state=DeliveryState.QUEUED, ticket=ticket + 1, queued_at=now, updated_at=now)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claims.append(Claim(delivery_id, ticket + 1, max(next_attempt_at, now)))
    return claims


@dataclass(frozen=True)
class Queued:
    account: Account
    reserved_slot_at: datetime | None

    @property
    def account_id(self) -> int:
        return self.account.id


def peek_queued(session: Session, *, delivery_id: int, ticket: int) -> Queued | None:
    """The queued delivery this ticket is for, with its account (one query), or ``None``
    when the ticket is stale."""
    row = session.execute(
        select(Account, Delivery.reserved_slot_at)
        .join(Delivery, Delivery.account_id == Account.id)
        .where(
            Delivery.id == delivery_id,
            Delivery.state == DeliveryState.QUEUED,
            Delivery.ticket == ticket,
        )
    ).first()
    return Queued(row[0], row[1]) if row else None


def defer(session: Session, *, delivery_id: int, ticket: int, at: datetime, now: datetime) -> bool:
    """Give a queued delivery back to the schedule with a reserved rate-limit slot at ``at``."""
    result = session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.state == DeliveryState.QUEUED,
            Delivery.ticket == ticket,
        )
        .values(
            state=DeliveryState.SCHEDULED, next_attempt_at=at, reserved_slot_at=at, updated_at=now
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def mark_missed(session: Session, *, now: datetime, grace: timedelta) -> list[int]:
    """Deliveries never tried and far past due, in campaigns whose policy is to miss them."""
    late = (
        select(Delivery.id)
        .join(Post, Post.id == Delivery.post_id)
        .join(Campaign, Campaign.id == Post.campaign_id)
        .where(
            Delivery.state == DeliveryState.SCHEDULED,
            Delivery.attempts == 0,
            Delivery.reserved_slot_at.is_(None),
            Delivery.due_at < now - grace,
            Campaign.late_policy == LatePolicy.MISS,
        )
    )
    ids = list(session.scalars(late))
    if ids:
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids), Delivery.state == DeliveryState.SCHEDULED)
            .values(
                state=DeliveryState.MISSED,
                updated_at=now,
                last_error=f"not published: found more than {grace} after its time "
                "and the campaign's late policy is 'miss'",
            )
        )
    return ids


def begin_attempt(
    session: Session, *, delivery_id: int, ticket: int, now: datetime, lease: timedelta
) -> AttemptStart | None:
    """``queued`` → ``publishing`` for the holder of ``ticket``; ``None`` if it is not us.

    On the hot path of every publish, so it costs three or four statements: the
    compare-and-set returns what the attempt needs, a first attempt records its lateness,
    the attempt row is inserted, and one query reads the content for the account's platform.
    """
    row = session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.state == DeliveryState.QUEUED,
            Delivery.ticket == ticket,
        )
        .values(
            state=DeliveryState.PUBLISHING,
            attempts=Delivery.attempts + 1,
            lease_until=now + lease,
            reserved_slot_at=None,  # spent: a retry asks the rate limiter again
            updated_at=now,
            started_at=func.coalesce(Delivery.started_at, literal(now, UTCDateTime())),
        )
        .returning(
            Delivery.attempts,
            Delivery.account_id,
            Delivery.post_id,
            Delivery.due_at,
            Delivery.started_at,
            Delivery.lateness_ms,
        )
    ).first()
    if row is None:
        return None
    attempts, account_id, post_id, due_at, started_at, lateness_ms = row
    if lateness_ms is None:
        lateness_ms = max(0, round(((started_at or now) - due_at).total_seconds() * 1000))
        session.execute(
            update(Delivery).where(Delivery.id == delivery_id).values(lateness_ms=lateness_ms)
        )
    session.execute(
        insert(DeliveryAttempt).values(
            delivery_id=delivery_id, number=attempts, started_at=now, outcome="started"
        )
    )
    post, platform = (
        session.execute(
            select(Post, Account.platform)
            .join(Account, Account.id == account_id)
            .where(Post.id == post_id)
            .options(joinedload(Post.variants))
        )
        .unique()
        .one()
    )
    marker = Delivery(id=delivery_id).marker  # a transient row: the one place markers are made
    return AttemptStart(
        delivery_id=delivery_id,
        attempt=attempts,
        account_id=account_id,
        platform=platform,
        content=content_for(post, platform, marker=marker),
        started_at=now,
        lateness_ms=lateness_ms,
    )


def _current_attempt(session: Session, start: AttemptStart) -> tuple[Delivery, DeliveryAttempt]:
    delivery = session.get_one(Delivery, start.delivery_id, with_for_update=True)
    attempt = session.scalars(
        select(DeliveryAttempt).where(
            DeliveryAttempt.delivery_id == start.delivery_id,
            DeliveryAttempt.number == start.attempt,
        )
    ).one()
    return delivery, attempt


def _close_attempt(
    attempt: DeliveryAttempt,
    *,
    outcome: str,
    now: datetime,
    code: str | None = None,
    message: str | None = None,
) -> None:
    attempt.outcome = outcome
    attempt.finished_at = now
    attempt.platform_code = code
    attempt.message = message
    attempt.duration_ms = round((now - attempt.started_at).total_seconds() * 1000)


def record_result(
    session: Session, *, start: AttemptStart, result: PublishResult, now: datetime
) -> Delivery:
    """The platform accepted the post: ``published``, or ``submitted`` for async platforms.

    A compare-and-set on the attempt, with no read first (two statements on the hot path):
    if the reconciler has moved the delivery on, only the attempt's evidence is written.
    """
    values = _result_values(result, now=now)
    check_delivery_transition(start.delivery_id, DeliveryState.PUBLISHING, values["state"])
    delivery = session.scalars(
        update(Delivery)
        .where(
            Delivery.id == start.delivery_id,
            Delivery.state == DeliveryState.PUBLISHING,
            Delivery.attempts == start.attempt,
        )
        .values(**values)
        .returning(Delivery)
    ).first()
    if delivery is None:
        # Someone else (the reconciler) moved on; keep the evidence, change nothing else.
        delivery = session.get_one(Delivery, start.delivery_id)
        _finish_attempt(
            session,
            start,
            outcome="superseded",
            now=now,
            message=f"result arrived after the delivery became {delivery.state}",
        )
        return delivery
    _finish_attempt(session, start, outcome=delivery.state.value, now=now)
    return delivery


def _finish_attempt(
    session: Session,
    start: AttemptStart,
    *,
    outcome: str,
    now: datetime,
    message: str | None = None,
) -> None:
    session.execute(
        update(DeliveryAttempt)
        .where(
            DeliveryAttempt.delivery_id == start.delivery_id,
            DeliveryAttempt.number == start.attempt,
        )
        .values(
            outcome=outcome,
            finished_at=now,
            platform_code=None,
            message=message,
            duration_ms=round((now - start.started_at).total_seconds() * 1000),
        )
    )


def _result_values(result: PublishResult, *, now: datetime) -> dict[str, Any]:
    """The delivery's columns once the platform has accepted a post."""
    values: dict[str, Any] = {
        "updated_at": now,
        "lease_until": None,
        "last_error": None,
        "last_error_code": None,
    }
    if result.state is PublishState.SUBMITTED:
        values |= {"state": DeliveryState.SUBMITTED, "submission_id": result.submission_id}
    else:
        values |= {"state": DeliveryState.PUBLISHED, "published_at": result.published_at or now}
    if result.remote_id:
        values["remote_id"] = result.remote_id
    if result.url:
        values["url"] = result.url
    return values


def apply_publish_result(delivery: Delivery, result: PublishResult, *, now: datetime) -> None:
    values = _result_values(result, now=now)
    check_delivery_transition(delivery.id, delivery.state, values["state"])
    for name, value in values.items():
        setattr(delivery, name, value)


def record_found(
    session: Session, *, start: AttemptStart, found: RemotePost, now: datetime
) -> Delivery:
    """Reconciliation found the post we could not confirm: record it, publish nothing."""
    result = PublishResult(
        state=PublishState.PUBLISHED,
        remote_id=found.remote_id,
        url=found.url,
        published_at=found.published_at or now,
    )
    return record_result(session, start=start, result=result, now=now)


def record_error(
    session: Session,
    *,
    start: AttemptStart,
    error: ConnectorError,
    decision: Decision,
    now: datetime,
) -> Delivery:
    """Apply a retry policy decision: back to ``scheduled`` at a later time, or ``failed``."""
    delivery, attempt = _current_attempt(session, start)
    _close_attempt(
        attempt, outcome=decision.action.value, now=now, code=error.code, message=str(error)
    )
    if delivery.state is not DeliveryState.PUBLISHING or delivery.attempts != start.attempt:
        return delivery
    delivery.last_error = decision.reason or str(error)
    delivery.last_error_code = error.code
    delivery.lease_until = None
    if decision.retry_at is not None:
        set_delivery_state(delivery, DeliveryState.SCHEDULED, now=now)
        delivery.next_attempt_at = decision.retry_at
    else:
        set_delivery_state(delivery, DeliveryState.FAILED, now=now)
    session.flush()
    return delivery


def record_unknown(
    session: Session, *, start: AttemptStart, reason: str, now: datetime
) -> Delivery:
    """The outcome cannot be established: surface it to staff instead of posting again."""
    delivery, attempt = _current_attempt(session, start)
    _close_attempt(attempt, outcome="unknown", now=now, message=reason)
    if delivery.state is DeliveryState.PUBLISHING and delivery.attempts == start.attempt:
        set_delivery_state(delivery, DeliveryState.UNKNOWN, now=now)
        delivery.last_error = reason
        delivery.lease_until = None
    session.flush()
    return delivery


def postpone_reconcile(
    session: Session, *, start: AttemptStart, until: datetime, reason: str, now: datetime
) -> Delivery:
    """The platform could not be asked about a lost outcome: look again at ``until``.

    The delivery stays ``publishing`` with its attempt open, and its lease now ends at
    ``until``: that is what brings the reconciler back. Nothing is published meanwhile.
    """
    delivery, _ = _current_attempt(session, start)
    if delivery.state is DeliveryState.PUBLISHING and delivery.attempts == start.attempt:
        delivery.lease_until = until
        delivery.last_error = reason
        delivery.updated_at = now
    session.flush()
    return delivery


def submitted_deliveries(session: Session, *, limit: int = 500) -> list[tuple[int, int, str]]:
    """(delivery id, account id, submission id) of every publish the platform still processes."""
    rows = session.execute(
        select(Delivery.id, Delivery.account_id, Delivery.submission_id)
        .where(Delivery.state == DeliveryState.SUBMITTED, Delivery.submission_id.is_not(None))
        .order_by(Delivery.updated_at)
        .limit(limit)
    ).all()
    return [(d, a, str(s)) for d, a, s in rows]


def record_poll(
    session: Session, *, delivery_id: int, result: PublishResult, now: datetime
) -> Delivery:
    delivery = session.get_one(Delivery, delivery_id, with_for_update=True)
    if delivery.state is DeliveryState.SUBMITTED and result.state is PublishState.PUBLISHED:
        apply_publish_result(delivery, result, now=now)
    else:
        delivery.updated_at = now
    session.flush()
    return delivery


def record_poll_failure(
    session: Session, *, delivery_id: int, error: ConnectorError, now: datetime
) -> Delivery:
    delivery = session.get_one(Delivery, delivery_id, with_for_update=True)
    delivery.last_error = str(error)
    delivery.last_error_code = error.code
    if delivery.state is DeliveryState.SUBMITTED and not error.retryable:
        set_delivery_state(delivery, DeliveryState.FAILED, now=now)
    else:
        delivery.updated_at = now
    session.flush()
    return delivery
