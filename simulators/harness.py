"""What every platform simulator shares: virtual clock, seeded engagement, tokens, faults, ledger.

A platform module (``twitter.py``, ``weibo.py``, ...) builds its ASGI app around one
:class:`Simulation`. The platform paths speak the platform's own wire format; the control
plane (``control.py``, mounted under ``/__sim``) steers the clock, accounts, faults and the
engagement model and lets tests inspect what was posted. Nothing here touches Publicist's
database or settings: a simulator is a stand-in for the platform, not part of the application.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import random
import re
import secrets
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

_LINK = re.compile(r"https?://\S+", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


def normalise_text(text: str) -> str:
    """Text as a platform keeps it: NFC, links dropped (they get rewritten), spaces collapsed."""
    text = _LINK.sub("", unicodedata.normalize("NFC", text))
    return _SPACES.sub(" ", text).strip()


def content_fingerprint(text: str) -> str:
    """The ledger's key for "the same post": 16 hex digits of the normalised text.

    The same definition as Publicist's marker fingerprint, so a test can name a post by it;
    kept here because a simulator never imports the connectors it checks.
    """
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()[:16]


class SimClock:
    """Virtual time: follows the wall clock at ``speed`` from an anchor; can jump or freeze."""

    def __init__(self, *, start: datetime | None = None, speed: float = 1.0) -> None:
        self._lock = threading.Lock()
        self._anchor_virtual = (start or datetime.now(UTC)).astimezone(UTC)
        self._anchor_wall = time.monotonic()
        self._speed = speed

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> datetime:
        with self._lock:
            elapsed = (time.monotonic() - self._anchor_wall) * self._speed
            return self._anchor_virtual + timedelta(seconds=elapsed)

    def _reanchor(self, virtual: datetime) -> None:
        self._anchor_virtual = virtual
        self._anchor_wall = time.monotonic()

    def set_speed(self, speed: float) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0")
        current = self.now()
        with self._lock:
            self._reanchor(current)
            self._speed = speed

    def advance(self, seconds: float) -> datetime:
        current = self.now()
        with self._lock:
            self._reanchor(current + timedelta(seconds=seconds))
        return self.now()

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._reanchor(moment.astimezone(UTC))


@dataclass
class GrowthModel:
    """Engagement parameters: a post's audience, how fast it is reached, interaction rates.

    Views ``V(t) = floor(A * (1 - exp(-(t - t0) / tau)))`` after ``lag``; each interaction
    counter is ``floor(V * rate * (1 + noise))`` with the noise fixed per post, so every
    counter is monotone in time and reproducible from the seed and the post id.
    """

    audience_median: float = 25_000.0
    audience_sigma: float = 0.35
    tau_seconds: float = 6 * 3600.0
    lag_seconds: float = 0.0
    rates: dict[str, float] = field(default_factory=dict)
    noise: float = 0.15

    def update(self, changes: Mapping[str, Any]) -> None:
        for key, value in changes.items():
            if not hasattr(self, key):
                raise ValueError(f"engagement: unknown parameter {key!r}")
            if key == "rates":
                self.rates.update({str(k): float(v) for k, v in dict(value).items()})
            else:
                setattr(self, key, float(value))

    def describe(self) -> dict[str, Any]:
        return {
            "audience_median": self.audience_median,
            "audience_sigma": self.audience_sigma,
            "tau_seconds": self.tau_seconds,
            "lag_seconds": self.lag_seconds,
            "rates": dict(self.rates),
            "noise": self.noise,
        }


@dataclass
class SimAccount:
    account_id: str
    handle: str
    followers: int = 10_000
    verified: bool = True
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass
class SimPost:
    remote_id: str
    account_id: str
    text: str
    created_at: datetime
    fingerprint: str
    url: str = ""
    ordinal: int = 0
    """Position among the account's posts: seeds its engagement, whatever its id."""
    deleted: bool = False
    visible_at: datetime | None = None
    """When metrics start to show (TikTok's moderation delay, WeChat's T+1)."""
    extra: dict[str, Any] = field(default_factory=dict)


class Fault(StrEnum):
    SERVER_ERROR = "server_error"
    RATE_LIMITED = "rate_limited"
    DROP_AFTER_COMMIT = "drop_after_commit"


@dataclass
class FaultPlan:
    """Faults set per run through the control plane; drawn from the simulation's seeded RNG."""

    error_rate: float = 0.0
    latency_ms: float = 0.0
    rate_limit_next: int = 0
    rate_limit_seconds: float = 60.0
    drop_next_creates: int = 0
    drop_rate: float = 0.0
    hold_creates: bool = False

    def update(self, changes: Mapping[str, Any]) -> None:
        for key, value in changes.items():
            if not hasattr(self, key):
                raise ValueError(f"faults: unknown knob {key!r}")
            current = getattr(self, key)
            setattr(self, key, type(current)(value))

    def describe(self) -> dict[str, Any]:
        return {
            "error_rate": self.error_rate,
            "latency_ms": self.latency_ms,
            "rate_limit_next": self.rate_limit_next,
            "rate_limit_seconds": self.rate_limit_seconds,
            "drop_next_creates": self.drop_next_creates,
            "drop_rate": self.drop_rate,
            "hold_creates": self.hold_creates,
        }


