"""One Celery app, configured from settings through one function."""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery
from celery.signals import worker_process_init, worker_ready
from kombu import Queue

from publicist.core import telemetry
from publicist.core.database import dispose_engines
from publicist.core.settings import Settings, get_settings

PUBLISH_QUEUE = "publish"
METRICS_QUEUE = "metrics"

# httpx writes an INFO line for every request: at the worker's INFO level that is a line
# per platform call (twenty per launch batch), which says nothing the delivery's own
# record does not, and costs CPU on the publish path. Its warnings still come through.
for _chatty in ("httpx", "httpcore"):
    logging.getLogger(_chatty).setLevel(logging.WARNING)


def celery_config(settings: Settings) -> dict[str, Any]:
    config: dict[str, Any] = {
        "broker_url": settings.broker_url,
        "task_serializer": "json",
        "accept_content": ["json"],
        "result_backend": None,
        "task_ignore_result": True,
        "enable_utc": True,
        "timezone": "UTC",
        # A killed worker's message comes back; the delivery's compare-and-set makes the
        # second run a no-op (DESIGN.md, "Publishing: on time, exactly once").
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_time_limit": 120,
        "task_soft_time_limit": 100,
        "task_queues": (Queue(PUBLISH_QUEUE), Queue(METRICS_QUEUE)),
        "task_default_queue": PUBLISH_QUEUE,
        "task_routes": {
            "scheduler.dispatch_due": {"queue": PUBLISH_QUEUE},
            "scheduler.publish_delivery": {"queue": PUBLISH_QUEUE},
            "scheduler.publish_batch": {"queue": PUBLISH_QUEUE},
            "scheduler.check_submissions": {"queue": PUBLISH_QUEUE},
            "scheduler.reconcile": {"queue": PUBLISH_QUEUE},
            "scheduler.collect_metrics": {"queue": METRICS_QUEUE},
            "scheduler.keep_tokens_alive": {"queue": METRICS_QUEUE},
            "scheduler.notify": {"queue": METRICS_QUEUE},
        },
        "beat_schedule": {
            "dispatch-due": {
                "task": "scheduler.dispatch_due",
                "schedule": settings.dispatch_tick_seconds,
                "options": {"expires": max(1.0, settings.dispatch_tick_seconds * 2)},
            },
            "check-submissions": {
                "task": "scheduler.check_submissions",
                "schedule": 5.0,
                "options": {"expires": 10.0},
            },
            "reconcile": {
                "task": "scheduler.reconcile",
                "schedule": settings.reconcile_tick_seconds,
                "options": {"expires": settings.reconcile_tick_seconds * 2},
            },
            "collect-metrics": {
                "task": "scheduler.collect_metrics",
                "schedule": settings.collect_tick_seconds,
                "options": {"expires": settings.collect_tick_seconds * 2},
            },
            "notify": {
                "task": "scheduler.notify",
                "schedule": settings.notify_tick_seconds,
                "options": {"expires": settings.notify_tick_seconds * 2},
            },
            "keep-tokens-alive": {
                "task": "scheduler.keep_tokens_alive",
                "schedule": 3600.0,
                "options": {"expires": 3600.0},
            },
        },
        "worker_hijack_root_logger": False,
        # Task events let a Celery monitor follow the workers, at a price on every task;
        # Flower sends `enable_events` to running workers, so it needs none of this.
        "worker_send_task_events": settings.task_events,
        "task_send_sent_event": settings.task_events,
        "broker_connection_retry_on_startup": True,
    }
    if settings.broker_url.startswith(("redis://", "rediss://")):
        # Keep every ETA (at most the dispatcher's look-ahead) far inside the visibility
        # timeout, and let kombu restore abandoned messages every ~10 s rather than ~100 s.
        config["broker_transport_options"] = {
            "visibility_timeout": 600,
            "unacked_restore_throttle": 1,
        }
    return config


def create_app(settings: Settings | None = None) -> Celery:
    app = Celery("publicist", include=["scheduler.tasks"])
    app.conf.update(celery_config(settings or get_settings()))
    return app


@worker_process_init.connect
def _fresh_engine_after_fork(**_: Any) -> None:
    # Connections inherited from the parent must not be shared with the child.
    dispose_engines()


@worker_ready.connect
def _serve_telemetry(**_: Any) -> None:
    port = get_settings().metrics_port
    if port is not None:
        telemetry.serve(port)


app = create_app()
