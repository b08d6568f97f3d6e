"""Celery task wrappers: take ids, run one unit of work, nothing more."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime
from functools import lru_cache
from typing import Any

from celery.signals import worker_ready
from sqlalchemy.orm import configure_mappers

from campaigns.publishing import Claim
from connectors.http import make_client
from connectors.registry import load_all
from publicist.core.clock import Clock, configured_clock
from publicist.core.settings import get_settings
from scheduler.app import app
from scheduler.channels import apprise_notify
from scheduler.collecting import run_collect
from scheduler.notifying import run_notify
from scheduler.publishing import (
    run_check_submissions,
    run_dispatch,
    run_publish,
    run_publish_batch,
    run_reconcile,
)
from scheduler.ratelimit import LocalRateLimiter, RateLimiter, RedisRateLimiter
from scheduler.tokens import run_keep_tokens_alive


@lru_cache(maxsize=1)
def rate_limiter() -> RateLimiter:
    """Shared through Redis when there is one; otherwise per process (embedded mode)."""
    url = get_settings().rate_limit_redis_url
    return RedisRateLimiter.from_url(url) if url else LocalRateLimiter()


@worker_ready.connect
def _warm_up(**_: Any) -> None:
    """Import and build, once the worker starts, what its first publish would otherwise
    import and build inside a launch: every installed connector, the HTTP stack with its
    shared SSL context, the ORM's mappers. Measured in a launch burst, that first-use cost
    was about 0.3 ms per delivery of the whole burst (docs/benchmarks.md, "Launch burst")."""
    load_all()  # a broken plugin is reported by ``publicist connectors``, not here
    make_client("http://127.0.0.1").close()
    configure_mappers()


def _clock() -> Clock:
    """The system clock, unless the settings name a virtual one (the demo's)."""
    return configured_clock(get_settings().clock_file)


BATCH_SIZE = 20
"""Most deliveries of one account, due together, that one publish task carries.

A launch sends hundreds of deliveries per account at one instant; in one task each, the
Celery round (message, ETA timer, ack) and the transactions around each post cost more CPU
than the post itself (docs/benchmarks.md, "Launch burst"). Twenty keep a batch's calls to
the platform well under a second and leave enough tasks to spread over every worker."""


def batches(claims: list[Claim], *, size: int = BATCH_SIZE) -> list[tuple[datetime, list[Claim]]]:
    """The claims as tasks: each account's deliveries due at the same time, ``size`` at most.

    In time order, and within one time every account's first batch before any second one,
    so that a launch starts on every account at once.
    """
    grouped: dict[tuple[int, datetime], list[Claim]] = defaultdict(list)
    for claim in claims:
        # A claim that does not name its account travels alone (its own negative id).
        owner = claim.account_id if claim.account_id is not None else -claim.delivery_id
        grouped[(owner, claim.eta)].append(claim)
    ordered = sorted(
        (eta, index, owner, group[index * size : (index + 1) * size])
        for (owner, eta), group in grouped.items()
        for index in range(math.ceil(len(group) / size))
    )
    return [(eta, batch) for eta, _, _, batch in ordered]


def _enqueue(claims: list[Claim]) -> None:
    now = _clock().now()
    with app.producer_or_acquire() as producer:
        for eta, batch in batches(claims):
            args = ([[claim.delivery_id, claim.ticket] for claim in batch],)
            if eta > now:
                publish_batch.apply_async(args, eta=eta, producer=producer)
            else:
                publish_batch.apply_async(args, producer=producer)


@app.task(name="scheduler.dispatch_due")
def dispatch_due() -> int:
    return run_dispatch(settings=get_settings(), clock=_clock(), enqueue=_enqueue)


@app.task(name="scheduler.publish_delivery")
def publish_delivery(delivery_id: int, ticket: int) -> str:
    """One delivery (messages sent before deliveries travelled in batches)."""
    return run_publish(
        delivery_id=delivery_id,
        ticket=ticket,
        settings=get_settings(),
        clock=_clock(),
        limiter=rate_limiter(),
    )


@app.task(name="scheduler.publish_batch")
def publish_batch(items: list[list[int]]) -> dict[int, str]:
    """Several deliveries of one account due together: [[delivery id, ticket], ...]."""
    return run_publish_batch(
        items=[(delivery_id, ticket) for delivery_id, ticket in items],
        settings=get_settings(),
        clock=_clock(),
        limiter=rate_limiter(),
    )


@app.task(name="scheduler.check_submissions")
def check_submissions() -> int:
    return run_check_submissions(settings=get_settings(), clock=_clock())


@app.task(name="scheduler.reconcile")
def reconcile() -> int:
    return run_reconcile(settings=get_settings(), clock=_clock())


@app.task(name="scheduler.collect_metrics")
def collect_metrics() -> int:
    return run_collect(settings=get_settings(), clock=_clock(), limiter=rate_limiter())


@app.task(name="scheduler.keep_tokens_alive")
def keep_tokens_alive() -> int:
    return run_keep_tokens_alive(settings=get_settings(), clock=_clock())


@app.task(name="scheduler.notify")
def notify() -> int:
    return run_notify(settings=get_settings(), clock=_clock(), notifier=apprise_notify)
