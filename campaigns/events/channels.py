"""Admins' channels (Apprise URLs, kept encrypted) and each person's subscriptions."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import apprise
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.events.kinds import parse_kinds
from campaigns.events.models import Channel, Subscription
from publicist.core.crypto import decrypt_json, encrypt_json
from publicist.core.errors import Conflict, InvalidInput, NotFound
from publicist.core.ids import as_id

EMAIL = "email"
CHAT = "chat"
EMAIL_SCHEMES = ("mailto", "mailtos")
MAX_DIGEST_MINUTES = 24 * 60


def redact(url: str) -> str:
    """The URL as Apprise shows it with its secrets (passwords, tokens) masked."""
    servers = apprise.Apprise()
    if not servers.add(url):
        return "(unreadable channel URL)"
    return str(servers[0].url(privacy=True))  # type: ignore[no-untyped-call]


def add_channel(session: Session, *, name: str, url: str, secret: str, now: datetime) -> Channel:
    """Store an Apprise URL; ``mailto``/``mailtos`` URLs are e-mail (each person's own
    address is the recipient), every other service is a chat channel."""
    name = name.strip()
    if not name:
        raise InvalidInput("name", name, "must not be empty")
    if not apprise.Apprise().add(url):
        # The URL itself is never echoed: it may carry a password or a bot token.
        raise InvalidInput(
            "url", redact_scheme(url), "is not a notification URL Apprise understands"
        )
    if session.scalars(select(Channel.id).where(Channel.name == name)).first():
        raise Conflict(f"name: a channel named {name!r} exists already")
    kind = EMAIL if urlsplit(url).scheme.lower() in EMAIL_SCHEMES else CHAT
    channel = Channel(
        name=name,
        kind=kind,
        url_encrypted=encrypt_json(secret, {"url": url}),
        url_redacted=redact(url)[:500],
        created_at=now,
    )
    session.add(channel)
    session.flush()
    return channel


def redact_scheme(url: str) -> str:
    """Only the scheme of a refused URL, which is all an error may repeat."""
    scheme = urlsplit(url).scheme
    return f"{scheme}://…" if scheme else "…"


def channel_url(channel: Channel, *, secret: str, to: str | None = None) -> str:
    """The channel's real URL; for an e-mail channel, addressed to ``to``."""
    url = str(decrypt_json(secret, channel.url_encrypted)["url"])
    if channel.kind != EMAIL or to is None:
        return url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "to"] + [("to", to)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def find_channel(session: Session, key: str) -> Channel:
    """A channel by id or name."""
    channel_id = as_id(key)
    found = session.get(Channel, channel_id) if channel_id is not None else None
    found = found or session.scalars(select(Channel).where(Channel.name == key)).first()
    if found is None:
        raise NotFound("channel", key)
    return found


def remove_channel(session: Session, *, key: str) -> None:
    channel = find_channel(session, key)
    for subscription in session.scalars(
        select(Subscription).where(Subscription.channel_id == channel.id)
    ):
        session.delete(subscription)
    channel.disabled = True
    session.flush()


def subscribe(
    session: Session,
    *,
    person_id: int,
    channel_id: int,
    kinds: list[str],
    digest_minutes: int,
) -> Subscription | None:
    """Set which events reach a person on a channel; no kinds removes the subscription."""
    chosen = parse_kinds(kinds)
    if not 0 <= digest_minutes <= MAX_DIGEST_MINUTES:
        raise InvalidInput(
            "digest_minutes",
            digest_minutes,
            f"must be from 0 (each event at once) to {MAX_DIGEST_MINUTES} (one a day)",
        )
    channel = session.get(Channel, channel_id)
    if channel is None or channel.disabled:
        raise NotFound("channel", channel_id)
    existing = session.scalars(
        select(Subscription).where(
            Subscription.person_id == person_id, Subscription.channel_id == channel_id
        )
    ).first()
    if not chosen:
        if existing is not None:
            session.delete(existing)
            session.flush()
        return None
    subscription = existing or Subscription(person_id=person_id, channel_id=channel_id)
    subscription.kinds = chosen
    subscription.digest_minutes = digest_minutes
    session.add(subscription)
    session.flush()
    return subscription
