"""Sending a message through Apprise and POSTing a signed webhook: the only network calls of
notification, made by the notify task outside any transaction."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import apprise
import httpx
from apprise.attachment.memory import AttachMemory

from campaigns.events.fanout import WebhookJob
from campaigns.events.webhooks import (
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    TargetRefused,
    check_target,
    sign,
)
from publicist.core.errors import PublicistError

WEBHOOK_TIMEOUT = httpx.Timeout(10.0)


class NotifyFailed(PublicistError):
    """A channel did not take a message; the text never includes the channel's URL."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    media_type: str


class Notifier(Protocol):
    def __call__(
        self,
        url: str,
        *,
        title: str,
        body: str,
        html: bool = False,
        attachments: Sequence[Attachment] = (),
    ) -> None: ...


def apprise_notify(
    url: str,
    *,
    title: str,
    body: str,
    html: bool = False,
    attachments: Sequence[Attachment] = (),
) -> None:
    """Send one message through the Apprise service ``url`` names; :class:`NotifyFailed`
    when Apprise cannot read the URL or the service does not take the message."""
    servers = apprise.Apprise()
    if not servers.add(url):
        raise NotifyFailed("the channel's URL is not one Apprise understands any more")
    attach = apprise.AppriseAttachment()
    for item in attachments:
        memory = AttachMemory(content=item.content, name=item.filename, mimetype=item.media_type)  # type: ignore[no-untyped-call]
        attach.add(memory)
    sent = servers.notify(
        body=body,
        title=title,
        body_format=apprise.NotifyFormat.HTML if html else apprise.NotifyFormat.TEXT,
        attach=attach if attachments else None,
    )
    if not sent:
        raise NotifyFailed("the channel did not accept the message (see the worker's log)")


def post_webhook(
    client: httpx.Client, job: WebhookJob, *, timestamp: int | None = None
) -> tuple[int | None, str | None]:
    """POST one signed event; returns (status code, error). The target's address is checked
    again (a name may resolve elsewhere now) unless an admin allowed private addresses."""
    try:
        check_target(job.url, allow_private=job.allow_private)
    except TargetRefused as refused:
        return None, refused.rule
    stamp = timestamp if timestamp is not None else int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Publicist-Webhooks/1",
        EVENT_HEADER: str(job.event_id),
        TIMESTAMP_HEADER: str(stamp),
        SIGNATURE_HEADER: sign(job.secret, timestamp=stamp, body=job.body),
    }
    try:
        response = client.post(job.url, content=job.body, headers=headers)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: the target could not be reached"
    error = None if response.is_success else f"answered HTTP {response.status_code}"
    return response.status_code, error


def webhook_client() -> httpx.Client:
    # No redirects (a redirect could lead to an address never checked) and no proxies from
    # the environment.
    return httpx.Client(timeout=WEBHOOK_TIMEOUT, follow_redirects=False, trust_env=False)
