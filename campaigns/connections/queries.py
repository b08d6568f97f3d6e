"""Reads about accounts' connections: the accounts page's list, tokens about to lapse, and
an account's deliveries that disabling or removing it would cancel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.connections.health import TokenHealth, refreshable, token_health
from campaigns.models import Account, Delivery, Post
from campaigns.states import AccountStatus, DeliveryState

WARN_DAYS = 7
"""How many days ahead staff are warned that a non-refreshable token lapses."""

CANCELLABLE = (DeliveryState.SCHEDULED, DeliveryState.QUEUED)
"""Deliveries not started: disabling or removing their account cancels them."""


@dataclass(frozen=True)
class AccountRow:
    id: int
    platform: str
    handle: str
    label: str
    status: AccountStatus
    health: TokenHealth
    future_deliveries: int


@dataclass(frozen=True)
class FutureDelivery:
    delivery_id: int
    post_id: int
    excerpt: str
    due_at: datetime


def account_rows(session: Session, *, now: datetime) -> list[AccountRow]:
    """Every account not removed, with its token health and how many deliveries it awaits."""
    accounts = session.scalars(
        select(Account)
        .where(Account.status != AccountStatus.REMOVED)
        .order_by(Account.platform, Account.handle)
    )
    rows = []
    for account in accounts:
        waiting = len(future_deliveries(session, account_id=account.id))
        rows.append(
            AccountRow(
                id=account.id,
                platform=account.platform,
                handle=account.handle,
                label=account.label,
                status=account.status,
                health=token_health(account, now=now),
                future_deliveries=waiting,
            )
        )
    return rows


def future_deliveries(session: Session, *, account_id: int) -> list[FutureDelivery]:
    """The account's deliveries not started yet, soonest first."""
    rows = session.execute(
        select(Delivery.id, Delivery.post_id, Delivery.due_at, Post.text)
        .join(Post, Post.id == Delivery.post_id)
        .where(Delivery.account_id == account_id, Delivery.state.in_(CANCELLABLE))
        .order_by(Delivery.due_at, Delivery.id)
    )
    return [
        FutureDelivery(delivery_id=d_id, post_id=p_id, excerpt=_excerpt(text), due_at=due)
        for d_id, p_id, due, text in rows
    ]


def lapsing_tokens(
    session: Session, *, now: datetime, within_days: int = WARN_DAYS
) -> Sequence[Account]:
    """Active accounts whose token cannot be refreshed and lapses within ``within_days`` (or
    has lapsed): the warning for the accounts page, the dashboard and notifications."""
    horizon = now + timedelta(days=within_days)
    candidates = session.scalars(
        select(Account)
        .where(
            Account.status == AccountStatus.ACTIVE,
            Account.token_expires_at.is_not(None),
            Account.token_expires_at <= horizon,
        )
        .order_by(Account.token_expires_at, Account.id)
    )
    return [a for a in candidates if not refreshable(a.platform)]


def _excerpt(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
