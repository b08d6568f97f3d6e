"""The OAuth 2.0 refresh grant every connector shares, with one mapping of its failures.

Whatever the platform, the same failure means the same thing:

- no refresh token (or no client id, or a refresh token past its stored expiry), or the
  token endpoint refusing the grant (a 4xx, ``invalid_grant``, a revoked or expired refresh
  token): :class:`ReauthorizationRequired`, an :class:`AuthExpired` that no retry or refresh
  can cure; a person must connect the account again;
- a 5xx or a network failure during the refresh: :class:`TransientError`, try again later;
- the platform's rate-limit signal: :class:`RateLimited`;
- a 2xx answer without an access token: :class:`TransientError` (the platform misbehaved;
  the refresh token was not spent on our side, so a later try may work).

A connector supplies only its path, its form and, where its envelope differs, a function
that unwraps the token fields (Douyin nests them in ``data``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from connectors.base import Credentials
from connectors.errors import (
    ConnectorError,
    RateLimited,
    ReauthorizationRequired,
    TransientError,
)
from connectors.http import Classifier, json_body, send
from connectors.numbers import parse_int

REFRESH_EXPIRES_AT = "refresh_expires_at"
"""Key in ``Credentials.extra`` holding the refresh token's expiry (ISO 8601), if known."""


@dataclass(frozen=True)
class TokenAnswer:
    """What a token endpoint returned, read the same way for every platform."""

    access_token: str
    expires_in: int | None
    refresh_token: str | None
    refresh_expires_in: int | None
    body: Mapping[str, Any] = field(default_factory=dict, repr=False)


def stored_moment(value: str | None) -> datetime | None:
    """A stored ISO timestamp; an unreadable one is treated as unknown, not as expired."""
    try:
        moment = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


def require_refresh(
    credentials: Credentials,
    *,
    platform: str,
    now: datetime,
    needs_secret: bool = False,
    missing: str = "no refresh token is stored",
) -> None:
    """Refuse, before any request, a refresh that cannot succeed: ``ReauthorizationRequired``.

    ``missing`` says why this platform's account has no refresh token (e.g. Weibo gives web
    apps none), for the message staff see.
    """
    if not credentials.refresh_token:
        raise ReauthorizationRequired(
            f"{missing}; connect the account again", platform=platform, code="no_refresh_token"
        )
    if not credentials.client_id or (needs_secret and not credentials.client_secret):
        needed = "client id and secret" if needs_secret else "client id"
        raise ReauthorizationRequired(
            f"the app's {needed} are not stored with the account, so its token cannot be "
            "refreshed; connect the account again",
            platform=platform,
            code="no_client",
        )
    expiry = stored_moment(credentials.extra.get(REFRESH_EXPIRES_AT))
    if expiry is not None and expiry <= now:
        raise ReauthorizationRequired(
            f"the refresh token expired at {expiry.isoformat()}; connect the account again",
            platform=platform,
            code="refresh_token_expired",
        )


def refresh_classifier(classify: Classifier, *, platform: str) -> Classifier:
    """``classify`` (the platform's own reading of its errors) narrowed to the refresh rules."""

    def narrowed(response: httpx.Response) -> ConnectorError | None:
        problem = classify(response)
        status = response.status_code
        if isinstance(problem, RateLimited | ReauthorizationRequired):
            return problem
        if status >= 500 or isinstance(problem, TransientError):
            reason = problem.message if problem is not None else f"HTTP {status}"
            code = problem.code if problem is not None else str(status)
            return TransientError(
                f"the token endpoint failed: {reason}", platform=platform, code=code
            )
        if problem is not None:
            return ReauthorizationRequired(
                f"the refresh was refused ({problem.message}); connect the account again",
                platform=platform,
                code=problem.code,
            )
        if 400 <= status < 500 and status != 429:
            return ReauthorizationRequired(
                f"the refresh was refused (HTTP {status}); connect the account again",
                platform=platform,
                code=str(status),
            )
        return None

    return narrowed


def _top_level(body: Any) -> Mapping[str, Any]:
    return body if isinstance(body, dict) else {}


def refresh_grant(
    http: httpx.Client,
    path: str,
    *,
    platform: str,
    form: Mapping[str, str],
    classify: Classifier,
    headers: Mapping[str, str] | None = None,
    unwrap: Callable[[Any], Mapping[str, Any]] = _top_level,
) -> TokenAnswer:
    """POST the refresh grant ``form`` to ``path`` and read the answer, failures mapped once."""
    response = send(
        http,
        "POST",
        path,
        platform=platform,
        classify=refresh_classifier(classify, platform=platform),
        data=dict(form),
        headers=dict(headers or {}),
    )
    body = unwrap(json_body(response))
    access = body.get("access_token")
    if not isinstance(access, str) or not access:
        raise TransientError(
            "the token endpoint answered without an access token", platform=platform
        )
    refresh = body.get("refresh_token")
    return TokenAnswer(
        access_token=access,
        expires_in=parse_int(body.get("expires_in")),
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        refresh_expires_in=parse_int(body.get("refresh_expires_in")),
        body=body,
    )


def renewed(
    current: Credentials,
    answer: TokenAnswer,
    *,
    now: datetime,
    user_id: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> Credentials:
    """``current`` with the new access token, its expiry and the rotated refresh token (the
    old one is kept where the platform does not rotate it), and the refresh token's expiry."""
    kept = dict(current.extra if extra is None else extra)
    if answer.refresh_expires_in is not None:
        refresh_expiry = now + timedelta(seconds=answer.refresh_expires_in)
        kept[REFRESH_EXPIRES_AT] = refresh_expiry.isoformat()
    return replace(
        current,
        access_token=answer.access_token,
        refresh_token=answer.refresh_token or current.refresh_token,
        expires_at=(
            now + timedelta(seconds=answer.expires_in) if answer.expires_in is not None else None
        ),
        user_id=user_id or current.user_id,
        extra=kept,
    )
