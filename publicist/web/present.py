"""Rows to response bodies; the one place that decides what of a row a client may see."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from campaigns.audit.models import AuditEntry
from campaigns.content import shown_media
from campaigns.models import Account, Campaign, Delivery, MediaItem, Post
from campaigns.states import shown_state
from publicist.web.models import ApiToken
from publicist.web.schemas import (
    AccountOut,
    AuditOut,
    CampaignOut,
    DeliveryOut,
    MediaOut,
    PostOut,
    TokenOut,
    VariantOut,
)
from publicist.web.tokens import Role


def _without_userinfo(url: str | None) -> str | None:
    """An endpoint URL minus any ``user:password@`` part someone may have put in it."""
    if not url:
        return url
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def account_out(account: Account) -> AccountOut:
    return AccountOut(
        id=account.id,
        platform=account.platform,
        handle=account.handle,
        label=account.label,
        api_base_url=_without_userinfo(account.api_base_url),
        token_expires_at=account.token_expires_at,
        rate_limit_requests=account.rate_limit_requests,
        rate_limit_per_seconds=account.rate_limit_per_seconds,
        created_at=account.created_at,
    )


def campaign_out(campaign: Campaign, *, posts: int) -> CampaignOut:
    return CampaignOut(
        id=campaign.id,
        name=campaign.name,
        theme=campaign.theme,
        description=campaign.description,
        timezone=campaign.timezone,
        starts_on=campaign.starts_on,
        ends_on=campaign.ends_on,
        hashtags=list(campaign.hashtags or []),
        owner=campaign.owner,
        late_policy=campaign.late_policy.value,
        self_approval=campaign.self_approval,
        created_at=campaign.created_at,
        posts=posts,
    )


def delivery_out(delivery: Delivery) -> DeliveryOut:
    return DeliveryOut(
        id=delivery.id,
        account=delivery.account.label,
        platform=delivery.account.platform,
        state=delivery.state.value,
        due_at=delivery.due_at,
        published_at=delivery.published_at,
        attempts=delivery.attempts,
        url=delivery.url,
        remote_id=delivery.remote_id,
        last_error=delivery.last_error,
        last_error_code=delivery.last_error_code,
    )


def post_out(post: Post, *, now: datetime) -> PostOut:
    """``state`` as staff see it: ``expired`` for a post still in review past its time."""
    zone = ZoneInfo(post.campaign.timezone)
    return PostOut(
        id=post.id,
        campaign_id=post.campaign_id,
        campaign=post.campaign.name,
        state=shown_state(post.state, post.publish_at, now=now),
        text=post.text,
        title=post.title,
        media=shown_media(post.media) or [],
        publish_at=post.publish_at,
        publish_at_local=post.publish_at.astimezone(zone) if post.publish_at else None,
        accounts=[target.account.label for target in post.targets],
        variants={
            v.platform: VariantOut(
                text=v.text, title=v.title, digest=v.digest, media=shown_media(v.media)
            )
            for v in post.variants
        },
        deliveries=[delivery_out(d) for d in sorted(post.deliveries, key=lambda d: d.id)],
        created_at=post.created_at,
        approved_at=post.approved_at,
        created_by=post.created_by,
        review_comment=post.review_comment,
    )


def audit_out(entry: AuditEntry) -> AuditOut:
    return AuditOut(
        id=entry.id,
        at=entry.at,
        actor=entry.actor,
        person_id=entry.person_id,
        token_id=entry.token_id,
        action=entry.action,
        object_kind=entry.object_kind,
        object_id=entry.object_id,
        post_id=entry.post_id,
        before=entry.before,
        after=entry.after,
    )


def token_out(token: ApiToken) -> TokenOut:
    return TokenOut(
        id=token.id,
        name=token.name,
        role=Role(token.role),
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
    )


def media_out(item: MediaItem) -> MediaOut:
    return MediaOut(
        id=item.id,
        kind=item.kind,
        content_type=item.content_type,
        size_bytes=item.size_bytes,
        sha256=item.sha256,
        name=item.name,
        created_at=item.created_at,
    )
