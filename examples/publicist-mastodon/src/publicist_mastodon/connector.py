"""Mastodon's REST API: publish a status, find it again, read its counters, refresh a token.

- ``POST /api/v1/statuses`` publishes; its ``Idempotency-Key`` header (the delivery's marker)
  makes the server answer a repeated request with the status it already created, for an hour
  (https://docs.joinmastodon.org/methods/statuses/#create).
- ``GET /api/v1/accounts/:id/statuses`` lists the account's statuses, newest first, to find a
  status whose response was lost; ``GET /api/v1/statuses/:id`` gives ``reblogs_count``,
  ``favourites_count`` and ``replies_count`` (404 once deleted). Mastodon counts no views.
- Errors are ``{"error": "..."}``; 401 means the token is invalid or expired; 429 carries
  ``X-RateLimit-Reset`` (an ISO 8601 time) (https://docs.joinmastodon.org/api/rate-limits/).
- ``POST /oauth/token`` with ``grant_type=refresh_token`` renews a token where the server
  issued a refresh token; the shared kit (``connectors.oauth``) does the grant.

Credentials: ``access_token``, ``refresh_token``, ``client_id``, ``client_secret`` and
``user_id`` (the account id); ``extra.acct`` (``user@server``) shapes the status URLs.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

import httpx

from connectors.base import (
    BaseConnector,
    Capabilities,
    Content,
    Credentials,
    MetricCounts,
    PublishResult,
    PublishState,
    RateLimitPolicy,
    RemotePost,
)
from connectors.errors import (
    AuthExpired,
    ConnectorError,
    ContentRejected,
    RateLimited,
    RemoteNotFound,
    TransientError,
    ValidationFailed,
    Violation,
)
from connectors.fingerprint import content_fingerprint
from connectors.http import json_body, retry_after, send
from connectors.numbers import parse_count
from connectors.oauth import refresh_grant, renewed, require_refresh

PLATFORM = "mastodon"
MAX_CHARACTERS = 500
"""The default limit of a Mastodon server (``configuration.statuses.max_characters``)."""
TIMELINE_PAGES = 5
PAGE_SIZE = 40
_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r"<br\s*/?>|</p>\s*<p>", re.IGNORECASE)


def plain_text(content_html: str) -> str:
    """The text of a status's HTML ``content`` (paragraphs and breaks become new lines)."""
    return html.unescape(_TAG.sub("", _BREAK.sub("\n", content_html)))


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def classify(response: httpx.Response) -> ConnectorError | None:
    """Mastodon's statuses and ``{"error": ...}`` bodies as typed errors."""
    status = response.status_code
    if status < 400:
        return None
    body = json_body(response)
    reason = str(body.get("error") or "") if isinstance(body, dict) else ""
    reason = reason or f"HTTP {status}"
    code = str(status)
    if status == 429:
        reset = _parse_time(response.headers.get("x-ratelimit-reset"))
        return RateLimited(
            reason, platform=PLATFORM, code=code, retry_at=reset or retry_after(response)
        )
    if status == 401:
        return AuthExpired(reason, platform=PLATFORM, code=code)
    if status == 404:
        return RemoteNotFound(reason, platform=PLATFORM, code=code)
    if status >= 500:
        return TransientError(reason, platform=PLATFORM, code=code)
    return ContentRejected(reason, platform=PLATFORM, code=code)


