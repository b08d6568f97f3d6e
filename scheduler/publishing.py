"""Publishing: dispatch what is due, publish one delivery, poll asynchronous publishes, and
reconcile attempts whose outcome was lost.

Kept apart from the Celery wrappers so tests can run it directly, without a broker.
"""

from __future__ import annotations

import logging
import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.accounts import connector_class, get_account, open_connector
from campaigns.heartbeat import record_tick
from campaigns.media import media_loader
from campaigns.models import Account
from campaigns.publishing import (
    Admit,
    AttemptStart,
    Claim,
    Deferred,
    Started,
    begin_attempts,
    claim_due,
    mark_missed,
    postpone_reconcile,
    record_error,
    record_found,
    record_poll,
    record_poll_failure,
    record_results,
    record_unknown,
    renew_lease,
    resend_lost,
    submitted_deliveries,
)
from campaigns.reconcile import count_due_unstarted, expired_leases
from campaigns.retry import Action, Decision, RetryPolicy
from campaigns.states import DeliveryState
from connectors.base import Connector, PublishResult
from connectors.errors import AuthExpired, ConnectorError, DuplicateContent, RateLimited
from connectors.http import creation_window
from publicist.core import telemetry
from publicist.core.clock import Clock
from publicist.core.database import session_scope
from publicist.core.settings import Settings
from scheduler.lease import LeaseKeeper
from scheduler.quotas import app_limits, publish_key, rate_limit_policy
from scheduler.ratelimit import RateLimiter
from scheduler.refreshing import refresh_once

log = logging.getLogger("publicist.scheduler")


def _renew_lease(
    delivery_id: int, attempt: int, ticket: int, until: datetime, now: datetime
) -> bool:
    with session_scope() as session:
        return renew_lease(
            session, delivery_id=delivery_id, attempt=attempt, ticket=ticket, until=until, now=now
        )


lease_keeper = LeaseKeeper(_renew_lease)
"""One per process: renews the leases of this process's slow publishes."""

Enqueue = Callable[[list[Claim]], None]

SLOT_SLACK = timedelta(milliseconds=50)
"""A reserved slot this close is taken as now; a wait shorter than this is not deferred."""
MAX_SLOT_WAIT = 7 * 24 * 3600.0


DISPATCH_LOCK = 0x7075_626C_6973_68
"""The PostgreSQL advisory lock a dispatcher tick holds for its transaction."""


def _sole_dispatcher(session: Session) -> bool:
    """Whether this tick is the only one running; a tick that is not skips its turn.

    Beat sends a tick every second whatever the last one is doing: when the database is
    slow (a loaded host), ticks piled up, up to one per worker thread, each claiming and
    resending against the others' row locks, and the pile-up itself kept the database slow
    (seen in benchmarks/timeliness.py at load average 30: no delivery started for minutes).
    A transaction-scoped lock, so a crashed tick releases it. SQLite needs none: the
    session begins ``IMMEDIATE``, which already runs claimers one at a time.
    """
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(session.scalar(select(func.pg_try_advisory_xact_lock(DISPATCH_LOCK))))


def run_dispatch(*, settings: Settings, clock: Clock, enqueue: Enqueue) -> int:
    """Claim what is due within the look-ahead, commit, then hand it to the broker."""
    now = clock.now()
    with session_scope() as session:
        if not _sole_dispatcher(session):
            return 0  # another tick is still at it; the next one picks up where it ends
        record_tick(session, now=now)  # the workspace's banner: the beat is alive
        missed = mark_missed(
            session, now=now, grace=timedelta(seconds=settings.missed_grace_seconds)
        )
        claims = claim_due(
            session, now=now, lookahead=timedelta(seconds=settings.dispatch_lookahead_seconds)
        )
        resent = resend_lost(
            session, now=now, after=timedelta(seconds=settings.requeue_after_seconds)
        )
    if resent:
        telemetry.RESENT.inc(len(resent))
        log.warning(
            "deliveries %s not started %s s after their time: sent again",
            [claim.delivery_id for claim in resent],
            settings.requeue_after_seconds,
        )
        claims = resent + claims
    if missed:
        telemetry.FAILED.labels(platform="any", state="missed").inc(len(missed))
        log.warning("deliveries %s missed: found too late under a 'miss' late policy", missed)
    if claims:
        enqueue(claims)  # after commit: a worker never sees a delivery that is not queued
    return len(claims)


