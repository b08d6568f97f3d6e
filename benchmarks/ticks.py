"""Ticks benchmark: does every query beat runs each few seconds cost the same at any size?

Builds a fresh PostgreSQL database (dropped afterwards) and grows it, with set-based SQL
(``generate_series``, never row by row), to each size in turn: 10,000, 1,000,000 and
10,000,000 deliveries due at random times over a year, 5 per post, across 1,000 accounts and
10 campaigns (half of them with the late policy "miss"). By default the year is centred on
now: the half before is history (published), the half after is scheduled; ``--history 0``
schedules them all over the next year. Beside them sits the same small set of
work in flight at every size: deliveries due now, queued ones whose message was lost,
never-tried ones an hour late in a "miss" campaign, attempts whose lease expired, submitted
publishes, and newly published deliveries not planned for collection yet.

At each size, after ``ANALYZE``, every tick query is called through its service function
(many times, each in a transaction that is rolled back, so each call sees the same data) and
timed: median and p99. The host's same-run baseline is a ``SELECT 1`` round trip through the
same engine, and the load average is recorded before and after. Each query's statements are
also run once under ``EXPLAIN (ANALYZE, BUFFERS)``: the plan names the index read and the
buffers show how many pages it touched.

    .venv/bin/python -m benchmarks.ticks                           # 10k, 1M and 10M
    .venv/bin/python -m benchmarks.ticks --sizes 10000,1000000 --repeat 200 --json ticks.json

Method and results: docs/benchmarks.md ("The schedule at any size").
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

POSTGRES_ADMIN = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
ACCOUNTS = 1000
CAMPAIGNS = 10
PER_POST = 5
"""Deliveries per post (consecutive accounts), as a post sent to several offices."""
LIVE = 20
"""Deliveries of each in-flight kind, the same at every size."""
LIVE_POSTS = 6 * LIVE


@dataclass
class Timing:
    query: str
    calls: int
    median_ms: float
    p99_ms: float
    found: int
    plans: list[str] = field(default_factory=list)
    """``EXPLAIN (ANALYZE, BUFFERS)`` of each statement the query runs."""


@dataclass
class SizeResult:
    deliveries: int
    load_s: float
    table_mb: float
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    baseline: Timing | None = None
    ticks: list[Timing] = field(default_factory=list)


@contextmanager
def fresh_database() -> Iterator[str]:
    admin = sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"publicist_bench_ticks_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# -- the data ------------------------------------------------------------------------------------


def seed(engine: Engine, *, now: datetime) -> None:
    """Accounts, campaigns and the work in flight: the part that is the same at every size."""
    with engine.begin() as connection:
        run = connection.exec_driver_sql
        run(
            "INSERT INTO accounts (id, platform, handle, credentials_encrypted, created_at) "
            "SELECT g, 'mock', 'ticks-' || g, '\\x00'::bytea, %(now)s "
            "FROM generate_series(1, %(n)s::int) g",
            {"now": now, "n": ACCOUNTS},
        )
        run(
            "INSERT INTO campaigns (id, name, timezone, hashtags, late_policy, created_at) "
            "SELECT g, 'ticks ' || g, 'Asia/Shanghai', '[]', "
            "CASE WHEN g %% 2 = 0 THEN 'miss' ELSE 'publish' END, %(now)s "
            "FROM generate_series(1, %(n)s::int) g",
            {"now": now, "n": CAMPAIGNS},
        )
        run(
            "INSERT INTO posts (id, campaign_id, text, media, state, publish_at, created_at) "
            "SELECT g, 2, 'live ' || g, '[]', 'scheduled', %(now)s, %(now)s "
            "FROM generate_series(1, %(n)s::int) g",
            {"now": now, "n": LIVE_POSTS},
        )
        # Six kinds of work in flight, LIVE each, one post each (campaign 2: late policy miss).
        kinds = [
            # state, due (relative), attempts, lease, queued, submission, published, remote
            ("scheduled", "0 seconds", 0, None, None, None, None),  # due now: claimed
            ("queued", "-1 minute", 0, None, "-1 minute", None, None),  # message lost
            ("scheduled", "-1 hour", 0, None, None, None, None),  # missed (policy miss)
            ("publishing", "-20 minutes", 1, "-10 minutes", None, None, None),  # lease over
            ("submitted", "-5 minutes", 1, None, None, "sub", None),  # platform processing
            ("published", "-2 minutes", 1, None, None, None, "-1 minute"),  # to plan
        ]
        for index, (state, due, attempts, lease, queued, submission, published) in enumerate(kinds):
            run(
                "INSERT INTO deliveries (post_id, account_id, state, due_at, next_attempt_at, "
                "ticket, attempts, lease_until, queued_at, submission_id, published_at, "
                "remote_id, updated_at) "
                "SELECT g, 1 + g %% %(accounts)s, %(state)s, "
                "%(now)s + %(due)s::interval, %(now)s + %(due)s::interval, 1, %(attempts)s, "
                "%(now)s + %(lease)s::interval, %(now)s + %(queued)s::interval, "
                "%(submission)s || g, %(now)s + %(published)s::interval, "
                "CASE WHEN %(published)s::text IS NULL THEN NULL ELSE 'r' || g END, %(now)s "
                "FROM generate_series(%(first)s::int, %(last)s::int) g",
                {
                    "accounts": ACCOUNTS,
                    "state": state,
                    "now": now,
                    "due": due,
                    "attempts": attempts,
                    "lease": lease,
                    "queued": queued,
                    "submission": submission,
                    "published": published,
                    "first": index * LIVE + 1,
                    "last": (index + 1) * LIVE,
                },
            )


def grow(engine: Engine, *, start: int, end: int, now: datetime, history: float) -> float:
    """Deliveries ``start + 1`` to ``end``, due at random times over a year of which the
    share ``history`` lies in the past and the rest ahead (scheduled); returns the seconds it
    took (inserting and ``ANALYZE``). The past ones are published, each with its attempt and
    its metrics row (collected again within a day while younger than 90 days, then no more).
    """
    began = time.perf_counter()
    step = 1_000_000  # one statement per million rows: bounded memory and progress to show
    with engine.connect() as connection:
        connection.exec_driver_sql("SET synchronous_commit = off")
        connection.exec_driver_sql("SELECT setseed(%(seed)s)", {"seed": (start % 997) / 997})
        for low in range(start, end, step):
            high = min(end, low + step)
            first_id = connection.exec_driver_sql(
                "SELECT coalesce(max(id), 0) FROM deliveries"
            ).scalar_one()
            first_post = LIVE_POSTS + low // PER_POST + 1
            last_post = LIVE_POSTS + (high - 1) // PER_POST + 1
            connection.exec_driver_sql(
                "INSERT INTO posts (id, campaign_id, text, media, state, publish_at, created_at) "
                "SELECT g, 1 + g %% %(campaigns)s, 'post ' || g, '[]', 'scheduled', "
                "%(now)s + random() * interval '365 days', %(now)s "
                "FROM generate_series(%(first)s::int, %(last)s::int) g ON CONFLICT DO NOTHING",
                {"campaigns": CAMPAIGNS, "now": now, "first": first_post, "last": last_post},
            )
            connection.exec_driver_sql(
                "INSERT INTO deliveries (post_id, account_id, state, due_at, next_attempt_at, "
                "ticket, attempts, published_at, remote_id, metrics_planned, updated_at) "
                "SELECT p, 1 + (g %% %(accounts)s), "
                "  CASE WHEN past THEN 'published' ELSE 'scheduled' END, d, d, 0, "
                "  CASE WHEN past THEN 1 ELSE 0 END, CASE WHEN past THEN d END, "
                "  CASE WHEN past THEN 'h' || g END, past, %(now)s FROM ("
                "  SELECT g, p, d, d < %(now)s - interval '1 minute' AS past FROM ("
                "    SELECT g, %(live)s + g / %(per)s + 1 AS p, %(start)s::timestamptz "
                "           + random() * interval '365 days' AS d "
                "    FROM generate_series(%(low)s::bigint, %(high)s::bigint) g) r) s",
                {
                    "accounts": ACCOUNTS,
                    "live": LIVE_POSTS,
                    "per": PER_POST,
                    "now": now,
                    "start": now - timedelta(days=365 * history),
                    "low": low,
                    "high": high - 1,
                },
            )
            # History as a running system has it: an attempt per published delivery, and
            # its metrics row, still collected (next_collect_at) inside its 90-day window.
            connection.exec_driver_sql(
                "INSERT INTO delivery_attempts (delivery_id, number, started_at, finished_at, "
                "outcome, duration_ms) "
                "SELECT id, 1, due_at, due_at, 'published', 100 FROM deliveries "
                "WHERE state = 'published' AND id > %(first)s",
                {"first": first_id},
            )
            connection.exec_driver_sql(
                "INSERT INTO delivery_metrics (delivery_id, campaign_id, account_id, platform, "
                "collected_at, views, likes, comments, shares, interactions, extras, "
                "next_collect_at, collections) "
                "SELECT d.id, p.campaign_id, d.account_id, 'mock', %(now)s, 100, 5, 1, 1, 7, "
                "  '{}', CASE WHEN d.published_at > %(now)s - interval '90 days' "
                "  THEN %(now)s + random() * interval '1 day' END, 10 "
                "FROM deliveries d JOIN posts p ON p.id = d.post_id "
                "WHERE d.state = 'published' AND d.id > %(first)s",
                {"first": first_id, "now": now},
            )
            connection.commit()
            print(f"  {high:,} deliveries ({time.perf_counter() - began:.0f} s)", flush=True)
        connection.execute(sa.text("ANALYZE"))
        connection.commit()
    return time.perf_counter() - began


def table_mb(engine: Engine) -> float:
    with engine.connect() as connection:
        size = connection.scalar(sa.text("SELECT pg_total_relation_size('deliveries')"))
    return round(int(size or 0) / 1e6, 1)


# -- the ticks -------------------------------------------------------------------------------


def tick_queries(now: datetime) -> dict[str, Callable[[Session], int]]:
    """Each query beat's ticks run, as the tick calls it (with the default settings)."""
    from campaigns.publishing import claim_due, mark_missed, resend_lost, submitted_deliveries
    from campaigns.reconcile import count_due_unstarted, expired_leases
    from metrics.collection import plan_new
    from publicist.core.settings import Settings

    defaults = Settings.model_fields
    grace = timedelta(seconds=defaults["missed_grace_seconds"].default)
    lookahead = timedelta(seconds=defaults["dispatch_lookahead_seconds"].default)
    requeue = timedelta(seconds=defaults["requeue_after_seconds"].default)
    lease = timedelta(seconds=defaults["publish_lease_seconds"].default)
    margin = timedelta(seconds=defaults["publish_creation_margin_seconds"].default)

    def collection_due(session: Session) -> int:
        from metrics.collection import claim_collections

        return len(claim_collections(session, now=now))

    return {
        "dispatch: missed-post check (mark_missed)": lambda s: len(
            mark_missed(s, now=now, grace=grace)
        ),
        "dispatch: claim due (claim_due)": lambda s: len(
            claim_due(s, now=now, lookahead=lookahead)
        ),
        "dispatch: resend lost messages (resend_lost)": lambda s: len(
            resend_lost(s, now=now, after=requeue)
        ),
        "reconcile: expired leases (expired_leases)": lambda s: len(
            expired_leases(s, now=now, claim_for=lease, margin=margin)
        ),
        "reconcile: due but not started (count_due_unstarted)": lambda s: count_due_unstarted(
            s, now=now
        ),
        "check-submissions: submitted (submitted_deliveries)": lambda s: len(
            submitted_deliveries(s)
        ),
        "collect: plan new (plan_new)": lambda s: plan_new(s, now=now),
        "collect: plan and claim (claim_collections)": collection_due,
    }


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def rolled_back(engine: Engine, call: Callable[[Session], int]) -> tuple[float, int]:
    """Milliseconds ``call`` took and what it returned, in a transaction rolled back."""
    with engine.connect() as connection:
        transaction = connection.begin()
        session = Session(bind=connection)
        began = time.perf_counter()
        found = call(session)
        elapsed = time.perf_counter() - began
        session.close()
        transaction.rollback()
    return elapsed * 1000, found


