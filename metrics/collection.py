"""Collection: which deliveries to measure now, and recording what the platform returned.

The plan lives in ``delivery_metrics.next_collect_at``. Each tick plans the deliveries
published since the last one (their queue: ``deliveries.metrics_planned``), claims the rows
that are due (pushing them a lease ahead, so a concurrent tick or a second worker skips
them), groups them per account in batches of the platform's maximum ids per request, and
records each answer in one transaction: a snapshot appended, the latest values raised
(never lowered), the daily rollup grown by the increase, and the next time set by the
cadence.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, case, func, insert, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from campaigns.models import METRICS_UNPLANNED, Account, Campaign, Delivery, Post
from connectors.base import Capabilities, MetricCounts
from metrics import platforms
from metrics.cadence import Cadence
from metrics.dialect import insert_for
from metrics.interactions import interactions
from metrics.models import DailyRollup, DeliveryMetrics, MetricSnapshot
from publicist.core.database import UTCDateTime
from publicist.core.sql_rows import execute_rows

log = logging.getLogger("publicist.metrics")

COUNTERS = ("views", "likes", "comments", "shares")
"""The standard counters stored in their own columns; platform extras live in ``extras``."""

CLAIM_LEASE = timedelta(minutes=10)
"""How long claimed deliveries are hidden from other ticks; a vanished worker's come back."""

PLAN_LIMIT = 10_000
"""Newly published deliveries planned per tick at most (a backlog takes several ticks)."""

_CHUNK = 500  # ids per IN (...) list, well under every engine's parameter limit
_DELIVERIES = cast(Table, Delivery.__table__)
_LATEST = cast(Table, DeliveryMetrics.__table__)
_SNAPSHOTS = cast(Table, MetricSnapshot.__table__)
_ROLLUPS = cast(Table, DailyRollup.__table__)


@dataclass(frozen=True)
class CollectionBatch:
    """Deliveries of one account to measure with one platform request."""

    account_id: int
    platform: str
    remote_ids: dict[str, int]
    """remote id → delivery id"""


