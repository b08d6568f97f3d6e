"""The notify task's work: periodic checks, then the outbox drained to people and webhooks.

Runs on the metrics queue, never the publish queue: a slow chat service or webhook target
can delay a message, never a post.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext

import httpx

from campaigns.events.checks import record_expired, record_lapsing, record_unclaimed
from campaigns.events.fanout import (
    claim_sends,
    claim_webhooks,
    fan_out,
    finish_send,
    record_webhook_attempt,
)
from publicist.core.clock import Clock
from publicist.core.database import session_scope
from publicist.core.settings import Settings
from scheduler.channels import Notifier, NotifyFailed, post_webhook, webhook_client
from scheduler.reports_mail import run_scheduled_reports

log = logging.getLogger("publicist.notify")


def run_notify(
    *,
    settings: Settings,
    clock: Clock,
    notifier: Notifier,
    http: httpx.Client | None = None,
) -> int:
    """One pass: record periodic events, fan the outbox out, send what is due, POST the
    webhooks due, e-mail the reports due. Returns how many messages and POSTs were made."""
    secret = settings.encryption_key()
    base_url = settings.base_url
    with session_scope() as session:
        record_expired(session, now=clock.now())
        record_unclaimed(session, now=clock.now())
        record_lapsing(session, now=clock.now())
    run_scheduled_reports(settings=settings, clock=clock, notifier=notifier)
    with session_scope() as session:
        fan_out(session, now=clock.now())
    with session_scope() as session:
        jobs = claim_sends(session, now=clock.now(), secret=secret, base_url=base_url)
    # Claimed and committed: from here a crash leaves them 'sending', never sent twice.
    for job in jobs:
        error = None
        try:
            notifier(job.url, title=job.message.title, body=job.message.body)
        except NotifyFailed as failed:
            error = str(failed)
            log.warning("notification %s not sent: %s", job.send_ids, error)
        with session_scope() as session:
            finish_send(session, job=job, error=error, now=clock.now())
    with session_scope() as session:
        hooks = claim_webhooks(session, now=clock.now(), secret=secret, base_url=base_url)
    if hooks:
        with nullcontext(http) if http is not None else webhook_client() as client:
            for hook in hooks:
                status, error = post_webhook(client, hook, timestamp=int(clock.now().timestamp()))
                with session_scope() as session:
                    record_webhook_attempt(
                        session,
                        delivery_id=hook.delivery_id,
                        status_code=status,
                        error=error,
                        now=clock.now(),
                    )
    return len(jobs) + len(hooks)
