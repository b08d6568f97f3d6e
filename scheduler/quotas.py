"""Rate-limit keys and quotas: which limiter buckets a publish or a metrics read draws on."""

from __future__ import annotations

import hashlib

from campaigns.accounts import connector_class, read_credentials
from campaigns.models import Account
from connectors.base import RateLimitPolicy
from scheduler.ratelimit import Limit


def rate_limit_policy(account: Account) -> RateLimitPolicy | None:
    """The account's own quota if set, else the platform's documented one."""
    if account.rate_limit_requests and account.rate_limit_per_seconds:
        return RateLimitPolicy(account.rate_limit_requests, account.rate_limit_per_seconds)
    return connector_class(account.platform).capabilities.publish_rate_limit


def publish_key(account: Account) -> str:
    """The account's publishing bucket."""
    return f"account:{account.id}"


def metrics_key(account: Account) -> str:
    """The account's metrics bucket."""
    # Reads get their own bucket under the account's quota: collection never takes a
    # publishing slot, so a metrics backlog cannot delay a post.
    return f"account:{account.id}:metrics"


def app_limits(
    account: Account, quota: RateLimitPolicy | None, *, kind: str, secret: str
) -> tuple[Limit, ...]:
    """The platform app's quota, shared by every account authorised through the same app.

    The app is the credentials' ``client_id`` (public in OAuth, hashed into the key all the
    same); an account without one, or a platform without an app cap, has none.
    """
    if quota is None:
        return ()
    app = _app_of(account, secret=secret)
    return ((f"app:{account.platform}:{app}:{kind}", quota),) if app else ()


_apps: dict[int, tuple[bytes, str | None]] = {}


def _app_of(account: Account, *, secret: str) -> str | None:
    # Decrypted once per version of the account's credentials, not on every attempt.
    known = _apps.get(account.id)
    if known is not None and known[0] == account.credentials_encrypted:
        return known[1]
    client_id = read_credentials(account, secret=secret).client_id
    app = hashlib.sha256(client_id.encode()).hexdigest()[:16] if client_id else None
    _apps[account.id] = (account.credentials_encrypted, app)
    return app
