"""The audit_entries table; migration 0013 adds triggers that refuse UPDATE and DELETE."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from publicist.core.database import Base, UTCDateTime


class AuditEntry(Base):
    """One change: who (a person, a token or the CLI), when, what, and the changed fields.

    No foreign keys: an entry outlives whatever it names, and it is never rewritten.
    """

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_post_id_id", "post_id", "id"),
        Index("ix_audit_entries_at", "at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(16))
    """``person``, ``token`` or ``cli``."""
    person_id: Mapped[int | None] = mapped_column(Integer)
    token_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    """``post.approve``, ``delivery.retry``, ``token.revoke``, ..."""
    object_kind: Mapped[str] = mapped_column(String(16))
    object_id: Mapped[int] = mapped_column(Integer)
    post_id: Mapped[int | None] = mapped_column(Integer)
    """The post a post or delivery entry belongs to, for the post's history."""
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
