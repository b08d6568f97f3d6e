"""Exactly-once machinery: concurrent dispatchers, late policy, lost messages, vanished workers."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from campaigns.accounts import create_account, store_credentials
from campaigns.models import Account, Delivery, DeliveryAttempt
from campaigns.publishing import AttemptStart, Started, begin_attempt, claim_due, renew_lease
from campaigns.retry import RetryPolicy
from campaigns.states import DeliveryState
from connectors.base import Content, Credentials, RateLimitPolicy, RemotePost
from connectors.mock import MockConnector, MockPlatform
from publicist.core.clock import FrozenClock
from publicist.core.database import make_engine, session_scope
from publicist.core.migrate import upgrade
from publicist.core.settings import Settings
from scheduler import quotas
from scheduler.publishing import run_dispatch, run_publish, run_reconcile
from scheduler.ratelimit import Limit, LocalRateLimiter, Reservation
from tests import factories
from tests.conftest import drop_postgres_database, postgres_database

NOW = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def committed_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh database whose writes are committed, for tests with several connections."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'claims.db'}"
        upgrade(url)
        engine = make_engine(url)
        yield engine
        engine.dispose()
        return
    url, admin = postgres_database("publicist_claims")
    try:
        upgrade(url)
        engine = make_engine(url)
        yield engine
        engine.dispose()
    finally:
        drop_postgres_database(url, admin)


def _seed(engine: Engine, *, posts: int, in_seconds: float = 5) -> None:
    with session_scope(engine) as session:
        factories.account(session, handle="a", now=NOW)
        factories.account(session, handle="b", now=NOW)
        factories.campaign(session, now=NOW)
        for n in range(posts):
            factories.scheduled_post(
                session,
                campaign_name="IP Creates a Better Life",
                accounts=["mock:a", "mock:b"],
                now=NOW,
                in_seconds=in_seconds + n * 0.01,
                text=f"post {n}",
            )


def test_concurrent_dispatchers_never_claim_the_same_delivery(committed_engine: Engine) -> None:
    _seed(committed_engine, posts=60)
    results: list[list[int]] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def dispatcher() -> None:
        start.wait(timeout=10)
        mine: list[int] = []
        for _ in range(5):
            with session_scope(committed_engine) as session:
                claims = claim_due(
                    session,
                    now=NOW + timedelta(seconds=10),
                    lookahead=timedelta(seconds=1),
                    limit=17,
                )
            mine.extend(c.delivery_id for c in claims)
        with lock:
            results.append(mine)

    threads = [threading.Thread(target=dispatcher) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    claimed = [d for batch in results for d in batch]
    assert len(claimed) == 120
    assert len(set(claimed)) == 120, "a delivery was claimed twice"
    with session_scope(committed_engine) as session:
        tickets = set(session.scalars(select(Delivery.ticket)))
        states = set(session.scalars(select(Delivery.state)))
    assert tickets == {1}
    assert states == {DeliveryState.QUEUED}


def _one_post_due_in_a_second() -> None:
    """One account "mock:a", one campaign, one post due a second after ``NOW``."""
    with session_scope() as session:
        factories.account(session, handle="a", now=NOW)
        factories.campaign(session, now=NOW)
        factories.scheduled_post(
            session,
            campaign_name="IP Creates a Better Life",
            accounts=["mock:a"],
            now=NOW,
            in_seconds=1,
        )


def _start_an_attempt(clock: FrozenClock) -> AttemptStart:
    """One post due a second after ``NOW``, claimed and begun with a 150 s lease."""
    _one_post_due_in_a_second()
    clock.advance(timedelta(seconds=1))
    with session_scope() as session:
        (claim,) = claim_due(session, now=clock.now(), lookahead=timedelta(0))
    with session_scope() as session:
        begun = begin_attempt(
            session,
            delivery_id=claim.delivery_id,
            ticket=claim.ticket,
            now=clock.now(),
            lease=timedelta(seconds=150),
        )
    assert isinstance(begun, Started)
    return begun.start


def _publish_all(settings: Settings, clock: FrozenClock, limiter: LocalRateLimiter) -> list[str]:
    queued: list[tuple[int, int]] = []
    run_dispatch(
        settings=settings,
        clock=clock,
        enqueue=lambda claims: queued.extend((c.delivery_id, c.ticket) for c in claims),
    )
    return [
        run_publish(delivery_id=d, ticket=t, settings=settings, clock=clock, limiter=limiter)
        for d, t in queued
    ]


def test_a_duplicated_message_publishes_once(
    configured_db: Settings, mock_platform: MockPlatform
) -> None:
    clock = FrozenClock(NOW)
    _one_post_due_in_a_second()
    clock.advance(timedelta(seconds=2))
    queued: list[tuple[int, int]] = []
    run_dispatch(
        settings=configured_db,
        clock=clock,
        enqueue=lambda claims: queued.extend((c.delivery_id, c.ticket) for c in claims),
    )
    limiter = LocalRateLimiter()
    ((delivery_id, ticket),) = queued
    first = run_publish(
        delivery_id=delivery_id, ticket=ticket, settings=configured_db, clock=clock, limiter=limiter
    )
    again = run_publish(
        delivery_id=delivery_id, ticket=ticket, settings=configured_db, clock=clock, limiter=limiter
    )
    assert (first, again) == ("published", "skipped")
    assert mock_platform.count_by_marker() == {f"publicist-{delivery_id}": 1}


def test_a_slow_publish_keeps_its_lease_and_a_taken_over_one_may_not_post(
    configured_db: Settings, mock_platform: MockPlatform
) -> None:
    clock = FrozenClock(NOW)
    start = _start_an_attempt(clock)
    later = clock.now() + timedelta(seconds=100)

    def renew(attempt: int, now: datetime, ticket: int = start.ticket) -> bool:
        with session_scope() as session:
            return renew_lease(
                session,
                delivery_id=start.delivery_id,
                attempt=attempt,
                ticket=ticket,
                until=now + timedelta(seconds=150),
                now=now,
            )

    assert renew(start.attempt, later)
    assert _lease_of(start.delivery_id).lease_until == later + timedelta(seconds=150)
    assert not renew(start.attempt + 1, later)  # another attempt's lease is not ours
    assert not renew(start.attempt, later, ticket=start.ticket + 1)
    # once the lease has run out, the reconciler may own it: no renewal brings it back
    assert not renew(start.attempt, later + timedelta(seconds=151))
    clock.advance(timedelta(seconds=100 + 151 + configured_db.publish_creation_margin_seconds))
    run_reconcile(settings=configured_db, clock=clock)
    assert not renew(start.attempt, clock.now())


def test_a_take_over_refuses_every_later_write_of_the_old_attempt(
    configured_db: Settings, mock_platform: MockPlatform
) -> None:
    """The reconciler raises the ticket: the old attempt's renewal (even with the lease
    moved forward by the take-over), its result, error and unknown change nothing."""
    from campaigns.publishing import record_error, record_result, record_unknown
    from campaigns.reconcile import expired_leases
    from campaigns.retry import Action, Decision
    from connectors.base import PublishResult, PublishState
    from connectors.errors import TransientError

    clock = FrozenClock(NOW)
    old = _start_an_attempt(clock)
    margin = timedelta(seconds=configured_db.publish_creation_margin_seconds)
    clock.advance(timedelta(seconds=150) + margin / 2)
    with session_scope() as session:  # the lease has ended, but not the old request's margin
        assert expired_leases(session, now=clock.now(), claim_for=margin, margin=margin) == []
    clock.advance(margin)
    with session_scope() as session:
        (taken,) = expired_leases(session, now=clock.now(), claim_for=margin, margin=margin)
    assert (taken.attempt, taken.ticket) == (old.attempt, old.ticket + 1)
    now = clock.now()
    with session_scope() as session:
        renewed = renew_lease(
            session,
            delivery_id=old.delivery_id,
            attempt=old.attempt,
            ticket=old.ticket,
            until=now + timedelta(seconds=150),
            now=now,
        )
    assert not renewed  # the take-over moved the lease forward, but it is not the old one's
    posted = PublishResult(state=PublishState.PUBLISHED, remote_id="1", published_at=now)
    with session_scope() as session:
        assert record_result(session, start=old, result=posted, now=now) is (
            DeliveryState.PUBLISHING
        )
    retry = Decision(Action.RETRY, retry_at=now, reason="try again")
    with session_scope() as session:
        record_error(
            session, start=old, error=TransientError("x", platform="mock"), decision=retry, now=now
        )
    with session_scope() as session:
        record_unknown(session, start=old, reason="lost", now=now)
    delivery = _lease_of(old.delivery_id)
    assert delivery.state is DeliveryState.PUBLISHING
    assert (delivery.ticket, delivery.remote_id) == (taken.ticket, None)
    # the new owner's writes still land
    with session_scope() as session:
        assert record_result(session, start=taken, result=posted, now=now) is (
            DeliveryState.PUBLISHED
        )


def test_accounts_authorised_through_one_app_share_its_cap(
    configured_db: Settings, mock_platform: MockPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    app_cap = RateLimitPolicy(requests=2, per_seconds=3600)
    capped = replace(MockConnector.capabilities, app_publish_rate_limit=app_cap)
    monkeypatch.setattr(MockConnector, "capabilities", capped)
    clock = FrozenClock(NOW)
    with session_scope() as session:
        for handle, app in [("a", "app-1"), ("b", "app-1"), ("c", "app-2")]:
            create_account(
                session,
                platform="mock",
                handle=handle,
                credentials=Credentials(access_token=f"t-{handle}", client_id=app, user_id=handle),
                secret=factories.SECRET,
                now=NOW,
            )
        factories.campaign(session, now=NOW)
        for n in range(2):
            factories.scheduled_post(
                session,
                campaign_name="IP Creates a Better Life",
                accounts=["mock:a", "mock:b", "mock:c"],
                now=NOW,
                in_seconds=1 + n,
                text=f"p{n}",
            )
    clock.advance(timedelta(seconds=5))
    outcomes = _publish_all(configured_db, clock, LocalRateLimiter())
    assert sorted(outcomes) == ["deferred"] * 2 + ["published"] * 4
    with session_scope() as session:
        waiting = [
            (d.account.handle, round((d.next_attempt_at - clock.now()).total_seconds()))
            for d in session.scalars(select(Delivery))
            if d.state is DeliveryState.SCHEDULED and d.next_attempt_at is not None
        ]
    # app-1's two posts of the hour went out; its other two wait for the window to free
    assert sorted(handle for handle, _ in waiting) in (["a", "b"], ["a", "a"], ["b", "b"])
    assert all(abs(wait - 3600) <= 2 for _, wait in waiting)
    by_account = Counter(account for _, account, *_ in mock_platform.posts())
    assert by_account["c"] == 2
    assert by_account["a"] + by_account["b"] == 2


def test_an_accounts_app_follows_its_credentials_and_is_read_once_per_version(
    configured_db: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    quota = RateLimitPolicy(requests=10, per_seconds=60)
    with session_scope() as session:
        account = create_account(
            session,
            platform="mock",
            handle="a",
            credentials=Credentials(access_token="t", client_id="app-1"),
            secret=factories.SECRET,
            now=NOW,
        )
    reads: list[int] = []
    real = quotas.read_credentials

    def counting(account: Account, *, secret: str) -> Credentials:
        reads.append(account.id)
        return real(account, secret=secret)

    monkeypatch.setattr(quotas, "read_credentials", counting)
    first = quotas.app_limits(account, quota, kind="posts", secret=factories.SECRET)
    again = quotas.app_limits(account, quota, kind="posts", secret=factories.SECRET)
    assert first == again
    assert len(reads) == 1
    assert quotas.app_limits(account, None, kind="posts", secret=factories.SECRET) == ()
    store_credentials(
        account, Credentials(access_token="t2", client_id="app-2"), secret=factories.SECRET
    )
    moved = quotas.app_limits(account, quota, kind="posts", secret=factories.SECRET)
    assert moved != first
    assert len(reads) == 2
    store_credentials(account, Credentials(access_token="t3"), secret=factories.SECRET)
    assert quotas.app_limits(account, quota, kind="posts", secret=factories.SECRET) == ()


def test_a_reserved_slot_is_used_without_asking_the_limiter_again(
    configured_db: Settings, mock_platform: MockPlatform
) -> None:
    class Refusing(LocalRateLimiter):
        def reserve(
            self,
            key: str,
            policy: RateLimitPolicy,
            *,
            max_wait: float = 3600.0,
            shared: Sequence[Limit] = (),
        ) -> Reservation:
            return Reservation(True, 30.0)

    clock = FrozenClock(NOW)
    _one_post_due_in_a_second()
    clock.advance(timedelta(seconds=1))
    assert _publish_all(configured_db, clock, Refusing()) == ["deferred"]
    clock.advance(timedelta(seconds=30))
    assert _publish_all(configured_db, clock, Refusing()) == ["published"]
    with session_scope() as session:
        (delivery,) = session.scalars(select(Delivery))
    assert delivery.reserved_slot_at is None  # spent: a later retry asks the limiter again


@pytest.mark.parametrize(("policy", "expected"), [("miss", "missed"), ("publish", "published")])
def test_late_policy_decides_what_a_long_outage_does(
    configured_db: Settings, mock_platform: MockPlatform, policy: str, expected: str
) -> None:
    from campaigns.schemas import CampaignInput
    from campaigns.services import create_campaign

    clock = FrozenClock(NOW)
    with session_scope() as session:
        factories.account(session, handle="a", now=NOW)
        create_campaign(
            session,
            data=CampaignInput(name="Week", late_policy=policy),
            default_timezone="Asia/Shanghai",
            now=NOW,
        )
        factories.scheduled_post(
            session, campaign_name="Week", accounts=["mock:a"], now=NOW, in_seconds=10
        )
    clock.advance(timedelta(seconds=10 + configured_db.missed_grace_seconds + 1))
    _publish_all(configured_db, clock, LocalRateLimiter())
    with session_scope() as session:
        delivery = session.scalars(select(Delivery)).one()
    assert delivery.state.value == expected
    assert len(mock_platform.posts()) == (1 if expected == "published" else 0)


def test_a_lost_message_is_sent_again_on_the_next_tick_and_publishes_once(
    configured_db: Settings, mock_platform: MockPlatform
) -> None:
    clock = FrozenClock(NOW)
    _one_post_due_in_a_second()
    sent: list[tuple[int, int]] = []

    def dispatch() -> None:
        run_dispatch(
            settings=configured_db,
            clock=clock,
            enqueue=lambda claims: sent.extend((c.delivery_id, c.ticket) for c in claims),
        )

    dispatch()  # claimed with its ETA; then the worker holding the message is killed
    assert len(sent) == 1
    clock.advance(timedelta(seconds=1 + configured_db.requeue_after_seconds))
    dispatch()  # not yet: due only requeue_after ago, to the second
    assert len(sent) == 1
    clock.advance(timedelta(seconds=1))
    dispatch()
    assert sent == [sent[0], sent[0]]  # the same ticket again: the first message wins
    dispatch()  # sent at most once per requeue_after
    assert len(sent) == 2
    (delivery_id, ticket) = sent[0]
    limiter = LocalRateLimiter()
    outcomes = [
        run_publish(
            delivery_id=delivery_id,
            ticket=ticket,
            settings=configured_db,
            clock=clock,
            limiter=limiter,
        )
        for _ in sent
    ]
    assert outcomes == ["published", "skipped"]
    assert mock_platform.count_by_marker() == {f"publicist-{delivery_id}": 1}


def _vanish_mid_call(
    settings: Settings, clock: FrozenClock, *, created: bool, platform: MockPlatform
) -> int:
    """Leave a delivery ``publishing`` as a killed worker would, the post made or not."""
    start = _start_an_attempt(clock)
    if created:
        platform.create("a", start.content.marker, start.content.text, clock.now())
    # the lease, and the margin its last creating request may still have needed
    clock.advance(timedelta(seconds=151 + settings.publish_creation_margin_seconds))
    return start.delivery_id


def test_reconciler_records_a_post_the_vanished_worker_made(
    configured_db: Settings, mock_platform: MockPlatform
) -> None:
    clock = FrozenClock(NOW)
    delivery_id = _vanish_mid_call(configured_db, clock, created=True, platform=mock_platform)
    assert run_reconcile(settings=configured_db, clock=clock) == 1
    with session_scope() as session:
        delivery = session.get_one(Delivery, delivery_id)
        outcomes = [a.outcome for a in session.scalars(select(DeliveryAttempt))]
    assert delivery.state is DeliveryState.PUBLISHED
    assert delivery.remote_id == mock_platform.posts()[0][0]
    assert outcomes == ["published"]
    assert _publish_all(configured_db, clock, LocalRateLimiter()) == []
    assert len(mock_platform.posts()) == 1


def test_reconciler_retries_when_the_platform_has_no_such_post(
    configured_db: Settings, mock_platform: MockPlatform
) -> None:
    clock = FrozenClock(NOW)
    delivery_id = _vanish_mid_call(configured_db, clock, created=False, platform=mock_platform)
    run_reconcile(settings=configured_db, clock=clock)
    with session_scope() as session:
        assert session.get_one(Delivery, delivery_id).state is DeliveryState.SCHEDULED
    # Not yet: the platform may still be indexing the post; look again after the settle time.
    assert _publish_all(configured_db, clock, LocalRateLimiter()) == []
    clock.advance(timedelta(seconds=configured_db.reconcile_settle_seconds))
    assert _publish_all(configured_db, clock, LocalRateLimiter()) == ["published"]
    assert mock_platform.count_by_marker() == {f"publicist-{delivery_id}": 1}


def _lease_of(delivery_id: int) -> Delivery:
    with session_scope() as session:
        return session.get_one(Delivery, delivery_id)


def test_reconciler_asks_again_when_the_platform_cannot_be_asked_and_then_records_the_post(
    configured_db: Settings, mock_platform: MockPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    from connectors.errors import TransientError
    from connectors.mock import MockConnector

    clock = FrozenClock(NOW)
    delivery_id = _vanish_mid_call(configured_db, clock, created=True, platform=mock_platform)
    visible = MockConnector.find_post
    answers: list[str] = []

    def busy_once(self: MockConnector, content: Content, *, since: datetime) -> RemotePost | None:
        answers.append("asked")
        if len(answers) == 1:
            raise TransientError("HTTP 503", platform="mock", code="503")
        return visible(self, content, since=since)

    monkeypatch.setattr(MockConnector, "find_post", busy_once)
    run_reconcile(settings=configured_db, clock=clock)
    delivery = _lease_of(delivery_id)
    assert delivery.state is DeliveryState.PUBLISHING  # a 503 says nothing about the post
    assert delivery.lease_until is not None
    again = delivery.lease_until + timedelta(seconds=configured_db.publish_creation_margin_seconds)
    assert again > clock.now()
    assert f"asking again at {again:%H:%M:%S} UTC" in (delivery.last_error or "")
    assert _publish_all(configured_db, clock, LocalRateLimiter()) == []
    assert run_reconcile(settings=configured_db, clock=clock) == 0  # not before its time
    clock.set(again + timedelta(seconds=1))
    assert run_reconcile(settings=configured_db, clock=clock) == 1
    delivery = _lease_of(delivery_id)
    assert delivery.state is DeliveryState.PUBLISHED
    assert delivery.remote_id == mock_platform.posts()[0][0]
    assert answers == ["asked", "asked"]
    assert len(mock_platform.posts()) == 1


def test_reconciler_leaves_unknown_when_the_platform_cannot_be_asked_for_too_long(
    configured_db: Settings, mock_platform: MockPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    from connectors.errors import TransientError
    from connectors.mock import MockConnector

    clock = FrozenClock(NOW)
    delivery_id = _vanish_mid_call(configured_db, clock, created=True, platform=mock_platform)
    lookups: list[datetime] = []

    def unreachable(self: MockConnector, *args: object, **kwargs: object) -> None:
        lookups.append(clock.now())
        raise TransientError("HTTP 503", platform="mock", code="503")

    monkeypatch.setattr(MockConnector, "find_post", unreachable)
    run_reconcile(settings=configured_db, clock=clock)
    for _ in range(50):
        delivery = _lease_of(delivery_id)
        if delivery.state is not DeliveryState.PUBLISHING:
            break
        assert delivery.lease_until is not None
        margin = timedelta(seconds=configured_db.publish_creation_margin_seconds)
        clock.set(delivery.lease_until + margin + timedelta(seconds=1))
        run_reconcile(settings=configured_db, clock=clock)
    assert delivery.state is DeliveryState.UNKNOWN
    assert "could not be asked" in (delivery.last_error or "")
    # Asked again and again, ever less often, until the window after the attempt closed.
    assert 3 <= len(lookups) <= 20
    window = timedelta(seconds=RetryPolicy().lookup_window_seconds)
    assert lookups[-1] - NOW >= window
    assert _publish_all(configured_db, clock, LocalRateLimiter()) == []
    assert len(mock_platform.posts()) == 1


def test_a_duplicate_refusal_after_a_lost_response_is_reconciled_not_failed(
    configured_db: Settings, mock_platform: MockPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Weibo's 20032 case: the post exists but is not shown yet, so the retry is refused."""
    from connectors.mock import MockConnector

    clock = FrozenClock(NOW)
    _one_post_due_in_a_second()
    clock.advance(timedelta(seconds=2))
    visible = MockConnector.find_post
    monkeypatch.setattr(MockConnector, "find_post", lambda self, content, since: None)
    mock_platform.inject("lost")
    assert _publish_all(configured_db, clock, LocalRateLimiter()) == ["scheduled"]
    monkeypatch.setattr(MockConnector, "find_post", visible)
    mock_platform.inject("duplicate")
    clock.advance(timedelta(seconds=configured_db.reconcile_settle_seconds))
    assert _publish_all(configured_db, clock, LocalRateLimiter()) == ["published"]
    with session_scope() as session:
        (delivery,) = session.scalars(select(Delivery))
    assert delivery.attempts == 2
    assert list(mock_platform.count_by_marker().values()) == [1]


