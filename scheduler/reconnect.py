"""Telling staff an account needs reconnecting when its token refresh fails for good."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from campaigns.events.services import account_needs_reconnect
from connectors.errors import ReauthorizationRequired
from publicist.core.clock import Clock, system_clock
from publicist.core.database import session_scope


@contextmanager
def reconnect_alert(account_id: int, *, clock: Clock = system_clock) -> Iterator[None]:
    """Record ``account reconnect`` when the block raises :class:`ReauthorizationRequired`,
    then let the error go on.

    The refresh's own transaction is rolled back by that error, so the event is written in
    a transaction of its own (a row insert; nothing is sent from here).
    """
    try:
        yield
    except ReauthorizationRequired as error:
        with session_scope() as session:
            account_needs_reconnect(
                session, account_id=account_id, reason=str(error), now=clock.now()
            )
        raise
