"""Marking an account "needs reconnect" and telling staff, when its token refresh fails for good."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from campaigns.connections.lifecycle import mark_needs_reconnect
from campaigns.events.services import account_needs_reconnect
from connectors.errors import ReauthorizationRequired
from publicist.core.clock import Clock, system_clock
from publicist.core.database import session_scope


@contextmanager
def reconnect_alert(account_id: int, *, clock: Clock = system_clock) -> Iterator[None]:
    """When the block raises :class:`ReauthorizationRequired`, mark the account "needs
    reconnect" and record the ``account reconnect`` event once (when the status changed),
    then let the error go on.

    The refresh's own transaction is rolled back by that error, so both are written in a
    transaction of their own (row writes; nothing is sent from here).
    """
    try:
        yield
    except ReauthorizationRequired as error:
        now = clock.now()
        with session_scope() as session:
            if mark_needs_reconnect(session, account_id=account_id, reason=error.message, now=now):
                # The message names the platform: it reaches people away from the account.
                account_needs_reconnect(session, account_id=account_id, reason=str(error), now=now)
        raise
