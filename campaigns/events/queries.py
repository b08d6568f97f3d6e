"""Reads of the outbox and its recipients, for the notify task, the CLI and the workspace."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.events.models import (
    Channel,
    Event,
    ReportSchedule,
    Subscription,
    WebhookAttempt,
    WebhookDelivery,
    WebhookTarget,
)


def pending_events(session: Session, *, limit: int) -> list[Event]:
    """Events not yet fanned out, oldest first; rows another notify run holds are skipped
    (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite serialises writers anyway)."""
    return list(
        session.scalars(
            select(Event)
            .where(Event.fanned_out_at.is_(None))
            .order_by(Event.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def active_channels(session: Session) -> list[Channel]:
    return list(
        session.scalars(select(Channel).where(Channel.disabled.is_(False)).order_by(Channel.id))
    )


def subscriptions_of(session: Session, *, person_id: int) -> list[Subscription]:
    return list(
        session.scalars(
            select(Subscription)
            .where(Subscription.person_id == person_id)
            .order_by(Subscription.channel_id)
        )
    )


def active_webhooks(session: Session) -> list[WebhookTarget]:
    return list(
        session.scalars(
            select(WebhookTarget)
            .where(WebhookTarget.disabled.is_(False))
            .order_by(WebhookTarget.id)
        )
    )


@dataclass(frozen=True)
class LogLine:
    """One POST of the webhook delivery log, as admins read it."""

    target_id: int
    url: str
    event_id: int
    kind: str
    number: int
    at: datetime
    status_code: int | None
    error: str | None
    status: str


def webhook_log(session: Session, *, limit: int = 100) -> list[LogLine]:
    """The latest webhook attempts, newest first."""
    rows = session.execute(
        select(
            WebhookTarget.id,
            WebhookTarget.url,
            Event.id,
            Event.kind,
            WebhookAttempt.number,
            WebhookAttempt.at,
            WebhookAttempt.status_code,
            WebhookAttempt.error,
            WebhookDelivery.status,
        )
        .join(WebhookDelivery, WebhookDelivery.id == WebhookAttempt.delivery_id)
        .join(WebhookTarget, WebhookTarget.id == WebhookDelivery.target_id)
        .join(Event, Event.id == WebhookDelivery.event_id)
        .order_by(WebhookAttempt.at.desc(), WebhookAttempt.id.desc())
        .limit(limit)
    ).all()
    return [LogLine(*row) for row in rows]


def report_schedules(session: Session) -> list[ReportSchedule]:
    return list(session.scalars(select(ReportSchedule).order_by(ReportSchedule.id)))
