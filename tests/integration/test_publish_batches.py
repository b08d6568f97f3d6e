"""A launch in batches: each account's deliveries due together travel and publish as one task,
and every delivery in it is still published exactly once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from campaigns.models import Delivery, DeliveryAttempt
from campaigns.publishing import Claim
from campaigns.states import DeliveryState
from connectors.mock import MockPlatform
from publicist.core.clock import FrozenClock
from publicist.core.database import dispose_engines, make_engine, session_scope
from publicist.core.migrate import upgrade
from publicist.core.settings import Settings, get_settings, reset_settings
from scheduler.publishing import DISPATCH_LOCK, run_dispatch, run_publish_batch
from scheduler.ratelimit import LocalRateLimiter
from scheduler.tasks import batches
from tests import factories
from tests.conftest import TEST_SECRET, drop_postgres_database, postgres_database

NOW = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)
LATER = NOW + timedelta(seconds=5)


def test_batches_group_one_account_s_deliveries_due_together() -> None:
    claims = [
        Claim(1, 1, NOW, account_id=10),
        Claim(2, 1, NOW, account_id=20),
        Claim(3, 1, NOW, account_id=10),
        Claim(4, 1, NOW, account_id=10),
        Claim(5, 1, LATER, account_id=10),  # the same account, another time: its own task
        Claim(6, 1, NOW),  # no account named: alone
    ]
    tasks = [(eta, [c.delivery_id for c in batch]) for eta, batch in batches(claims, size=2)]
    # Every account's first batch before any second one, then the later time.
    assert tasks == [
        (NOW, [6]),
        (NOW, [1, 3]),
        (NOW, [2]),
        (NOW, [4]),
        (LATER, [5]),
    ]
    assert batches([]) == []


def _launch(accounts: int, posts: int) -> None:
    with session_scope() as session:
        for n in range(accounts):
            factories.account(session, handle=f"office{n}", now=NOW)
        factories.campaign(session, now=NOW)
        for n in range(posts):
            factories.scheduled_post(
                session,
                campaign_name="IP Creates a Better Life",
                accounts=[f"mock:office{n % accounts}"],
                now=NOW,
                in_seconds=1,
                text=f"Publicity Week launch, post {n}",
            )


def _dispatch(settings: Settings, clock: FrozenClock) -> list[list[tuple[int, int]]]:
    sent: list[list[tuple[int, int]]] = []
    run_dispatch(
        settings=settings,
        clock=clock,
        enqueue=lambda claims: sent.extend(
            [(c.delivery_id, c.ticket) for c in batch] for _, batch in batches(claims, size=4)
        ),
    )
    return sent


def test_a_launch_publishes_every_delivery_once_in_batches(
    configured_db: Settings, mock_platform: MockPlatform
) -> None:
    clock = FrozenClock(NOW)
    _launch(accounts=3, posts=18)
    clock.advance(timedelta(seconds=1))
    sent = _dispatch(configured_db, clock)
    assert sorted(len(batch) for batch in sent) == [2, 2, 2, 4, 4, 4]  # 6 per account
    limiter = LocalRateLimiter()
    outcomes: Counter[str] = Counter()
    for batch in sent:
        outcomes.update(
            run_publish_batch(
                items=batch, settings=configured_db, clock=clock, limiter=limiter
            ).values()
        )
    assert outcomes == {"published": 18}
    # Every message again (a redelivery after a lost ack): nothing is published twice.
    for batch in sent:
        again = run_publish_batch(items=batch, settings=configured_db, clock=clock, limiter=limiter)
        assert set(again.values()) == {"skipped"}
    counts = mock_platform.count_by_marker()
    assert len(counts) == 18
    assert set(counts.values()) == {1}
    with session_scope() as session:
        states = Counter(session.scalars(select(Delivery.state)))
        attempts = Counter(session.scalars(select(DeliveryAttempt.outcome)))
    assert states == {DeliveryState.PUBLISHED: 18}
    assert attempts == {"published": 18}


def test_a_rate_limit_mid_batch_costs_only_the_refused_delivery_an_attempt(
    configured_db: Settings, mock_platform: MockPlatform
) -> None:
    clock = FrozenClock(NOW)
    _launch(accounts=1, posts=4)
    clock.advance(timedelta(seconds=1))
    (batch,) = _dispatch(configured_db, clock)
    mock_platform.inject("rate_limited", times=1)
    outcomes = run_publish_batch(
        items=batch, settings=configured_db, clock=clock, limiter=LocalRateLimiter()
    )
    assert Counter(outcomes.values()) == {"scheduled": 1, "published": 3}
    assert len(mock_platform.posts()) == 3
    with session_scope() as session:
        attempts = Counter(session.scalars(select(DeliveryAttempt.outcome)))
        waiting = session.scalars(
            select(Delivery).where(Delivery.state == DeliveryState.SCHEDULED)
        ).one()
    assert attempts == {"retry": 1, "published": 3}
    assert waiting.next_attempt_at > clock.now()  # at the platform's reset


def test_a_failure_in_a_batch_is_settled_alone(
    configured_db: Settings, mock_platform: MockPlatform
) -> None:
    clock = FrozenClock(NOW)
    _launch(accounts=1, posts=3)
    clock.advance(timedelta(seconds=1))
    (batch,) = _dispatch(configured_db, clock)
    mock_platform.inject("rejected", times=1)
    outcomes = run_publish_batch(
        items=batch, settings=configured_db, clock=clock, limiter=LocalRateLimiter()
    )
    assert Counter(outcomes.values()) == {"failed": 1, "published": 2}
    assert len(mock_platform.posts()) == 2


@pytest.fixture
def configured_postgres(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Settings, Engine]]:
    """A migrated PostgreSQL database that ``session_scope()`` uses, and an engine on it."""
    url, admin = postgres_database("publicist_dispatch")
    monkeypatch.setenv("PUBLICIST_DATABASE_URL", url)
    monkeypatch.setenv("PUBLICIST_SECRET_KEY", TEST_SECRET)
    reset_settings()
    dispose_engines()
    try:
        upgrade(url)
        engine = make_engine(url)
        yield get_settings(), engine
        engine.dispose()
    finally:
        dispose_engines()
        reset_settings()
        drop_postgres_database(url, admin)


@pytest.mark.postgres
def test_a_dispatcher_tick_skips_its_turn_while_another_runs(
    configured_postgres: tuple[Settings, Engine],
) -> None:
    settings, engine = configured_postgres
    clock = FrozenClock(NOW)
    _launch(accounts=1, posts=3)
    clock.advance(timedelta(seconds=1))
    with engine.connect() as other, other.begin():
        # Another tick holds the dispatcher's lock for its transaction.
        assert other.scalar(select(func.pg_try_advisory_xact_lock(DISPATCH_LOCK)))
        assert _dispatch(settings, clock) == []
        with session_scope() as session:
            assert set(session.scalars(select(Delivery.state))) == {DeliveryState.SCHEDULED}
    (batch,) = _dispatch(settings, clock)  # the lock ended with that transaction
    assert len(batch) == 3
