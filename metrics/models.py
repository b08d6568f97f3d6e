"""Engagement tables: snapshot history, each delivery's latest values, and daily rollups."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from publicist.core.database import Base, UTCDateTime

COLLECTING = "next_collect_at IS NOT NULL"
"""Predicate of the collection plan's index: only deliveries still inside their window."""


class MetricSnapshot(Base):
    """What the platform answered at one collection; append-only, never read by dashboards."""

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
    """Latest counters per delivery; campaign totals are sums over this table, never history.

    A row exists for every published delivery from its first collection plan on: it also
    carries the plan (``next_collect_at``). ``collections`` counts the answers recorded, so
    a row with 0 has not been measured yet.
    """

    __tablename__ = "delivery_metrics"
    __table_args__ = (
        Index("ix_delivery_metrics_campaign_platform", "campaign_id", "platform"),
        Index("ix_delivery_metrics_campaign_interactions", "campaign_id", "interactions"),
        # Each collection tick reads what is due from here, in claim order; a delivery past
        # its last cadence tier (90 days by default) leaves it, so the index holds the
        # collection window, not the history.
        Index(
            "ix_delivery_metrics_collect_due",
            "next_collect_at",
            "delivery_id",
            sqlite_where=text(COLLECTING),
            postgresql_where=text(COLLECTING),
        ),
        # An account's top posts: the first rows of one index range, walked by interactions.
        # On PostgreSQL it also carries the columns the account view summed from it (0023);
        # since 0024 those sums are kept per account (AccountMetricTotal), and the carried
        # columns are no longer read.
        Index(
            "ix_delivery_metrics_account_interactions",
            "account_id",
            "interactions",
            postgresql_include=[
                "campaign_id",
                "platform",
                "views",
                "likes",
                "comments",
                "shares",
                "collections",
                "collected_at",
            ],
        ),
    )

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
    next_collect_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    collections: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class DailyRollup(Base):
    """Growth per campaign, platform and calendar day (in the campaign's time zone).

    Each collection adds the increase of the latest values to the day it was observed, so a
    day holds that day's growth and the sum over all days equals the current totals. A
    ``None`` counter means no delivery on that platform has ever reported it.
    """

    __tablename__ = "metric_daily_rollups"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    views: Mapped[int | None] = mapped_column(BigInteger)
    likes: Mapped[int | None] = mapped_column(BigInteger)
    comments: Mapped[int | None] = mapped_column(BigInteger)
    shares: Mapped[int | None] = mapped_column(BigInteger)
    interactions: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CampaignPlatformTotal(Base):
    """A campaign's totals on one platform: the sum of its daily rollups.

    Written only by the database's triggers on ``metric_daily_rollups`` (migration 0018),
    in the same transaction as each rollup change; the campaign list, reports and totals
    read one row per platform instead of summing every day. ``<counter>_days`` counts the
    days that have the counter (0: never reported, shown as "not available").
    """

    __tablename__ = "campaign_platform_totals"

    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    views: Mapped[int] = mapped_column(BigInteger)
    likes: Mapped[int] = mapped_column(BigInteger)
    comments: Mapped[int] = mapped_column(BigInteger)
    shares: Mapped[int] = mapped_column(BigInteger)
    interactions: Mapped[int] = mapped_column(BigInteger)
    views_days: Mapped[int] = mapped_column(Integer)
    likes_days: Mapped[int] = mapped_column(Integer)
    comments_days: Mapped[int] = mapped_column(Integer)
    shares_days: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AccountMetricTotal(Base):
    """An account's totals in one campaign: the sum of its deliveries' latest values.

    Written only by the database's triggers on ``delivery_metrics`` (migration 0024), in the
    same transaction as each change of a latest value; the account view and the list of
    every account read one row per campaign instead of summing every published post.
    ``<counter>_reported`` counts the deliveries that carry the counter (0: never reported,
    shown as "not available"); ``updated_at`` is the last measured collection.
    """

    __tablename__ = "account_metric_totals"

    account_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    views: Mapped[int] = mapped_column(BigInteger)
    likes: Mapped[int] = mapped_column(BigInteger)
    comments: Mapped[int] = mapped_column(BigInteger)
    shares: Mapped[int] = mapped_column(BigInteger)
    views_reported: Mapped[int] = mapped_column(Integer)
    likes_reported: Mapped[int] = mapped_column(Integer)
    comments_reported: Mapped[int] = mapped_column(Integer)
    shares_reported: Mapped[int] = mapped_column(Integer)
    interactions: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
