"""Collection benchmark: planning time at any history size, and refresh throughput.

Builds a fresh PostgreSQL database (dropped afterwards). Two parts:

* **Planning.** The history grows, with set-based SQL, to each size in turn (default 10,000,
  200,000 and 1,000,000 published deliveries over the last 180 days, 100 accounts), each
  with its attempt's metrics row as a running system has it: collected again within a day
  while younger than 90 days, finished (``next_collect_at`` NULL) after. Beside them, the
  same at every size: 20 deliveries published since the last tick (not planned yet) and 200
  due now. At each size, after ``ANALYZE``, a collection tick's planning step (``plan_new``:
  the new ones) and the whole of its start (``claim_collections``: plan the new ones, claim
  what is due) are timed many times, each in a transaction that is rolled back, with that
  work and idle (nothing new, nothing due), next to a ``SELECT 1`` round trip (the host's
  baseline) and the query the previous planner (up to revision 0013) ran on every tick, for
  comparison.
* **Refresh.** N published posts (default 1,000,000) on 100 mock accounts (the mock
  platform keeps them in a SQLite file, in-process), all due: ``run_collect`` ticks, as the
  Celery task runs them, through the Redis rate limiter with X's read quota, in W processes
  at once (default 2, one per core) until none finds anything due. Reports posts/s and
  checks that every post was measured exactly once and the totals equal the platform's.

    .venv/bin/python -m benchmarks.collection                         # full size
    .venv/bin/python -m benchmarks.collection --sizes 10000,200000 --refresh 50000

Method and results: docs/benchmarks.md ("Collection").
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from benchmarks.reports import fresh_database

SECRET = "benchmark-secret-key"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
ACCOUNTS = 100
NEW_PER_TICK = 20
DUE_PER_TICK = 200


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _accounts(engine: Engine, *, prefix: str, store: str, now: datetime) -> list[tuple[int, str]]:
    """Mock accounts whose credentials name the platform's store file."""
    from campaigns.accounts import create_account
    from connectors.base import Credentials
    from publicist.core.database import session_scope

    made = []
    with session_scope(engine) as session:
        for n in range(ACCOUNTS):
            handle = f"{prefix}-{n}"
            account = create_account(
                session,
                platform="mock",
                handle=handle,
                credentials=Credentials(
                    access_token="bench",  # noqa: S106 - the mock platform's fake token
                    user_id=handle,
                    extra={"store": store},
                ),
                secret=SECRET,
                now=now,
            )
            made.append((account.id, handle))
    return made


def _campaign(engine: Engine, *, name: str, now: datetime) -> int:
    with engine.begin() as connection:
        return int(
            connection.execute(
                sa.text(
                    "INSERT INTO campaigns (name, timezone, hashtags, created_at) "
                    "VALUES (:name, 'Asia/Shanghai', '[]', :now) RETURNING id"
                ),
                {"name": name, "now": now},
            ).scalar_one()
        )


