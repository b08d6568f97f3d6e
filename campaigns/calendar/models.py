"""Calendar feeds (a secret URL per campaign, stored hashed) and the deliveries' time index."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.models import Campaign, Delivery
from publicist.core.database import Base, UTCDateTime

# The calendar reads deliveries by due time in a window (a week, a month); without this
# index a month of a 10,000-post campaign reads every delivery of the campaign. Declared
# here, beside its only reader, with migration 0012.
DUE_AT_INDEX = Index("ix_deliveries_due_at", Delivery.due_at)


class CalendarFeed(Base):
    """A read-only iCalendar feed of one campaign; the secret in its URL is the credential."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """sha256 (hex) of the secret; the secret itself is shown once and never stored."""
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    """The person who asked for it; None when made with the CLI."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    campaign: Mapped[Campaign] = relationship()

    def __repr__(self) -> str:  # never shows the hash
        return f"CalendarFeed(id={self.id}, campaign_id={self.campaign_id})"
