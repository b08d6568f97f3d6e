"""The publishing path as services: claim due work, begin an attempt, record its outcome.

Every state change is a compare-and-set on the delivery row, so a duplicated or stale task
finds nothing to do. The attempt is written and committed before the platform is called.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    Integer,
    Table,
    bindparam,
    func,
    insert,
    literal_column,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.orm import Session, joinedload

from campaigns.content import content_for
from campaigns.events.services import record_delivery_event, record_rate_limit
from campaigns.models import NEVER_TRIED, Account, Campaign, Delivery, DeliveryAttempt, Post
from campaigns.reasons import ErrorKind, error_kind
from campaigns.retry import Decision
from campaigns.services import set_delivery_state
from campaigns.states import DeliveryState, LatePolicy, PostState, check_delivery_transition
from connectors.base import Content, PublishResult, PublishState, RemotePost
from connectors.errors import ConnectorError
from publicist.core.database import UTCDateTime
from publicist.core.sql_rows import execute_rows
from publicist.core.sql_time import MillisecondsLate

_deliveries = cast(Table, Delivery.__table__)
_attempts = cast(Table, DeliveryAttempt.__table__)
_posts = cast(Table, Post.__table__)


@dataclass(frozen=True, order=True)
class Claim:
    delivery_id: int
    ticket: int
    eta: datetime
    account_id: int | None = None
    """Lets the sender put several deliveries of one account, due together, in one task."""


@dataclass(frozen=True)
class AttemptStart:
    """All a worker needs to call the platform without holding a transaction open."""

    delivery_id: int
    attempt: int
    ticket: int
    """The owner token: every write of the attempt presents it, and a take-over raises it."""
    account_id: int
    platform: str
    content: Content
    started_at: datetime
    lateness_ms: int | None = None
    """Recorded by the delivery's first attempt; ``None`` when not known to the caller."""


@dataclass(frozen=True)
class Started:
    """:func:`begin_attempt` admitted the attempt and wrote it: call the platform."""

    start: AttemptStart
    account: Account
    """The account the attempt's own query loaded (sessions do not expire on commit, so it
    stays readable): asking for it again would cost a query on the hot path."""


@dataclass(frozen=True)
class Deferred:
    """:func:`begin_attempt` gave the delivery back to the schedule: its account's next
    rate-limit slot, reserved for it, is at ``at``. No attempt was made."""

    at: datetime
    platform: str


def claim_due(
    session: Session, *, now: datetime, lookahead: timedelta, limit: int = 2000
) -> list[Claim]:
    """Mark due deliveries ``queued`` and return them; concurrent claimers never overlap.

    PostgreSQL: ``FOR UPDATE SKIP LOCKED``. SQLite: the session begins ``IMMEDIATE``, so a
    second claimer waits for the first to commit and then sees the rows already queued.
    Only deliveries of a ``scheduled`` post are claimed: a staff action changing the post
    holds its deliveries' locks (skipped here) and moves them on before it commits.
    """
    due = (
        select(_deliveries.c.id)
        .join(_posts, _posts.c.id == _deliveries.c.post_id)
        .where(
            _deliveries.c.state == DeliveryState.SCHEDULED,
            _deliveries.c.next_attempt_at <= now + lookahead,
            _posts.c.state == PostState.SCHEDULED,
        )
        .order_by(_deliveries.c.next_attempt_at)
        .limit(limit)
        # Lock the deliveries only: the post is read, and a post being changed by staff has
        # its deliveries locked by that action, so they are skipped until it commits.
        .with_for_update(skip_locked=True, of=_deliveries)
    )
    # The ids first, then one statement for the whole batch: a launch of thousands of
    # deliveries is claimed in two round trips instead of one UPDATE each
    # (benchmarks/timeliness.py). A subquery inside the UPDATE would leave the planner to
    # guess how many rows it brings (up to the limit), and at 100,000 deliveries it chose to
    # scan every scheduled delivery to join them (tests/integration/test_tick_plans.py).
    ids = list(session.scalars(due))
    if not ids:
        return []
    rows = session.execute(
        update(_deliveries)
        .where(_deliveries.c.id.in_(ids), _deliveries.c.state == DeliveryState.SCHEDULED)
        .values(
            state=DeliveryState.QUEUED,
            ticket=_deliveries.c.ticket + 1,
            queued_at=now,
            updated_at=now,
        )
        .returning(
            _deliveries.c.id,
            _deliveries.c.ticket,
            _deliveries.c.next_attempt_at,
            _deliveries.c.account_id,
        )
    ).all()
    claims = [
        Claim(id_, ticket, max(next_attempt_at, now), account_id)
        for id_, ticket, next_attempt_at, account_id in rows
    ]
    return sorted(claims, key=lambda claim: (claim.eta, claim.delivery_id))


