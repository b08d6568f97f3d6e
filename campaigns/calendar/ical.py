"""A campaign's plan as an iCalendar (RFC 5545) document: one event per delivery."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.calendar.queries import Entry, Filters, entries
from campaigns.models import Account, Campaign, Post, PostTarget
from campaigns.states import DeliveryState

HISTORY = timedelta(days=90)
"""How far back a feed goes; everything ahead is in it."""
FUTURE = timedelta(days=3660)
"""And how far ahead: ten years, more than any plan."""
SUMMARY_WORDS = 8


def _first_words(text: str) -> str:
    words = text.split()
    # Chinese has no spaces between words: cut a long run of characters instead.
    shown = " ".join(words[:SUMMARY_WORDS])
    return shown if len(shown) <= 60 else shown[:59] + "…"


def campaign_calendar(
    session: Session, *, campaign: Campaign, base_url: str, now: datetime
) -> bytes:
    """The feed's body: deliveries due from ``HISTORY`` ago onwards, each with a stable UID."""
    found = entries(
        session,
        start=now - HISTORY,
        end=now + FUTURE,
        filters=Filters(campaign_id=campaign.id),
    )
    accounts = _accounts_of_posts(session, campaign_id=campaign.id)
    calendar = Calendar()
    calendar.add("prodid", "-//Publicist//Campaign calendar//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"Publicist: {campaign.name}")
    calendar.add("x-wr-timezone", campaign.timezone)
    for entry in found:
        calendar.add_component(_event(entry, accounts[entry.post_id], base_url, now))
    body: bytes = calendar.to_ical()
    return body


def _event(entry: Entry, accounts: list[str], base_url: str, now: datetime) -> Event:
    event = Event()
    event.add("uid", f"delivery-{entry.delivery_id}@publicist")
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", entry.due_at.astimezone(UTC))
    event.add("summary", f"[{entry.platform}] {_first_words(entry.first_line)}")
    local = entry.due_at.astimezone(ZoneInfo(entry.timezone))
    event.add(
        "description",
        f"State: {entry.state}\nAccount: {entry.account}\n"
        f"Post {entry.post_id} goes to: {', '.join(accounts)}\n"
        f"Time: {local:%Y-%m-%d %H:%M %Z} ({entry.timezone})",
    )
    query = urlencode(
        {"campaign": entry.campaign_id, "start": f"{local:%Y-%m-%d}", "post": entry.post_id}
    )
    event.add("url", f"{base_url.rstrip('/')}/calendar?{query}")
    if entry.state == DeliveryState.CANCELLED.value:
        event.add("status", "CANCELLED")
    return event


def _accounts_of_posts(session: Session, *, campaign_id: int) -> defaultdict[int, list[str]]:
    found: defaultdict[int, list[str]] = defaultdict(list)
    rows = session.execute(
        select(PostTarget.post_id, Account.platform, Account.handle)
        .join(Account, Account.id == PostTarget.account_id)
        .join(Post, Post.id == PostTarget.post_id)
        .where(Post.campaign_id == campaign_id)
        .order_by(PostTarget.id)
    )
    for post_id, platform, handle in rows:
        found[post_id].append(f"{platform}:{handle}")
    return found
