"""Token health: whether an account can publish now and at a post's time, in one place.

A refreshable token (X, TikTok, Douyin, WeChat) renews itself; a non-refreshable one (a
Weibo web app's) simply lapses at its expiry, and only a person reconnecting the account
renews it. A refresh that failed for good leaves the account "needs reconnect".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from campaigns.accounts import connector_class
from campaigns.connections.errors import AccountUnusable
from campaigns.models import Account
from campaigns.states import AccountStatus
from publicist.core.errors import PublicistError


class Health(StrEnum):
    REFRESHES = "refreshes"
    """The platform renews the token; nothing to do."""
    EXPIRES = "expires"
    """The token lapses at ``expires_at``; reconnect before then."""
    EXPIRED = "expired"
    """A non-refreshable token that has lapsed."""
    NEEDS_RECONNECT = "needs_reconnect"
    DISABLED = "disabled"
    REMOVED = "removed"


@dataclass(frozen=True)
class TokenHealth:
    health: Health
    expires_at: datetime | None
    reason: str | None = None

    @property
    def usable(self) -> bool:
        return self.health in (Health.REFRESHES, Health.EXPIRES)


def refreshable(platform: str) -> bool:
    """Whether the platform renews tokens without a person; a platform whose connector is not
    installed counts as not (nothing could refresh it)."""
    try:
        return connector_class(platform).capabilities.supports_refresh
    except PublicistError:
        return False


def token_health(account: Account, *, now: datetime) -> TokenHealth:
    expires = account.token_expires_at
    if account.status is AccountStatus.REMOVED:
        return TokenHealth(Health.REMOVED, expires)
    if account.status is AccountStatus.DISABLED:
        return TokenHealth(Health.DISABLED, expires)
    if account.status is AccountStatus.NEEDS_RECONNECT:
        return TokenHealth(Health.NEEDS_RECONNECT, expires, account.status_reason)
    if refreshable(account.platform) or expires is None:
        return TokenHealth(Health.REFRESHES, expires)
    return TokenHealth(Health.EXPIRED if expires <= now else Health.EXPIRES, expires)


def require_usable(account: Account, *, at: datetime, now: datetime) -> None:
    """Refuse scheduling to ``account`` for ``at`` unless it can publish then."""
    health = token_health(account, now=now)
    if health.health is Health.REFRESHES:
        return
    if health.health in (Health.EXPIRES, Health.EXPIRED):
        if health.expires_at is not None and health.expires_at <= at:
            raise AccountUnusable(account=account.label, reason="expires", until=health.expires_at)
        return
    if health.health is Health.NEEDS_RECONNECT:
        raise AccountUnusable(
            account=account.label, reason="needs_reconnect", until=account.status_changed_at
        )
    raise AccountUnusable(account=account.label, reason=health.health.value)