def run_publish(
    *,
    delivery_id: int,
    ticket: int,
    settings: Settings,
    clock: Clock,
    limiter: RateLimiter,
    rng: random.Random | None = None,
) -> str:
    """One publish attempt; returns the delivery's resulting state, ``skipped`` or ``deferred``."""
    outcomes = run_publish_batch(
        items=[(delivery_id, ticket)], settings=settings, clock=clock, limiter=limiter, rng=rng
    )
    return outcomes[delivery_id]


def run_publish_batch(
    *,
    items: Sequence[tuple[int, int]],
    settings: Settings,
    clock: Clock,
    limiter: RateLimiter,
    rng: random.Random | None = None,
) -> dict[int, str]:
    """One publish attempt for each (delivery id, ticket): several deliveries of one account
    due together, as the dispatcher sends them (:func:`scheduler.tasks.publish_batch`).

    Every guarantee of a single publish holds for each delivery: its own compare-and-set
    and rate-limit slot, its attempt committed before the platform is called, its lease
    kept alive until its result is recorded. What a batch shares is the cost around them:
    one transaction begins every attempt, one connector (and HTTP connection) calls the
    platform for each in turn, one transaction records what was accepted. Returns each
    delivery's resulting state, ``skipped`` (not ours: a stale or duplicated message) or
    ``deferred``.
    """
    now = clock.now()
    began = time.monotonic()  # the leases run from ``now``
    secret = settings.encryption_key()
    with session_scope() as session:
        begun = begin_attempts(
            session,
            items=items,
            now=now,
            lease=timedelta(seconds=settings.publish_lease_seconds),
            admit=_admission(limiter, now=now, secret=secret),
        )
    outcomes = {delivery_id: "skipped" for delivery_id, _ in items}
    by_account: dict[int, list[Started]] = defaultdict(list)
    for delivery_id, attempt in begun.items():
        if isinstance(attempt, Deferred):
            telemetry.DEFERRED.labels(platform=attempt.platform).inc()
            outcomes[delivery_id] = "deferred"
        else:
            by_account[attempt.start.account_id].append(attempt)
    for group in by_account.values():
        outcomes.update(
            _publish_group(
                group,
                settings=settings,
                clock=clock,
                limiter=limiter,
                rng=rng or random.Random(),  # noqa: S311 - jitter, not secrecy
                secret=secret,
                began=began,
            )
        )
    return outcomes


def _admission(limiter: RateLimiter, *, now: datetime, secret: str) -> Admit:
    """Asks the account's rate limiter for a slot for each attempt, inside the transaction
    that begins it: a slot further off defers the delivery to it."""

    def admit(account: Account, reserved_slot_at: datetime | None) -> datetime | None:
        policy = rate_limit_policy(account)
        has_slot = reserved_slot_at is not None and reserved_slot_at <= now + SLOT_SLACK
        if policy is not None and not has_slot:
            app_quota = connector_class(account.platform).capabilities.app_publish_rate_limit
            reservation = limiter.reserve(
                publish_key(account),
                policy,
                max_wait=MAX_SLOT_WAIT,
                shared=app_limits(account, app_quota, kind="posts", secret=secret),
            )
            if reservation.wait_seconds > SLOT_SLACK.total_seconds():
                return now + timedelta(seconds=reservation.wait_seconds)
        return None

    return admit


