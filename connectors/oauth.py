"""The OAuth 2.0 kit every connector shares: the authorise address, PKCE, the code exchange
and the refresh grant, each with one mapping of its failures.

For the code exchange: a rate limit stays :class:`RateLimited`, a 5xx or network failure is
:class:`TransientError`, and any other refusal (wrong, expired or spent code, wrong redirect
address or verifier) is :class:`AuthorizationRefused`. For the refresh grant, whatever the
platform, the same failure means the same thing:

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

import base64
import hashlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Protocol, runtime_checkable
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx

from connectors.base import Credentials
from connectors.errors import (
    AuthorizationRefused,
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
    return _token_answer(unwrap(json_body(response)), platform=platform, missing=TransientError)


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


# -- authorisation: the authorise URL, PKCE and the code exchange ---------------------------


@dataclass(frozen=True)
class AuthorizationFlow:
    """One platform's authorisation-code flow, as class data of its connector.

    ``authorize_url`` is the consent page on the platform's real site; the caller may swap
    its scheme and host for a simulator's (see :func:`authorize_address`).
    """

    authorize_url: str
    token_path: str
    scopes: tuple[str, ...]
    scope_separator: str = " "
    client_param: str = "client_id"
    pkce: bool = False
    """Whether the platform takes (X: requires) a PKCE S256 challenge."""
    refreshable: bool = True
    """Whether a web app gets a refresh token (Weibo: no, the token simply lapses)."""


@dataclass(frozen=True)
class PkcePair:
    """RFC 7636: the verifier stays with us; only its S256 challenge goes to the platform."""

    verifier: str = field(repr=False)
    challenge: str


@dataclass(frozen=True)
class Authorized:
    """What a completed authorisation gives: credentials to store and the account's handle."""

    credentials: Credentials
    handle: str


def pkce_pair() -> PkcePair:
    """A fresh verifier (43 URL-safe characters, 256 random bits) and its S256 challenge."""
    verifier = secrets.token_urlsafe(32)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return PkcePair(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii"))


def authorize_address(
    flow: AuthorizationFlow,
    *,
    client_id: str,
    redirect_uri: str,
    state: str,
    challenge: str | None = None,
    auth_base: str | None = None,
) -> str:
    """The consent page's address with every parameter the flow needs.

    ``auth_base`` (``scheme://host[:port]``) replaces the real site's, so a simulator can
    stand in; the path stays the platform's.
    """
    url = flow.authorize_url
    if auth_base:
        parts = urlsplit(flow.authorize_url)
        base = urlsplit(auth_base)
        url = urlunsplit((base.scheme, base.netloc, base.path.rstrip("/") + parts.path, "", ""))
    params: dict[str, str] = {
        flow.client_param: client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": flow.scope_separator.join(flow.scopes),
        "state": state,
    }
    if flow.pkce:
        if not challenge:
            raise ValueError("this flow needs a PKCE challenge")
        params["code_challenge"] = challenge
        params["code_challenge_method"] = "S256"
    return f"{url}?{urlencode(params)}"


def exchange_classifier(classify: Classifier, *, platform: str) -> Classifier:
    """``classify`` narrowed to the code exchange: rate limits and 5xx stay temporary; any
    other refusal means the code is no good (:class:`AuthorizationRefused`)."""

    def narrowed(response: httpx.Response) -> ConnectorError | None:
        problem = classify(response)
        status = response.status_code
        if isinstance(problem, RateLimited):
            return problem
        if status >= 500 or isinstance(problem, TransientError):
            code = problem.code if problem is not None else str(status)
            return TransientError(
                f"the token endpoint failed (HTTP {status})", platform=platform, code=code
            )
        if problem is not None or 400 <= status < 500:
            code = problem.code if problem is not None else str(status)
            return AuthorizationRefused(
                f"the platform refused the authorisation code ({code})",
                platform=platform,
                code=code,
            )
        return None

    return narrowed


def code_grant(
    http: httpx.Client,
    flow: AuthorizationFlow,
    *,
    platform: str,
    form: Mapping[str, str],
    classify: Classifier,
    headers: Mapping[str, str] | None = None,
    unwrap: Callable[[Any], Mapping[str, Any]] = _top_level,
) -> TokenAnswer:
    """POST the authorisation-code grant ``form`` to the flow's token path, failures mapped
    once (:func:`exchange_classifier`); the answer read as for a refresh."""
    response = send(
        http,
        "POST",
        flow.token_path,
        platform=platform,
        classify=exchange_classifier(classify, platform=platform),
        data=dict(form),
        headers=dict(headers or {}),
    )
    # A 2xx without a token is the platform's envelope carrying a refusal (Douyin, Weibo).
    return _token_answer(
        unwrap(json_body(response)), platform=platform, missing=AuthorizationRefused
    )


def _token_answer(
    body: Mapping[str, Any], *, platform: str, missing: type[ConnectorError]
) -> TokenAnswer:
    """A token endpoint's answer read once for refresh and code exchange alike; ``missing``
    is the error when it carries no access token."""
    access = body.get("access_token")
    if not isinstance(access, str) or not access:
        raise missing("the token endpoint answered without an access token", platform=platform)
    refresh = body.get("refresh_token")
    return TokenAnswer(
        access_token=access,
        expires_in=parse_int(body.get("expires_in")),
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        refresh_expires_in=parse_int(body.get("refresh_expires_in")),
        body=body,
    )


def first_credentials(
    answer: TokenAnswer,
    *,
    client_id: str,
    client_secret: str | None,
    now: datetime,
    user_id: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> Credentials:
    """The credentials a fresh authorisation gives, with the app's id and secret kept for
    refreshing."""
    base = Credentials(client_id=client_id, client_secret=client_secret, extra=dict(extra or {}))
    return renewed(base, answer, now=now, user_id=user_id)


@runtime_checkable
class AuthorizingConnector(Protocol):
    """A connector whose accounts connect by the authorisation-code flow in ``authorization``.

    Built with credentials carrying only the app's client id and secret; ``clock`` and
    ``http`` as for publishing (the token endpoint lives on the API host).
    """

    authorization: ClassVar[AuthorizationFlow]

    def complete_authorization(
        self, *, code: str, redirect_uri: str, verifier: str | None
    ) -> Authorized:
        """Exchange ``code`` server-side and name the account it authorised."""
        ...


def authorization_flow(connector: type[object]) -> AuthorizationFlow | None:
    """The connector's flow, or ``None`` for a platform connected otherwise (WeChat)."""
    flow = getattr(connector, "authorization", None)
    return flow if isinstance(flow, AuthorizationFlow) else None
