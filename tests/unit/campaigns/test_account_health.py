"""Token health and the lifecycle of accounts: scheduling refused to unusable accounts,
disabling and removing cancel future deliveries only, a refresh that fails for good marks
the account "needs reconnect"; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.accounts import create_account, get_account, read_credentials, store_credentials
from campaigns.connections.errors import AccountUnusable
from campaigns.connections.health import Health, token_health
from campaigns.connections.lifecycle import disable_account, mark_needs_reconnect, remove_account
from campaigns.connections.queries import account_rows, future_deliveries, lapsing_tokens
from campaigns.models import Account, Delivery
from campaigns.publishing import claim_due
from campaigns.schemas import PostInput
from campaigns.services import add_post, approve_post, reschedule_post
from campaigns.states import AccountStatus, DeliveryState, PostState
from connectors.base import Connector, Credentials
from connectors.errors import ReauthorizationRequired
from publicist.core.database import session_scope
from publicist.core.settings import Settings
from scheduler.refreshing import refresh_once
from tests import factories

NOW = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)
CAMPAIGN = "IP Creates a Better Life"


def weibo(session: Session, *, expires_at: datetime) -> Account:
    return create_account(
        session,
        platform="weibo",
        handle="cnipa",
        credentials=Credentials(access_token="2.00abc", expires_at=expires_at, user_id="1"),
        secret=factories.SECRET,
        now=NOW,
    )


def draft(session: Session, account: str, *, at: datetime) -> int:
    post = add_post(
        session,
        data=PostInput(
            campaign=CAMPAIGN,
            text="知识产权宣传周 https://www.cnipa.gov.cn/",
            accounts=[account],
            at=at.isoformat(),
        ),
        now=NOW,
    )
    return post.id


def test_a_weibo_token_lapsing_before_the_post_is_refused_naming_account_and_date(
    session: Session,
) -> None:
    factories.campaign(session, now=NOW)
    account = weibo(session, expires_at=NOW + timedelta(days=3))
    late = draft(session, "weibo:cnipa", at=NOW + timedelta(days=4))
    with pytest.raises(AccountUnusable) as caught, session.begin_nested():
        approve_post(session, post_id=late, now=NOW, from_draft=True)
    assert "weibo:cnipa" in str(caught.value)
    assert "2026-04-23 01:00 UTC" in str(caught.value)
    assert caught.value.until == account.token_expires_at
    early = draft(session, "weibo:cnipa", at=NOW + timedelta(days=2))
    approved = approve_post(session, post_id=early, now=NOW, from_draft=True)
    assert approved.state is PostState.SCHEDULED
    # Moving it past the lapse is refused too, and leaves it where it was.
    with pytest.raises(AccountUnusable, match="weibo:cnipa"), session.begin_nested():
        reschedule_post(session, post_id=early, at=NOW + timedelta(days=5), now=NOW)
    assert approved.publish_at == NOW + timedelta(days=2)


def test_scheduling_to_an_account_that_needs_reconnecting_is_refused(session: Session) -> None:
    factories.campaign(session, now=NOW)
    account = factories.account(session, now=NOW)
    post_id = draft(session, account.label, at=NOW + timedelta(hours=1))
    approve_post(session, post_id=post_id, now=NOW, from_draft=True)  # scheduled while healthy
    assert mark_needs_reconnect(session, account_id=account.id, reason="invalid_grant", now=NOW)
    assert not mark_needs_reconnect(session, account_id=account.id, reason="again", now=NOW)
    other = draft(session, account.label, at=NOW + timedelta(hours=2))
    with pytest.raises(AccountUnusable, match="needs reconnecting since 2026-04-20"):
        approve_post(session, post_id=other, now=NOW, from_draft=True)
    assert token_health(account, now=NOW).health is Health.NEEDS_RECONNECT


def test_disable_cancels_only_future_deliveries_listed_first(session: Session) -> None:
    factories.campaign(session, now=NOW)
    account = factories.account(session, now=NOW)
    other = factories.account(session, handle="@other", now=NOW)
    soon = factories.scheduled_post(
        session, campaign_name=CAMPAIGN, accounts=[account.label, other.label], now=NOW
    )
    later = factories.scheduled_post(
        session, campaign_name=CAMPAIGN, accounts=[account.label], now=NOW, in_seconds=7200
    )
    # The first post's deliveries are claimed: queued (not started) is still cancellable.
    claim_due(session, now=NOW + timedelta(seconds=60), lookahead=timedelta(0), limit=10)
    listed = future_deliveries(session, account_id=account.id)
    assert [(f.post_id, f.excerpt) for f in listed] == [
        (soon.id, "Hello IP week"),
        (later.id, "Hello IP week"),
    ]
    cancelled = disable_account(session, account_id=account.id, now=NOW)
    assert cancelled == listed
    states = dict(
        session.execute(
            select(Delivery.account_id, Delivery.state).where(Delivery.post_id == soon.id)
        ).all()
    )
    assert states[account.id] is DeliveryState.CANCELLED
    assert states[other.id] is not DeliveryState.CANCELLED  # other accounts untouched
    assert get_account(session, account.id).status is AccountStatus.DISABLED
    post_id = draft(session, account.label, at=NOW + timedelta(hours=3))
    with pytest.raises(AccountUnusable, match="is disabled"):
        approve_post(session, post_id=post_id, now=NOW, from_draft=True)


def test_remove_is_soft_keeps_published_history_and_wipes_credentials(session: Session) -> None:
    factories.campaign(session, now=NOW)
    account = factories.account(session, now=NOW)
    post = factories.scheduled_post(
        session, campaign_name=CAMPAIGN, accounts=[account.label], now=NOW
    )
    delivery = post.deliveries[0]
    delivery.state = DeliveryState.PUBLISHED
    session.flush()
    assert remove_account(session, account_id=account.id, secret=factories.SECRET, now=NOW) == []
    kept = get_account(session, account.id)
    assert kept.status is AccountStatus.REMOVED
    assert session.get(Delivery, delivery.id) is not None
    assert session.get(Delivery, delivery.id).state is DeliveryState.PUBLISHED  # type: ignore[union-attr]
    assert read_credentials(kept, secret=factories.SECRET).access_token == ""
    assert account.id not in [row.id for row in account_rows(session, now=NOW)]


def test_lapsing_tokens_lists_only_non_refreshable_ones_within_the_window(
    session: Session,
) -> None:
    soon = weibo(session, expires_at=NOW + timedelta(days=5))
    factories.account(session, now=NOW)  # refreshable (mock): never listed
    assert [a.id for a in lapsing_tokens(session, now=NOW)] == [soon.id]
    assert lapsing_tokens(session, now=NOW, within_days=4) == []
    assert token_health(soon, now=NOW).health is Health.EXPIRES


class _Revoked:
    """A connector whose refresh the platform refuses for good."""

    def __init__(self) -> None:
        self.credentials = Credentials(access_token="old")

    def refresh_credentials(self) -> Credentials:
        raise ReauthorizationRequired(
            "invalid_grant: revoked", platform="mock", code="invalid_grant"
        )


def test_a_refresh_refused_for_good_marks_the_account(configured_db: Settings) -> None:
    with session_scope() as session:
        account_id = factories.account(session, now=NOW).id
    with session_scope() as session:
        account = get_account(session, account_id)
        store_credentials(account, Credentials(access_token="old"), secret=factories.SECRET)
    with pytest.raises(ReauthorizationRequired):
        refresh_once(account_id, cast(Connector, _Revoked()), secret=factories.SECRET)
    with session_scope() as session:
        account = get_account(session, account_id)
        assert account.status is AccountStatus.NEEDS_RECONNECT
        assert account.status_reason == "invalid_grant: revoked"