def _publish_group(
    group: list[Started],
    *,
    settings: Settings,
    clock: Clock,
    limiter: RateLimiter,
    rng: random.Random,
    secret: str,
    began: float,
) -> dict[int, str]:
    """Call the platform for each begun attempt of one account, then record the accepted ones.

    Every attempt's lease is kept from the start (they all began together) until the
    results are recorded; each call may create its post only inside its own attempt's
    creation window. Every delivery meets the platform itself and its errors are settled
    one by one, as a single publish settles them (after a 429 the next call asks again
    rather than spending the others' attempts on an answer they never got).
    """
    account = group[0].account
    retry_policy = RetryPolicy(max_attempts=settings.publish_max_attempts)
    outcomes: dict[int, str] = {}
    accepted: list[tuple[AttemptStart, PublishResult]] = []
    with (
        open_connector(
            account, secret=secret, clock=clock, media=media_loader(settings)
        ) as connector,
        ExitStack() as leases,
    ):
        windows = [
            leases.enter_context(
                lease_keeper.keep(
                    delivery_id=attempt.start.delivery_id,
                    attempt=attempt.start.attempt,
                    ticket=attempt.start.ticket,
                    lease_seconds=settings.publish_lease_seconds,
                    margin_seconds=settings.publish_creation_margin_seconds,
                    clock=clock,
                    taken_at=began,
                )
            )
            for attempt in group
        ]
        for attempt, window in zip(group, windows, strict=True):
            start = attempt.start
            if start.attempt == 1 and start.lateness_ms is not None:
                telemetry.LATENESS.labels(platform=start.platform).observe(start.lateness_ms / 1000)
            try:
                with creation_window(window):
                    accepted.append((start, connector.publish(start.content)))
            except ConnectorError as error:
                outcomes[start.delivery_id] = _settle_failure(
                    start,
                    error,
                    connector,
                    account=account,
                    settings=settings,
                    clock=clock,
                    limiter=limiter,
                    rng=rng,
                    retry_policy=retry_policy,
                    secret=secret,
                )
        if accepted:
            with session_scope() as session:
                states = record_results(session, accepted=accepted, now=clock.now())
            for start, _ in accepted:
                state = states[start.delivery_id]
                if state is DeliveryState.PUBLISHED:
                    telemetry.PUBLISHED.labels(platform=start.platform).inc()
                outcomes[start.delivery_id] = state.value
    return outcomes


def _settle_failure(
    start: AttemptStart,
    error: ConnectorError,
    connector: Connector,
    *,
    account: Account,
    settings: Settings,
    clock: Clock,
    limiter: RateLimiter,
    rng: random.Random,
    retry_policy: RetryPolicy,
    secret: str,
) -> str:
    """The platform call failed: retry later, refresh and retry, reconcile, or fail."""
    decision = retry_policy.decide(error, attempt=start.attempt, now=clock.now(), rng=rng)
    if isinstance(error, RateLimited) and error.retry_at is not None:
        limiter.block(publish_key(account), error.retry_at)
    if decision.action is Action.RECONCILE:
        return _reconcile(
            start,
            connector,
            reason=str(error),
            clock=clock,
            retry_policy=retry_policy,
            margin=timedelta(seconds=settings.publish_creation_margin_seconds),
            settle=timedelta(seconds=settings.reconcile_settle_seconds),
        )
    if isinstance(error, DuplicateContent) and start.attempt > 1:
        # An earlier attempt of ours may have posted it after all (lost response):
        # the platform's refusal is evidence, so look before calling it a failure.
        return _reconcile(
            start,
            connector,
            reason=str(error),
            clock=clock,
            retry_policy=retry_policy,
            margin=timedelta(seconds=settings.publish_creation_margin_seconds),
            settle=None,
        )
    if decision.action is Action.REFRESH:
        try:
            _refresh(start, connector, secret=secret)
        except ConnectorError as refresh_error:
            error = refresh_error
            decision = Decision(Action.FAIL, reason=f"token refresh failed: {refresh_error}")
    return _settle_error(start, error, decision, clock=clock)


def _settle_error(
    start: AttemptStart, error: ConnectorError, decision: Decision, *, clock: Clock
) -> str:
    with session_scope() as session:
        state = record_error(
            session, start=start, error=error, decision=decision, now=clock.now()
        ).state
    if state is DeliveryState.SCHEDULED:
        telemetry.RETRIED.labels(platform=start.platform, reason=type(error).__name__).inc()
    else:
        telemetry.FAILED.labels(platform=start.platform, state=state.value).inc()
    log.info(
        "delivery %s attempt %s: %s (%s)",
        start.delivery_id,
        start.attempt,
        decision.action.value,
        error,
    )
    return state.value


def _refresh(start: AttemptStart, connector: Connector, *, secret: str) -> None:
    refresh_once(start.account_id, connector, secret=secret)


