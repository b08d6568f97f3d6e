"""Per-account publishing quotas shared by every worker.

A token bucket that *reserves* slots: when the bucket is empty the caller is told how long to
wait and that slot is kept for it, so a backlog on one account is spread out at the quota's
pace instead of stampeding each time tokens come back. A platform's own "slow down" signal
(``block``) stops the bucket until the platform's reset time. Redis holds the buckets in
production (one atomic Lua script, Redis's own clock); embedded mode uses an in-process twin.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import redis

from connectors.base import RateLimitPolicy

KEY_PREFIX = "publicist:ratelimit:"

# KEYS[1]: bucket; ARGV: capacity, refill per second, cost, max queued seconds
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local max_wait = tonumber(ARGV[4])
local data = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(data[1]) or capacity
local ts = tonumber(data[2]) or now
if now > ts then
  tokens = math.min(capacity, tokens + (now - ts) * rate)
  ts = now
end
local after = tokens - cost
local wait = (ts - now)
if after < 0 then wait = wait + (-after) / rate end
if wait > max_wait then
  return {'0', tostring(wait)}
end
redis.call('HSET', KEYS[1], 'tokens', tostring(after), 'ts', tostring(ts))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate + wait) + 60)
return {'1', tostring(math.max(0, wait))}
"""

# KEYS[1]: bucket; ARGV: unix time until which the platform refuses requests
_BLOCK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local until_ts = tonumber(ARGV[1])
if until_ts <= now then return 0 end
local data = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = math.min(tonumber(data[1]) or 0, 0)
local ts = math.max(tonumber(data[2]) or now, until_ts)
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(ts))
redis.call('EXPIRE', KEYS[1], math.ceil(ts - now) + 3600)
return 1
"""


@dataclass(frozen=True)
class Reservation:
    granted: bool
    """False when the wait would exceed the caller's limit; nothing was reserved then."""
    wait_seconds: float
    """0 to go now; otherwise the reserved slot is this far in the future."""


class RateLimiter(Protocol):
    def reserve(
        self, key: str, policy: RateLimitPolicy, *, max_wait: float = 3600.0
    ) -> Reservation: ...

    def block(self, key: str, until: datetime) -> None: ...


def _rate(policy: RateLimitPolicy) -> tuple[float, float]:
    """Bucket size and refill rate that never exceed the quota in ANY window of its length.

    Platforms count requests in windows ("100 per 15 minutes"). A bucket as large as the
    quota that also refills at the quota's rate lets through up to twice the quota in one
    window (a full bucket, then a window's refill), and the platform refuses the rest. So
    half the quota is the burst and the other half the refill over the window: at most the
    quota in any window, at the price of half the sustained rate.
    """
    if policy.requests <= 1:
        return 1.0, 1.0 / policy.per_seconds
    burst = math.ceil(policy.requests / 2)
    return float(burst), (policy.requests - burst) / policy.per_seconds


class RedisRateLimiter:
    def __init__(self, client: redis.Redis[bytes]) -> None:
        self._client = client
        self._reserve = client.register_script(_RESERVE)
        self._block = client.register_script(_BLOCK)

    @classmethod
    def from_url(cls, url: str) -> RedisRateLimiter:
        return cls(redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5))

    def reserve(
        self, key: str, policy: RateLimitPolicy, *, max_wait: float = 3600.0
    ) -> Reservation:
        capacity, rate = _rate(policy)
        granted, wait = self._reserve(keys=[KEY_PREFIX + key], args=[capacity, rate, 1, max_wait])
        return Reservation(granted=granted in (b"1", "1"), wait_seconds=float(wait))

    def block(self, key: str, until: datetime) -> None:
        self._block(keys=[KEY_PREFIX + key], args=[until.timestamp()])


class LocalRateLimiter:
    """The same algorithm in memory, for one embedded process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    def reserve(
        self, key: str, policy: RateLimitPolicy, *, max_wait: float = 3600.0
    ) -> Reservation:
        capacity, rate = _rate(policy)
        with self._lock:
            now = time.time()
            tokens, ts = self._buckets.get(key, (capacity, now))
            if now > ts:
                tokens = min(capacity, tokens + (now - ts) * rate)
                ts = now
            after = tokens - 1
            wait = (ts - now) + (max(0.0, -after) / rate)
            if wait > max_wait:
                return Reservation(False, wait)
            self._buckets[key] = (after, ts)
            return Reservation(True, max(0.0, wait))

    def block(self, key: str, until: datetime) -> None:
        with self._lock:
            now = time.time()
            target = until.timestamp()
            if target <= now:
                return
            tokens, ts = self._buckets.get(key, (0.0, now))
            self._buckets[key] = (min(tokens, 0.0), max(ts, target))
