"""Keep idle accounts authorised between campaigns.

X and TikTok rotate refresh tokens, and an unused one lapses (TikTok: 180 days). Publishing
and collection refresh a token only when a call finds it expired, so an account used once a
year for its campaign week would have to be authorised again every year. This refreshes the
token of every account nobody has used for a while, through the same once-per-account path
as publishing.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from campaigns.accounts import connector_class, open_connector, read_credentials
from campaigns.models import Account
from connectors.errors import ConnectorError
from publicist.core.clock import Clock
from publicist.core.database import session_scope
from publicist.core.errors import PublicistError
from publicist.core.settings import Settings
from scheduler.refreshing import refresh_once

log = logging.getLogger("publicist.scheduler")


def run_keep_tokens_alive(*, settings: Settings, clock: Clock) -> int:
    """Refresh the tokens idle longer than the setting; returns how many were refreshed."""
    if settings.token_keepalive_days <= 0:
        return 0
    now = clock.now()
    idle_since = now - timedelta(days=settings.token_keepalive_days)
    secret = settings.encryption_key()
    with session_scope() as session:
        idle = list(
            session.scalars(
                select(Account)
                .where(Account.token_expires_at.is_not(None), Account.token_expires_at < idle_since)
                .order_by(Account.id)
            )
        )
    refreshed = 0
    for account in idle:
        # One account's trouble (revoked, unreadable, connector gone) never stops the others.
        try:
            if _keep_alive(account, clock=clock, secret=secret):
                refreshed += 1
        except (ConnectorError, PublicistError) as error:
            log.warning("the token of %s could not be refreshed: %s", account.label, error)
    return refreshed


def _keep_alive(account: Account, *, clock: Clock, secret: str) -> bool:
    if not connector_class(account.platform).capabilities.supports_refresh:
        return False
    if not read_credentials(account, secret=secret).refresh_token:
        return False
    with open_connector(account, secret=secret, clock=clock) as connector:
        refresh_once(account.id, connector, secret=secret)
    log.info("refreshed the idle token of %s", account.label)
    return True