class TokenError(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason  # "expired", "invalid" or "revoked"
        super().__init__(reason)


@dataclass
class Grant:
    access_token: str
    refresh_token: str | None
    account_id: str
    expires_at: datetime
    refresh_expires_at: datetime | None
    scopes: tuple[str, ...]
    revoked: bool = False


class TokenStore:
    """Access and refresh tokens with virtual-clock lifetimes; refresh may rotate."""

    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self._by_access: dict[str, Grant] = {}
        self._by_refresh: dict[str, Grant] = {}

    def issue(
        self,
        account_id: str,
        *,
        lifetime: float,
        refresh_lifetime: float | None = None,
        scopes: tuple[str, ...] = (),
        prefix: str = "sim",
    ) -> Grant:
        now = self.clock.now()
        grant = Grant(
            access_token=f"{prefix}-at-{secrets.token_urlsafe(18)}",
            refresh_token=(
                f"{prefix}-rt-{secrets.token_urlsafe(18)}" if refresh_lifetime is not None else None
            ),
            account_id=account_id,
            expires_at=now + timedelta(seconds=lifetime),
            refresh_expires_at=(
                now + timedelta(seconds=refresh_lifetime) if refresh_lifetime is not None else None
            ),
            scopes=scopes,
        )
        self._by_access[grant.access_token] = grant
        if grant.refresh_token:
            self._by_refresh[grant.refresh_token] = grant
        return grant

    def check(self, access_token: str) -> Grant:
        grant = self._by_access.get(access_token)
        if grant is None:
            raise TokenError("invalid")
        if grant.revoked:
            raise TokenError("revoked")
        if grant.expires_at <= self.clock.now():
            raise TokenError("expired")
        return grant

    def grant_for_refresh(self, refresh_token: str) -> Grant | None:
        """The grant a refresh token currently belongs to (to pick its account's lifetimes)."""
        return self._by_refresh.get(refresh_token)

    def refresh(
        self, refresh_token: str, *, lifetime: float, rotate: bool, refresh_lifetime: float
    ) -> Grant:
        old = self._by_refresh.get(refresh_token)
        if old is None or old.revoked:
            raise TokenError("invalid")
        if old.refresh_expires_at is not None and old.refresh_expires_at <= self.clock.now():
            raise TokenError("expired")
        new = self.issue(
            old.account_id,
            lifetime=lifetime,
            refresh_lifetime=refresh_lifetime,
            scopes=old.scopes,
            prefix=old.access_token.split("-at-")[0],
        )
        old.revoked = True
        if rotate:
            del self._by_refresh[refresh_token]
        else:  # the same refresh token keeps working and now points at the new grant
            assert new.refresh_token is not None
            del self._by_refresh[new.refresh_token]
            new.refresh_token = refresh_token
            new.refresh_expires_at = old.refresh_expires_at
            self._by_refresh[refresh_token] = new
        return new

    def refresh_owner(self, refresh_token: str) -> str | None:
        """The account a refresh token belongs to, so its settings can shape the refresh."""
        grant = self._by_refresh.get(refresh_token)
        return grant.account_id if grant else None

    def expire(self, account_id: str | None = None) -> int:
        """Expire every access token (of one account); refresh tokens keep working."""
        moment = self.clock.now() - timedelta(seconds=1)
        count = 0
        for grant in self._by_access.values():
            mine = account_id is None or grant.account_id == account_id
            if mine and grant.expires_at > moment:
                grant.expires_at = moment
                count += 1
        return count


class WindowLimiter:
    """Fixed windows per key, as platforms count requests; returns (allowed, remaining, reset)."""

    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self._windows: dict[str, tuple[datetime, int]] = {}

    def hit(self, key: str, *, limit: int, window_seconds: float) -> tuple[bool, int, datetime]:
        now = self.clock.now()
        start, used = self._windows.get(key, (now, 0))
        if now >= start + timedelta(seconds=window_seconds):
            start, used = now, 0
        reset = start + timedelta(seconds=window_seconds)
        if used >= limit:
            self._windows[key] = (start, used)
            return False, 0, reset
        used += 1
        self._windows[key] = (start, used)
        return True, limit - used, reset


class ConnectionDropped(Exception):
    """Raised after the response has started, so the server cuts the connection mid-reply."""


class DropConnection(Response):
    """A reply that never completes: the client sees the connection close with no body."""

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"data":', "more_body": True})
        raise ConnectionDropped("simulated: connection cut after the post was committed")


@dataclass
class CallRecord:
    at: datetime
    method: str
    path: str
    status: str


Provisioner = Callable[["Simulation", SimAccount], dict[str, Any]]


class Simulation:
    """One platform's whole state; every platform endpoint goes through it."""

    def __init__(
        self,
        platform: str,
        *,
        seed: int = 1,
        growth: GrowthModel | None = None,
        provision: Provisioner | None = None,
    ) -> None:
        self.platform = platform
        self._default_growth = growth or GrowthModel()
        self._provision = provision
        self.seed: int = seed
        self.clock = SimClock()
        self._key_functions: dict[str, Callable[[str], str]] = {}
        self.reset(seed=seed)

    def reset(self, *, seed: int | None = None) -> None:
        if seed is not None:
            self.seed = seed
        # Seeded on purpose: simulated faults and engagement must be reproducible.
        self.rng = random.Random(self.seed)  # noqa: S311
        self.tokens = TokenStore(self.clock)
        self.limits = WindowLimiter(self.clock)
        self.faults = FaultPlan()
        g = self._default_growth
        self.growth = GrowthModel(
            audience_median=g.audience_median,
            audience_sigma=g.audience_sigma,
            tau_seconds=g.tau_seconds,
            lag_seconds=g.lag_seconds,
            rates=dict(g.rates),
            noise=g.noise,
        )
        self.accounts: dict[str, SimAccount] = {}
        self.posts: dict[str, SimPost] = {}
        self._account_posts: dict[str, list[SimPost]] = {}
        """Each account's posts in the order they were made (deleted ones included)."""
        self._keyed: dict[tuple[str, str, str], list[SimPost]] = {}
        """Posts by (index, account, key of their text): a platform's duplicate check looks its
        key up here instead of reading every post of the simulation (``index_posts``)."""
        self.objects: dict[str, dict[str, Any]] = {}
        """Platform-specific records (drafts, media, publish jobs) keyed by their id."""
        self.calls: list[CallRecord] = []
        self._sequence = 0
        self._held = 0
        self._release = asyncio.Event()
        self.frozen_at: datetime | None = None

    # ids ----------------------------------------------------------------------------------
    def next_number(self) -> int:
        self._sequence += 1
        return self._sequence

    def snowflake(self) -> str:
        """A 19-digit id that grows with (virtual) time, like X's and TikTok's ids."""
        millis = int(self.clock.now().timestamp() * 1000) - 1_288_834_974_657
        return str((millis << 22) | (self.next_number() & 0x3FFFFF)).rjust(19, "1")

    # accounts -----------------------------------------------------------------------------
    def add_account(self, handle: str, **settings: Any) -> tuple[SimAccount, dict[str, Any]]:
        followers = int(settings.pop("followers", 10_000))
        verified = bool(settings.pop("verified", True))
        account = SimAccount(
            account_id=str(1_000_000 + len(self.accounts) + 1),
            handle=handle,
            followers=followers,
            verified=verified,
            settings=settings,
        )
        self.accounts[account.account_id] = account
        credentials = self._provision(self, account) if self._provision else {}
        return account, {"account_id": account.account_id, "handle": handle, **credentials}

    def account_by_handle(self, handle: str) -> SimAccount | None:
        return next((a for a in self.accounts.values() if a.handle == handle), None)

    # posts --------------------------------------------------------------------------------
    def record_post(
        self,
        account_id: str,
        text: str,
        *,
        remote_id: str | None = None,
        url: str = "",
        visible_at: datetime | None = None,
        **extra: Any,
    ) -> SimPost:
        post = SimPost(
            remote_id=remote_id or self.snowflake(),
            account_id=account_id,
            text=text,
            created_at=self.clock.now(),
            fingerprint=content_fingerprint(text),
            url=url,
            ordinal=len(self._account_posts.get(account_id, ())),
            visible_at=visible_at,
            extra=dict(extra),
        )
        self.posts[post.remote_id] = post
        self._account_posts.setdefault(account_id, []).append(post)
        for index, key_of in self._key_functions.items():
            self._keyed.setdefault((index, account_id, key_of(text)), []).append(post)
        return post

    def account_posts(self, account_id: str) -> list[SimPost]:
        """The account's posts, oldest first, deleted ones included (a copy)."""
        return list(self._account_posts.get(account_id, ()))

    def recent_posts(self, account_id: str, since: datetime) -> Iterator[SimPost]:
        """The account's posts made at or after ``since``, newest first (deleted included).

        Walks back from the newest and stops at the first older one, so a check over a recent
        window costs what the window holds, not the account's whole history.
        """
        for post in reversed(self._account_posts.get(account_id, ())):
            if post.created_at < since:
                return
            yield post

    def index_posts(self, index: str, key_of: Callable[[str], str]) -> None:
        """Keep every post (made before or after, across resets) under ``key_of(its text)``."""
        self._key_functions[index] = key_of
        for post in self.posts.values():
            self._keyed.setdefault((index, post.account_id, key_of(post.text)), []).append(post)

    def posts_by_key(self, index: str, account_id: str, key: str) -> list[SimPost]:
        """The account's posts kept under ``key`` in ``index``: one dictionary look-up."""
        return self._keyed.get((index, account_id, key), [])

    def live_posts(self, account_id: str | None = None) -> list[SimPost]:
        """Newest first. An account's posts come from its own list, not the whole simulation."""
        source = (
            self.posts.values() if account_id is None else self._account_posts.get(account_id, ())
        )
        return sorted(
            (p for p in source if not p.deleted),
            key=lambda p: (p.created_at, p.remote_id),
            reverse=True,
        )

    def counts_by_key(self) -> dict[str, int]:
        """How many live posts carry each ``account_id:fingerprint``: above 1 means doubled."""
        counts: dict[str, int] = {}
        for post in self.posts.values():
            if not post.deleted:
                key = f"{post.account_id}:{post.fingerprint}"
                counts[key] = counts.get(key, 0) + 1
        return counts

    # engagement ---------------------------------------------------------------------------
    def _post_random(self, post: SimPost) -> random.Random:
        key = f"{self.seed}:{self.platform}:{post.account_id}:{post.ordinal}"
        return random.Random(key)  # noqa: S311  (reproducible engagement, not security)

    def engagement(self, post: SimPost, at: datetime | None = None) -> dict[str, int]:
        """Lifetime counters of ``post`` at ``at`` (default: now, or the freeze moment)."""
        moment = at or self.frozen_at or self.clock.now()
        g = self.growth
        rng = self._post_random(post)
        account = self.accounts.get(post.account_id)
        scale = (account.followers / 10_000) if account else 1.0
        audience = g.audience_median * scale * math.exp(rng.gauss(0.0, g.audience_sigma))
        start = (post.visible_at or post.created_at) + timedelta(seconds=g.lag_seconds)
        age = (moment - start).total_seconds()
        views = 0 if age <= 0 else int(audience * (1.0 - math.exp(-age / g.tau_seconds)))
        counters = {"views": views}
        for name, rate in sorted(g.rates.items()):
            wobble = 1.0 + rng.uniform(-g.noise, g.noise)
            counters[name] = int(views * rate * max(0.0, wobble))
        return counters

    def truth(self, account_id: str | None = None) -> dict[str, Any]:
        totals: dict[str, int] = {}
        per_post: dict[str, dict[str, int]] = {}
        for post in self.live_posts(account_id):
            counters = self.engagement(post)
            per_post[post.remote_id] = counters
            for name, value in counters.items():
                totals[name] = totals.get(name, 0) + value
        return {
            "at": (self.frozen_at or self.clock.now()).isoformat(),
            "posts": len(per_post),
            "totals": totals,
            "per_post": per_post,
        }

    def freeze_engagement(self, at: datetime | None) -> None:
        """Stop engagement growing (``None`` resumes), so truth and collected values agree."""
        self.frozen_at = at

    # faults -------------------------------------------------------------------------------
    def note(self, method: str, path: str, status: str) -> None:
        self.calls.append(CallRecord(self.clock.now(), method, path, status))
        if len(self.calls) > 10_000:
            del self.calls[:5_000]

    async def gate(self, *, creates: bool) -> Fault | None:
        """Apply latency and holds, then draw the fault (if any) this request must suffer."""
        plan = self.faults
        if plan.latency_ms > 0:
            await asyncio.sleep(plan.latency_ms / 1000)
        if creates and plan.hold_creates:
            self._held += 1
            try:
                await self._release.wait()
            finally:
                self._held -= 1
        if plan.rate_limit_next > 0:
            plan.rate_limit_next -= 1
            return Fault.RATE_LIMITED
        if plan.error_rate > 0 and self.rng.random() < plan.error_rate:
            return Fault.SERVER_ERROR
        if creates and plan.drop_next_creates > 0:
            plan.drop_next_creates -= 1
            return Fault.DROP_AFTER_COMMIT
        if creates and plan.drop_rate > 0 and self.rng.random() < plan.drop_rate:
            return Fault.DROP_AFTER_COMMIT
        return None

    @property
    def held(self) -> int:
        return self._held

    def hold(self, on: bool) -> None:
        self.faults.hold_creates = on
        if on:
            self._release = asyncio.Event()
        else:
            self._release.set()

    def release_held(self) -> None:
        """Let every request held so far through; later ones are held again if still on."""
        self._release.set()
        self._release = asyncio.Event()
