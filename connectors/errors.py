"""Typed connector errors: the only failures a connector may raise.

The scheduler decides what to do with each class, once, centrally:
``TransientError`` and ``OutcomeUnknown`` retry (the latter only after reconciliation),
``RateLimited`` waits until ``retry_at``, ``AuthExpired`` refreshes then retries, except
its ``ReauthorizationRequired`` (needs reconnect), which fails like
``ContentRejected``/``DuplicateContent``/``ValidationFailed``, without retry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from publicist.core.errors import PublicistError


@dataclass(frozen=True)
class Violation:
    """One broken content rule: which field, what was given, which rule."""

    field: str
    value: str
    rule: str

    def __str__(self) -> str:
        return f"{self.field}: {self.value} {self.rule}"


class ConnectorError(PublicistError):
    """Base of every connector failure; ``code`` is the platform's own error code if any."""

    retryable = False

    def __init__(self, message: str, *, platform: str = "", code: str | None = None) -> None:
        self.platform = platform
        self.code = code
        self.message = message
        super().__init__(f"{platform}: {message}" if platform else message)


class TransientError(ConnectorError):
    """The platform or network failed before anything was created; safe to try again."""

    retryable = True


class OutcomeUnknown(TransientError):
    """The request may have reached the platform (response lost): reconcile before retrying."""


class RateLimited(ConnectorError):
    """The platform throttled us; ``retry_at`` is its reset time when it said one."""

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        platform: str = "",
        code: str | None = None,
        retry_at: datetime | None = None,
    ) -> None:
        super().__init__(message, platform=platform, code=code)
        self.retry_at = retry_at


class AuthExpired(ConnectorError):
    """The access token is expired or invalid; refresh the credentials, then retry."""

    retryable = True


class ReauthorizationRequired(AuthExpired):
    """The account needs reconnecting: no refresh token, or the refresh token is revoked or
    expired, or the grant lacks a scope. An ``AuthExpired`` that no refresh cures, so it is
    not retried; a person must authorise the account again."""

    retryable = False


class AuthorizationRefused(ConnectorError):
    """The token endpoint refused an authorisation code (wrong, expired or already used, or
    issued for another redirect address or PKCE verifier); the person must start again."""


class ContentRejected(ConnectorError):
    """The platform refused the content; ``message`` carries its reason."""


class DuplicateContent(ContentRejected):
    """The platform refused the content as a duplicate of a recent post."""


class RemoteNotFound(ConnectorError):
    """The remote object (post, publish job) does not exist on the platform."""


class ValidationFailed(ConnectorError):
    """Content broke the platform's rules before any request was sent."""

    def __init__(self, violations: Sequence[Violation], *, platform: str = "") -> None:
        self.violations = tuple(violations)
        super().__init__("; ".join(str(v) for v in self.violations), platform=platform)
