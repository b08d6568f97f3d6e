"""The web layer's own tables: API tokens, browser sessions and failed sign-ins.

Tokens and sessions are kept as sha256 hashes, so a database leak reveals none of them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.people.models import Person
from publicist.core.database import Base, UTCDateTime


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """sha256 (hex) of the token; the token itself is shown once and never stored."""
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    """The person the token acts for; None for tokens made before people existed."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    owner: Mapped[Person | None] = relationship(lazy="joined")

    def __repr__(self) -> str:  # never shows the hash
        return f"ApiToken(id={self.id}, name={self.name!r}, role={self.role})"


class WebSession(Base):
    """A signed-in browser: the cookie holds a random secret, the table its sha256."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    """Sent back in every form (hidden field) and htmx request (header) of this session."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    person: Mapped[Person] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"WebSession(id={self.id}, person_id={self.person_id})"


class SigninFailure(Base):
    """One failed sign-in; recent ones throttle the e-mail and the client address."""

    __tablename__ = "signin_failures"
    __table_args__ = (
        Index("ix_signin_failures_email_at", "email", "at"),
        Index("ix_signin_failures_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
