"""Collection: which deliveries to measure now, and recording what the platform returned."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from campaigns.models import Account, Delivery, Post
from campaigns.states import DeliveryState
from connectors.base import Capabilities, MetricCounts
from metrics.cadence import Cadence
from metrics.interactions import interactions
from metrics.models import DeliveryMetrics, MetricSnapshot


@dataclass(frozen=True)
class DueCollection:
    account_id: int
    remote_ids: dict[str, int]
    """remote id → delivery id"""


def due_collections(session: Session, *, now: datetime, limit: int = 10_000) -> list[DueCollection]:
    """Published deliveries never measured or whose next collection time has come."""
    rows = session.execute(
        select(Delivery.id, Delivery.account_id, Delivery.remote_id)
        .outerjoin(DeliveryMetrics, DeliveryMetrics.delivery_id == Delivery.id)
        .where(
            Delivery.state == DeliveryState.PUBLISHED,
            Delivery.remote_id.is_not(None),
            or_(DeliveryMetrics.delivery_id.is_(None), DeliveryMetrics.next_collect_at <= now),
        )
        .order_by(Delivery.account_id, Delivery.id)
        .limit(limit)
    ).all()
    grouped: dict[int, dict[str, int]] = defaultdict(dict)
    for delivery_id, account_id, remote_id in rows:
        grouped[account_id][str(remote_id)] = delivery_id
    return [DueCollection(account_id, ids) for account_id, ids in grouped.items()]


def _not_lower(old: int | None, new: int | None) -> int | None:
    # Platforms report lifetime totals: a smaller or missing value is a glitch, not news.
    if new is None:
        return old
    if old is None:
        return new
    return max(old, new)


def record_counts(
    session: Session,
    *,
    account: Account,
    capabilities: Capabilities,
    delivery_ids: dict[str, int],
    counts: list[MetricCounts],
    cadence: Cadence,
    now: datetime,
) -> int:
    """Append a snapshot per result and raise the latest values; returns how many recorded."""
    recorded = 0
    for item in counts:
        delivery_id = delivery_ids.get(item.remote_id)
        if delivery_id is None:
            continue
        session.add(
            MetricSnapshot(
                delivery_id=delivery_id,
                collected_at=now,
                views=item.views,
                likes=item.likes,
                comments=item.comments,
                shares=item.shares,
                extras=dict(item.extras),
                raw=dict(item.raw),
            )
        )
        delivery = session.get_one(Delivery, delivery_id)
        latest = session.get(DeliveryMetrics, delivery_id)
        if latest is None:
            post = session.get_one(Post, delivery.post_id)
            latest = DeliveryMetrics(
                delivery_id=delivery_id,
                campaign_id=post.campaign_id,
                account_id=account.id,
                platform=account.platform,
                interactions=0,
                extras={},
            )
            session.add(latest)
        latest.views = _not_lower(latest.views, item.views)
        latest.likes = _not_lower(latest.likes, item.likes)
        latest.comments = _not_lower(latest.comments, item.comments)
        latest.shares = _not_lower(latest.shares, item.shares)
        extras = dict(latest.extras or {})
        for key, value in item.extras.items():
            extras[key] = _not_lower(extras.get(key), value)
        latest.extras = extras
        merged = MetricCounts(
            remote_id=item.remote_id,
            views=latest.views,
            likes=latest.likes,
            comments=latest.comments,
            shares=latest.shares,
            extras=extras,
        )
        latest.interactions = interactions(merged, capabilities)
        latest.collected_at = now
        published_at = delivery.published_at or now
        latest.next_collect_at = cadence.next_collection(published_at=published_at, now=now)
        recorded += 1
    returned = {item.remote_id for item in counts}
    for remote_id, delivery_id in delivery_ids.items():
        if remote_id not in returned:
            _postpone_missing(
                session, delivery_id=delivery_id, account=account, cadence=cadence, now=now
            )
    session.flush()
    return recorded


def _postpone_missing(
    session: Session, *, delivery_id: int, account: Account, cadence: Cadence, now: datetime
) -> None:
    """The platform returned nothing for this post (deleted, hidden, not yet visible):
    keep every earlier value, and look again at the next regular time."""
    delivery = session.get_one(Delivery, delivery_id)
    latest = session.get(DeliveryMetrics, delivery_id)
    if latest is None:
        post = session.get_one(Post, delivery.post_id)
        latest = DeliveryMetrics(
            delivery_id=delivery_id,
            campaign_id=post.campaign_id,
            account_id=account.id,
            platform=account.platform,
            interactions=0,
            extras={},
            collected_at=now,
        )
        session.add(latest)
    latest.next_collect_at = cadence.next_collection(
        published_at=delivery.published_at or now, now=now
    )
