"""The collection tick end to end on SQLite and PostgreSQL: mock platform, rate limits, faults."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from campaigns.accounts import read_credentials
from campaigns.models import Account, Campaign, Delivery
from connectors.base import MetricCounts, RateLimitPolicy
from connectors.errors import AuthExpired, RateLimited, TransientError
from connectors.mock import MockConnector, MockPlatform
from metrics.collection import claim_collections
from metrics.models import DailyRollup, DeliveryMetrics, MetricSnapshot
from metrics.reports import campaign_report
from publicist.core.clock import FrozenClock
from publicist.core.database import dispose_engines, make_engine, session_scope
from publicist.core.migrate import upgrade
from publicist.core.settings import Settings, get_settings, reset_settings
from scheduler.collecting import run_collect
from scheduler.ratelimit import LocalRateLimiter
from tests import factories
from tests.conftest import TEST_SECRET, drop_postgres_database, postgres_database
from tests.unit.metrics import builders

PUBLISHED = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)


@dataclass
class World:
    settings: Settings
    engine: Engine
    clock: FrozenClock
    platform: MockPlatform


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mock_platform: MockPlatform,
) -> Iterator[World]:
    """A committed database that ``run_collect``'s own session scopes use."""
    admin = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'metrics.db'}"
    else:
        url, admin = postgres_database("publicist_metrics")
    monkeypatch.setenv("PUBLICIST_DATABASE_URL", url)
    monkeypatch.setenv("PUBLICIST_SECRET_KEY", TEST_SECRET)
    reset_settings()
    dispose_engines()
    try:
        upgrade(url)
        engine = make_engine(url)
        yield World(get_settings(), engine, FrozenClock(PUBLISHED), mock_platform)
        engine.dispose()
    finally:
        dispose_engines()
        reset_settings()
        if admin is not None:
            drop_postgres_database(url, admin)


def _publish(world: World, *, handle: str, posts: int, quota: int | None = None) -> int:
    """``posts`` deliveries published on the mock platform by a new account; its id."""
    with session_scope(world.engine) as session:
        account = factories.account(session, handle=handle, now=PUBLISHED)
        if quota is not None:
            account.rate_limit_requests = quota
            account.rate_limit_per_seconds = 3600
        campaign = session.scalars(select(Campaign)).first() or builders.campaign(
            session, name="IP Creates a Better Life", now=PUBLISHED
        )
        for n in range(posts):
            delivery = builders.delivery(
                session, campaign=campaign, account=account, at=PUBLISHED, text=f"post {n}"
            )
            delivery.remote_id = world.platform.create(
                handle, delivery.marker, f"post {n}", PUBLISHED
            )
        return account.id


def _totals(world: World) -> tuple[int | None, int]:
    with session_scope(world.engine) as session:
        report = campaign_report(session, campaign=session.scalars(select(Campaign)).one())
        rollup_views, rollup_interactions = session.execute(
            select(func.sum(DailyRollup.views), func.sum(DailyRollup.interactions))
        ).one()
    assert (rollup_views, rollup_interactions) == (report.views, report.interactions)
    return report.views, report.interactions


class RecordingLimiter(LocalRateLimiter):
    """The in-process limiter, remembering every "slow down" it was told."""

    def __init__(self) -> None:
        super().__init__()
        self.blocked: list[tuple[str, datetime]] = []

    def block(self, key: str, until: datetime) -> None:
        self.blocked.append((key, until))
        super().block(key, until)


def _collect(world: World, limiter: LocalRateLimiter | None = None) -> int:
    return run_collect(settings=world.settings, clock=world.clock, limiter=limiter)


def _snapshots(world: World) -> int:
    with session_scope(world.engine) as session:
        return int(session.scalar(select(func.count()).select_from(MetricSnapshot)) or 0)


def test_each_tick_measures_only_what_is_due_and_totals_match_the_platform(
    world: World,
) -> None:
    _publish(world, handle="@IPRinCN", posts=120)
    _publish(world, handle="cnipa", posts=10)
    world.clock.set(PUBLISHED + timedelta(minutes=30))

    assert _collect(world) == 130
    truth = world.platform.totals(world.clock.now())
    assert _totals(world) == (truth.views, truth.interactions)
    assert _collect(world) == 0  # nothing is due again before five minutes

    world.clock.advance(timedelta(minutes=5))
    assert _collect(world) == 130
    truth = world.platform.totals(world.clock.now())
    assert truth.views > 0
    assert _totals(world) == (truth.views, truth.interactions)
    assert _snapshots(world) == 260


