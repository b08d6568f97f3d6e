"""Sign-in throttling: too many recent failures for an e-mail or from an address wait a while.

Failures are rows in the database, so every API process (and every restart) sees the same
count. A success clears the e-mail's failures, not the address's.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from publicist.web.models import SigninFailure

WINDOW = timedelta(minutes=15)
PER_EMAIL = 5
"""Failures for one e-mail within ``WINDOW`` before it must wait: slows guessing one password."""
PER_ADDRESS = 20
"""Failures from one client address within ``WINDOW``: slows trying many e-mails."""


def _wait_until(
    session: Session, column: InstrumentedAttribute[str], value: str, limit: int, now: datetime
) -> datetime | None:
    recent = list(
        session.scalars(
            select(SigninFailure.at)
            .where(column == value, SigninFailure.at > now - WINDOW)
            .order_by(SigninFailure.at.desc())
            .limit(limit)
        )
    )
    if len(recent) < limit:
        return None
    # The oldest of the last ``limit`` failures leaves the window at this time.
    return recent[-1] + WINDOW


def retry_at(session: Session, *, email: str, address: str, now: datetime) -> datetime | None:
    """When sign-in may be tried again for this e-mail from this address; None: now."""
    waits = [
        _wait_until(session, SigninFailure.email, email, PER_EMAIL, now),
        _wait_until(session, SigninFailure.address, address, PER_ADDRESS, now),
    ]
    return max((w for w in waits if w is not None), default=None)


def record_failure(session: Session, *, email: str, address: str, now: datetime) -> None:
    session.execute(delete(SigninFailure).where(SigninFailure.at <= now - WINDOW))
    session.add(SigninFailure(email=email[:254], address=address[:64], at=now))
    session.flush()


def clear_failures(session: Session, *, email: str) -> None:
    session.execute(delete(SigninFailure).where(SigninFailure.email == email))
    session.flush()
