"""Celery task wrappers: take ids, run one unit of work, nothing more."""

from __future__ import annotations

from functools import lru_cache

from campaigns.publishing import Claim
from publicist.core.clock import Clock, configured_clock
from publicist.core.settings import get_settings
from scheduler.app import app
from scheduler.channels import apprise_notify
from scheduler.collecting import run_collect
from scheduler.notifying import run_notify
from scheduler.publishing import run_check_submissions, run_dispatch, run_publish, run_reconcile
from scheduler.ratelimit import LocalRateLimiter, RateLimiter, RedisRateLimiter
from scheduler.tokens import run_keep_tokens_alive


@lru_cache(maxsize=1)
def rate_limiter() -> RateLimiter:
    """Shared through Redis when there is one; otherwise per process (embedded mode)."""
    url = get_settings().rate_limit_redis_url
    return RedisRateLimiter.from_url(url) if url else LocalRateLimiter()


def _clock() -> Clock:
    """The system clock, unless the settings name a virtual one (the demo's)."""
    return configured_clock(get_settings().clock_file)


def _enqueue(claims: list[Claim]) -> None:
    now = _clock().now()
    with app.producer_or_acquire() as producer:
        for claim in claims:
            args = (claim.delivery_id, claim.ticket)
            if claim.eta > now:
                publish_delivery.apply_async(args, eta=claim.eta, producer=producer)
            else:
                publish_delivery.apply_async(args, producer=producer)


@app.task(name="scheduler.dispatch_due")
def dispatch_due() -> int:
    return run_dispatch(settings=get_settings(), clock=_clock(), enqueue=_enqueue)


@app.task(name="scheduler.publish_delivery")
def publish_delivery(delivery_id: int, ticket: int) -> str:
    return run_publish(
        delivery_id=delivery_id,
        ticket=ticket,
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
