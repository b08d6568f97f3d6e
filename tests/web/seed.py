"""Engagement data made the way production makes it: schedule, dispatch, publish, collect."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from connectors.mock import MockPlatform
from publicist.core.clock import FrozenClock
from publicist.core.database import session_scope
from publicist.core.settings import Settings
from scheduler.collecting import run_collect
from scheduler.publishing import run_dispatch, run_publish
from scheduler.ratelimit import LocalRateLimiter
from tests import factories

START = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)
MAIN = "IP Creates a Better Life"
OTHER = "GI Stories on the Dining Table"


@dataclass(frozen=True)
class Seeded:
    campaign_id: int
    other_campaign_id: int
    account_id: int
    failed_post_id: int


def _publish_due(settings: Settings, clock: FrozenClock, limiter: LocalRateLimiter) -> None:
    queued: list[tuple[int, int]] = []
    run_dispatch(
        settings=settings,
        clock=clock,
        enqueue=lambda claims: queued.extend((c.delivery_id, c.ticket) for c in claims),
    )
    for delivery_id, ticket in queued:
        run_publish(
            delivery_id=delivery_id, ticket=ticket, settings=settings, clock=clock, limiter=limiter
        )


def seed_engagement(
    settings: Settings, clock: FrozenClock, platform: MockPlatform, *, days: int = 3
) -> Seeded:
    """Two campaigns on two mock accounts over ``days`` days, measured every six hours,
    and one post the platform refuses (a failure with its reason)."""
    limiter = LocalRateLimiter()
    with session_scope() as session:
        account = factories.account(session, handle="@IPRinCN", now=clock.now())
        factories.account(session, handle="cnipa", now=clock.now())
        main = factories.campaign(session, name=MAIN, now=clock.now())
        other = factories.campaign(session, name=OTHER, now=clock.now())
        ids = (account.id, main.id, other.id)
    for day in range(days):
        with session_scope() as session:
            for n in range(2):
                factories.scheduled_post(
                    session,
                    campaign_name=MAIN,
                    accounts=["mock:@IPRinCN", "mock:cnipa"],
                    now=clock.now(),
                    in_seconds=30 + n,
                    text=f"Day {day + 1}: how patent {n + 1} reaches your home",
                )
            factories.scheduled_post(
                session,
                campaign_name=OTHER,
                accounts=["mock:cnipa"],
                now=clock.now(),
                in_seconds=40,
                text=f"Day {day + 1}: a geographical indication on the table",
            )
        clock.advance(timedelta(minutes=1))
        _publish_due(settings, clock, limiter)
        for _ in range(4):
            clock.advance(timedelta(hours=6))
            run_collect(settings=settings, clock=clock)
    with session_scope() as session:
        refused = factories.scheduled_post(
            session,
            campaign_name=MAIN,
            accounts=["mock:@IPRinCN"],
            now=clock.now(),
            in_seconds=30,
            text="A post the platform refuses",
        )
        refused_id = refused.id
    clock.advance(timedelta(minutes=1))
    platform.inject("rejected")
    _publish_due(settings, clock, limiter)
    clock.advance(timedelta(hours=1))
    run_collect(settings=settings, clock=clock)
    return Seeded(
        campaign_id=ids[1], other_campaign_id=ids[2], account_id=ids[0], failed_post_id=refused_id
    )