def resend_lost(
    session: Session, *, now: datetime, after: timedelta, limit: int = 2000
) -> list[Claim]:
    """Queued deliveries ``after`` past due whose attempt has not started: send them again.

    Their message may have been lost (a killed worker takes the ETA messages it reserved
    with it; a broker restarts empty). The same ticket goes out again, so whichever message
    arrives first publishes and the other finds nothing to do; ``queued_at`` becomes the
    time of the last sending, so a delivery that merely waits for a free worker is sent
    again at most once per ``after``. A range read of ``ix_deliveries_state_next_attempt_at``
    that touches only the late queued deliveries.
    """
    late = now - after
    lost = (
        select(_deliveries.c.id)
        .where(
            _deliveries.c.state == DeliveryState.QUEUED,
            _deliveries.c.next_attempt_at < late,
            _deliveries.c.queued_at < late,
        )
        .order_by(_deliveries.c.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(session.scalars(lost))  # the ids first, as in claim_due
    if not ids:
        return []
    rows = session.execute(
        update(_deliveries)
        .where(_deliveries.c.id.in_(ids), _deliveries.c.state == DeliveryState.QUEUED)
        .values(queued_at=now)
        .returning(_deliveries.c.id, _deliveries.c.ticket, _deliveries.c.account_id)
    ).all()
    return sorted(Claim(id_, ticket, now, account_id) for id_, ticket, account_id in rows)


def mark_missed(
    session: Session, *, now: datetime, grace: timedelta, limit: int = 2000
) -> list[int]:
    """Deliveries never tried and far past due, in campaigns whose policy is to miss them.

    First a range read of ``ix_deliveries_never_tried_due_at``, which holds only
    never-tried deliveries by due time (the late ones of campaigns that publish late are
    claimed on the same tick, so few are ever found), then their campaigns' policy.
    """
    candidates = _never_tried_before(session, late=now - grace, limit=limit)
    if not candidates:
        return []
    late = (
        select(Delivery.id)
        .join(Post, Post.id == Delivery.post_id)
        .join(Campaign, Campaign.id == Post.campaign_id)
        .where(Delivery.id.in_(candidates), Campaign.late_policy == LatePolicy.MISS)
    )
    ids = list(session.scalars(late))
    if ids:
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids), Delivery.state == DeliveryState.SCHEDULED)
            .values(
                state=DeliveryState.MISSED,
                updated_at=now,
                last_error=f"not published: found more than {grace} after its time "
                "and the campaign's late policy is 'miss'",
            )
        )
    return ids


# NEVER_TRIED is a constant of campaigns.models, not input.
_NEVER_TRIED_SQL = (
    "SELECT id FROM deliveries INDEXED BY ix_deliveries_never_tried_due_at WHERE "  # noqa: S608
    + NEVER_TRIED
    + " AND due_at < :late ORDER BY due_at LIMIT :limit"
)
_NEVER_TRIED_SQLITE = text(_NEVER_TRIED_SQL).bindparams(bindparam("late", type_=UTCDateTime()))


