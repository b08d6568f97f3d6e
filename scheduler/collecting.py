"""Metrics collection: measure the deliveries due now, per account in platform-sized batches.

Kept apart from the Celery wrappers so tests can run it directly, without a broker.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from campaigns.accounts import get_account, open_connector
from connectors.base import MetricCounts
from connectors.errors import AuthExpired, ConnectorError, RateLimited
from metrics import platforms
from metrics.cadence import Cadence
from metrics.collection import CollectionBatch, claim_collections, record_counts, release
from publicist.core.clock import Clock
from publicist.core.database import session_scope
from publicist.core.settings import Settings
from scheduler.quotas import app_limits, metrics_key
from scheduler.ratelimit import RateLimiter
from scheduler.refreshing import refresh_once

log = logging.getLogger("publicist.scheduler")

COLLECT_LIMIT = 10_000
"""Deliveries claimed per collection tick; the rest stay due for the next tick."""
RECORD_EVERY = 500
"""Answers recorded per transaction (platform batches are 20 to 100 posts)."""


def run_collect(
    *,
    settings: Settings,
    clock: Clock,
    limiter: RateLimiter | None = None,
    limit: int = COLLECT_LIMIT,
) -> int:
    """Measure the deliveries due now, per account in platform-sized batches; returns how
    many answers were recorded. Without ``limiter`` requests are not rate limited."""
    cadence = Cadence.from_spec(settings.collection_cadence, speed=settings.collection_speed)
    with session_scope() as session:
        batches = claim_collections(session, now=clock.now(), limit=limit)
    by_account: dict[int, list[CollectionBatch]] = defaultdict(list)
    for batch in batches:
        by_account[batch.account_id].append(batch)
    secret = settings.encryption_key()
    return sum(
        _collect_account(
            account_id, pending, clock=clock, limiter=limiter, cadence=cadence, secret=secret
        )
        for account_id, pending in by_account.items()
    )


def _collect_account(
    account_id: int,
    batches: list[CollectionBatch],
    *,
    clock: Clock,
    limiter: RateLimiter | None,
    cadence: Cadence,
    secret: str,
) -> int:
    with session_scope() as session:
        account = get_account(session, account_id)
    capabilities = platforms.capabilities_of(account.platform)
    if capabilities is None:
        log.warning("metrics for %s skipped: no installed connector", account.label)
        return 0  # claimed rows come back when their lease ends
    # Reads have the platform's read quota, apart from publishing's (capabilities).
    policy = capabilities.metrics_rate_limit
    retry_after = cadence.tiers[0][1] / cadence.speed
    recorded = 0
    answers: dict[str, int] = {}
    counts: list[MetricCounts] = []

    def record() -> None:
        # Several batches per transaction: one commit per ~RECORD_EVERY posts, not per request.
        nonlocal recorded
        if answers:
            with session_scope() as session:
                recorded += record_counts(
                    session,
                    capabilities=capabilities,
                    delivery_ids=dict(answers),
                    counts=list(counts),
                    cadence=cadence,
                    now=clock.now(),
                )
            answers.clear()
            counts.clear()

    shared_reads = app_limits(
        account, capabilities.app_metrics_rate_limit, kind="reads", secret=secret
    )
    with open_connector(account, secret=secret, clock=clock) as connector:
        for index, batch in enumerate(batches):
            if limiter is not None and policy is not None:
                reservation = limiter.reserve(
                    metrics_key(account), policy, max_wait=0.0, shared=shared_reads
                )
                if not reservation.granted:
                    wait = timedelta(seconds=reservation.wait_seconds)
                    _release(batches[index:], at=clock.now() + wait)
                    break
            try:
                counts += connector.fetch_metrics(list(batch.remote_ids))
            except RateLimited as error:
                until = error.retry_at or clock.now() + retry_after
                if limiter is not None:
                    limiter.block(metrics_key(account), until)
                _release(batches[index:], at=until)
                break
            except AuthExpired as error:
                # Collection runs for weeks after the last publish: keep the token alive,
                # then ask again at once with the fresh one.
                log.info("metrics for %s: %s; refreshing the token", account.label, error)
                try:
                    refresh_once(account.id, connector, secret=secret)
                    counts += connector.fetch_metrics(list(batch.remote_ids))
                except ConnectorError as refresh_error:
                    log.warning(
                        "metrics for %s after a token refresh failed: %s",
                        account.label,
                        refresh_error,
                    )
                    _release(batches[index:], at=clock.now() + retry_after)
                    break
            except ConnectorError as error:
                # Earlier values stay; these posts are asked again after the shortest interval.
                log.warning("metrics for %s failed: %s", account.label, error)
                _release([batch], at=clock.now() + retry_after)
                continue
            answers.update(batch.remote_ids)
            if len(answers) >= RECORD_EVERY:
                record()
        record()
    return recorded


def _release(batches: list[CollectionBatch], *, at: datetime) -> None:
    with session_scope() as session:
        release(
            session,
            delivery_ids=[d for batch in batches for d in batch.remote_ids.values()],
            at=at,
        )
