"""Campaign reports: totals, per platform and top posts, read from latest values only."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.models import Account, Campaign, Delivery, Post
from campaigns.states import DeliveryState
from connectors import registry
from connectors.errors import ConnectorError
from metrics.models import DeliveryMetrics
from publicist.core.errors import PublicistError


@dataclass(frozen=True)
class PlatformTotals:
    platform: str
    scheduled: int
    published: int
    failed: int
    views: int | None
    """``None``: the platform does not report views (not zero)."""
    likes: int
    comments: int
    shares: int
    interactions: int


@dataclass(frozen=True)
class TopPost:
    post_id: int
    delivery_id: int
    platform: str
    account: str
    text: str
    url: str | None
    published_at: datetime | None
    views: int | None
    interactions: int


@dataclass(frozen=True)
class CampaignReport:
    campaign_id: int
    campaign: str
    timezone: str
    scheduled: int
    published: int
    failed: int
    unknown: int
    views: int | None
    views_coverage: str
    interactions: int
    engagement_rate: float | None
    last_updated: datetime | None
    platforms: list[PlatformTotals] = field(default_factory=list)
    top_posts: list[TopPost] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("last_updated",):
            value = data[key]
            data[key] = value.isoformat() if value else None
        for post in data["top_posts"]:
            post["published_at"] = (
                post["published_at"].isoformat() if post["published_at"] else None
            )
        return data


def _views_available(platform: str) -> bool:
    try:
        return registry.load(platform).capabilities.views_available
    except (PublicistError, ConnectorError):
        return True


def campaign_report(session: Session, *, campaign: Campaign, top: int = 5) -> CampaignReport:
    states = session.execute(
        select(Account.platform, Delivery.state, func.count())
        .join(Account, Account.id == Delivery.account_id)
        .join(Post, Post.id == Delivery.post_id)
        .where(Post.campaign_id == campaign.id)
        .group_by(Account.platform, Delivery.state)
    ).all()
    by_platform: dict[str, dict[DeliveryState, int]] = {}
    for platform, state, count in states:
        by_platform.setdefault(platform, {})[DeliveryState(state)] = int(count)
    sums = {
        row.platform: row
        for row in session.execute(
            select(
                DeliveryMetrics.platform,
                func.sum(DeliveryMetrics.views).label("views"),
                func.count(DeliveryMetrics.views).label("with_views"),
                func.coalesce(func.sum(DeliveryMetrics.likes), 0).label("likes"),
                func.coalesce(func.sum(DeliveryMetrics.comments), 0).label("comments"),
                func.coalesce(func.sum(DeliveryMetrics.shares), 0).label("shares"),
                func.coalesce(func.sum(DeliveryMetrics.interactions), 0).label("interactions"),
                func.max(DeliveryMetrics.collected_at).label("updated"),
            )
            .where(DeliveryMetrics.campaign_id == campaign.id)
            .group_by(DeliveryMetrics.platform)
        )
    }
    platforms: list[PlatformTotals] = []
    last_updated: datetime | None = None
    for platform in sorted(by_platform):
        counts = by_platform[platform]
        row = sums.get(platform)
        views: int | None = None
        if row is not None and _views_available(platform) and row.with_views:
            views = int(row.views)
        elif row is None and _views_available(platform):
            views = 0
        platforms.append(
            PlatformTotals(
                platform=platform,
                scheduled=sum(counts.values()) - counts.get(DeliveryState.CANCELLED, 0),
                published=counts.get(DeliveryState.PUBLISHED, 0),
                failed=counts.get(DeliveryState.FAILED, 0),
                views=views,
                likes=int(row.likes) if row else 0,
                comments=int(row.comments) if row else 0,
                shares=int(row.shares) if row else 0,
                interactions=int(row.interactions) if row else 0,
            )
        )
        if row is not None and row.updated is not None:
            updated = _aware(row.updated)
            last_updated = updated if last_updated is None else max(last_updated, updated)
    with_views = [p for p in platforms if p.views is not None]
    total_views = sum(p.views or 0 for p in with_views) if with_views else None
    total_interactions = sum(p.interactions for p in platforms)
    viewed_interactions = sum(p.interactions for p in with_views)
    rate = (viewed_interactions / total_views) if total_views else None
    unknown = sum(by_platform[p].get(DeliveryState.UNKNOWN, 0) for p in by_platform)
    return CampaignReport(
        campaign_id=campaign.id,
        campaign=campaign.name,
        timezone=campaign.timezone,
        scheduled=sum(p.scheduled for p in platforms),
        published=sum(p.published for p in platforms),
        failed=sum(p.failed for p in platforms),
        unknown=unknown,
        views=total_views,
        views_coverage=f"{len(with_views)} of {len(platforms)} platforms",
        interactions=total_interactions,
        engagement_rate=rate,
        last_updated=last_updated,
        platforms=platforms,
        top_posts=top_posts(session, campaign_id=campaign.id, limit=top),
    )


def top_posts(session: Session, *, campaign_id: int, limit: int) -> list[TopPost]:
    rows = session.execute(
        select(DeliveryMetrics, Delivery, Post, Account)
        .join(Delivery, Delivery.id == DeliveryMetrics.delivery_id)
        .join(Post, Post.id == Delivery.post_id)
        .join(Account, Account.id == Delivery.account_id)
        .where(DeliveryMetrics.campaign_id == campaign_id)
        .order_by(DeliveryMetrics.interactions.desc(), Delivery.id)
        .limit(limit)
    ).all()
    return [
        TopPost(
            post_id=post.id,
            delivery_id=delivery.id,
            platform=account.platform,
            account=account.handle,
            text=post.text,
            url=delivery.url,
            published_at=delivery.published_at,
            views=latest.views if _views_available(account.platform) else None,
            interactions=latest.interactions,
        )
        for latest, delivery, post, account in rows
    ]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
