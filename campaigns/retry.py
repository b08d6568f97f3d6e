"""What to do after a failed attempt: one policy for every platform and every error type."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from connectors.errors import (
    AuthExpired,
    ConnectorError,
    ContentRejected,
    OutcomeUnknown,
    RateLimited,
    ReauthorizationRequired,
    TransientError,
    ValidationFailed,
)


class Action(StrEnum):
    RETRY = "retry"
    FAIL = "fail"
    RECONCILE = "reconcile"
    REFRESH = "refresh"


@dataclass(frozen=True)
class Decision:
    action: Action
    retry_at: datetime | None = None
    reason: str = ""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_seconds: float = 2.0
    cap_seconds: float = 300.0
    lookup_window_seconds: float = 900.0
    """How long after an attempt began its lost outcome is still looked for while the
    platform cannot be asked; after that the delivery is ``unknown``, for staff."""

    def backoff(self, attempt: int, rng: random.Random) -> timedelta:
        """Exponential backoff with full jitter, never below half the base delay."""
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempt - 1))
        return timedelta(seconds=max(self.base_seconds / 2, rng.uniform(0, ceiling)))

    def ask_again_at(
        self, error: ConnectorError, *, started_at: datetime, now: datetime, rng: random.Random
    ) -> datetime | None:
        """When to look again for a lost outcome whose lookup failed; ``None``: stop looking.

        A lookup that failed with a 5xx, a network error or a 429 says nothing about the
        post, so it is asked again (waiting half the time looked so far, jittered) rather
        than leaving the delivery ``unknown``; other errors, and the end of the window, stop.
        """
        if not isinstance(error, TransientError | RateLimited):
            return None
        give_up = started_at + timedelta(seconds=self.lookup_window_seconds)
        if now >= give_up:
            return None
        if isinstance(error, RateLimited) and error.retry_at and error.retry_at > now:
            return min(error.retry_at, give_up)
        looked = (now - started_at).total_seconds()
        delay = min(self.cap_seconds, max(self.base_seconds, looked / 2))
        return min(now + timedelta(seconds=rng.uniform(delay / 2, delay)), give_up)

    def decide(
        self, error: ConnectorError, *, attempt: int, now: datetime, rng: random.Random
    ) -> Decision:
        reason = str(error)
        if isinstance(error, ContentRejected | ValidationFailed | ReauthorizationRequired):
            return Decision(Action.FAIL, reason=reason)
        if isinstance(error, OutcomeUnknown):
            return Decision(Action.RECONCILE, reason=reason)
        if attempt >= self.max_attempts:
            return Decision(Action.FAIL, reason=f"gave up after {attempt} attempts: {reason}")
        if isinstance(error, AuthExpired):
            return Decision(Action.REFRESH, retry_at=now, reason=reason)
        if isinstance(error, RateLimited):
            at = (
                error.retry_at
                if error.retry_at and error.retry_at > now
                else (now + self.backoff(attempt, rng))
            )
            return Decision(Action.RETRY, retry_at=at, reason=reason)
        if isinstance(error, TransientError):
            return Decision(Action.RETRY, retry_at=now + self.backoff(attempt, rng), reason=reason)
        return Decision(Action.FAIL, reason=reason)