def _never_tried_before(session: Session, *, late: datetime, limit: int) -> list[int]:
    """Ids of never-tried deliveries due before ``late``, oldest first."""
    if session.get_bind().dialect.name == "sqlite":
        # SQLite keeps no statistics: it would take the equality on ``state`` that
        # ix_deliveries_state_next_attempt_at offers and sort every scheduled delivery.
        return list(session.scalars(_NEVER_TRIED_SQLITE, {"late": late, "limit": limit}))
    return list(
        session.scalars(
            select(_deliveries.c.id)
            .where(
                # Literal values: the planner must see the partial index's own predicate.
                _deliveries.c.state == literal_column("'scheduled'"),
                _deliveries.c.attempts == literal_column("0"),
                _deliveries.c.reserved_slot_at.is_(None),
                _deliveries.c.due_at < late,
            )
            .order_by(_deliveries.c.due_at)
            .limit(limit)
        )
    )


# The hot path of every publish runs these prebuilt Core statements: an ORM-built statement
# costs several times more CPU to construct and execute than the round trip it makes, and a
# publish worker spends its CPU here (profiled in benchmarks/timeliness.py).
_now = bindparam("b_now", type_=UTCDateTime())

_items: BindParameter[Any] = bindparam("b_items", expanding=True)
# The rows a batch may start, locked in id order (on PostgreSQL; SQLite has one writer), so
# two batches over overlapping rows cannot deadlock; with what the start overwrites, for a
# deferral to undo (SQLite's RETURNING cannot name another table of an UPDATE ... FROM).
_STARTABLE = (
    select(
        _deliveries.c.id,
        _deliveries.c.started_at,
        _deliveries.c.lateness_ms,
        _deliveries.c.reserved_slot_at,
    )
    .where(
        tuple_(_deliveries.c.id, _deliveries.c.ticket).in_(_items),
        _deliveries.c.state == DeliveryState.QUEUED,
    )
    .order_by(_deliveries.c.id)
    .with_for_update()
)
_first_start = func.coalesce(_deliveries.c.started_at, _now)
# The compare-and-set of the locked rows in one statement: each must still be ``queued``
# under the ticket its message carries. It also takes the lease, keeps the first start and
# that start's lateness, and spends the reserved slot (a retry asks the rate limiter again):
# one row version per start, where a second UPDATE would write every index of the table
# again. A delivery the rate limiter then defers is put back by ``_DEFER``.
_START = (
    update(_deliveries)
    .where(
        tuple_(_deliveries.c.id, _deliveries.c.ticket).in_(_items),
        _deliveries.c.state == DeliveryState.QUEUED,
    )
    .values(
        state=DeliveryState.PUBLISHING,
        attempts=_deliveries.c.attempts + 1,
        updated_at=_now,
        lease_until=bindparam("b_lease_until", type_=UTCDateTime()),
        started_at=_first_start,
        reserved_slot_at=None,
        lateness_ms=func.coalesce(
            _deliveries.c.lateness_ms, MillisecondsLate(_first_start, _deliveries.c.due_at)
        ),
    )
    .returning(
        _deliveries.c.id,
        _deliveries.c.ticket,
        _deliveries.c.attempts,
        _deliveries.c.account_id,
        _deliveries.c.post_id,
        _deliveries.c.lateness_ms,
    )
)
# Undoes the compare-and-set and gives the delivery back to the schedule at its slot.
_at = bindparam("b_at", type_=UTCDateTime())
_DEFER = (
    update(_deliveries)
    .where(_deliveries.c.id == bindparam("b_delivery_id"))
    .values(
        state=DeliveryState.SCHEDULED,
        attempts=_deliveries.c.attempts - 1,
        next_attempt_at=_at,
        reserved_slot_at=_at,
        lease_until=None,
        started_at=bindparam("b_was_started_at", type_=UTCDateTime()),
        lateness_ms=bindparam("b_was_lateness_ms", type_=Integer()),
        updated_at=_now,
    )
)
_OPEN_ATTEMPT = insert(_attempts).values(
    delivery_id=bindparam("b_delivery_id"),
    number=bindparam("b_number"),
    started_at=_now,
    outcome="started",
)
_POSTS = (
    select(Post)
    .where(Post.id.in_(bindparam("b_post_ids", expanding=True)))
    .options(joinedload(Post.variants))
)
_ACCOUNTS = select(Account).where(Account.id.in_(bindparam("b_account_ids", expanding=True)))