def _published(
    connection: sa.Connection,
    *,
    count: int,
    campaign: int,
    accounts: list[tuple[int, str]],
    published: str,
    remote: str,
    planned: bool,
    next_collect: str | None,
    now: datetime,
    measured: bool = True,
) -> None:
    """``count`` published deliveries (one post each) with set-based SQL; ``published`` and
    ``next_collect`` are SQL expressions of ``g`` (the row's number) and ``:now``; with
    ``planned`` each also gets its metrics row (``measured``: with values, else as planned
    and never answered, so the rollups that the collection grows add up to its totals)."""
    values = "100, 5, 1, 1, 7" if measured else "NULL, NULL, NULL, NULL, 0"
    first = connection.execute(sa.text("SELECT coalesce(max(id), 0) FROM posts")).scalar_one()
    ids = ",".join(str(account_id) for account_id, _ in accounts)
    connection.execute(
        sa.text(
            "INSERT INTO posts (id, campaign_id, text, media, state, publish_at, created_at) "
            "SELECT :first + g, :campaign, 'post ' || g, '[]', 'scheduled', :now, :now "
            "FROM generate_series(1, CAST(:count AS int)) g"
        ),
        {"first": first, "campaign": campaign, "count": count, "now": now},
    )
    connection.execute(
        sa.text(
            # The benchmark's own SQL expressions and ids, no outside input.
            "INSERT INTO deliveries (post_id, account_id, state, due_at, next_attempt_at, "  # noqa: S608
            "ticket, attempts, published_at, remote_id, metrics_planned, updated_at) "
            f"SELECT :first + g, (ARRAY[{ids}])[1 + g % {len(accounts)}], 'published', "
            f"{published}, {published}, 1, 1, {published}, {remote}, :planned, :now "
            "FROM generate_series(1, CAST(:count AS int)) g"
        ),
        {"first": first, "count": count, "now": now, "planned": planned},
    )
    if planned:
        connection.execute(
            sa.text(
                # The benchmark's own SQL expression, no outside input.
                "INSERT INTO delivery_metrics (delivery_id, campaign_id, account_id, "  # noqa: S608
                "platform, collected_at, views, likes, comments, shares, interactions, extras, "
                "next_collect_at, collections) "
                f"SELECT d.id, :campaign, d.account_id, 'mock', :now, {values}, '{{}}', "
                f"{next_collect or 'NULL'}, {1 if measured else 0} FROM deliveries d "
                "WHERE d.post_id > :first AND d.post_id <= :first + :count"
            ),
            {"first": first, "count": count, "now": now, "campaign": campaign},
        )


# -- planning ------------------------------------------------------------------------------------


def _timed(
    engine: Engine,
    call: Callable[[Session], object],
    *,
    repeat: int,
    prepare: Callable[[Session], object] | None = None,
) -> dict[str, Any]:
    """Median and p99 of ``call``, each in a transaction rolled back (after ``prepare``,
    untimed, in the same transaction)."""

    def once() -> float:
        with engine.connect() as connection:
            transaction = connection.begin()
            session = Session(bind=connection)
            if prepare is not None:
                prepare(session)
            began = time.perf_counter()
            call(session)
            elapsed = time.perf_counter() - began
            session.close()
            transaction.rollback()
        return elapsed * 1000

    for _ in range(min(10, repeat)):
        once()
    times = [once() for _ in range(repeat)]
    return {
        "median_ms": round(statistics.median(times), 3),
        "p99_ms": round(_percentile(times, 0.99), 3),
    }


def previous_planner(session: Session) -> object:
    """The query every tick ran before revision 0020: published deliveries with no row."""
    from sqlalchemy import exists, select

    from campaigns.models import Delivery
    from campaigns.states import DeliveryState
    from metrics.models import DeliveryMetrics

    return session.execute(
        select(Delivery.id)
        .where(
            Delivery.state == DeliveryState.PUBLISHED,
            Delivery.remote_id.is_not(None),
            ~exists().where(DeliveryMetrics.delivery_id == Delivery.id),
        )
        .order_by(Delivery.id)
    ).all()


