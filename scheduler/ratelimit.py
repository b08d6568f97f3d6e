"""Per-account (and per-app) publishing quotas shared by every worker.

Platforms count requests in windows ("100 posts per 15 minutes"), so the limiter keeps the
times of the slots it granted and never grants more than the quota in any window of the
quota's length. A caller that finds the window full is given, and keeps, the first slot
that frees: a backlog on one account goes out at the quota's pace instead of stampeding and
being refused. A platform's own "slow down" signal (``block``) holds every caller until the
platform's reset time. Where a platform also caps an app (X: posts per day for all the
accounts that authorised one client), a request counts against both quotas, and the slot it
gets is the first that both allow. Redis holds the slots in production (one atomic Lua
script, Redis's own clock); embedded mode uses an in-process twin.
"""

from __future__ import annotations

import bisect
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import redis

from connectors.base import RateLimitPolicy

KEY_PREFIX = "publicist:ratelimit:"

# KEYS[1]: the first limit's member sequence; then per limit: sorted set of granted slot
# times, blocked-until. ARGV[1]: max queued seconds; then per limit: quota, window seconds.
# One slot, the first that every limit allows, is recorded in all of them, or none.
_RESERVE = """
-- A key shared by several accounts (an app's) may hold later slots than this one: only
-- ever lengthen its time to live.
local function extend(key, ttl)
  local current = redis.call('TTL', key)
  if current >= 0 and current >= ttl then return end
  redis.call('EXPIRE', key, ttl)
end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local max_wait = tonumber(ARGV[1])
local limits = (#KEYS - 1) / 2
local slot = now
local longest = 0
for i = 1, limits do
  local slots, blocked_key = KEYS[2 * i], KEYS[2 * i + 1]
  local quota, window = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  if window > longest then longest = window end
  redis.call('ZREMRANGEBYSCORE', slots, '-inf', now - window)
  local blocked = tonumber(redis.call('GET', blocked_key) or '0')
  if blocked > slot then slot = blocked end
  local n = redis.call('ZCARD', slots)
  if n >= quota then
    local oldest = redis.call('ZRANGE', slots, n - quota, n - quota, 'WITHSCORES')
    local free_at = tonumber(oldest[2]) + window
    if free_at > slot then slot = free_at end
  end
end
local wait = slot - now
if wait > max_wait then return {'0', tostring(wait)} end
-- Unique in every set it joins, even if the sequence key was lost and starts again.
local member = KEYS[2] .. '#' .. t[1] .. '.' .. t[2] .. '#' .. redis.call('INCR', KEYS[1])
for i = 1, limits do
  redis.call('ZADD', KEYS[2 * i], slot, member)
  extend(KEYS[2 * i], math.ceil(wait + tonumber(ARGV[2 * i + 1])) + 60)
end
extend(KEYS[1], math.ceil(wait + longest) + 60)
return {'1', tostring(wait)}
"""

Limit = tuple[str, RateLimitPolicy]
"""A quota by its key: an account's own, or one its platform app shares with other accounts."""


@dataclass(frozen=True)
class Reservation:
    granted: bool
    """False when the wait would exceed the caller's limit; nothing was reserved then."""
    wait_seconds: float
    """0 to go now; otherwise the reserved slot is this far in the future."""


class RateLimiter(Protocol):
    def reserve(
        self,
        key: str,
        policy: RateLimitPolicy,
        *,
        max_wait: float = 3600.0,
        shared: Sequence[Limit] = (),
    ) -> Reservation:
        """The first slot that ``policy`` and every ``shared`` quota allow, held in all."""
        ...

    def block(self, key: str, until: datetime) -> None: ...


class RedisRateLimiter:
    def __init__(self, client: redis.Redis[bytes]) -> None:
        self._client = client
        self._reserve = client.register_script(_RESERVE)

    @classmethod
    def from_url(cls, url: str) -> RedisRateLimiter:
        return cls(redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5))

    def reserve(
        self,
        key: str,
        policy: RateLimitPolicy,
        *,
        max_wait: float = 3600.0,
        shared: Sequence[Limit] = (),
    ) -> Reservation:
        keys = [KEY_PREFIX + key + ":seq"]
        args: list[float] = [max_wait]
        for name, quota in ((key, policy), *shared):
            keys += [KEY_PREFIX + name, KEY_PREFIX + name + ":blocked"]
            args += [quota.requests, quota.per_seconds]
        granted, wait = self._reserve(keys=keys, args=args)
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
        self,
        key: str,
        policy: RateLimitPolicy,
        *,
        max_wait: float = 3600.0,
        shared: Sequence[Limit] = (),
    ) -> Reservation:
        limits = ((key, policy), *shared)
        with self._lock:
            now = time.time()
            slot = now
            for name, quota in limits:
                slots = [s for s in self._slots.get(name, []) if s > now - quota.per_seconds]
                self._slots[name] = slots
                slot = max(slot, self._blocked.get(name, 0.0))
                if len(slots) >= quota.requests:
                    slot = max(slot, slots[len(slots) - quota.requests] + quota.per_seconds)
            wait = slot - now
            if wait > max_wait:
                return Reservation(False, wait)
            for name, _ in limits:
                bisect.insort(self._slots[name], slot)
            return Reservation(True, wait)

    def block(self, key: str, until: datetime) -> None:
        with self._lock:
            target = until.timestamp()
            if target > time.time():
                self._blocked[key] = max(self._blocked.get(key, 0.0), target)
