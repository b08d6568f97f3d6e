"""Admin-registered webhook targets: checked addresses and a signing secret shown once."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import httpx
from sqlalchemy.orm import Session

from campaigns.events.kinds import parse_kinds
from campaigns.events.models import WebhookTarget
from connectors.media import refusal, resolve_host
from publicist.core.crypto import decrypt_json, encrypt_json
from publicist.core.errors import InvalidInput, NotFound
from publicist.core.ids import parse_id


class TargetRefused(InvalidInput):
    """A webhook URL that is malformed or points at an address we do not post to."""


def check_target(url: str, *, allow_private: bool) -> httpx.URL:
    """The parsed URL, if it may receive events: http(s), no credentials in it, and (unless
    an admin allows it) every address its host resolves to public, by the same rules as
    media fetching (connectors.media), so a webhook cannot reach internal services."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError):
        raise TargetRefused("url", url, "is not a valid http(s) URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise TargetRefused("url", url, "must be an http or https URL")
    if parsed.userinfo:
        raise TargetRefused("url", "(hidden)", "must not carry a user name or password")
    if allow_private:
        return parsed
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        addresses = resolve_host(parsed.host, port)
    except (OSError, UnicodeError):
        raise TargetRefused("url", url, "names a host that does not resolve") from None
    for address in addresses:
        reason = refusal(address)
        if reason is not None:
            raise TargetRefused(
                "url",
                url,
                f"is refused: {parsed.host} resolves to a {reason} address; allow private "
                "addresses explicitly to post there",
            )
    return parsed


def add_webhook(
    session: Session,
    *,
    url: str,
    kinds: list[str],
    allow_private: bool,
    secret: str,
    now: datetime,
) -> tuple[WebhookTarget, str]:
    """Register a target; returns it with its signing secret, which is shown only now."""
    check_target(url, allow_private=allow_private)
    signing = "whsec_" + secrets.token_urlsafe(32)
    target = WebhookTarget(
        url=url,
        secret_encrypted=encrypt_json(secret, {"secret": signing}),
        kinds=parse_kinds(kinds),
        allow_private=allow_private,
        created_at=now,
    )
    session.add(target)
    session.flush()
    return target, signing


def signing_secret(target: WebhookTarget, *, secret: str) -> str:
    return str(decrypt_json(secret, target.secret_encrypted)["secret"])


def remove_webhook(session: Session, *, target_id: str) -> WebhookTarget:
    target = session.get(WebhookTarget, parse_id(target_id, field="webhook"))
    if target is None:
        raise NotFound("webhook", target_id)
    target.disabled = True
    session.flush()
    return target


SIGNATURE_HEADER = "Publicist-Signature"
TIMESTAMP_HEADER = "Publicist-Timestamp"
EVENT_HEADER = "Publicist-Event-Id"


def sign(secret: str, *, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 over ``"<timestamp>." + body`` (docs/webhooks.md), so a
    receiver can reject a body that was changed and a request replayed long after."""
    message = str(timestamp).encode("ascii") + b"." + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
