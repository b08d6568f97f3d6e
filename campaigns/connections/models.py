"""The pending authorisations: one row per started connection, used once, lapsing quickly."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from publicist.core.database import Base, UTCDateTime


class PendingAuthorization(Base):
    """A connection started and not yet completed.

    Only the SHA-256 of ``state`` is kept (the state travels through the person's browser);
    the PKCE verifier is encrypted with the credentials key. ``used_at`` is set in the
    transaction that stores the tokens, so a replayed callback finds it spent.
    """

    __tablename__ = "pending_authorizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    state_digest: Mapped[str] = mapped_column(String(64), unique=True)
    platform: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    """The account being reconnected; ``None`` for a new connection."""
    person_id: Mapped[int | None] = mapped_column(Integer)
    """Who started it (``None``: the operator at the CLI); only they may complete it."""
    redirect_uri: Mapped[str] = mapped_column(String(500))
    verifier_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
