"""A bare Celery app with a no-op task: the broker/worker baseline the publish rate is held to."""

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
)
_client = redis.Redis.from_url(BROKER)


@app.task(name="bench.noop")
def noop(total: int) -> None:
    # Stamp the first and last completion, so the rate excludes worker start-up.
    done = _client.incr("bench:done")
    if done == 1:
        _client.set("bench:first", repr(_client.time()))
    if done == total:
        _client.set("bench:last", repr(_client.time()))