def test_collection_keeps_to_the_read_quota_in_its_own_bucket(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = RateLimitPolicy(2, 3600)
    capabilities = replace(MockConnector.capabilities, metrics_rate_limit=reads)
    monkeypatch.setattr(
        "scheduler.collecting.platforms.capabilities_of",
        lambda platform: capabilities if platform == "mock" else None,
    )
    account_id = _publish(world, handle="@IPRinCN", posts=150, quota=2)  # 3 batches of 50
    world.clock.set(PUBLISHED + timedelta(minutes=30))
    limiter = LocalRateLimiter()

    assert _collect(world, limiter) == 100
    assert _collect(world, limiter) == 0  # the quota is spent; nothing asked

    with session_scope(world.engine) as session:
        waiting = list(
            session.scalars(
                select(DeliveryMetrics.next_collect_at).where(DeliveryMetrics.collections == 0)
            )
        )
    assert len(waiting) == 50
    for moment in waiting:
        assert moment is not None
        assert moment > world.clock.now() + timedelta(minutes=20)  # when a slot frees
    # Publishing's bucket for the same account is untouched.
    policy = RateLimitPolicy(2, 3600)
    assert limiter.reserve(f"account:{account_id}", policy, max_wait=0.0).granted


def test_a_failed_collection_keeps_every_value_and_asks_again_later(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _publish(world, handle="@IPRinCN", posts=20)
    world.clock.set(PUBLISHED + timedelta(minutes=30))
    assert _collect(world) == 20
    before = _totals(world)

    def outage(self: MockConnector, remote_ids: list[str]) -> list[MetricCounts]:
        raise TransientError("HTTP 503", platform="mock", code="503")

    monkeypatch.setattr(MockConnector, "fetch_metrics", outage)
    world.clock.advance(timedelta(minutes=10))
    assert _collect(world) == 0
    assert _totals(world) == before
    assert _snapshots(world) == 20
    with session_scope(world.engine) as session:
        due = set(session.scalars(select(DeliveryMetrics.next_collect_at)))
    assert due == {world.clock.now() + timedelta(minutes=5)}

    monkeypatch.undo()
    world.clock.advance(timedelta(minutes=5))
    assert _collect(world) == 20
    assert (_totals(world)[0] or 0) > (before[0] or 0)


def test_a_platform_slow_down_blocks_the_metrics_bucket_until_its_reset(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    account_id = _publish(world, handle="@IPRinCN", posts=120, quota=100)
    world.clock.set(PUBLISHED + timedelta(minutes=30))
    reset = world.clock.now() + timedelta(minutes=15)

    def throttled(self: MockConnector, remote_ids: list[str]) -> list[MetricCounts]:
        raise RateLimited("HTTP 429", platform="mock", code="429", retry_at=reset)

    monkeypatch.setattr(MockConnector, "fetch_metrics", throttled)
    limiter = RecordingLimiter()
    assert _collect(world, limiter) == 0

    with session_scope(world.engine) as session:
        due = set(session.scalars(select(DeliveryMetrics.next_collect_at)))
    assert due == {reset}
    assert limiter.blocked == [(f"account:{account_id}:metrics", reset)]


def test_an_expired_token_is_refreshed_and_the_posts_asked_again_at_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    account_id = _publish(world, handle="@IPRinCN", posts=5)
    world.clock.set(PUBLISHED + timedelta(days=3))
    original = MockConnector.fetch_metrics

    def expired(self: MockConnector, remote_ids: list[str]) -> list[MetricCounts]:
        if self.credentials.access_token == "token-abc":
            raise AuthExpired("token expired", platform="mock", code="401")
        return original(self, remote_ids)

    monkeypatch.setattr(MockConnector, "fetch_metrics", expired)
    assert _collect(world) == 5  # refreshed, then asked again in the same tick
    with session_scope(world.engine) as session:
        account = session.get_one(Account, account_id)
        assert read_credentials(account, secret=TEST_SECRET).access_token != "token-abc"


@pytest.mark.postgres
@pytest.mark.parametrize("world", ["postgres"], indirect=True)
def test_two_ticks_at_once_claim_different_deliveries_on_postgres(world: World) -> None:
    # SQLite takes its write lock at BEGIN, so there two ticks simply run one after the other.
    _publish(world, handle="@IPRinCN", posts=80)
    now = PUBLISHED + timedelta(minutes=30)
    with session_scope(world.engine) as planner:
        claim_collections(planner, now=now, limit=0)  # plan rows for every delivery
    with session_scope(world.engine) as first, session_scope(world.engine) as second:
        mine = claim_collections(first, now=now, limit=50)
        theirs = claim_collections(second, now=now)
        a = {d for b in mine for d in b.remote_ids.values()}
        b = {d for b in theirs for d in b.remote_ids.values()}
    assert len(a) == 50
    assert len(b) == 30
    assert not a & b
    with session_scope(world.engine) as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == 80
