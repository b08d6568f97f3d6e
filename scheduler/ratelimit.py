"""Per-account publishing quotas shared by every worker.

Platforms count requests in windows ("100 posts per 15 minutes"), so the limiter keeps the
times of the slots it granted and never grants more than the quota in any window of the
quota's length. A caller that finds the window full is given, and keeps, the first slot
that frees: a backlog on one account goes out at the quota's pace instead of stampeding and
being refused. A platform's own "slow down" signal (``block``) holds every caller until the
platform's reset time. Redis holds the slots in production (one atomic Lua script, Redis's
own clock); embedded mode uses an in-process twin.
"""

from __future__ import annotations

import bisect
import math
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import redis

from connectors.base import RateLimitPolicy

KEY_PREFIX = "publicist:ratelimit:"

# KEYS[1]: sorted set of granted slot times; KEYS[2]: blocked-until; KEYS[3]: member sequence
# ARGV: quota, window seconds, max queued seconds
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local quota = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local slot = now
local blocked = tonumber(redis.call('GET', KEYS[2]) or '0')
if blocked > slot then slot = blocked end
local n = redis.call('ZCARD', KEYS[1])
if n >= quota then
  local oldest = redis.call('ZRANGE', KEYS[1], n - quota, n - quota, 'WITHSCORES')
  local free_at = tonumber(oldest[2]) + window
  if free_at > slot then slot = free_at end
end
local wait = slot - now
if wait > max_wait then return {'0', tostring(wait)} end
local member = redis.call('INCR', KEYS[3])
redis.call('ZADD', KEYS[1], slot, tostring(member))
local ttl = math.ceil(wait + window) + 60
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('EXPIRE', KEYS[3], ttl)
return {'1', tostring(wait)}
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


class RedisRateLimiter:
    def __init__(self, client: redis.Redis[bytes]) -> None:
        self._client = client
        self._reserve = client.register_script(_RESERVE)

    @classmethod
    def from_url(cls, url: str) -> RedisRateLimiter:
        return cls(redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5))

    def reserve(
        self, key: str, policy: RateLimitPolicy, *, max_wait: float = 3600.0
    ) -> Reservation:
        base = KEY_PREFIX + key
        granted, wait = self._reserve(
            keys=[base, base + ":blocked", base + ":seq"],
            args=[policy.requests, policy.per_seconds, max_wait],
        )
        return Reservation(granted=granted in (b"1", "1"), wait_seconds=float(wait))

    def block(self, key: str, until: datetime) -> None:
        seconds = until.timestamp() - time.time()
        if seconds > 0:
            self._client.set(
                KEY_PREFIX + key + ":blocked", repr(until.timestamp()), ex=math.ceil(seconds) + 60
            )


class LocalRateLimiter:
    """The same algorithm in memory, for one embedded process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[str, list[float]] = {}
        self._blocked: dict[str, float] = {}

    def reserve(
        self, key: str, policy: RateLimitPolicy, *, max_wait: float = 3600.0
    ) -> Reservation:
        with self._lock:
            now = time.time()
            slots = [s for s in self._slots.get(key, []) if s > now - policy.per_seconds]
            slot = max(now, self._blocked.get(key, 0.0))
            if len(slots) >= policy.requests:
                slot = max(slot, slots[len(slots) - policy.requests] + policy.per_seconds)
            wait = slot - now
            if wait > max_wait:
                self._slots[key] = slots
                return Reservation(False, wait)
            bisect.insort(slots, slot)
            self._slots[key] = slots
            return Reservation(True, wait)

    def block(self, key: str, until: datetime) -> None:
        with self._lock:
            target = until.timestamp()
            if target > time.time():
                self._blocked[key] = max(self._blocked.get(key, 0.0), target)