Admit = Callable[[Account, datetime | None], datetime | None]
"""Called by :func:`begin_attempt` with the account and the delivery's reserved rate-limit
slot, inside the transaction: returns ``None`` to go ahead, or the time of the account's
next slot (reserved for this delivery) to defer the delivery to."""


def begin_attempt(
    session: Session,
    *,
    delivery_id: int,
    ticket: int,
    now: datetime,
    lease: timedelta,
    admit: Admit | None = None,
) -> Started | Deferred | None:
    """``queued`` → ``publishing`` for the holder of ``ticket``; ``None`` if it is not us.

    :func:`begin_attempts` for one delivery.
    """
    begun = begin_attempts(
        session, items=[(delivery_id, ticket)], now=now, lease=lease, admit=admit
    )
    return begun.get(delivery_id)


def begin_attempts(
    session: Session,
    *,
    items: Sequence[tuple[int, int]],
    now: datetime,
    lease: timedelta,
    admit: Admit | None = None,
) -> dict[int, Started | Deferred]:
    """``queued`` → ``publishing`` for each (delivery id, ticket) whose ticket still holds.

    The hot path of every publish, for a batch (several deliveries of one account due
    together) in one transaction of five statements whatever its size: one read locks the
    rows that are still ``queued`` under their ticket, one compare-and-set of every row
    (each row's own state and ticket), which also takes the lease, keeps the
    first start and its lateness and spends the reserved slot, returns what the attempts
    need; one query reads their posts and one their accounts; ``admit`` may still call each
    off; the admitted ones get their attempt rows. A deferred delivery has its
    compare-and-set undone and goes back to the schedule at its reserved slot instead
    (:class:`Deferred`).
    Deliveries that are not ours (stale or duplicated messages) are missing from the result.
    Whatever it returns, the transaction is fit to commit.
    """
    if not items:
        return {}
    startable = [tuple(item) for item in items]
    was = {row.id: row for row in session.execute(_STARTABLE, {"b_items": startable})}
    if not was:
        return {}
    rows = session.execute(
        _START,
        {
            "b_items": [item for item in startable if item[0] in was],
            "b_now": now,
            "b_lease_until": now + lease,
        },
    ).all()
    posts = {
        post.id: post
        for post in session.scalars(
            _POSTS, {"b_post_ids": sorted({row.post_id for row in rows})}
        ).unique()
    }
    accounts = {
        account.id: account
        for account in session.scalars(
            _ACCOUNTS, {"b_account_ids": sorted({row.account_id for row in rows})}
        )
    }
    begun: dict[int, Started | Deferred] = {}
    deferred: list[dict[str, Any]] = []
    opened: list[dict[str, Any]] = []
    for row in sorted(rows, key=lambda r: r.id):
        account = accounts[row.account_id]
        before = was[row.id]
        later = admit(account, before.reserved_slot_at) if admit is not None else None
        if later is not None:
            deferred.append(
                {
                    "b_delivery_id": row.id,
                    "b_at": later,
                    "b_was_started_at": before.started_at,
                    "b_was_lateness_ms": before.lateness_ms,
                    "b_now": now,
                }
            )
            begun[row.id] = Deferred(at=later, platform=account.platform)
            continue
        opened.append({"b_delivery_id": row.id, "b_number": row.attempts, "b_now": now})
        marker = Delivery(id=row.id).marker  # a transient row: the one place markers are made
        start = AttemptStart(
            delivery_id=row.id,
            attempt=row.attempts,
            ticket=row.ticket,
            account_id=row.account_id,
            platform=account.platform,
            content=content_for(posts[row.post_id], account.platform, marker=marker),
            started_at=now,
            lateness_ms=row.lateness_ms,
        )
        begun[row.id] = Started(start=start, account=account)
    # One execution each for the whole batch (one statement over arrays on PostgreSQL).
    if deferred:
        session.execute(_DEFER, deferred)
    if opened:
        execute_rows(session, _OPEN_ATTEMPT, _OPEN_ATTEMPT_ROWS, opened, shared=["b_now"])
    return begun


