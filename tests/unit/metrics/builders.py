"""Published deliveries on any platform, built straight into the tables for metrics tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from campaigns.models import Account, Campaign, Delivery, Post
from campaigns.states import DeliveryState, PostState
from connectors.base import Capabilities
from connectors.mock import MockConnector

MOCK = MockConnector.capabilities
X = replace(
    MOCK,
    platform="x",
    metrics_batch_size=100,
    interaction_counters=("likes", "comments", "shares", "quotes", "bookmarks"),
)
WEIBO = replace(
    MOCK,
    platform="weibo",
    metrics_batch_size=100,
    views_available=False,
    interaction_counters=("likes", "comments", "shares"),
)
WECHAT = replace(
    MOCK,
    platform="wechat",
    metrics_batch_size=20,
    interaction_counters=("likes", "shares", "favourites"),
)
TIKTOK = replace(MOCK, platform="tiktok", metrics_batch_size=20)
PLATFORMS: dict[str, Capabilities] = {c.platform: c for c in (MOCK, X, WEIBO, WECHAT, TIKTOK)}


def account(session: Session, *, platform: str, handle: str, now: datetime) -> Account:
    row = Account(platform=platform, handle=handle, credentials_encrypted=b"unused", created_at=now)
    session.add(row)
    session.flush()
    return row


def campaign(
    session: Session, *, name: str, now: datetime, timezone: str = "Asia/Shanghai"
) -> Campaign:
    row = Campaign(name=name, timezone=timezone, hashtags=[], created_at=now)
    session.add(row)
    session.flush()
    return row


def delivery(
    session: Session,
    *,
    campaign: Campaign,
    account: Account,
    at: datetime,
    text: str = "How a patent reaches your home",
    state: DeliveryState = DeliveryState.PUBLISHED,
) -> Delivery:
    post = Post(
        campaign_id=campaign.id,
        text=text,
        media=[],
        state=PostState.SCHEDULED,
        publish_at=at,
        created_at=at,
    )
    session.add(post)
    session.flush()
    published = state is DeliveryState.PUBLISHED
    row = Delivery(
        post_id=post.id,
        account_id=account.id,
        state=state,
        due_at=at,
        next_attempt_at=at,
        ticket=1,
        attempts=1 if published else 0,
        published_at=at if published else None,
        remote_id=f"{account.platform}-{post.id}" if published else None,
        url=f"https://{account.platform}.example/{post.id}" if published else None,
        updated_at=at,
    )
    session.add(row)
    session.flush()
    return row
