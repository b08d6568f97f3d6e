"""Reads the API and the page share beyond the metrics reports, shaped for JSON."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from campaigns.models import Campaign
from campaigns.queries import Windows, deliveries_needing_attention
from publicist.core.errors import NotFound
from publicist.web.schemas import FailureOut


def get_campaign(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("campaign", campaign_id)
    return campaign


def failures(
    session: Session,
    *,
    campaign_id: int | None,
    now: datetime,
    windows: Windows,
    limit: int = 100,
) -> list[FailureOut]:
    """What needs attention (campaigns.queries), most recently due first, with the reason."""
    return [
        FailureOut(
            delivery_id=item.delivery_id,
            post_id=item.post_id,
            campaign_id=item.campaign_id,
            account=item.account,
            platform=item.platform,
            state=item.state,
            stuck=item.stuck,
            due_at=item.due_at,
            attempts=item.attempts,
            error=item.reason,
            error_code=item.error_code,
            text=item.text,
        )
        for item in deliveries_needing_attention(
            session, now=now, windows=windows, campaign_id=campaign_id, limit=limit
        )
    ]