def _owns(delivery: Delivery, start: AttemptStart) -> bool:
    """Whether ``start`` still owns the delivery: a take-over raised the ticket if not."""
    return (
        delivery.state is DeliveryState.PUBLISHING
        and delivery.attempts == start.attempt
        and delivery.ticket == start.ticket
    )


def _current_attempt(session: Session, start: AttemptStart) -> tuple[Delivery, DeliveryAttempt]:
    delivery = session.get_one(Delivery, start.delivery_id, with_for_update=True)
    attempt = session.scalars(
        select(DeliveryAttempt).where(
            DeliveryAttempt.delivery_id == start.delivery_id,
            DeliveryAttempt.number == start.attempt,
        )
    ).one()
    return delivery, attempt


def _close_attempt(
    attempt: DeliveryAttempt,
    *,
    outcome: str,
    now: datetime,
    code: str | None = None,
    message: str | None = None,
) -> None:
    attempt.outcome = outcome
    attempt.finished_at = now
    attempt.platform_code = code
    attempt.message = message
    attempt.duration_ms = round((now - attempt.started_at).total_seconds() * 1000)


def _typed(name: str, column: str) -> BindParameter[Any]:
    return bindparam(name, type_=_deliveries.c[column].type)


_SUCCEED = (
    update(_deliveries)
    .where(
        _deliveries.c.id == bindparam("b_delivery_id"),
        _deliveries.c.state == DeliveryState.PUBLISHING,
        _deliveries.c.attempts == bindparam("b_attempt"),
        _deliveries.c.ticket == bindparam("b_ticket"),
    )
    .values(
        state=_typed("b_state", "state"),
        submission_id=func.coalesce(
            _typed("b_submission_id", "submission_id"), _deliveries.c.submission_id
        ),
        published_at=func.coalesce(
            _typed("b_published_at", "published_at"), _deliveries.c.published_at
        ),
        remote_id=func.coalesce(_typed("b_remote_id", "remote_id"), _deliveries.c.remote_id),
        url=func.coalesce(_typed("b_url", "url"), _deliveries.c.url),
        lease_until=None,
        last_error=None,
        last_error_code=None,
        last_error_kind=None,
        updated_at=_now,
    )
)
# Read once after a batch's compare-and-sets: which of them took (the row now carries the
# attempt's ticket and number and the state it set; nothing else writes under that ticket).
_OUTCOMES = select(
    _deliveries.c.id, _deliveries.c.state, _deliveries.c.attempts, _deliveries.c.ticket
).where(_deliveries.c.id.in_(bindparam("b_delivery_ids", expanding=True)))
_FINISH_ATTEMPT = (
    update(_attempts)
    .where(
        _attempts.c.delivery_id == bindparam("b_delivery_id"),
        _attempts.c.number == bindparam("b_number"),
    )
    .values(
        outcome=bindparam("b_outcome"),
        finished_at=_now,
        platform_code=None,
        message=bindparam("b_message"),
        duration_ms=bindparam("b_duration_ms"),
    )
)


