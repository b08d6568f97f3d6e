"""Browser sessions of signed-in people: a random secret in the cookie, its hash in the table.

A session ends when its person signs out, is disabled, or after ``LIFETIME`` of not being used.
Each carries its own CSRF token, which every form and htmx request of the session sends back.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from campaigns.people.models import Person
from publicist.core.crypto import secret_digest
from publicist.web.models import WebSession

COOKIE = "publicist_session"
LIFETIME = timedelta(hours=12)
"""Idle time after which a person signs in again; each use extends it (at most once a minute)."""
RENEW_AFTER = timedelta(minutes=1)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; missing on either side never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def start_session(session: Session, *, person: Person, now: datetime) -> tuple[str, WebSession]:
    """A new session for ``person``; the secret goes into the cookie and nowhere else."""
    secret = new_token()
    row = WebSession(
        secret_hash=secret_digest(secret),
        person_id=person.id,
        csrf_token=new_token(),
        created_at=now,
        expires_at=now + LIFETIME,
    )
    session.add(row)
    # Expired sessions of this person are of no use to anyone; drop them as a new one starts.
    session.execute(
        delete(WebSession).where(WebSession.person_id == person.id, WebSession.expires_at < now)
    )
    session.flush()
    return secret, row


def find_session(session: Session, *, secret: str | None, now: datetime) -> WebSession | None:
    """The live session of this cookie secret, or None (unknown, expired, person disabled)."""
    if not secret or len(secret) > 200:
        return None
    row = session.scalar(select(WebSession).where(WebSession.secret_hash == secret_digest(secret)))
    if row is None or row.expires_at <= now or row.person.disabled:
        return None
    if row.expires_at - LIFETIME + RENEW_AFTER <= now:
        row.expires_at = now + LIFETIME
    return row


def end_session(session: Session, *, row: WebSession) -> None:
    session.delete(row)
    session.flush()
