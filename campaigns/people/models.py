"""The people table: one row per person who signs in to the workspace."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String, false
from sqlalchemy.orm import Mapped, mapped_column

from publicist.core.database import Base, UTCDateTime


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    """Stored lower-cased, so uniqueness and sign-in ignore case on every engine."""
    password_hash: Mapped[str] = mapped_column(String(255))
    """argon2id, in the PHC string format (parameters and salt included)."""
    role: Mapped[str] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(8))
    """``zh_CN`` or ``en``; None: the browser's."""
    timezone: Mapped[str | None] = mapped_column(String(64))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:  # never shows the hash
        return f"Person(id={self.id}, email={self.email!r}, role={self.role})"