# The per-row statements above as PostgreSQL runs them: one statement over arrays for a whole
# batch (publicist.core.sql_rows); same rows, same conditions, same effect.
_OPEN_ATTEMPT_ROWS = text(
    "INSERT INTO delivery_attempts (delivery_id, number, started_at, outcome) "
    "SELECT r.delivery_id, r.number, :b_now, 'started' "
    "FROM unnest(CAST(:b_delivery_id AS integer[]), CAST(:b_number AS integer[])) "
    "AS r(delivery_id, number) ORDER BY r.delivery_id"
).bindparams(_now)
_SUCCEED_ROWS = text(
    "UPDATE deliveries AS d SET state = r.state, "
    "submission_id = coalesce(r.submission_id, d.submission_id), "
    "published_at = coalesce(r.published_at, d.published_at), "
    "remote_id = coalesce(r.remote_id, d.remote_id), url = coalesce(r.url, d.url), "
    "lease_until = NULL, last_error = NULL, last_error_code = NULL, last_error_kind = NULL, "
    "updated_at = :b_now "
    "FROM unnest(CAST(:b_delivery_id AS integer[]), CAST(:b_attempt AS integer[]), "
    "CAST(:b_ticket AS integer[]), CAST(:b_state AS text[]), "
    "CAST(:b_submission_id AS text[]), CAST(:b_published_at AS timestamptz[]), "
    "CAST(:b_remote_id AS text[]), CAST(:b_url AS text[])) "
    "AS r(id, attempt, ticket, state, submission_id, published_at, remote_id, url) "
    "WHERE d.id = r.id AND d.state = 'publishing' AND d.attempts = r.attempt "
    "AND d.ticket = r.ticket"
).bindparams(_now)
_FINISH_ATTEMPT_ROWS = text(
    "UPDATE delivery_attempts AS a SET outcome = r.outcome, finished_at = :b_now, "
    "platform_code = NULL, message = r.message, duration_ms = r.duration_ms "
    "FROM unnest(CAST(:b_delivery_id AS integer[]), CAST(:b_number AS integer[]), "
    "CAST(:b_outcome AS text[]), CAST(:b_message AS text[]), "
    "CAST(:b_duration_ms AS integer[])) "
    "AS r(delivery_id, number, outcome, message, duration_ms) "
    "WHERE a.delivery_id = r.delivery_id AND a.number = r.number"
).bindparams(_now)


def renew_lease(
    session: Session,
    *,
    delivery_id: int,
    attempt: int,
    ticket: int,
    until: datetime,
    now: datetime,
) -> bool:
    """Extend a running attempt's lease; False if the delivery is no longer that attempt's
    (the lease ran out, the reconciler took it over and raised the ticket, or it ended)."""
    renewed = session.execute(
        update(_deliveries)
        .where(
            _deliveries.c.id == delivery_id,
            _deliveries.c.state == DeliveryState.PUBLISHING,
            _deliveries.c.attempts == attempt,
            _deliveries.c.ticket == ticket,
            _deliveries.c.lease_until >= now,
        )
        .values(lease_until=until)
    )
    return bool(getattr(renewed, "rowcount", 0))


def record_result(
    session: Session, *, start: AttemptStart, result: PublishResult, now: datetime
) -> DeliveryState:
    """The platform accepted the post: ``published``, or ``submitted`` for async platforms.

    :func:`record_results` for one attempt. Returns the delivery's state afterwards.
    """
    return record_results(session, accepted=[(start, result)], now=now)[start.delivery_id]