def timed(engine: Engine, what: str, call: Callable[[Session], int], *, repeat: int) -> Timing:
    for _ in range(min(10, repeat)):  # warm up: caches, prepared statements
        rolled_back(engine, call)
    runs = [rolled_back(engine, call) for _ in range(repeat)]
    times = [ms for ms, _ in runs]
    return Timing(
        what, repeat, round(statistics.median(times), 3), round(_percentile(times, 0.99), 3),
        runs[-1][1],
    )  # fmt: skip


def explain(engine: Engine, call: Callable[[Session], int]) -> list[str]:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of every statement ``call`` runs (rolled back)."""
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "UPDATE", "INSERT", "WITH")):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        rolled_back(engine, call)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    plans = []
    with engine.connect() as connection:
        transaction = connection.begin()
        for statement, parameters in statements:
            if isinstance(parameters, list):  # executemany: the plan of one row is enough
                parameters = parameters[0] if parameters else None
            rows = connection.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
            ).all()
            plans.append("\n".join(str(row[0]) for row in rows))
        transaction.rollback()
    return plans


def measure(engine: Engine, *, now: datetime, repeat: int) -> list[Timing]:
    results = []
    for what, call in tick_queries(now).items():
        timing = timed(engine, what, call, repeat=repeat)
        timing.plans = explain(engine, call)
        results.append(timing)
    return results


def baseline(engine: Engine, *, repeat: int) -> Timing:
    def select_one(session: Session) -> int:
        return int(session.scalar(sa.text("SELECT 1")) or 0)

    return timed(engine, "baseline: SELECT 1 round trip", select_one, repeat=repeat)


# -- main ---------------------------------------------------------------------------------------

_INDEX = re.compile(r"(?:Index(?: Only)? Scan|Bitmap Index Scan)(?: Backward)? (?:using |on )(\w+)")
_SEQ = re.compile(r"Seq Scan on (\w+)")
_BUFFERS = re.compile(r"Buffers: shared (?:hit=(\d+))?\s*(?:read=(\d+))?")


def summary(plans: list[str]) -> str:
    """The indexes read, any sequential scan, and the pages the statements touched."""
    indexes = sorted({name for plan in plans for name in _INDEX.findall(plan)})
    scans = sorted({name for plan in plans for name in _SEQ.findall(plan)})
    pages = 0
    for plan in plans:
        for line in plan.splitlines():
            match = _BUFFERS.search(line)
            if match:  # the first Buffers line is the top node's: the statement's total
                pages += sum(int(group or 0) for group in match.groups())
                break
    text = f"indexes: {', '.join(indexes) or '-'}; pages: {pages}"
    return text + (f"; SEQ SCAN: {', '.join(scans)}" if scans else "")


def _print(result: SizeResult) -> None:
    print(
        f"\n{result.deliveries:,} deliveries (deliveries table {result.table_mb} MB, "
        f"loaded in {result.load_s:.0f} s; load average {result.load_before} -> "
        f"{result.load_after})"
    )
    rows = [result.baseline, *result.ticks] if result.baseline else result.ticks
    for row in rows:
        print(
            f"  {row.query:<56} median {row.median_ms:7.3f} ms  p99 {row.p99_ms:7.3f} ms"
            f"  found {row.found:>4}" + (f"  [{summary(row.plans)}]" if row.plans else "")
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="10000,1000000,10000000", help="deliveries, comma separated"
    )
    parser.add_argument("--repeat", type=int, default=300, help="calls per query and size")
    parser.add_argument(
        "--history", type=float, default=0.5, help="share of the year before now (published)"
    )
    parser.add_argument("--json", type=Path, help="also write the results (with plans) here")
    parser.add_argument("--plans", action="store_true", help="print every plan in full")
    args = parser.parse_args()
    # Stopped from outside: still drop the database (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    sizes = sorted(int(size) for size in args.sizes.split(","))
    now = datetime.now(UTC).replace(microsecond=0)
    results: list[SizeResult] = []
    from publicist.core.database import make_engine
    from publicist.core.migrate import upgrade

    with fresh_database() as url:
        upgrade(url)
        engine = make_engine(url)
        try:
            seed(engine, now=now)
            loaded = 0
            for size in sizes:
                print(f"growing to {size:,} deliveries ...", flush=True)
                load_s = grow(engine, start=loaded, end=size, now=now, history=args.history)
                loaded = size
                result = SizeResult(size, load_s, table_mb(engine), os.getloadavg(), (0, 0, 0))
                result.baseline = baseline(engine, repeat=args.repeat)
                result.ticks = measure(engine, now=now, repeat=args.repeat)
                result.load_after = os.getloadavg()
                _print(result)
                if args.plans:
                    for row in result.ticks:
                        print(f"\n-- {row.query}\n" + "\n\n".join(row.plans))
                results.append(result)
        finally:
            engine.dispose()
    print(f"\n{os.cpu_count()} CPUs; times are per call, through SQLAlchemy and psycopg")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")


if __name__ == "__main__":
    main()
