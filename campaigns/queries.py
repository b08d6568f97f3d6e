"""Reads for staff: which deliveries need attention, and why (CLI, API and dashboard alike)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, ScalarSelect, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from campaigns.accounts import connector_class
from campaigns.models import Account, Delivery, DeliveryAttempt, Post
from campaigns.states import ENDED_BADLY, EXPIRED, DeliveryState, PostState
from connectors.registry import UnknownPlatform
from publicist.core.database import UTCDateTime
from publicist.core.settings import Settings

"""Final states staff must look at (and may retry)."""
WAITING = (
    DeliveryState.SCHEDULED,
    DeliveryState.QUEUED,
    DeliveryState.PUBLISHING,
    DeliveryState.SUBMITTED,
)
"""States a delivery only passes through: one that stays too long in them is stuck."""
LATE_START = timedelta(seconds=60)
"""A scheduled or queued delivery this far past its time has not been picked up."""
DEFAULT_PROCESSING = timedelta(minutes=10)
"""For an asynchronous platform whose connector names no usual processing time."""


@dataclass(frozen=True)
class Windows:
    """How long a delivery normally stays in each waiting state; longer means stuck."""

    late_start: timedelta
    publishing: timedelta
    """One lease and its creation margin: by then the reconciler has taken the attempt over."""

    @classmethod
    def from_settings(cls, settings: Settings) -> Windows:
        return cls(
            late_start=LATE_START,
            publishing=timedelta(
                seconds=settings.publish_lease_seconds + settings.publish_creation_margin_seconds
            ),
        )


def processing_window(platform: str) -> timedelta:
    """How long the platform usually takes to publish an accepted (``submitted``) post."""
    try:
        seconds = connector_class(platform).capabilities.usual_processing_seconds
    except UnknownPlatform:  # a connector no longer installed: fall back
        return DEFAULT_PROCESSING
    return timedelta(seconds=seconds) if seconds else DEFAULT_PROCESSING


@dataclass(frozen=True)
class Attention:
    """A delivery that needs staff attention, with the stored reason."""

    delivery_id: int
    post_id: int
    campaign_id: int
    account: str
    platform: str
    state: str
    due_at: datetime
    attempts: int
    stuck: bool
    """Still in a waiting state, for longer than its platform normally needs."""
    reason: str | None
    error_code: str | None
    text: str


@dataclass(frozen=True)
class _Cut:
    """The "needs attention" condition, written once for the list and the counts."""

    started: ScalarSelect[datetime]
    finished: ScalarSelect[datetime]
    needs_attention: ColumnElement[bool]

    @classmethod
    def of(cls, session: Session, *, now: datetime, windows: Windows) -> _Cut:
        # The current attempt's start and end: how long the delivery has been in its state.
        attempt = (
            select(DeliveryAttempt.started_at)
            .where(
                DeliveryAttempt.delivery_id == Delivery.id,
                DeliveryAttempt.number == Delivery.attempts,
            )
            .correlate(Delivery)
            .limit(1)
        )
        started = attempt.scalar_subquery()
        finished = attempt.with_only_columns(
            func.coalesce(DeliveryAttempt.finished_at, DeliveryAttempt.started_at)
        ).scalar_subquery()
        whens = [(Account.platform == p, now - processing_window(p)) for p in _platforms(session)]
        processed_by: ColumnElement[datetime] = (
            case(*whens, else_=now - DEFAULT_PROCESSING)
            if whens
            else literal(now - DEFAULT_PROCESSING, UTCDateTime())
        )
        condition = or_(
            Delivery.state.in_(ENDED_BADLY),
            and_(
                Delivery.state.in_([DeliveryState.SCHEDULED, DeliveryState.QUEUED]),
                Delivery.next_attempt_at < now - windows.late_start,
            ),
            and_(
                Delivery.state == DeliveryState.PUBLISHING,
                func.coalesce(started, Delivery.updated_at) < now - windows.publishing,
            ),
            and_(Delivery.state == DeliveryState.SUBMITTED, finished < processed_by),
        )
        return cls(started, finished, condition)


def attention_counts(
    session: Session, *, now: datetime, windows: Windows, by: Literal["campaign", "account"]
) -> dict[int, int]:
    """How many deliveries need attention, per campaign id or per account id (for reports)."""
    cut = _Cut.of(session, now=now, windows=windows)
    key = Post.campaign_id if by == "campaign" else Delivery.account_id
    rows = session.execute(
        select(key, func.count())
        .select_from(Delivery)
        .join(Post, Post.id == Delivery.post_id)
        .join(Account, Account.id == Delivery.account_id)
        .where(cut.needs_attention)
        .group_by(key)
    )
    return {int(k): int(n) for k, n in rows}


def deliveries_needing_attention(
    session: Session,
    *,
    now: datetime,
    windows: Windows,
    campaign_id: int | None = None,
    limit: int = 100,
) -> list[Attention]:
    """Failed, missed and unknown deliveries, and those stuck in a waiting state, most
    recently due first.

    Stuck: ``scheduled`` or ``queued`` past their time by ``windows.late_start`` (no
    dispatcher or worker took them), ``publishing`` for longer than a lease and its margin
    (the reconciler has not settled it), ``submitted`` for longer than the platform's usual
    processing time.
    """
    cut = _Cut.of(session, now=now, windows=windows)
    query = (
        select(Delivery, Post, Account, cut.started, cut.finished)
        .join(Post, Post.id == Delivery.post_id)
        .join(Account, Account.id == Delivery.account_id)
        .where(cut.needs_attention)
        .order_by(Delivery.due_at.desc(), Delivery.id.desc())
        .limit(limit)
    )
    if campaign_id is not None:
        query = query.where(Post.campaign_id == campaign_id)
    found: list[Attention] = []
    for delivery, post, account, began, ended in session.execute(query):
        reason = delivery.last_error
        stuck = delivery.state in WAITING
        if stuck:
            waited = _waited(delivery, now=now, started=began, finished=ended)
            window = _window(delivery, account.platform, windows)
            reason = (
                f"{delivery.state.value} for {_duration(waited)}, longer than the "
                f"{_duration(window)} {account.platform} normally needs"
                + (f"; last error: {delivery.last_error}" if delivery.last_error else "")
            )
        found.append(
            Attention(
                delivery_id=delivery.id,
                post_id=post.id,
                campaign_id=post.campaign_id,
                account=account.label,
                platform=account.platform,
                state=delivery.state.value,
                due_at=delivery.due_at,
                attempts=delivery.attempts,
                stuck=stuck,
                reason=reason,
                error_code=delivery.last_error_code,
                text=post.text,
            )
        )
    return found


def _platforms(session: Session) -> list[str]:
    return list(session.scalars(select(Account.platform).distinct()))


def _waited(
    delivery: Delivery, *, now: datetime, started: datetime | None, finished: datetime | None
) -> timedelta:
    if delivery.state in (DeliveryState.SCHEDULED, DeliveryState.QUEUED):
        return now - delivery.next_attempt_at
    if delivery.state is DeliveryState.PUBLISHING:
        return now - (started or delivery.updated_at)
    return now - (finished or delivery.updated_at)


def _window(delivery: Delivery, platform: str, windows: Windows) -> timedelta:
    if delivery.state is DeliveryState.PUBLISHING:
        return windows.publishing
    if delivery.state is DeliveryState.SUBMITTED:
        return processing_window(platform)
    return windows.late_start


def _duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds < 300:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def list_posts_in(
    session: Session,
    *,
    now: datetime,
    campaign_id: int | None = None,
    state: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Post]:
    """Posts by id, optionally of one campaign and in one state as reads show it:
    ``expired`` is a post in review whose time has come, and ``in_review`` leaves those out."""
    query = select(Post).order_by(Post.id).limit(limit).offset(offset)
    if campaign_id is not None:
        query = query.where(Post.campaign_id == campaign_id)
    if state == EXPIRED:
        query = query.where(Post.state == PostState.IN_REVIEW, Post.publish_at <= now)
    elif state == PostState.IN_REVIEW.value:
        query = query.where(
            Post.state == PostState.IN_REVIEW, or_(Post.publish_at.is_(None), Post.publish_at > now)
        )
    elif state is not None:
        query = query.where(Post.state == PostState(state))
    return list(session.scalars(query))