def record_results(
    session: Session,
    *,
    accepted: Sequence[tuple[AttemptStart, PublishResult]],
    now: datetime,
) -> dict[int, DeliveryState]:
    """Record what the platform accepted, for a batch of attempts, in three statements.

    A compare-and-set on each attempt (its state, number and ticket), with no read first;
    if the reconciler has moved a delivery on, only its attempt's evidence is written. One
    read tells which took, then one execution closes every attempt row. Returns each
    delivery's state afterwards.
    """
    if not accepted:
        return {}
    succeed: list[dict[str, Any]] = []
    wanted: dict[int, DeliveryState] = {}
    for start, result in accepted:
        values = _result_values(result, now=now)
        check_delivery_transition(start.delivery_id, DeliveryState.PUBLISHING, values["state"])
        wanted[start.delivery_id] = values["state"]
        succeed.append(
            {
                "b_delivery_id": start.delivery_id,
                "b_attempt": start.attempt,
                "b_ticket": start.ticket,
                "b_state": values["state"],
                "b_submission_id": values.get("submission_id"),
                "b_published_at": values.get("published_at"),
                "b_remote_id": values.get("remote_id"),
                "b_url": values.get("url"),
                "b_now": now,
            }
        )
    # One execution for every row (one statement over arrays on PostgreSQL), then one read
    # of what took.
    execute_rows(session, _SUCCEED, _SUCCEED_ROWS, succeed, shared=["b_now"])
    after = {
        row.id: row for row in session.execute(_OUTCOMES, {"b_delivery_ids": sorted(wanted)}).all()
    }
    states: dict[int, DeliveryState] = {}
    finished: list[dict[str, Any]] = []
    for start, _ in accepted:
        row = after[start.delivery_id]
        state = DeliveryState(row.state)
        took = (state, row.attempts, row.ticket) == (
            wanted[start.delivery_id],
            start.attempt,
            start.ticket,
        )
        # If someone else (the reconciler) moved on, keep the evidence, change nothing else.
        message = None if took else f"result arrived after the delivery became {state}"
        states[start.delivery_id] = state
        finished.append(
            {
                "b_delivery_id": start.delivery_id,
                "b_number": start.attempt,
                "b_outcome": state.value if took else "superseded",
                "b_message": message,
                "b_now": now,
                "b_duration_ms": round((now - start.started_at).total_seconds() * 1000),
            }
        )
    execute_rows(session, _FINISH_ATTEMPT, _FINISH_ATTEMPT_ROWS, finished, shared=["b_now"])
    return states


def _result_values(result: PublishResult, *, now: datetime) -> dict[str, Any]:
    """The delivery's columns once the platform has accepted a post."""
    values: dict[str, Any] = {
        "updated_at": now,
        "lease_until": None,
        "last_error": None,
        "last_error_code": None,
        "last_error_kind": None,
    }
    if result.state is PublishState.SUBMITTED:
        values |= {"state": DeliveryState.SUBMITTED, "submission_id": result.submission_id}
    else:
        values |= {"state": DeliveryState.PUBLISHED, "published_at": result.published_at or now}
    if result.remote_id:
        values["remote_id"] = result.remote_id
    if result.url:
        values["url"] = result.url
    return values


def apply_publish_result(delivery: Delivery, result: PublishResult, *, now: datetime) -> None:
    values = _result_values(result, now=now)
    check_delivery_transition(delivery.id, delivery.state, values["state"])
    for name, value in values.items():
        setattr(delivery, name, value)


def record_found(
    session: Session, *, start: AttemptStart, found: RemotePost, now: datetime
) -> DeliveryState:
    """Reconciliation found the post we could not confirm: record it, publish nothing."""
    result = PublishResult(
        state=PublishState.PUBLISHED,
        remote_id=found.remote_id,
        url=found.url,
        published_at=found.published_at or now,
    )
    return record_result(session, start=start, result=result, now=now)


