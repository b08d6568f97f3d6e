"""``/api/campaigns``: create and read campaigns (staff)."""

from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy import func, select

from campaigns.models import Campaign, Post
from campaigns.schemas import CampaignInput
from campaigns.services import create_campaign
from publicist.web.auth import Editor
from publicist.web.deps import AppSettings, DbSession, Now, PathId
from publicist.web.present import campaign_out, post_out
from publicist.web.queries import get_campaign
from publicist.web.schemas import CampaignCreate, CampaignOut, PostOut
from publicist.web.tokens import token_actor

router = APIRouter(prefix="/api/campaigns", tags=["campaigns"])


@router.get("")
def list_campaigns(session: DbSession, _: Editor) -> list[CampaignOut]:
    counts: dict[int, int] = {
        campaign_id: count
        for campaign_id, count in session.execute(
            select(Post.campaign_id, func.count()).group_by(Post.campaign_id)
        )
    }
    return [
        campaign_out(c, posts=counts.get(c.id, 0))
        for c in session.scalars(select(Campaign).order_by(Campaign.id))
    ]


@router.get("/{campaign_id}")
def show_campaign(campaign_id: PathId, session: DbSession, _: Editor) -> CampaignOut:
    campaign = get_campaign(session, campaign_id)
    return campaign_out(campaign, posts=len(campaign.posts))


@router.get("/{campaign_id}/posts")
def campaign_posts(campaign_id: PathId, session: DbSession, now: Now, _: Editor) -> list[PostOut]:
    campaign = get_campaign(session, campaign_id)
    return [post_out(p, now=now) for p in sorted(campaign.posts, key=lambda p: p.id)]


@router.post("", status_code=status.HTTP_201_CREATED)
def add_campaign(
    body: CampaignCreate, session: DbSession, now: Now, settings: AppSettings, caller: Editor
) -> CampaignOut:
    data = CampaignInput(
        name=body.name,
        timezone=body.timezone,
        theme=body.theme,
        description=body.description,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        hashtags=list(body.hashtags),
        owner=body.owner,
        late_policy=body.late_policy,
        self_approval=body.self_approval,
    )
    campaign = create_campaign(
        session,
        data=data,
        default_timezone=settings.default_timezone,
        now=now,
        actor=token_actor(caller),
    )
    return campaign_out(campaign, posts=0)
