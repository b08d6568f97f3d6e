"""Why a delivery needs a person, as a kind the interfaces put into plain words.

The connectors raise typed errors (connectors/errors.py); the scheduler stores the class of
the last one on the delivery (``last_error_kind``) beside the platform's own message and
code, so the inbox can explain it without parsing the platform's words.
"""

from __future__ import annotations

from enum import StrEnum

from connectors.errors import (
    AuthExpired,
    ConnectorError,
    ContentRejected,
    DuplicateContent,
    OutcomeUnknown,
    RateLimited,
    ReauthorizationRequired,
    RemoteNotFound,
    TransientError,
    ValidationFailed,
)


class ErrorKind(StrEnum):
    """The class of a stored error; also what the inbox shows for states without one."""

    RATE_LIMITED = "rate_limited"
    AUTH_EXPIRED = "auth_expired"
    REAUTHORIZE = "reauthorize"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    INVALID = "invalid"
    TRANSIENT = "transient"
    NOT_FOUND = "not_found"
    OUTCOME_UNKNOWN = "outcome_unknown"
    OTHER = "other"
    # Not errors of a platform: states the inbox explains the same way.
    GAVE_UP = "gave_up"
    MISSED = "missed"
    STUCK = "stuck"
    EXPIRED = "expired"


def error_kind(error: ConnectorError) -> ErrorKind:
    """The kind of a connector error, most specific class first."""
    order: tuple[tuple[type[ConnectorError], ErrorKind], ...] = (
        (ReauthorizationRequired, ErrorKind.REAUTHORIZE),
        (AuthExpired, ErrorKind.AUTH_EXPIRED),
        (RateLimited, ErrorKind.RATE_LIMITED),
        (DuplicateContent, ErrorKind.DUPLICATE),
        (ContentRejected, ErrorKind.REJECTED),
        (ValidationFailed, ErrorKind.INVALID),
        (OutcomeUnknown, ErrorKind.OUTCOME_UNKNOWN),
        (TransientError, ErrorKind.TRANSIENT),
        (RemoteNotFound, ErrorKind.NOT_FOUND),
    )
    for cls, kind in order:
        if isinstance(error, cls):
            return kind
    return ErrorKind.OTHER


PLAIN: dict[ErrorKind, str] = {
    ErrorKind.RATE_LIMITED: "The platform limits how often this account may post; "
    "it will be tried again when the platform allows.",
    ErrorKind.AUTH_EXPIRED: "The platform no longer accepted this account's sign-in.",
    ErrorKind.REAUTHORIZE: "This account must be connected again: the platform withdrew "
    "Publicist's access.",
    ErrorKind.DUPLICATE: "The platform refused the post because it repeats a recent post.",
    ErrorKind.REJECTED: "The platform refused the post's content.",
    ErrorKind.INVALID: "The post breaks one of the platform's rules (length, media).",
    ErrorKind.TRANSIENT: "The platform or the network failed; nothing was posted.",
    ErrorKind.NOT_FOUND: "The platform no longer knows this post or publish job.",
    ErrorKind.OUTCOME_UNKNOWN: "The answer was lost: the post may or may not be live. "
    "Check the account, then confirm it or publish again.",
    ErrorKind.OTHER: "The platform refused the post.",
    ErrorKind.GAVE_UP: "Every attempt failed; Publicist stopped trying.",
    ErrorKind.MISSED: "It was found too late to publish (Publicist was not running at its "
    "time) and the campaign says to skip late posts.",
    ErrorKind.STUCK: "It has waited longer than the platform normally needs.",
    ErrorKind.EXPIRED: "It was still waiting for approval at its time, so it was not published.",
}
"""Each kind in a short English sentence (the CLI and API); the workspace translates its own."""