def planning(url: str, *, sizes: list[int], repeat: int) -> list[dict[str, Any]]:
    from metrics import platforms
    from metrics.collection import claim_collections, plan_new
    from publicist.core.database import make_engine

    now = datetime.now(UTC).replace(microsecond=0)
    engine = make_engine(url)
    results = []
    looked_up = platforms.capabilities_of
    try:
        store = str(Path(tempfile.gettempdir()) / "bench-planning-unused.sqlite")
        accounts = _accounts(engine, prefix="plan", store=store, now=now)
        history = _campaign(engine, name="history", now=now)
        live = _campaign(engine, name="this tick", now=now)
        with engine.begin() as connection:
            # The same work at every size: published since the last tick, and due now.
            _published(
                connection, count=NEW_PER_TICK, campaign=live, accounts=accounts,
                published=":now - interval '10 seconds'", remote="'new' || g", planned=False,
                next_collect=None, now=now,
            )  # fmt: skip
            _published(
                connection, count=DUE_PER_TICK, campaign=live, accounts=accounts,
                published=":now - interval '2 hours'", remote="'due' || g", planned=True,
                next_collect=":now - interval '1 second'", now=now,
            )  # fmt: skip
        loaded = 0
        for size in sizes:
            began = time.perf_counter()
            with engine.begin() as connection:
                connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
                step = 500_000
                for low in range(loaded, size, step):
                    _published(
                        connection,
                        count=min(step, size - low),
                        campaign=history,
                        accounts=accounts,
                        published=":now - random() * interval '180 days'",
                        remote="'h' || (:first + g)",
                        planned=True,
                        next_collect=(
                            "CASE WHEN d.published_at > :now - interval '90 days' "
                            "THEN :now + interval '1 minute' + random() * interval '1 day' END"
                        ),
                        now=now,
                    )
            with engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                    "ANALYZE"
                )
            load_s = time.perf_counter() - began
            loaded = size
            load_before = os.getloadavg()
            row: dict[str, Any] = {
                "published_deliveries": size + NEW_PER_TICK + DUE_PER_TICK,
                "load_s": round(load_s, 1),
                "baseline SELECT 1": _timed(
                    engine, lambda s: s.execute(sa.text("SELECT 1")), repeat=repeat
                ),
                # The planning step alone: the deliveries published since the last tick.
                f"planning, {NEW_PER_TICK} new (plan_new)": _timed(
                    engine, lambda s: plan_new(s, now=now), repeat=repeat
                ),
                f"planning and claim, {NEW_PER_TICK} new + {DUE_PER_TICK} due": _timed(
                    engine, lambda s: claim_collections(s, now=now), repeat=repeat
                ),
                "planning, idle (nothing new or due)": _timed(
                    engine,
                    lambda s: claim_collections(s, now=now - timedelta(minutes=5)),
                    repeat=repeat,
                    prepare=lambda s: plan_new(s, now=now),  # the new ones: planned already
                ),
            }
            row["previous planner's query (before 0020)"] = _timed(
                engine, previous_planner, repeat=max(10, repeat // 10)
            )
            row["load average before/after"] = (load_before, os.getloadavg())
            print(json.dumps(row), flush=True)
            results.append(row)
    finally:
        platforms.capabilities_of = looked_up
        engine.dispose()
    return results


# -- refresh ---------------------------------------------------------------------------------


def _drain(url: str, stamp: float, counter: Any) -> None:
    """One worker process: collection ticks until one finds nothing due."""
    os.environ["PUBLICIST_DATABASE_URL"] = url
    os.environ["PUBLICIST_SECRET_KEY"] = SECRET
    import redis

    from connectors.base import RateLimitPolicy
    from connectors.mock import MockConnector
    from metrics import platforms
    from publicist.core.clock import FrozenClock
    from publicist.core.settings import get_settings, reset_settings
    from scheduler.collecting import run_collect
    from scheduler.ratelimit import RedisRateLimiter

    reset_settings()
    settings = get_settings()
    # The mock platform declares no read quota; give it X's (GET /2/tweets, 5,000 requests per
    # 15 minutes per account) so every request goes through the rate limiter as in production.
    reads = RateLimitPolicy(requests=5_000, per_seconds=15 * 60)
    with_quota = replace(MockConnector.capabilities, metrics_rate_limit=reads)
    looked_up = platforms.capabilities_of
    platforms.capabilities_of = lambda name: with_quota if name == "mock" else looked_up(name)  # type: ignore[assignment]
    limiter = RedisRateLimiter(redis.Redis.from_url(REDIS_URL))
    clock = FrozenClock(datetime.fromtimestamp(stamp, UTC))
    while recorded := run_collect(settings=settings, clock=clock, limiter=limiter):
        with counter.get_lock():
            counter.value += recorded


def _forget_quota(accounts: list[tuple[int, str]]) -> None:
    """The limiter's keys of these accounts (ids repeat across runs' fresh databases)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for account_id, _ in accounts:
        for key in client.scan_iter(match=f"publicist:ratelimit:account:{account_id}:*"):
            client.delete(key)
    client.close()


def refresh(url: str, *, posts: int, workers: int) -> dict[str, Any]:
    from connectors.mock import MockPlatform
    from metrics.reports import campaign_totals
    from publicist.core.database import make_engine, session_scope

    workdir = Path(tempfile.mkdtemp(prefix="bench-collection-"))
    store = str(workdir / "mock-platform.sqlite")
    MockPlatform.open(store).close()  # creates its schema
    published_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    now = published_at + timedelta(minutes=30)
    engine = make_engine(url)
    try:
        accounts = _accounts(engine, prefix="refresh", store=store, now=published_at)
        campaign = _campaign(engine, name="refresh", now=published_at)
        began = time.perf_counter()
        with engine.begin() as connection:
            connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
            _published(
                connection, count=posts, campaign=campaign, accounts=accounts,
                published=":now - interval '30 minutes'", remote="'r' || g", planned=True,
                next_collect=":now - interval '1 second'", now=now, measured=False,
            )  # fmt: skip
            markers = connection.execute(
                sa.text(
                    "SELECT d.remote_id, d.account_id, d.id FROM deliveries d "
                    "JOIN posts p ON p.id = d.post_id WHERE p.campaign_id = :campaign"
                ),
                {"campaign": campaign},
            ).all()
        handles = dict(accounts)
        mock = sqlite3.connect(store)
        mock.executemany(
            "INSERT INTO posts VALUES (?, ?, ?, ?, ?)",
            (
                (remote, handles[account], f"publicist-{delivery}", f"post {delivery}",
                 published_at.timestamp())
                for remote, account, delivery in markers
            ),
        )  # fmt: skip
        mock.commit()
        mock.close()
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
        load_s = time.perf_counter() - began
        load_before = os.getloadavg()
        _forget_quota(accounts)
        context = multiprocessing.get_context("spawn")
        counter = context.Value("q", 0)
        processes = [
            context.Process(target=_drain, args=(url, now.timestamp(), counter))
            for _ in range(workers)
        ]
        started = time.perf_counter()
        for process in processes:
            process.start()
        for process in processes:
            process.join()
        seconds = time.perf_counter() - started
        with engine.connect() as connection:
            measured = connection.execute(
                sa.text(
                    "SELECT count(*), min(collections), max(collections) FROM delivery_metrics "
                    "WHERE campaign_id = :campaign"
                ),
                {"campaign": campaign},
            ).one()
        with MockPlatform.open(store) as platform:
            truth = platform.totals(now)
        with session_scope(engine) as session:
            totals = campaign_totals(session, campaign_id=campaign)
        _forget_quota(accounts)
        return {
            "posts": posts,
            "accounts": ACCOUNTS,
            "worker processes": workers,
            "load_s": round(load_s, 1),
            "recorded": int(counter.value),
            "seconds": round(seconds, 1),
            "posts_per_s": round(counter.value / seconds) if seconds else None,
            "every post measured exactly once": tuple(measured) == (posts, 1, 1),
            "totals equal the platform": (totals.views, totals.interactions)
            == (truth.views, truth.interactions),
            "load average before/after": (load_before, os.getloadavg()),
        }
    finally:
        engine.dispose()
        for leftover in workdir.iterdir():
            leftover.unlink()
        workdir.rmdir()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,200000,1000000", help="published history")
    parser.add_argument("--repeat", type=int, default=200, help="planning ticks timed per size")
    parser.add_argument("--refresh", type=int, default=1_000_000, help="posts; 0: skip")
    parser.add_argument("--workers", type=int, default=2, help="collector processes")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # still drop the database
    results: dict[str, Any] = {"cpus": os.cpu_count()}
    with fresh_database() as url:
        from publicist.core.migrate import upgrade

        upgrade(url)
        if args.sizes:
            print("planning ...", flush=True)
            sizes = sorted(int(size) for size in args.sizes.split(","))
            results["planning"] = planning(url, sizes=sizes, repeat=args.repeat)
        if args.refresh:
            print(f"refreshing {args.refresh:,} posts ...", flush=True)
            results["refresh"] = refresh(url, posts=args.refresh, workers=args.workers)
            print(json.dumps(results["refresh"]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
