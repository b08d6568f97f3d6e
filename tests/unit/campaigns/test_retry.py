"""One retry policy for every platform: what each typed connector error leads to."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from campaigns.retry import Action, RetryPolicy
from connectors.errors import (
    AuthExpired,
    ConnectorError,
    ContentRejected,
    DuplicateContent,
    OutcomeUnknown,
    RateLimited,
    ReauthorizationRequired,
    RemoteNotFound,
    TransientError,
    ValidationFailed,
    Violation,
)

NOW = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)
POLICY = RetryPolicy(max_attempts=5, base_seconds=2.0, cap_seconds=300.0)


def decide(error: ConnectorError, attempt: int = 1, seed: int = 0) -> object:
    return POLICY.decide(error, attempt=attempt, now=NOW, rng=random.Random(seed))


def test_transient_error_retries_after_a_bounded_backoff() -> None:
    decision = POLICY.decide(
        TransientError("HTTP 503", platform="mock", code="503"),
        attempt=1,
        now=NOW,
        rng=random.Random(1),
    )
    assert decision.action is Action.RETRY
    assert decision.retry_at is not None
    assert NOW + timedelta(seconds=1) <= decision.retry_at <= NOW + timedelta(seconds=2)
    assert decision.reason == "mock: HTTP 503"


def test_outcome_unknown_reconciles_even_when_attempts_are_spent() -> None:
    for attempt in (1, 5, 9):
        decision = POLICY.decide(
            OutcomeUnknown("response lost"), attempt=attempt, now=NOW, rng=random.Random(0)
        )
        assert decision.action is Action.RECONCILE
        assert decision.retry_at is None


def test_rate_limited_waits_for_the_platforms_reset_time() -> None:
    reset = NOW + timedelta(minutes=15)
    decision = POLICY.decide(
        RateLimited("429", retry_at=reset), attempt=2, now=NOW, rng=random.Random(0)
    )
    assert decision.action is Action.RETRY
    assert decision.retry_at == reset


@pytest.mark.parametrize("reset", [None, NOW - timedelta(seconds=5), NOW])
def test_rate_limited_without_a_future_reset_backs_off(reset: datetime | None) -> None:
    decision = POLICY.decide(
        RateLimited("429", retry_at=reset), attempt=3, now=NOW, rng=random.Random(0)
    )
    assert decision.action is Action.RETRY
    assert decision.retry_at is not None
    assert NOW + timedelta(seconds=1) <= decision.retry_at <= NOW + timedelta(seconds=8)


def test_auth_expired_refreshes_then_retries_at_once() -> None:
    decision = POLICY.decide(AuthExpired("401"), attempt=1, now=NOW, rng=random.Random(0))
    assert decision.action is Action.REFRESH
    assert decision.retry_at == NOW


@pytest.mark.parametrize(
    "error",
    [
        ContentRejected("sensitive words", platform="weibo", code="20019"),
        DuplicateContent("repeated content", platform="weibo", code="20017"),
        ValidationFailed([Violation("text", "300 characters", "exceeds 280")], platform="mock"),
        ReauthorizationRequired("refresh token revoked"),
        RemoteNotFound("no such post"),
        ConnectorError("something unexpected"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_errors_that_never_retry(error: ConnectorError) -> None:
    decision = POLICY.decide(error, attempt=1, now=NOW, rng=random.Random(0))
    assert decision.action is Action.FAIL
    assert decision.retry_at is None
    assert decision.reason == str(error)


def test_content_rejected_keeps_the_platforms_reason() -> None:
    decision = POLICY.decide(
        ContentRejected("sensitive words", platform="weibo"),
        attempt=1,
        now=NOW,
        rng=random.Random(),
    )
    assert decision.reason == "weibo: sensitive words"


@pytest.mark.parametrize(
    "error",
    [
        TransientError("503"),
        RateLimited("429", retry_at=NOW + timedelta(hours=1)),
        AuthExpired("x"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_max_attempts_fails(error: ConnectorError) -> None:
    assert POLICY.decide(error, attempt=4, now=NOW, rng=random.Random(0)).action is not Action.FAIL
    decision = POLICY.decide(error, attempt=5, now=NOW, rng=random.Random(0))
    assert decision.action is Action.FAIL
    assert decision.retry_at is None
    assert decision.reason.startswith("gave up after 5 attempts: ")
    assert POLICY.decide(error, attempt=6, now=NOW, rng=random.Random(0)).action is Action.FAIL


def test_a_policy_of_one_attempt_never_retries() -> None:
    policy = RetryPolicy(max_attempts=1)
    decision = policy.decide(TransientError("503"), attempt=1, now=NOW, rng=random.Random(0))
    assert decision.action is Action.FAIL


@pytest.mark.parametrize(
    ("attempt", "ceiling"),
    [(0, 2.0), (1, 2.0), (2, 4.0), (3, 8.0), (5, 32.0), (8, 256.0), (9, 300.0), (40, 300.0)],
)
def test_backoff_bounds(attempt: int, ceiling: float) -> None:
    rng = random.Random(1234)
    delays = [POLICY.backoff(attempt, rng).total_seconds() for _ in range(2000)]
    assert min(delays) >= 1.0  # never below half the base delay
    assert max(delays) <= ceiling
    # Full jitter: the delays spread over the whole range, not clustered at one end.
    assert max(delays) > ceiling * 0.95
    if ceiling >= 8:
        assert min(delays) <= max(1.0, ceiling * 0.1)


def test_backoff_is_reproducible_with_a_seed() -> None:
    first = [POLICY.backoff(n, random.Random(7)) for n in range(1, 10)]
    second = [POLICY.backoff(n, random.Random(7)) for n in range(1, 10)]
    assert first == second
    other = [POLICY.backoff(n, random.Random(8)) for n in range(1, 10)]
    assert first != other


def test_backoff_honours_a_custom_policy() -> None:
    policy = RetryPolicy(base_seconds=10.0, cap_seconds=15.0)
    rng = random.Random(3)
    delays = [policy.backoff(6, rng).total_seconds() for _ in range(500)]
    assert min(delays) >= 5.0
    assert max(delays) <= 15.0


def _ask_again(error: ConnectorError, *, looked_seconds: float) -> datetime | None:
    started = NOW - timedelta(seconds=looked_seconds)
    return POLICY.ask_again_at(error, started_at=started, now=NOW, rng=random.Random(5))


@pytest.mark.parametrize(
    "error",
    [TransientError("HTTP 503"), RateLimited("HTTP 429"), OutcomeUnknown("connection reset")],
)
def test_a_lookup_that_failed_for_now_is_asked_again_later(error: ConnectorError) -> None:
    again = _ask_again(error, looked_seconds=160)
    assert again is not None
    # Half the time looked so far, jittered: 40 to 80 s after a lookup 160 s in.
    assert timedelta(seconds=40) <= again - NOW <= timedelta(seconds=80)


def test_a_lookup_refused_by_the_rate_limit_is_asked_at_the_reset_time() -> None:
    reset = NOW + timedelta(seconds=42)
    error = RateLimited("HTTP 429", retry_at=reset)
    assert _ask_again(error, looked_seconds=5) == reset


@pytest.mark.parametrize(
    "error",
    [
        AuthExpired("token expired"),
        ReauthorizationRequired("revoked"),
        RemoteNotFound("no such user"),
        ConnectorError("HTTP 400"),
    ],
)
def test_a_lookup_that_waiting_cannot_fix_stops_at_once(error: ConnectorError) -> None:
    assert _ask_again(error, looked_seconds=160) is None


def test_lookups_stop_when_the_window_closes_and_never_plan_past_it() -> None:
    window = POLICY.lookup_window_seconds
    assert _ask_again(TransientError("HTTP 503"), looked_seconds=window) is None
    almost = _ask_again(TransientError("HTTP 503"), looked_seconds=window - 10)
    assert almost == NOW + timedelta(seconds=10)
    late_reset = RateLimited("HTTP 429", retry_at=NOW + timedelta(hours=1))
    assert _ask_again(late_reset, looked_seconds=window - 10) == NOW + timedelta(seconds=10)