def record_error(
    session: Session,
    *,
    start: AttemptStart,
    error: ConnectorError,
    decision: Decision,
    now: datetime,
) -> Delivery:
    """Apply a retry policy decision: back to ``scheduled`` at a later time, or ``failed``."""
    delivery, attempt = _current_attempt(session, start)
    _close_attempt(
        attempt, outcome=decision.action.value, now=now, code=error.code, message=str(error)
    )
    if not _owns(delivery, start):
        return delivery
    delivery.last_error = decision.reason or str(error)
    delivery.last_error_code = error.code
    delivery.last_error_kind = error_kind(error).value
    delivery.lease_until = None
    if decision.retry_at is not None:
        set_delivery_state(delivery, DeliveryState.SCHEDULED, now=now)
        delivery.next_attempt_at = decision.retry_at
        record_rate_limit(
            session, delivery=delivery, error=error, retry_at=decision.retry_at, now=now
        )
    else:
        set_delivery_state(delivery, DeliveryState.FAILED, now=now)
    record_delivery_event(session, delivery=delivery, reason=delivery.last_error, now=now)
    session.flush()
    return delivery


def record_unknown(
    session: Session, *, start: AttemptStart, reason: str, now: datetime
) -> Delivery:
    """The outcome cannot be established: surface it to staff instead of posting again."""
    delivery, attempt = _current_attempt(session, start)
    _close_attempt(attempt, outcome="unknown", now=now, message=reason)
    if _owns(delivery, start):
        set_delivery_state(delivery, DeliveryState.UNKNOWN, now=now)
        delivery.last_error = reason
        delivery.last_error_kind = ErrorKind.OUTCOME_UNKNOWN.value
        delivery.lease_until = None
        record_delivery_event(session, delivery=delivery, reason=reason, now=now)
    session.flush()
    return delivery


def postpone_reconcile(
    session: Session,
    *,
    start: AttemptStart,
    until: datetime,
    margin: timedelta,
    reason: str,
    now: datetime,
) -> Delivery:
    """The platform could not be asked about a lost outcome: look again at ``until``.

    The delivery stays ``publishing`` with its attempt open, and its lease now ends one
    ``margin`` before ``until``: the reconciler looks at a lease one margin after it ended,
    which brings it back at ``until`` (no request of this attempt is in flight any more).
    Nothing is published meanwhile.
    """
    delivery, _ = _current_attempt(session, start)
    if _owns(delivery, start):
        delivery.lease_until = until - margin
        delivery.last_error = reason
        delivery.updated_at = now
    session.flush()
    return delivery


def submitted_deliveries(session: Session, *, limit: int = 500) -> list[tuple[int, int, str]]:
    """(delivery id, account id, submission id) of every publish the platform still processes."""
    rows = session.execute(
        select(Delivery.id, Delivery.account_id, Delivery.submission_id)
        .where(
            # A literal state: read from ix_deliveries_submitted_updated_at, which holds only
            # the submitted deliveries (the planner must see the index's own predicate).
            Delivery.state == literal_column("'submitted'"),
            Delivery.submission_id.is_not(None),
        )
        .order_by(Delivery.updated_at)
        .limit(limit)
    ).all()
    return [(d, a, str(s)) for d, a, s in rows]


def record_poll(
    session: Session, *, delivery_id: int, result: PublishResult, now: datetime
) -> Delivery:
    delivery = session.get_one(Delivery, delivery_id, with_for_update=True)
    if delivery.state is DeliveryState.SUBMITTED and result.state is PublishState.PUBLISHED:
        apply_publish_result(delivery, result, now=now)
    else:
        delivery.updated_at = now
    session.flush()
    return delivery


def record_poll_failure(
    session: Session, *, delivery_id: int, error: ConnectorError, now: datetime
) -> Delivery:
    delivery = session.get_one(Delivery, delivery_id, with_for_update=True)
    delivery.last_error = str(error)
    delivery.last_error_code = error.code
    delivery.last_error_kind = error_kind(error).value
    if delivery.state is DeliveryState.SUBMITTED and not error.retryable:
        set_delivery_state(delivery, DeliveryState.FAILED, now=now)
        record_delivery_event(session, delivery=delivery, reason=str(error), now=now)
    else:
        delivery.updated_at = now
    session.flush()
    return delivery