class MastodonConnector(BaseConnector):
    """Text statuses on one Mastodon account (media are left out of this example)."""

    capabilities: ClassVar[Capabilities] = Capabilities(
        platform=PLATFORM,
        display_name="Mastodon",
        max_text_length=MAX_CHARACTERS,
        text_length_rule="characters (the server's default limit)",
        media_kinds=frozenset(),
        max_media=0,
        metrics_batch_size=20,
        publishes_async=False,
        interaction_counters=("likes", "comments", "shares"),
        views_available=False,
        supports_refresh=True,
        # 300 statuses per 3 hours per account (docs.joinmastodon.org/api/rate-limits).
        publish_rate_limit=RateLimitPolicy(requests=300, per_seconds=3 * 3600),
        metrics_rate_limit=RateLimitPolicy(requests=300, per_seconds=5 * 60),
    )
    default_base_url: ClassVar[str] = "https://mastodon.social"

    @classmethod
    def validate(cls, content: Content) -> list[Violation]:
        problems = super().validate(content)
        if len(content.text) > MAX_CHARACTERS:
            problems.append(
                Violation(
                    "text",
                    f"{len(content.text)} characters",
                    f"exceeds Mastodon's limit of {MAX_CHARACTERS}",
                )
            )
        return problems

    def _send(self, method: str, path: str, *, creates: bool = False, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.credentials.access_token}"}
        headers.update(kwargs.pop("headers", {}))
        response = send(
            self.http,
            method,
            path,
            platform=PLATFORM,
            classify=classify,
            creates=creates,
            headers=headers,
            **kwargs,
        )
        return json_body(response)

    def _url(self, status: dict[str, Any]) -> str | None:
        url = status.get("url") or status.get("uri")
        return str(url) if url else None

    def publish(self, content: Content) -> PublishResult:
        problems = self.validate(content)
        if problems:
            raise ValidationFailed(problems, platform=PLATFORM)
        headers = {"Idempotency-Key": content.marker} if content.marker else {}
        status = self._send(
            "POST",
            "/api/v1/statuses",
            creates=True,
            json={"status": content.text, "visibility": "public"},
            headers=headers,
        )
        if not isinstance(status, dict) or not status.get("id"):
            raise ContentRejected("Mastodon answered without a status", platform=PLATFORM)
        return PublishResult(
            state=PublishState.PUBLISHED,
            remote_id=str(status["id"]),
            url=self._url(status),
            published_at=_parse_time(status.get("created_at")) or self.clock.now(),
            raw=status,
        )

    def check_publish(self, submission_id: str) -> PublishResult:
        raise RemoteNotFound(
            f"Mastodon publishes at once; there is no submission {submission_id!r} to poll",
            platform=PLATFORM,
        )

    def find_post(self, content: Content, *, since: datetime) -> RemotePost | None:
        """The account's status with ``content``'s text, created since ``since``."""
        if not self.credentials.user_id:
            raise AuthExpired(
                "no account id is stored; connect the account again", platform=PLATFORM
            )
        wanted = content_fingerprint(content.text)
        params: dict[str, str] = {"limit": str(PAGE_SIZE)}
        path = f"/api/v1/accounts/{self.credentials.user_id}/statuses"
        for _ in range(TIMELINE_PAGES):
            page = self._send("GET", path, params=params)
            if not isinstance(page, list) or not page:
                return None
            for status in page:
                created = _parse_time(status.get("created_at"))
                if created is not None and created < since:
                    return None  # newest first: the rest are older still
                text = plain_text(str(status.get("content") or ""))
                if content_fingerprint(text) == wanted:
                    return RemotePost(
                        remote_id=str(status["id"]),
                        url=self._url(status),
                        published_at=created,
                        text=text,
                    )
            params["max_id"] = str(page[-1]["id"])
        return None

    def fetch_metrics(self, remote_ids: Sequence[str]) -> list[MetricCounts]:
        """Counters of each status; deleted or unknown ones (404) are left out."""
        results: list[MetricCounts] = []
        for remote_id in remote_ids:
            try:
                status = self._send("GET", f"/api/v1/statuses/{remote_id}")
            except RemoteNotFound:
                continue
            if not isinstance(status, dict):
                continue
            results.append(
                MetricCounts(
                    remote_id=str(status.get("id") or remote_id),
                    views=None,
                    likes=parse_count(status.get("favourites_count")),
                    comments=parse_count(status.get("replies_count")),
                    shares=parse_count(status.get("reblogs_count")),
                    raw=status,
                )
            )
        return results

    def refresh_credentials(self) -> Credentials:
        current, now = self.credentials, self.clock.now()
        require_refresh(current, platform=PLATFORM, now=now, needs_secret=True)
        answer = refresh_grant(
            self.http,
            "/oauth/token",
            platform=PLATFORM,
            classify=classify,
            form={
                "grant_type": "refresh_token",
                "refresh_token": current.refresh_token or "",
                "client_id": current.client_id or "",
                "client_secret": current.client_secret or "",
            },
        )
        return renewed(current, answer, now=now)
