"""The real publishing path feeds the inbox and the banner: a refusal or a rate limit is
stored with its kind and shown in plain words; a dispatch tick is the beat's heartbeat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from campaigns.heartbeat import BEAT_EVERY, STALE_AFTER, workers_health
from campaigns.models import DispatchHeartbeat
from campaigns.queries import Windows, inbox, inbox_count
from campaigns.reasons import ErrorKind
from connectors.mock import MockPlatform
from publicist.core.clock import FrozenClock
from publicist.core.database import session_scope
from publicist.core.settings import Settings
from scheduler.publishing import run_dispatch, run_publish
from scheduler.ratelimit import LocalRateLimiter
from tests import factories

NOW = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)


def _post(in_seconds: float = 1) -> None:
    with session_scope() as session:
        factories.account(session, handle="a", now=NOW)
        factories.campaign(session, now=NOW)
        factories.scheduled_post(
            session, campaign_name="IP Creates a Better Life", accounts=["mock:a"], now=NOW,
            in_seconds=in_seconds,
        )  # fmt: skip


def _publish(settings: Settings, clock: FrozenClock) -> list[str]:
    queued: list[tuple[int, int]] = []
    run_dispatch(
        settings=settings,
        clock=clock,
        enqueue=lambda claims: queued.extend((c.delivery_id, c.ticket) for c in claims),
    )
    limiter = LocalRateLimiter()
    return [
        run_publish(delivery_id=d, ticket=t, settings=settings, clock=clock, limiter=limiter)
        for d, t in queued
    ]


@pytest.mark.parametrize(
    ("fault", "state", "reason"),
    [
        ("duplicate", "failed", ErrorKind.DUPLICATE),
        ("rejected", "failed", ErrorKind.REJECTED),
        ("rate_limited", "rate_limited", ErrorKind.RATE_LIMITED),
    ],
)
def test_a_platform_error_reaches_the_inbox_with_its_kind(
    configured_db: Settings, mock_platform: MockPlatform, fault: str, state: str, reason: ErrorKind
) -> None:
    clock = FrozenClock(NOW)
    _post()
    clock.advance(timedelta(seconds=2))
    mock_platform.inject(fault)
    _publish(configured_db, clock)
    windows = Windows.from_settings(configured_db)
    with session_scope() as session:
        (item,) = inbox(session, now=clock.now(), windows=windows)
        assert inbox_count(session, now=clock.now(), windows=windows) == 1
    assert (item.state, item.reason) == (state, reason)
    assert item.detail  # the platform's own words stay visible


def test_the_dispatch_tick_is_the_heartbeat(configured_db: Settings) -> None:
    clock = FrozenClock(NOW)
    _post(in_seconds=600)
    with session_scope() as session:
        health = workers_health(session, now=clock.now())
    assert health.beat_stopped  # a delivery waits and nothing ever dispatched
    assert health.last_tick is None
    _publish(configured_db, clock)  # nothing due yet, but the tick is noted
    with session_scope() as session:
        assert workers_health(session, now=clock.now()).ok
    clock.advance(BEAT_EVERY / 2)
    _publish(configured_db, clock)  # too soon to write again
    with session_scope() as session:
        assert session.get_one(DispatchHeartbeat, 1).ticked_at == NOW
    clock.advance(STALE_AFTER)
    with session_scope() as session:
        stale = workers_health(session, now=clock.now())
    assert stale.beat_stopped
    assert stale.last_tick == NOW
    assert stale.oldest_unclaimed is None  # not due yet
    clock.set(NOW + timedelta(seconds=600) + STALE_AFTER + timedelta(seconds=1))
    with session_scope() as session:
        late = workers_health(session, now=clock.now())
    assert late.oldest_unclaimed == NOW + timedelta(seconds=600)  # due, nobody took it
    assert _publish(configured_db, clock) == ["published"]
    with session_scope() as session:
        assert session.get_one(DispatchHeartbeat, 1).ticked_at == clock.now()
        assert workers_health(session, now=clock.now()).ok
