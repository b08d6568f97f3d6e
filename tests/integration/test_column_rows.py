"""column_rows: the same rows as Session.execute, changes still pending flushed first."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.models import Campaign
from campaigns.schemas import CampaignInput
from campaigns.services import create_campaign
from publicist.core.clock import FrozenClock
from publicist.core.reads import column_rows


def test_the_rows_are_those_of_session_execute(session: Session, clock: FrozenClock) -> None:
    for name in ("IP Week", "World IP Day"):
        create_campaign(
            session,
            data=CampaignInput(name=name),
            default_timezone="Asia/Shanghai",
            now=clock.now(),
        )
    statement = select(Campaign.id, Campaign.name, Campaign.created_at).order_by(Campaign.id)
    assert column_rows(session, statement).all() == session.execute(statement).all()


def test_a_change_still_pending_is_read(session: Session, clock: FrozenClock) -> None:
    campaign = create_campaign(
        session, data=CampaignInput(name="IP Week"), default_timezone="UTC", now=clock.now()
    )
    campaign.name = "IP Publicity Week"  # not flushed yet
    named = column_rows(
        session, select(Campaign.name).where(Campaign.id == campaign.id)
    ).scalar_one()
    assert named == "IP Publicity Week"
