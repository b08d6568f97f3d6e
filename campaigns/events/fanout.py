"""From outbox to recipients: each event becomes sends (person × channel) and webhook
deliveries, claimed and settled in short transactions around the network calls.

Sends are at most once: a send is marked ``sending`` and committed before its message
leaves, and the (event, person, channel) key is unique, so a retried or doubled task never
sends twice. Webhooks are at least once, retried with backoff for a day; receivers tell a
repeat by the event id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaigns.events.channels import channel_url
from campaigns.events.models import (
    Channel,
    Event,
    Send,
    Subscription,
    WebhookAttempt,
    WebhookDelivery,
    WebhookTarget,
)
from campaigns.events.queries import active_webhooks, pending_events
from campaigns.events.webhooks import signing_secret
from campaigns.events.wording import Message, digest_for, message_for
from campaigns.people.models import Person

WEBHOOK_FOR = timedelta(days=1)
"""How long a webhook delivery is retried before it is given up."""
WEBHOOK_FIRST_WAIT = timedelta(seconds=30)
WEBHOOK_LONGEST_WAIT = timedelta(hours=1)
WEBHOOK_LEASE = timedelta(minutes=2)
"""A claimed webhook delivery is not claimed again this long (its POST is under way)."""


def fan_out(session: Session, *, now: datetime, limit: int = 200) -> int:
    """Turn pending events into pending sends and webhook deliveries; returns how many
    events were handled."""
    events = pending_events(session, limit=limit)
    if not events:
        return 0
    subscriptions = list(
        session.scalars(
            select(Subscription)
            .join(Channel, Channel.id == Subscription.channel_id)
            .join(Person, Person.id == Subscription.person_id)
            .where(Channel.disabled.is_(False), Person.disabled.is_(False))
        )
    )
    targets = active_webhooks(session)
    for event in events:
        for subscription in subscriptions:
            if event.kind in subscription.kinds:
                _add_send(session, event=event, subscription=subscription, now=now)
        for target in targets:
            if not target.kinds or event.kind in target.kinds:
                _add_webhook(session, event=event, target=target, now=now)
        event.fanned_out_at = now
    session.flush()
    return len(events)


def _add_send(session: Session, *, event: Event, subscription: Subscription, now: datetime) -> None:
    exists = session.scalars(
        select(Send.id).where(
            Send.event_id == event.id,
            Send.person_id == subscription.person_id,
            Send.channel_id == subscription.channel_id,
        )
    ).first()
    if exists is None:
        session.add(
            Send(
                event_id=event.id,
                person_id=subscription.person_id,
                channel_id=subscription.channel_id,
                subscription_id=subscription.id,
                status="pending",
                created_at=now,
            )
        )


def _add_webhook(session: Session, *, event: Event, target: WebhookTarget, now: datetime) -> None:
    exists = session.scalars(
        select(WebhookDelivery.id).where(
            WebhookDelivery.event_id == event.id, WebhookDelivery.target_id == target.id
        )
    ).first()
    if exists is None:
        session.add(
            WebhookDelivery(
                event_id=event.id,
                target_id=target.id,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )


@dataclass(frozen=True)
class SendJob:
    """One message to one person on one channel, gathering one or more sends."""

    send_ids: tuple[int, ...]
    subscription_id: int | None
    url: str
    message: Message


def claim_sends(
    session: Session, *, now: datetime, secret: str, base_url: str, limit: int = 500
) -> list[SendJob]:
    """The messages due now, their sends marked ``sending`` (the caller commits before
    sending). A digest subscription's sends wait until its window since the last message
    has passed, then leave as one message."""
    pending = list(
        session.scalars(
            select(Send)
            .where(Send.status == "pending")
            .order_by(Send.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    groups: dict[tuple[int, int], list[Send]] = {}
    for send in pending:
        groups.setdefault((send.person_id, send.channel_id), []).append(send)
    jobs: list[SendJob] = []
    for (person_id, channel_id), sends in groups.items():
        subscription = session.scalars(
            select(Subscription).where(
                Subscription.person_id == person_id, Subscription.channel_id == channel_id
            )
        ).first()
        digest = subscription.digest_minutes if subscription is not None else 0
        if _window_open(subscription, now=now):
            continue  # gather more until the digest's window has passed
        person = session.get_one(Person, person_id)
        channel = session.get_one(Channel, channel_id)
        language = person.language or "en"
        url = channel_url(channel, secret=secret, to=person.email)
        events = [session.get_one(Event, send.event_id) for send in sends]
        if digest:
            messages = [
                (
                    tuple(s.id for s in sends),
                    digest_for(events, language=language, base_url=base_url),
                )
            ]
        else:
            messages = [
                ((send.id,), message_for(event, language=language, base_url=base_url))
                for send, event in zip(sends, events, strict=True)
            ]
        for send in sends:
            send.status = "sending"
        for ids, message in messages:
            jobs.append(SendJob(ids, subscription.id if subscription else None, url, message))
    session.flush()
    return jobs


def _window_open(subscription: Subscription | None, *, now: datetime) -> bool:
    if subscription is None or not subscription.digest_minutes:
        return False
    last = subscription.last_sent_at
    return last is not None and now < last + timedelta(minutes=subscription.digest_minutes)


def finish_send(session: Session, *, job: SendJob, error: str | None, now: datetime) -> None:
    """Record how a message went; a failed one is not tried again (at most once)."""
    session.execute(
        update(Send)
        .where(Send.id.in_(job.send_ids))
        .values(status="failed" if error else "sent", error=error, sent_at=now)
    )
    if job.subscription_id is not None:
        session.execute(
            update(Subscription)
            .where(Subscription.id == job.subscription_id)
            .values(last_sent_at=now)
        )


@dataclass(frozen=True)
class WebhookJob:
    delivery_id: int
    url: str
    allow_private: bool
    secret: str
    event_id: int
    body: bytes


def event_document(event: Event, *, base_url: str) -> dict[str, Any]:
    """What a webhook receives: the event's ids, kind, reason and an absolute link."""
    payload = dict(event.payload)
    payload["link"] = base_url.rstrip("/") + payload.get("link", "")
    return {
        "id": event.id,
        "kind": event.kind,
        "created_at": event.created_at.isoformat(),
        "post_id": event.post_id,
        "delivery_id": event.delivery_id,
        "account_id": event.account_id,
        "campaign_id": event.campaign_id,
        "payload": payload,
    }