def test_a_duplicate_refusal_nobody_can_find_is_left_unknown(
    configured_db: Settings, mock_platform: MockPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    from connectors.mock import MockConnector

    clock = FrozenClock(NOW)
    _one_post_due_in_a_second()
    clock.advance(timedelta(seconds=2))
    monkeypatch.setattr(MockConnector, "find_post", lambda self, content, since: None)
    mock_platform.inject("lost")
    assert _publish_all(configured_db, clock, LocalRateLimiter()) == ["scheduled"]
    mock_platform.inject("duplicate")
    clock.advance(timedelta(seconds=configured_db.reconcile_settle_seconds))
    assert _publish_all(configured_db, clock, LocalRateLimiter()) == ["unknown"]
    with session_scope() as session:
        (delivery,) = session.scalars(select(Delivery))
    assert "duplicate" in (delivery.last_error or "")


def test_a_token_is_refreshed_once_when_two_workers_find_it_expired(
    configured_db: Settings, mock_platform: MockPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rotating refresh tokens can be spent once: the second worker must reuse the result."""
    from campaigns.accounts import open_connector, read_credentials
    from campaigns.models import Account
    from connectors.mock import MockConnector
    from scheduler.refreshing import refresh_once

    calls: list[str] = []
    original = MockConnector.refresh_credentials

    def counting(self: MockConnector) -> object:
        calls.append(self.credentials.access_token)
        return original(self)

    monkeypatch.setattr(MockConnector, "refresh_credentials", counting)
    secret = configured_db.encryption_key()
    with session_scope() as session:
        account_id = factories.account(session, handle="a", now=NOW).id
    with session_scope() as session:
        account = session.get_one(Account, account_id)
        first_ctx, second_ctx = (
            open_connector(account, secret=secret),
            open_connector(account, secret=secret),
        )
    with first_ctx as first, second_ctx as second:
        refresh_once(account_id, first, secret=secret)
        refresh_once(account_id, second, secret=secret)
        assert second.credentials.access_token == first.credentials.access_token  # type: ignore[attr-defined]
    assert calls == ["token-abc"]
    with session_scope() as session:
        stored = read_credentials(session.get_one(Account, account_id), secret=secret)
    assert stored.access_token != "token-abc"
    assert stored.access_token == first.credentials.access_token  # type: ignore[attr-defined]


def test_an_expired_lease_is_claimed_by_one_reconciler_only(
    configured_db: Settings, mock_platform: MockPlatform
) -> None:
    from campaigns.reconcile import expired_leases

    clock = FrozenClock(NOW)
    delivery_id = _vanish_mid_call(configured_db, clock, created=True, platform=mock_platform)
    minute = timedelta(seconds=60)
    with session_scope() as session:
        first = expired_leases(session, now=clock.now(), claim_for=minute, margin=minute)
    with session_scope() as session:
        second = expired_leases(session, now=clock.now(), claim_for=minute, margin=minute)
    assert [s.delivery_id for s in first] == [delivery_id]
    assert second == []
    clock.advance(2 * minute + timedelta(seconds=1))  # the claimer vanished too: next may try
    with session_scope() as session:
        third = expired_leases(session, now=clock.now(), claim_for=minute, margin=minute)
    assert [s.delivery_id for s in third] == [delivery_id]
