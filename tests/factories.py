"""Small builders for test data, going through the real services."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from campaigns.accounts import create_account
from campaigns.models import Account, Campaign, Post
from campaigns.schemas import CampaignInput, PostInput
from campaigns.services import add_post, create_campaign
from connectors.base import Credentials

SECRET = "test-secret-key-not-for-production"


def account(
    session: Session,
    *,
    handle: str = "@IPRinCN",
    now: datetime,
    store: str = "memory",
    speed: float | None = None,
) -> Account:
    extra = {"store": store} if speed is None else {"store": store, "speed": str(speed)}
    return create_account(
        session,
        platform="mock",
        handle=handle,
        credentials=Credentials(
            access_token="token-abc", refresh_token="refresh-abc", user_id=handle, extra=extra
        ),
        secret=SECRET,
        now=now,
    )


def campaign(
    session: Session,
    *,
    name: str = "IP Creates a Better Life",
    now: datetime,
    timezone: str = "Asia/Shanghai",
) -> Campaign:
    return create_campaign(
        session,
        data=CampaignInput(name=name, timezone=timezone),
        default_timezone="Asia/Shanghai",
        now=now,
    )


def scheduled_post(
    session: Session,
    *,
    campaign_name: str,
    accounts: list[str],
    now: datetime,
    in_seconds: float = 60,
    text: str = "Hello IP week",
) -> Post:
    at = (now + timedelta(seconds=in_seconds)).isoformat()
    return add_post(
        session,
        data=PostInput(campaign=campaign_name, text=text, accounts=accounts, at=at),
        now=now,
        approve=True,
    )
