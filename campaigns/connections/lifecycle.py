"""Disabling and removing accounts (soft: history stays in reports), and marking an account
"needs reconnect" when a refresh fails for good."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.accounts import get_account, store_credentials
from campaigns.actors import OPERATOR, Actor
from campaigns.audit.log import account_fields, delivery_fields, record, record_delivery
from campaigns.connections.queries import CANCELLABLE, FutureDelivery, future_deliveries
from campaigns.models import Account, Delivery
from campaigns.people.roles import Role
from campaigns.services import set_delivery_state
from campaigns.states import AccountStatus, DeliveryState
from connectors.base import Credentials
from publicist.core.errors import Conflict


def disable_account(
    session: Session, *, account_id: int, now: datetime, actor: Actor = OPERATOR
) -> list[FutureDelivery]:
    """Stop publishing to the account: its deliveries not started are cancelled (returned,
    as listed to the person beforehand). Reconnecting makes it active again."""
    return _retire(session, account_id, AccountStatus.DISABLED, now=now, actor=actor)


def remove_account(
    session: Session, *, account_id: int, secret: str, now: datetime, actor: Actor = OPERATOR
) -> list[FutureDelivery]:
    """Soft removal: the account leaves every list and choice and its future deliveries are
    cancelled, but the row stays, so its published deliveries and metrics stay in reports.
    Its credentials are wiped (nothing may publish with them again)."""
    removed = _retire(session, account_id, AccountStatus.REMOVED, now=now, actor=actor)
    account = get_account(session, account_id)
    store_credentials(account, Credentials(), secret=secret)
    session.flush()
    return removed


def _retire(
    session: Session, account_id: int, status: AccountStatus, *, now: datetime, actor: Actor
) -> list[FutureDelivery]:
    verb = "disabling" if status is AccountStatus.DISABLED else "removing"
    actor.require(Role.ADMIN, f"{verb} an account")
    account = session.get(Account, get_account(session, account_id).id, with_for_update=True)
    if account is None or account.status is AccountStatus.REMOVED:
        raise Conflict(f"account {account_id} was removed already")
    if account.status is status:
        raise Conflict(f"account {account.label} is {status.value} already")
    cancelled = future_deliveries(session, account_id=account.id)
    deliveries = session.scalars(
        select(Delivery)
        .where(
            Delivery.id.in_([c.delivery_id for c in cancelled]),
            Delivery.state.in_(CANCELLABLE),
        )
        .with_for_update()
    )
    for delivery in deliveries:
        old = delivery_fields(delivery)
        # A queued delivery's task then finds nothing to start (its compare-and-set fails).
        set_delivery_state(delivery, DeliveryState.CANCELLED, now=now)
        record_delivery(session, delivery, "delivery.cancel", old, actor=actor, now=now)
    before = account_fields(account)
    account.status = status
    account.status_reason = f"{status.value} by {actor.label}"
    account.status_changed_at = now
    session.flush()
    record(
        session,
        actor=actor,
        action=f"account.{'disable' if status is AccountStatus.DISABLED else 'remove'}",
        kind="account",
        object_id=account.id,
        before=before,
        after=account_fields(account),
        now=now,
    )
    return cancelled


def mark_needs_reconnect(session: Session, *, account_id: int, reason: str, now: datetime) -> bool:
    """Record that the account's refresh failed for good; ``reason`` is the platform's
    refusal (never a token). Returns whether the status changed (so an event is told once)."""
    account = session.get(Account, account_id, with_for_update=True)
    if account is None or account.status is not AccountStatus.ACTIVE:
        return False
    account.status = AccountStatus.NEEDS_RECONNECT
    account.status_reason = reason[:500]
    account.status_changed_at = now
    session.flush()
    return True
