"""Operational counters for Prometheus (engagement numbers live in ``metrics``, not here)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

PUBLISHED = Counter(
    "publicist_deliveries_published_total", "Deliveries confirmed published.", ["platform"]
)
FAILED = Counter(
    "publicist_deliveries_failed_total",
    "Deliveries that ended failed, unknown or missed.",
    ["platform", "state"],
)
RETRIED = Counter(
    "publicist_delivery_retries_total", "Attempts that will be tried again.", ["platform", "reason"]
)
DEFERRED = Counter(
    "publicist_deliveries_deferred_total",
    "Publishes held back by the account's rate limit.",
    ["platform"],
)
RECONCILED = Counter(
    "publicist_deliveries_reconciled_total",
    "Deliveries settled by asking the platform.",
    ["outcome"],
)
RESENT = Counter(
    "publicist_deliveries_resent_total",
    "Publish messages sent again: the delivery was due and its attempt had not started.",
)
LATENESS = Histogram(
    "publicist_publish_lateness_seconds",
    "Start of the first publish attempt minus the due time.",
    ["platform"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800),
)
QUEUE_DEPTH = Gauge("publicist_deliveries_due", "Deliveries due now and not yet started.")


def serve(port: int) -> None:
    """Expose this process's counters on ``port`` (one port per worker process)."""
    start_http_server(port, addr="0.0.0.0")  # noqa: S104 - scraped from other containers