def claim_webhooks(
    session: Session, *, now: datetime, secret: str, base_url: str, limit: int = 100
) -> list[WebhookJob]:
    """Webhook deliveries due now, leased for :data:`WEBHOOK_LEASE` (the caller commits)."""
    due = list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    jobs = []
    for delivery in due:
        target = session.get_one(WebhookTarget, delivery.target_id)
        event = session.get_one(Event, delivery.event_id)
        delivery.next_attempt_at = now + WEBHOOK_LEASE
        body = json.dumps(event_document(event, base_url=base_url), ensure_ascii=False)
        jobs.append(
            WebhookJob(
                delivery_id=delivery.id,
                url=target.url,
                allow_private=target.allow_private,
                secret=signing_secret(target, secret=secret),
                event_id=event.id,
                body=body.encode("utf-8"),
            )
        )
    session.flush()
    return jobs


def backoff(attempt: int) -> timedelta:
    """The wait after the ``attempt``-th failure: 30 s, 1 min, 2 min, … at most an hour."""
    wait: timedelta = WEBHOOK_FIRST_WAIT * 2 ** min(attempt - 1, 16)
    return min(wait, WEBHOOK_LONGEST_WAIT)


def record_webhook_attempt(
    session: Session,
    *,
    delivery_id: int,
    status_code: int | None,
    error: str | None,
    now: datetime,
) -> str:
    """Log the attempt; delivered on a 2xx, else retried later or, after a day, given up.
    Returns the delivery's status."""
    delivery = session.get_one(WebhookDelivery, delivery_id, with_for_update=True)
    delivery.attempts += 1
    session.add(
        WebhookAttempt(
            delivery_id=delivery.id,
            number=delivery.attempts,
            at=now,
            status_code=status_code,
            error=error,
        )
    )
    if status_code is not None and 200 <= status_code < 300:
        delivery.status = "delivered"
    else:
        retry_at = now + backoff(delivery.attempts)
        if retry_at > delivery.created_at + WEBHOOK_FOR:
            delivery.status = "gave_up"
        else:
            delivery.next_attempt_at = retry_at
    session.flush()
    return delivery.status
