"""Token refresh, once per account however many workers find the token expired."""

from __future__ import annotations

import threading
from collections import defaultdict

from campaigns.accounts import read_credentials, store_credentials
from campaigns.models import Account
from connectors.base import Connector
from publicist.core.clock import Clock, system_clock
from publicist.core.database import session_scope
from scheduler.reconnect import reconnect_alert

_refresh_locks: defaultdict[int, threading.Lock] = defaultdict(threading.Lock)


def refresh_once(
    account_id: int, connector: Connector, *, secret: str, clock: Clock = system_clock
) -> None:
    """Refresh the account's token unless another worker already has.

    Refresh tokens rotate (TikTok, X): the second of two concurrent refreshes would present
    a spent token and lose the account. The account row is locked (a thread lock as well,
    for SQLite) and the stored token compared with the one that expired; if it changed,
    the newer stored credentials are used instead. A failure propagates as a typed error; one
    that no retry can cure (``ReauthorizationRequired``) first marks the account "needs
    reconnect" and tells staff (``scheduler.reconnect``).
    """
    expired = connector.credentials
    with (
        reconnect_alert(account_id, clock=clock),
        _refresh_locks[account_id],
        session_scope() as session,
    ):
        account = session.get_one(Account, account_id, with_for_update=True)
        stored = read_credentials(account, secret=secret)
        if stored.access_token != expired.access_token:
            fresh = stored
        else:
            fresh = connector.refresh_credentials()
            store_credentials(account, fresh, secret=secret)
    connector.credentials = fresh
