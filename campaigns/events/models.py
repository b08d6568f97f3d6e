"""Tables of the outbox (events) and of their recipients: channels, subscriptions, sends,
webhook targets with their deliveries and attempt log, and scheduled report e-mails."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from publicist.core.database import Base, UTCDateTime


class Event(Base):
    """A fact worth telling someone, written in the transaction of the change behind it."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_pending", "fanned_out_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    post_id: Mapped[int | None] = mapped_column(Integer)
    delivery_id: Mapped[int | None] = mapped_column(Integer)
    account_id: Mapped[int | None] = mapped_column(Integer)
    campaign_id: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """``reason`` in plain words, ``link`` (a path of the workspace) and kind-specific facts."""
    dedup_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    """Set for events found by periodic checks, so each fact is recorded once."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    fanned_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When the notify task turned the event into sends and webhook deliveries."""


class Channel(Base):
    """An Apprise URL an admin added: an SMTP server (``email``) or a chat channel (``chat``)."""

    __tablename__ = "notify_channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    url_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    url_redacted: Mapped[str] = mapped_column(String(500))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:  # never shows the URL's secrets
        return f"Channel(id={self.id}, {self.name!r}, {self.url_redacted})"


class Subscription(Base):
    """Which event kinds reach one person on one channel, at once or as a digest."""

    __tablename__ = "notify_subscriptions"
    __table_args__ = (UniqueConstraint("person_id", "channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("notify_channels.id", ondelete="CASCADE"))
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    digest_minutes: Mapped[int] = mapped_column(Integer, default=0)
    """0: one message per event; N: one message per N minutes gathering that window's events."""
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Send(Base):
    """One event for one person on one channel: the unique key makes it happen at most once."""

    __tablename__ = "notify_sends"
    __table_args__ = (
        UniqueConstraint("event_id", "person_id", "channel_id"),
        Index("ix_notify_sends_status", "status", "subscription_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("notify_channels.id", ondelete="CASCADE"))
    subscription_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))
    """``pending`` → ``sending`` (claimed and committed before the message leaves) → ``sent``
    or ``failed``; a send left ``sending`` by a crash is never sent again."""
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebhookTarget(Base):
    """An admin-registered URL that receives every event as signed JSON."""

    __tablename__ = "webhook_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Empty: every kind."""
    allow_private: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookDelivery(Base):
    """One event to one target, retried with backoff until delivered or a day has passed."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "target_id"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("webhook_targets.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10))
    """``pending`` (waiting for its next attempt), ``delivered`` or ``gave_up``."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookAttempt(Base):
    """The delivery log admins read: each POST's time, status code or error."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_delivery", "delivery_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE")
    )
    number: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)


class ReportSchedule(Base):
    """A campaign's period report e-mailed weekly or monthly to chosen addresses."""

    __tablename__ = "report_schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    every: Mapped[str] = mapped_column(String(8))
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    channel_id: Mapped[int] = mapped_column(ForeignKey("notify_channels.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(8), default="en")
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
