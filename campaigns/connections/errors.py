"""Why a connection could not be made, as a key the workspace and the CLI put in words."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from publicist.core.errors import Conflict, PublicistError


class ConnectionProblem(StrEnum):
    DENIED = "denied"
    """The person pressed Deny (or the platform answered ``error=...``)."""
    STATE_UNKNOWN = "state_unknown"
    """No connection was started with this state (forged, another person's, or mistyped)."""
    STATE_EXPIRED = "state_expired"
    STATE_USED = "state_used"
    NO_CODE = "no_code"
    CODE_REFUSED = "code_refused"
    """The token endpoint refused the code: wrong, expired or already used."""
    TOKEN_ENDPOINT = "token_endpoint"  # noqa: S105 - a reason key, not a secret
    """The token endpoint failed (5xx, network, rate limit): try again later."""
    APP_REFUSED = "app_refused"
    """WeChat refused the app id and secret, or the server's address is not allow-listed."""
    OTHER_ACCOUNT = "other_account"
    """Reconnecting authorised a different account than the one being reconnected."""


class ConnectionFailed(PublicistError):
    """A connection was not made, and nothing was written. ``detail`` is the platform's own
    reason where there is one (never a token or secret)."""

    def __init__(self, problem: ConnectionProblem, detail: str = "") -> None:
        self.problem = problem
        self.detail = detail
        text = problem.value.replace("_", " ")
        super().__init__(f"the account was not connected: {text}{f' ({detail})' if detail else ''}")


class AccountUnusable(Conflict):
    """Scheduling to an account that cannot publish at the post's time."""

    def __init__(self, *, account: str, reason: str, until: datetime | None = None) -> None:
        self.account = account
        self.reason = reason
        self.until = until
        super().__init__(_describe(account, reason, until))


def _describe(account: str, reason: str, until: datetime | None) -> str:
    moment = until.strftime("%Y-%m-%d %H:%M UTC") if until else ""
    if reason == "expires":
        return (
            f"account {account}: its token expires on {moment}, before the post's time, and "
            "cannot be refreshed; reconnect the account first"
        )
    if reason == "needs_reconnect":
        since = f" since {moment}" if moment else ""
        return f"account {account} needs reconnecting{since}; reconnect it before scheduling"
    return f"account {account} is {reason}; it cannot be scheduled to"
