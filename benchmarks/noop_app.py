"""A bare Celery app with a no-op task: the broker/worker baseline the publish rate is held to.

Same broker and the same delivery guarantees as Publicist's app (late acks, prefetch 1,
redelivery on a lost worker), nothing else: no database, no events, no logging per task.
"""

from __future__ import annotations

import os

import redis
from celery import Celery

BROKER = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/12")
app = Celery("bench_noop", broker=BROKER)
app.conf.update(
    task_ignore_result=True,
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    broker_transport_options={"visibility_timeout": 600},
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
)
_client = redis.Redis.from_url(BROKER)


def _redis_now() -> str:
    seconds, micros = _client.time()
    return f"{seconds}.{micros:06d}"


@app.task(name="bench.noop")
def noop(total: int) -> None:
    # Stamp the first and last completion (Redis's clock), so the rate excludes worker start-up.
    done = _client.incr("bench:done")
    if done == 1:
        _client.set("bench:first", _redis_now())
    if done == total:
        _client.set("bench:last", _redis_now())


def fill(total: int) -> None:
    """Queue ``total`` no-op tasks through one reused producer, before any worker starts."""
    with app.producer_or_acquire() as producer:
        for _ in range(total):
            noop.apply_async((total,), producer=producer)