def _reconcile(
    start: AttemptStart,
    connector: Connector,
    *,
    reason: str,
    clock: Clock,
    retry_policy: RetryPolicy,
    settle: timedelta | None,
    margin: timedelta,
) -> str:
    """The outcome was lost: ask the platform before doing anything else.

    Found → record it. Not found → the request likely never took effect, so trying again
    after ``settle`` (platforms may index a new post with a lag) is safe within the attempt
    budget; a later duplicate refusal brings us back here. ``settle=None`` means the platform
    already claims to hold the post: not finding it leaves ``unknown``, for staff.
    The platform cannot be asked just now (5xx, 429) → ask again later, for a while;
    otherwise, or once that window is over → ``unknown``.
    """
    since = start.started_at - timedelta(minutes=5)
    try:
        found = connector.find_post(start.content, since=since)
    except ConnectorError as error:
        now = clock.now()
        again = retry_policy.ask_again_at(
            error,
            started_at=start.started_at,
            now=now,
            rng=random.Random(),  # noqa: S311 - jitter, not secrecy
        )
        if again is not None:
            with session_scope() as session:
                state = postpone_reconcile(
                    session,
                    start=start,
                    until=again,
                    margin=margin,
                    now=now,
                    reason=f"{reason}; the platform could not be asked ({error}); "
                    f"asking again at {again:%H:%M:%S} UTC",
                ).state
            telemetry.RECONCILED.labels(outcome="postponed").inc()
            return state.value
        with session_scope() as session:
            state = record_unknown(
                session,
                start=start,
                now=clock.now(),
                reason=f"{reason}; the platform could not be asked: {error}",
            ).state
        telemetry.RECONCILED.labels(outcome="unknown").inc()
        return state.value
    if found is not None:
        with session_scope() as session:
            state = record_found(session, start=start, found=found, now=clock.now())
        telemetry.RECONCILED.labels(outcome="found").inc()
        if state is DeliveryState.PUBLISHED:
            telemetry.PUBLISHED.labels(platform=start.platform).inc()
        return state.value
    telemetry.RECONCILED.labels(outcome="not_found").inc()
    if settle is None:
        with session_scope() as session:
            state = record_unknown(
                session,
                start=start,
                now=clock.now(),
                reason=f"{reason}; the platform refuses it as a duplicate but does not show it",
            ).state
        return state.value
    if start.attempt >= retry_policy.max_attempts:
        decision = Decision(Action.FAIL, reason=f"gave up after {start.attempt} attempts: {reason}")
    else:
        decision = Decision(
            Action.RETRY,
            retry_at=clock.now() + settle,
            reason=f"{reason}; not found on the platform, trying again",
        )
    return _settle_error(start, ConnectorError(reason), decision, clock=clock)


def run_reconcile(*, settings: Settings, clock: Clock) -> int:
    """Settle deliveries whose worker vanished (their lease and its margin are over)."""
    now = clock.now()
    with session_scope() as session:
        starts = expired_leases(
            session,
            now=now,
            claim_for=timedelta(seconds=settings.publish_lease_seconds),
            margin=timedelta(seconds=settings.publish_creation_margin_seconds),
        )
        due = count_due_unstarted(session, now=now)
    telemetry.QUEUE_DEPTH.set(due)
    retry_policy = RetryPolicy(max_attempts=settings.publish_max_attempts)
    secret = settings.encryption_key()
    for start in starts:
        with session_scope() as session:
            account = get_account(session, start.account_id)
        with open_connector(
            account, secret=secret, clock=clock, media=media_loader(settings)
        ) as connector:
            state = _reconcile(
                start,
                connector,
                clock=clock,
                retry_policy=retry_policy,
                margin=timedelta(seconds=settings.publish_creation_margin_seconds),
                reason="the worker stopped during the publish call (lease expired)",
                settle=timedelta(seconds=settings.reconcile_settle_seconds),
            )
        log.warning(
            "delivery %s reconciled after its worker vanished: %s", start.delivery_id, state
        )
    return len(starts)


def run_check_submissions(*, settings: Settings, clock: Clock) -> int:
    """Poll platforms that publish asynchronously; returns how many became published."""
    with session_scope() as session:
        pending = submitted_deliveries(session)
    by_account: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for delivery_id, account_id, submission_id in pending:
        by_account[account_id].append((delivery_id, submission_id))
    done = 0
    secret = settings.encryption_key()
    for account_id, items in by_account.items():
        with session_scope() as session:
            account = get_account(session, account_id)
        with open_connector(account, secret=secret, clock=clock) as connector:
            for delivery_id, submission_id in items:
                try:
                    try:
                        result = connector.check_publish(submission_id)
                    except AuthExpired:
                        refresh_once(account_id, connector, secret=secret)
                        result = connector.check_publish(submission_id)
                except ConnectorError as error:
                    with session_scope() as session:
                        record_poll_failure(
                            session, delivery_id=delivery_id, error=error, now=clock.now()
                        )
                    continue
                with session_scope() as session:
                    state = record_poll(
                        session, delivery_id=delivery_id, result=result, now=clock.now()
                    ).state
                done += state.value == "published"
    return done
