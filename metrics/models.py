"""Engagement tables: an append-only snapshot history and each delivery's latest values."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from publicist.core.database import Base, UTCDateTime


class MetricSnapshot(Base):
    __tablename__ = "metric_snapshots"
    __table_args__ = (
        Index("ix_metric_snapshots_delivery_collected", "delivery_id", "collected_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id"))
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    views: Mapped[int | None] = mapped_column(BigInteger)
    likes: Mapped[int | None] = mapped_column(BigInteger)
    comments: Mapped[int | None] = mapped_column(BigInteger)
    shares: Mapped[int | None] = mapped_column(BigInteger)
    extras: Mapped[dict[str, int | None]] = mapped_column(JSON, default=dict)
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class DeliveryMetrics(Base):
    """Latest counters per delivery; campaign totals are sums over this table, never history."""

    __tablename__ = "delivery_metrics"
    __table_args__ = (Index("ix_delivery_metrics_campaign_platform", "campaign_id", "platform"),)

    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id"), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    platform: Mapped[str] = mapped_column(String(32))
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    views: Mapped[int | None] = mapped_column(BigInteger)
    likes: Mapped[int | None] = mapped_column(BigInteger)
    comments: Mapped[int | None] = mapped_column(BigInteger)
    shares: Mapped[int | None] = mapped_column(BigInteger)
    interactions: Mapped[int] = mapped_column(BigInteger)
    extras: Mapped[dict[str, int | None]] = mapped_column(JSON, default=dict)
    next_collect_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
