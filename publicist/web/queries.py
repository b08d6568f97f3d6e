"""Reads the API and the page share beyond the metrics reports, shaped for JSON."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from campaigns.models import Campaign
from campaigns.queries import Windows, deliveries_needing_attention
from publicist.core.errors import NotFound
from publicist.core.reads import column_rows
from publicist.web.schemas import FailureOut


def get_campaign(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("campaign", campaign_id)
    return campaign


class CampaignHeading(NamedTuple):
    """What a report shows of its campaign (``metrics.reports.CampaignNamed``)."""

    id: int
    name: str
    timezone: str


_HEADING = select(Campaign.id, Campaign.name, Campaign.timezone).where(
    Campaign.id == bindparam("campaign_id")
)


def campaign_heading(session: Session, campaign_id: int) -> CampaignHeading:
    """The campaign's id, name and time zone, or NotFound: for the API's reads, which need
    no more, three columns cost half of loading the campaign."""
    row = column_rows(session, _HEADING, {"campaign_id": campaign_id}).one_or_none()
    if row is None:
        raise NotFound("campaign", campaign_id)
    return CampaignHeading(*row)


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
