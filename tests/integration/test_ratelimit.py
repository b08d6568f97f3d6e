"""The shared rate limiter: slots are reserved in order, blocks are honoured, workers agree."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis

from connectors.base import RateLimitPolicy
from scheduler.ratelimit import KEY_PREFIX, LocalRateLimiter, RateLimiter, RedisRateLimiter

REDIS_URL = "redis://127.0.0.1:6379/11"


@pytest.fixture(params=["local", pytest.param("redis", marks=pytest.mark.redis)])
def limiter(request: pytest.FixtureRequest) -> Iterator[RateLimiter]:
    if request.param == "local":
        yield LocalRateLimiter()
        return
    client: redis.Redis[bytes] = redis.Redis.from_url(REDIS_URL)
    yield RedisRateLimiter(client)
    for key in client.scan_iter(f"{KEY_PREFIX}test-*"):
        client.delete(key)
    client.close()


def _key() -> str:
    return f"test-{uuid.uuid4().hex}"


def test_the_quota_is_granted_then_each_slot_waits_for_the_window_to_free(
    limiter: RateLimiter,
) -> None:
    key = _key()
    policy = RateLimitPolicy(requests=3, per_seconds=30)
    waits = [limiter.reserve(key, policy).wait_seconds for _ in range(7)]
    assert waits[:3] == [0, 0, 0]
    # each further caller holds its own slot: a window after the slot it replaces
    for wait, expected in zip(waits[3:], [30, 30, 30, 60], strict=True):
        assert wait == pytest.approx(expected, abs=0.5)


@pytest.mark.parametrize(
    ("requests", "per_seconds"), [(1, 60), (2, 60), (3, 30), (6, 60), (100, 900)]
)
def test_no_window_of_the_quota_length_holds_more_than_the_quota(
    limiter: RateLimiter, requests: int, per_seconds: float
) -> None:
    """Platforms count in windows: a full bucket plus a window's refill must still fit."""
    key = _key()
    policy = RateLimitPolicy(requests=requests, per_seconds=per_seconds)
    slots = [limiter.reserve(key, policy).wait_seconds for _ in range(requests * 3)]
    for start in slots:
        inside = [s for s in slots if start <= s < start + per_seconds - 0.5]
        assert len(inside) <= requests, (start, inside)


def test_a_wait_beyond_the_limit_reserves_nothing(limiter: RateLimiter) -> None:
    key = _key()
    policy = RateLimitPolicy(requests=1, per_seconds=100)
    assert limiter.reserve(key, policy).wait_seconds == 0
    refused = limiter.reserve(key, policy, max_wait=5)
    assert not refused.granted
    assert refused.wait_seconds == pytest.approx(100, abs=0.5)
    granted = limiter.reserve(key, policy, max_wait=500)
    assert granted.granted
    assert granted.wait_seconds == pytest.approx(100, abs=0.5)  # the refusal took no slot


def test_block_holds_every_caller_until_the_platform_reset(limiter: RateLimiter) -> None:
    key = _key()
    policy = RateLimitPolicy(requests=100, per_seconds=1)
    limiter.block(key, datetime.now(UTC) + timedelta(seconds=40))
    reservation = limiter.reserve(key, policy)
    assert reservation.wait_seconds == pytest.approx(40, abs=1)


def test_a_block_in_the_past_changes_nothing(limiter: RateLimiter) -> None:
    key = _key()
    limiter.block(key, datetime.now(UTC) - timedelta(seconds=5))
    assert limiter.reserve(key, RateLimitPolicy(1, 60)).wait_seconds == 0


def test_concurrent_callers_never_share_a_slot(limiter: RateLimiter) -> None:
    key = _key()
    policy = RateLimitPolicy(requests=5, per_seconds=50)
    waits: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(5):
            wait = limiter.reserve(key, policy).wait_seconds
            with lock:
                waits.append(wait)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(waits) == 20
    assert sum(1 for w in waits if w == 0) == 5
    later = sorted(w for w in waits if w > 0)
    assert later == pytest.approx([50] * 5 + [100] * 5 + [150] * 5, abs=0.5)


def test_accounts_of_one_app_share_its_quota_and_keep_their_own(limiter: RateLimiter) -> None:
    app = (_key(), RateLimitPolicy(requests=3, per_seconds=60))
    own = RateLimitPolicy(requests=2, per_seconds=60)
    first, second = _key(), _key()
    waits = [
        limiter.reserve(first, own, shared=[app]).wait_seconds,
        limiter.reserve(first, own, shared=[app]).wait_seconds,
        limiter.reserve(second, own, shared=[app]).wait_seconds,  # the app's last slot
        limiter.reserve(second, own, shared=[app]).wait_seconds,  # the app is full
        limiter.reserve(first, own, shared=[app]).wait_seconds,  # both full
    ]
    assert waits[:3] == [0, 0, 0]
    assert waits[3] == pytest.approx(60, abs=0.5)
    assert waits[4] == pytest.approx(60, abs=0.5)
    # the next window holds three app slots whichever accounts take them; then the one after
    later = [limiter.reserve(_key(), own, shared=[app]).wait_seconds for _ in range(2)]
    assert later == [pytest.approx(60, abs=0.5), pytest.approx(120, abs=0.5)]


def test_a_refused_reservation_takes_no_slot_from_any_quota(limiter: RateLimiter) -> None:
    app = (_key(), RateLimitPolicy(requests=1, per_seconds=60))
    own = RateLimitPolicy(requests=5, per_seconds=60)
    account = _key()
    assert limiter.reserve(account, own, shared=[app]).wait_seconds == 0
    refused = limiter.reserve(account, own, shared=[app], max_wait=10)
    assert not refused.granted
    # the account's own quota still has its four free slots
    assert [limiter.reserve(account, own).wait_seconds for _ in range(4)] == [0, 0, 0, 0]


def test_a_block_on_the_app_holds_all_its_accounts(limiter: RateLimiter) -> None:
    app_key = _key()
    app = (app_key, RateLimitPolicy(requests=100, per_seconds=60))
    own = RateLimitPolicy(requests=100, per_seconds=60)
    limiter.block(app_key, datetime.now(UTC) + timedelta(seconds=40))
    assert limiter.reserve(_key(), own, shared=[app]).wait_seconds == pytest.approx(40, abs=1)
    assert limiter.reserve(_key(), own).wait_seconds == 0


@pytest.mark.redis
def test_a_shared_quota_keeps_its_later_slots_until_they_pass() -> None:
    client: redis.Redis[bytes] = redis.Redis.from_url(REDIS_URL)
    limiter = RedisRateLimiter(client)
    app_key = _key()
    app = (app_key, RateLimitPolicy(requests=3, per_seconds=1000))
    own = RateLimitPolicy(requests=1, per_seconds=100)
    first, second = _key(), _key()
    try:
        assert limiter.reserve(first, own, shared=[app]).wait_seconds == 0
        later = limiter.reserve(first, own, shared=[app]).wait_seconds  # a slot 100 s ahead
        assert later == pytest.approx(100, abs=0.5)
        assert limiter.reserve(second, own, shared=[app]).wait_seconds == 0
        # the app's set still lives until its latest slot has left the window
        assert client.ttl(KEY_PREFIX + app_key) >= 100 + 1000
    finally:
        for key in client.scan_iter(f"{KEY_PREFIX}test-*"):
            client.delete(key)
        client.close()
