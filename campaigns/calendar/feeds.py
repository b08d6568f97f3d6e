"""Secret iCalendar feed URLs: made per campaign, stored as a sha256 hash, revocable."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.calendar.models import CalendarFeed
from campaigns.models import Campaign
from publicist.core.crypto import secret_digest
from publicist.core.errors import Conflict, NotFound

SECRET_BYTES = 32
"""Random bytes in a feed secret: the URL is the only credential a calendar client has."""
_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{43,100}")


@dataclass(frozen=True)
class IssuedFeed:
    """A new feed: ``secret`` is the only copy there will ever be."""

    feed_id: int
    campaign_id: int
    secret: str

    def __repr__(self) -> str:
        return f"IssuedFeed(feed_id={self.feed_id}, campaign_id={self.campaign_id})"


def feed_path(secret: str) -> str:
    return f"/calendar/feeds/{secret}.ics"


def create_feed(
    session: Session, *, campaign: Campaign, now: datetime, person_id: int | None = None
) -> IssuedFeed:
    secret = secrets.token_urlsafe(SECRET_BYTES)
    feed = CalendarFeed(
        campaign_id=campaign.id,
        secret_hash=secret_digest(secret),
        created_by=person_id,
        created_at=now,
    )
    session.add(feed)
    session.flush()
    return IssuedFeed(feed_id=feed.id, campaign_id=campaign.id, secret=secret)


def find_feed(session: Session, *, secret: str) -> CalendarFeed | None:
    """The live feed of ``secret``, or None (malformed, unknown or revoked)."""
    if not _SECRET_SHAPE.fullmatch(secret):
        return None
    feed = session.scalar(
        select(CalendarFeed).where(CalendarFeed.secret_hash == secret_digest(secret))
    )
    return feed if feed is not None and feed.revoked_at is None else None


def revoke_feed(session: Session, *, feed_id: int, now: datetime) -> CalendarFeed:
    feed = session.get(CalendarFeed, feed_id, with_for_update=True)
    if feed is None:
        raise NotFound("calendar feed", feed_id, "see 'publicist calendar feeds'")
    if feed.revoked_at is not None:
        raise Conflict(f"calendar feed {feed_id} was already revoked")
    feed.revoked_at = now
    session.flush()
    return feed


def live_feeds(session: Session, *, campaign_id: int | None = None) -> list[CalendarFeed]:
    """Feeds not revoked, oldest first (all campaigns' when ``campaign_id`` is None)."""
    query = select(CalendarFeed).where(CalendarFeed.revoked_at.is_(None))
    if campaign_id is not None:
        query = query.where(CalendarFeed.campaign_id == campaign_id)
    return list(session.scalars(query.order_by(CalendarFeed.id)))