def _chunks(items: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


# METRICS_UNPLANNED is a constant of campaigns.models, not input.
_UNPLANNED_SQLITE = text(
    "SELECT id FROM deliveries INDEXED BY ix_deliveries_metrics_unplanned WHERE "  # noqa: S608
    + METRICS_UNPLANNED
    + " ORDER BY id LIMIT :limit"
)
# PostgreSQL plans the deliveries taken from the queue in one statement: mark them planned
# and give each its unmeasured row due now ("as of publication, nothing measured": older
# than any real answer). No rows pass through Python; the ids are a literal list, so the
# planner knows how few they are and updates them by primary key.
_PLAN_POSTGRES = text(
    "WITH planned AS (UPDATE deliveries SET metrics_planned = true WHERE id IN :ids "
    "RETURNING id, campaign_id, account_id, published_at) "
    "INSERT INTO delivery_metrics (delivery_id, campaign_id, account_id, platform, "
    "collected_at, interactions, extras, next_collect_at, collections) "
    "SELECT p.id, p.campaign_id, p.account_id, a.platform, coalesce(p.published_at, :now), "
    "0, '{}', :now, 0 FROM planned AS p JOIN accounts AS a ON a.id = p.account_id "
    "ON CONFLICT (delivery_id) DO NOTHING"
).bindparams(bindparam("ids", expanding=True), bindparam("now", type_=UTCDateTime()))


def plan_new(session: Session, *, now: datetime, limit: int = PLAN_LIMIT) -> int:
    """Give newly published deliveries a row, due now; returns how many.

    Reads the queue ``ix_deliveries_metrics_unplanned`` (published, with a remote id, not
    planned yet), which planning empties: the cost follows what was published since the
    last tick, never the history. ``limit`` bounds one tick after a long pause; the rest
    are planned by the next ones. Rows another planner holds are skipped, not waited for.
    """
    if session.get_bind().dialect.name == "sqlite":
        # SQLite keeps no statistics: it would take the equality on ``state`` that
        # ix_deliveries_state_next_attempt_at offers and read every published delivery.
        ids = list(session.scalars(_UNPLANNED_SQLITE, {"limit": limit}))
        for chunk in _chunks(ids):
            _insert_rows(session, delivery_ids=chunk, now=now)
        return len(ids)
    queue = (
        select(_DELIVERIES.c.id)
        # The predicate as written in the index, so the planner sees it is the index's.
        .where(text(METRICS_UNPLANNED))
        .order_by(_DELIVERIES.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(session.scalars(queue))
    for chunk in _chunks(ids):
        session.execute(_PLAN_POSTGRES, {"ids": list(chunk), "now": now})
    return len(ids)


def _insert_rows(session: Session, *, delivery_ids: Sequence[int], now: datetime) -> None:
    """Unmeasured rows for these deliveries (as of their publication), unless they exist;
    the deliveries leave the planner's queue."""
    rows = session.execute(
        select(Delivery.id, Post.campaign_id, Delivery.account_id, Account.platform)
        .add_columns(Delivery.published_at)
        .join(Post, Post.id == Delivery.post_id)
        .join(Account, Account.id == Delivery.account_id)
        .where(Delivery.id.in_(delivery_ids))
    ).all()
    if not rows:
        return
    values = [
        {
            "delivery_id": delivery_id,
            "campaign_id": campaign_id,
            "account_id": account_id,
            "platform": platform,
            # "As of publication, nothing measured": keeps the row older than any real answer.
            "collected_at": published_at or now,
            "interactions": 0,
            "extras": {},
            "next_collect_at": now,
            "collections": 0,
        }
        for delivery_id, campaign_id, account_id, platform, published_at in rows
    ]
    statement = insert_for(session, _LATEST).on_conflict_do_nothing(index_elements=["delivery_id"])
    session.execute(statement, values)  # executemany: compiled once, sent in batches
    session.execute(
        update(_DELIVERIES)
        .where(_DELIVERIES.c.id.in_([row[0] for row in rows]))
        .values(metrics_planned=True)
    )


def claim_collections(
    session: Session, *, now: datetime, limit: int = 10_000, lease: timedelta = CLAIM_LEASE
) -> list[CollectionBatch]:
    """Plan new deliveries, then claim up to ``limit`` due ones, most overdue first.

    Claimed rows are pushed ``lease`` ahead; recording the answer (or ``release``) sets
    their real next time. Rows another transaction holds are skipped, not waited for.
    """
    plan_new(session, now=now)
    # First the due rows alone, in the order of ix_delivery_metrics_collect_due (which holds
    # only deliveries inside their collection window), then their remote ids by primary key:
    # a join here lets the planner start from the deliveries, all of history.
    due = session.execute(
        select(DeliveryMetrics.delivery_id, DeliveryMetrics.account_id, DeliveryMetrics.platform)
        .where(DeliveryMetrics.next_collect_at <= now)
        .order_by(DeliveryMetrics.next_collect_at, DeliveryMetrics.delivery_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not due:
        return []
    remote: dict[int, str] = {}
    for chunk in _chunks([row.delivery_id for row in due]):
        found = session.execute(
            select(_DELIVERIES.c.id, _DELIVERIES.c.remote_id).where(
                _DELIVERIES.c.id.in_(chunk), _DELIVERIES.c.remote_id.is_not(None)
            )
        )
        remote.update((delivery_id, str(remote_id)) for delivery_id, remote_id in found)
    rows = [
        (delivery_id, account_id, platform, remote[delivery_id])
        for delivery_id, account_id, platform in due
        if delivery_id in remote
    ]
    ids = [delivery_id for delivery_id, *_ in rows]
    for chunk in _chunks(ids):
        session.execute(
            update(DeliveryMetrics)
            .where(DeliveryMetrics.delivery_id.in_(chunk))
            .values(next_collect_at=now + lease)
        )
    by_account: dict[tuple[int, str], dict[str, int]] = defaultdict(dict)
    for delivery_id, account_id, platform, remote_id in rows:
        by_account[(account_id, platform)][remote_id] = delivery_id
    batches: list[CollectionBatch] = []
    sizes: dict[str, int] = {}
    for (account_id, platform), remote_ids in sorted(by_account.items()):
        if platform not in sizes:
            sizes[platform] = _batch_size(platform)
        items = list(remote_ids.items())
        size = sizes[platform]
        for start in range(0, len(items), size):
            batches.append(CollectionBatch(account_id, platform, dict(items[start : start + size])))
    return batches


def _batch_size(platform: str) -> int:
    capabilities = platforms.capabilities_of(platform)
    if capabilities is None:
        # The connector is gone; its posts wait out the lease and are tried again then.
        log.warning("cannot plan metrics for %r: no installed connector", platform)
        return 1
    return max(1, capabilities.metrics_batch_size)


def release(session: Session, *, delivery_ids: Iterable[int], at: datetime) -> None:
    """Claimed but not measured (rate limit, platform error): due again at ``at``."""
    ids = list(delivery_ids)
    for chunk in _chunks(ids):
        session.execute(
            update(DeliveryMetrics)
            .where(DeliveryMetrics.delivery_id.in_(chunk))
            .values(next_collect_at=at)
        )


def _not_lower(old: int | None, new: int | None) -> int | None:
    # Platforms report lifetime totals: a smaller or missing value is a glitch, not news.
    if new is None:
        return old
    if old is None:
        return new
    return max(old, new)


def _growth(before: int | None, after: int | None) -> int | None:
    """The increase of a counter; ``None`` while the platform has never given it."""
    if after is None:
        return None
    return after - (before or 0)


@dataclass
class _DayGrowth:
    views: int | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    interactions: int = 0

    def add(self, name: str, amount: int | None) -> None:
        if amount is None:
            return
        current: int | None = getattr(self, name)
        setattr(self, name, (current or 0) + amount)


_LOCK_LATEST = (
    select(
        _LATEST.c.delivery_id,
        _LATEST.c.campaign_id,
        _LATEST.c.platform,
        _LATEST.c.views,
        _LATEST.c.likes,
        _LATEST.c.comments,
        _LATEST.c.shares,
        _LATEST.c.interactions,
        _LATEST.c.extras,
        _LATEST.c.collections,
        Delivery.published_at,
        Campaign.timezone,
    )
    .join(Delivery, Delivery.id == _LATEST.c.delivery_id)
    .join(Campaign, Campaign.id == _LATEST.c.campaign_id)
    .where(_LATEST.c.delivery_id.in_(bindparam("ids", expanding=True)))
    .order_by(_LATEST.c.delivery_id)
    .with_for_update(of=_LATEST)
)
_RAISE_LATEST = (
    update(_LATEST)
    .where(_LATEST.c.delivery_id == bindparam("b_delivery_id"))
    .values(
        views=bindparam("b_views"),
        likes=bindparam("b_likes"),
        comments=bindparam("b_comments"),
        shares=bindparam("b_shares"),
        interactions=bindparam("b_interactions"),
        extras=bindparam("b_extras", type_=_LATEST.c.extras.type),
        collected_at=bindparam("b_collected_at", type_=_LATEST.c.collected_at.type),
        collections=bindparam("b_collections"),
        next_collect_at=bindparam("b_next_collect_at", type_=_LATEST.c.next_collect_at.type),
    )
)
# A platform answer's snapshots and raised latest values as PostgreSQL writes them: one
# statement over arrays each (publicist.core.sql_rows), the same rows as the executemany.
_APPEND_SNAPSHOTS_ROWS = text(
    "INSERT INTO metric_snapshots (delivery_id, collected_at, views, likes, comments, shares, "
    "extras, raw) SELECT r.delivery_id, :collected_at, r.views, r.likes, r.comments, "
    "r.shares, r.extras, r.raw FROM unnest(CAST(:delivery_id AS integer[]), "
    "CAST(:views AS bigint[]), CAST(:likes AS bigint[]), CAST(:comments AS bigint[]), "
    "CAST(:shares AS bigint[]), CAST(:extras AS json[]), CAST(:raw AS json[])) "
    "AS r(delivery_id, views, likes, comments, shares, extras, raw)"
).bindparams(bindparam("collected_at", type_=UTCDateTime()))
_RAISE_LATEST_ROWS = text(
    "UPDATE delivery_metrics AS m SET views = r.views, likes = r.likes, "
    "comments = r.comments, shares = r.shares, interactions = r.interactions, "
    "extras = r.extras, collected_at = :b_collected_at, collections = r.collections, "
    "next_collect_at = r.next_collect_at "
    "FROM unnest(CAST(:b_delivery_id AS integer[]), CAST(:b_views AS bigint[]), "
    "CAST(:b_likes AS bigint[]), CAST(:b_comments AS bigint[]), CAST(:b_shares AS bigint[]), "
    "CAST(:b_interactions AS bigint[]), CAST(:b_extras AS json[]), "
    "CAST(:b_collections AS integer[]), CAST(:b_next_collect_at AS timestamptz[])) "
    "AS r(delivery_id, views, likes, comments, shares, interactions, extras, collections, "
    "next_collect_at) WHERE m.delivery_id = r.delivery_id"
).bindparams(bindparam("b_collected_at", type_=UTCDateTime()))
_POSTPONE = (
    update(_LATEST)
    .where(_LATEST.c.delivery_id == bindparam("b_delivery_id"))
    .values(next_collect_at=bindparam("b_next_collect_at", type_=_LATEST.c.next_collect_at.type))
)


def _lock_latest(session: Session, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The latest values of ``ids``, locked until commit (PostgreSQL; SQLite holds the
    database lock already), with each delivery's publish time and campaign time zone."""
    latest: dict[int, dict[str, Any]] = {}
    for chunk in _chunks(ids):
        for row in session.execute(_LOCK_LATEST, {"ids": list(chunk)}).mappings():
            latest[row["delivery_id"]] = dict(row)
    return latest


def record_counts(
    session: Session,
    *,
    capabilities: Capabilities,
    delivery_ids: dict[str, int],
    counts: list[MetricCounts],
    cadence: Cadence,
    now: datetime,
) -> int:
    """Append a snapshot per result, raise the latest values, grow the day's rollup.

    ``delivery_ids`` maps the remote ids asked for to their deliveries; ids the platform
    did not answer for keep every earlier value and are asked again at their next time.
    Returns how many results were recorded. Writes go through Core statements sent as
    executemany batches: a collection tick writes tens of thousands of rows.
    """
    ids = sorted(set(delivery_ids.values()))
    latest = _lock_latest(session, ids)
    missing = [delivery_id for delivery_id in ids if delivery_id not in latest]
    if missing:  # asked without a plan (tests, or a row removed meanwhile)
        for chunk in _chunks(missing):
            _insert_rows(session, delivery_ids=chunk, now=now)
        latest.update(_lock_latest(session, missing))
    snapshots: list[dict[str, Any]] = []
    growth: dict[tuple[int, str, date], _DayGrowth] = defaultdict(_DayGrowth)
    answered: set[int] = set()
    zones: dict[str, ZoneInfo] = {}
    for item in counts:
        delivery_id = delivery_ids.get(item.remote_id)
        if delivery_id is None or delivery_id not in latest:
            continue
        row = latest[delivery_id]
        snapshots.append(
            {
                "delivery_id": delivery_id,
                "collected_at": now,
                "views": item.views,
                "likes": item.likes,
                "comments": item.comments,
                "shares": item.shares,
                "extras": dict(item.extras),
                "raw": dict(item.raw),
            }
        )
        zone = zones.setdefault(row["timezone"], ZoneInfo(row["timezone"]))
        day = growth[(row["campaign_id"], row["platform"], now.astimezone(zone).date())]
        for name in COUNTERS:
            before: int | None = row[name]
            row[name] = _not_lower(before, item.counter(name))
            day.add(name, _growth(before, row[name]))
        extras = dict(row["extras"] or {})
        for key, value in item.extras.items():
            extras[key] = _not_lower(extras.get(key), value)
        row["extras"] = extras
        merged = MetricCounts(
            remote_id=item.remote_id,
            views=row["views"],
            likes=row["likes"],
            comments=row["comments"],
            shares=row["shares"],
            extras=extras,
        )
        total = max(row["interactions"], interactions(merged, capabilities))
        day.interactions += total - row["interactions"]
        row["interactions"] = total
        row["collections"] += 1
        answered.add(delivery_id)

    def next_time(row: dict[str, Any]) -> datetime | None:
        return cadence.next_collection(published_at=row["published_at"] or now, now=now)

    execute_rows(
        session,
        insert(_SNAPSHOTS),
        _APPEND_SNAPSHOTS_ROWS,
        snapshots,
        shared=["collected_at"],
        as_json=["extras", "raw"],
    )
    raised = [
        {
            "b_delivery_id": delivery_id,
            **{f"b_{name}": latest[delivery_id][name] for name in (*COUNTERS, "interactions")},
            "b_extras": latest[delivery_id]["extras"],
            "b_collected_at": now,
            "b_collections": latest[delivery_id]["collections"],
            "b_next_collect_at": next_time(latest[delivery_id]),
        }
        for delivery_id in sorted(answered)
    ]
    execute_rows(
        session,
        _RAISE_LATEST,
        _RAISE_LATEST_ROWS,
        raised,
        shared=["b_collected_at"],
        as_json=["b_extras"],
    )
    # Deleted, hidden or not yet visible: keep every earlier value, look again later.
    postponed = [
        {"b_delivery_id": delivery_id, "b_next_collect_at": next_time(latest[delivery_id])}
        for delivery_id in ids
        if delivery_id in latest and delivery_id not in answered
    ]
    if postponed:
        session.execute(_POSTPONE, postponed)
    _grow_rollups(session, growth, now=now)
    _forget(session, ids)
    return len(answered)


def _forget(session: Session, ids: Iterable[int]) -> None:
    """Rows changed through Core: let the session reload any copy it holds."""
    for delivery_id in ids:
        held = session.identity_map.get(identity_key(DeliveryMetrics, (delivery_id,)))
        if held is not None:
            session.expire(held)


def _grow_rollups(
    session: Session, growth: dict[tuple[int, str, date], _DayGrowth], *, now: datetime
) -> None:
    if not growth:
        return
    # Sorted keys: concurrent collectors lock rollup rows in the same order (no deadlock).
    values = [
        {
            "campaign_id": campaign_id,
            "platform": platform,
            "day": day,
            "views": amounts.views,
            "likes": amounts.likes,
            "comments": amounts.comments,
            "shares": amounts.shares,
            "interactions": amounts.interactions,
            "updated_at": now,
        }
        for (campaign_id, platform, day), amounts in sorted(growth.items())
    ]
    statement = insert_for(session, _ROLLUPS)
    new = statement.excluded
    table = _ROLLUPS.c
    grown: dict[str, Any] = {
        name: case(
            (new[name].is_(None), table[name]),
            else_=func.coalesce(table[name], 0) + new[name],
        )
        for name in COUNTERS
    }
    grown["interactions"] = table.interactions + new.interactions
    grown["updated_at"] = new.updated_at
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["campaign_id", "platform", "day"], set_=grown
        ),
        values,
    )
