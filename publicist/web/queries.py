"""Reads the API and the page share beyond the metrics reports: what needs staff attention."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.models import Account, Campaign, Delivery, Post
from campaigns.states import DeliveryState
from publicist.core.errors import NotFound
from publicist.web.schemas import FailureOut

NEEDS_ATTENTION = (DeliveryState.FAILED, DeliveryState.UNKNOWN, DeliveryState.MISSED)


def get_campaign(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("campaign", campaign_id)
    return campaign


def failures(session: Session, *, campaign_id: int | None, limit: int = 100) -> list[FailureOut]:
    """Failed, missed or unresolved deliveries, most recent first, with the platform's reason."""
    query = (
        select(Delivery, Post, Account)
        .join(Post, Post.id == Delivery.post_id)
        .join(Account, Account.id == Delivery.account_id)
        .where(Delivery.state.in_(NEEDS_ATTENTION))
        .order_by(Delivery.due_at.desc(), Delivery.id.desc())
        .limit(limit)
    )
    if campaign_id is not None:
        query = query.where(Post.campaign_id == campaign_id)
    return [
        FailureOut(
            delivery_id=delivery.id,
            post_id=post.id,
            campaign_id=post.campaign_id,
            account=account.label,
            platform=account.platform,
            state=delivery.state.value,
            due_at=delivery.due_at,
            attempts=delivery.attempts,
            error=delivery.last_error,
            error_code=delivery.last_error_code,
            text=post.text,
        )
        for delivery, post, account in session.execute(query)
    ]
