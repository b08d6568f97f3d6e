"""Reports benchmark: dashboard reads over a large history, and collection throughput.

Builds a fresh PostgreSQL database (dropped afterwards), loads it with COPY through psycopg:
100,000 published deliveries over 101 campaigns (one campaign holds 10% of them) and 100
accounts on four platforms, their latest values, 90 days of daily rollups per campaign and
platform, and 10,000,000 snapshots (100 hourly rounds, in time order). Then it measures:

* reads, called directly: campaign totals (from rollups), the per-day series, the full
  campaign report, the all-campaign list and an account view (p50/p99 over many calls);
* the same numbers through the HTTP API (``publicist.web.app:create_app`` under uvicorn on
  127.0.0.1), when the web package is installed;
* collection: ``run_collect`` ticks measuring 100,000 published posts against the mock
  connector, first as never measured and then as a refresh, through the Redis rate limiter.

    .venv/bin/python -m benchmarks.reports                       # full size
    .venv/bin/python -m benchmarks.reports --deliveries 10000 --snapshots 200000 --collect 5000

Method and results: docs/benchmarks.md ("Reports").
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import redis
import sqlalchemy as sa
from sqlalchemy.orm import Session

POSTGRES_ADMIN = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = "redis://127.0.0.1:6379/13"
SECRET = "benchmark-secret-key"
PLATFORMS = ("twitter", "weibo", "wechat", "tiktok")
NO_VIEWS = {"weibo"}
DAYS = 90


@dataclass
class Shape:
    deliveries: int
    snapshots: int
    campaigns: int
    accounts: int
    big_share: float

    @property
    def big(self) -> int:
        return max(1, round(self.deliveries * self.big_share))


@dataclass
class Timing:
    what: str
    calls: int
    p50_ms: float
    p99_ms: float
    mean_ms: float


@dataclass
class Results:
    shape: dict[str, Any]
    load_seconds: dict[str, float] = field(default_factory=dict)
    sizes: dict[str, str] = field(default_factory=dict)
    direct: list[Timing] = field(default_factory=list)
    api: list[Timing] = field(default_factory=list)
    api_note: str = ""
    baseline: dict[str, Any] = field(default_factory=dict)
    """The host's same-run floor: a trivial request, a ``SELECT 1`` round trip, the load."""
    plans: dict[str, str] = field(default_factory=dict)
    collection: dict[str, Any] = field(default_factory=dict)


# -- the database -------------------------------------------------------------------------------


@contextmanager
def fresh_database() -> Iterator[str]:
    admin = sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"publicist_bench_reports_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _ts(moment: datetime) -> str:
    return moment.isoformat()


def _null(value: object) -> str:
    return "\\N" if value is None else str(value)


def _copy(
    connection: psycopg.Connection[Any], table: str, columns: str, lines: Iterator[str]
) -> None:
    """COPY text rows, handed to the server in ~4 MB chunks."""
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        buffer = io.StringIO()
        size = 0
        for line in lines:
            buffer.write(line)
            size += len(line)
            if size > 4_000_000:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
                size = 0
        if size:
            copy.write(buffer.getvalue())


@dataclass
class Latest:
    campaign: int
    account: int
    platform: str
    views: int | None
    likes: int
    comments: int
    shares: int

    @property
    def interactions(self) -> int:
        return self.likes + self.comments + self.shares


def load(url: str, shape: Shape, *, now: datetime, seed: int = 7) -> dict[str, float]:
    """The read dataset; every counter consistent: snapshots end at the latest values, and
    each campaign's days add up to its totals."""
    rng = random.Random(seed)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    accounts = [(i + 1, PLATFORMS[i % len(PLATFORMS)]) for i in range(shape.accounts)]
    latest: list[Latest] = []
    published: list[datetime] = []
    for index in range(shape.deliveries):
        others = max(1, shape.campaigns - 1)
        campaign = 1 if index < shape.big else 2 + (index - shape.big) % others
        account_id, platform = accounts[index % len(accounts)]
        audience = 5_000 + rng.randrange(40_000)
        latest.append(
            Latest(
                campaign=campaign,
                account=account_id,
                platform=platform,
                views=None if platform in NO_VIEWS else audience,
                likes=audience * 30 // 1000,
                comments=audience * 5 // 1000,
                shares=audience * 9 // 1000,
            )
        )
        published.append(now - timedelta(days=rng.uniform(4, DAYS - 1)))
    with psycopg.connect(_libpq(url)) as connection:
        _copy(
            connection,
            "campaigns",
            "id, name, timezone, hashtags, late_policy, created_at",
            (
                f"{c}\tBenchmark campaign {c}\tAsia/Shanghai\t[]\tpublish\t{_ts(now)}\n"
                for c in range(1, shape.campaigns + 1)
            ),
        )
        _copy(
            connection,
            "accounts",
            "id, platform, handle, credentials_encrypted, created_at",
            (f"{a}\t{p}\tbench-{a}\t\\\\x00\t{_ts(now)}\n" for a, p in accounts),
        )
        _copy(
            connection,
            "posts",
            "id, campaign_id, text, media, state, publish_at, created_at",
            (
                f"{i + 1}\t{row.campaign}\tBenchmark post {i + 1}\t[]\tscheduled\t"
                f"{_ts(published[i])}\t{_ts(published[i])}\n"
                for i, row in enumerate(latest)
            ),
        )
        _copy(
            connection,
            "deliveries",
            "id, post_id, account_id, state, due_at, next_attempt_at, ticket, attempts, "
            "published_at, remote_id, url, updated_at",
            (
                f"{i + 1}\t{i + 1}\t{row.account}\tpublished\t{_ts(published[i])}\t"
                f"{_ts(published[i])}\t1\t1\t{_ts(published[i])}\tr{i + 1}\t"
                f"https://{row.platform}.example/{i + 1}\t{_ts(published[i])}\n"
                for i, row in enumerate(latest)
            ),
        )
        # Finished collecting (next_collect_at NULL): the collection part uses its own posts.
        _copy(
            connection,
            "delivery_metrics",
            "delivery_id, campaign_id, account_id, platform, collected_at, views, likes, "
            "comments, shares, interactions, extras, next_collect_at, collections",
            (
                f"{i + 1}\t{row.campaign}\t{row.account}\t{row.platform}\t{_ts(now)}\t"
                f"{_null(row.views)}\t{row.likes}\t{row.comments}\t{row.shares}\t"
                f"{row.interactions}\t{{}}\t\\N\t{max(1, shape.snapshots // shape.deliveries)}\n"
                for i, row in enumerate(latest)
            ),
        )
        _copy(connection, "metric_daily_rollups", _ROLLUP_COLUMNS, _rollups(latest, now=now))
        for statement in (
            "SELECT setval('campaigns_id_seq', (SELECT max(id) FROM campaigns))",
            "SELECT setval('accounts_id_seq', (SELECT max(id) FROM accounts))",
            "SELECT setval('posts_id_seq', (SELECT max(id) FROM posts))",
            "SELECT setval('deliveries_id_seq', (SELECT max(id) FROM deliveries))",
        ):
            connection.execute(statement)
        # Something for the failures list to find: one delivery in a hundred failed, one in a
        # thousand unknown (one set-based statement each; the count triggers follow).
        connection.execute(
            "UPDATE deliveries SET state = 'failed', last_error = 'content rejected', "
            "last_error_code = 'rejected', published_at = NULL WHERE id % 100 = 7"
        )
        connection.execute(
            "UPDATE deliveries SET state = 'unknown', published_at = NULL WHERE id % 1000 = 13"
        )
        connection.commit()
        timings["domain rows, latest values, rollups"] = time.perf_counter() - started

        started = time.perf_counter()
        # Bulk-load practice: drop the secondary index and foreign key, load, rebuild.
        connection.execute("DROP INDEX ix_metric_snapshots_delivery_collected")
        connection.execute(
            "ALTER TABLE metric_snapshots "
            "DROP CONSTRAINT fk_metric_snapshots_delivery_id_deliveries"
        )
        connection.commit()
        _copy(
            connection,
            "metric_snapshots",
            "delivery_id, collected_at, views, likes, comments, shares, extras, raw",
            _snapshots(latest, shape=shape, now=now),
        )
        connection.commit()
        timings["snapshots COPY"] = time.perf_counter() - started
        started = time.perf_counter()
        connection.execute(
            "CREATE INDEX ix_metric_snapshots_delivery_collected "
            "ON metric_snapshots (delivery_id, collected_at)"
        )
        connection.execute(
            "ALTER TABLE metric_snapshots ADD CONSTRAINT "
            "fk_metric_snapshots_delivery_id_deliveries FOREIGN KEY (delivery_id) "
            "REFERENCES deliveries (id)"
        )
        connection.commit()
        timings["snapshot index + foreign key"] = time.perf_counter() - started
        started = time.perf_counter()
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE")
        timings["VACUUM ANALYZE"] = time.perf_counter() - started
    return timings


_ROLLUP_COLUMNS = (
    "campaign_id, platform, day, views, likes, comments, shares, interactions, updated_at"
)


def _rollups(latest: list[Latest], *, now: datetime) -> Iterator[str]:
    """Each campaign × platform's totals spread over 90 days, decaying; days sum to totals."""
    totals: dict[tuple[int, str], list[int | None]] = {}
    for row in latest:
        key = (row.campaign, row.platform)
        sums = totals.setdefault(key, [None if row.platform in NO_VIEWS else 0, 0, 0, 0, 0])
        for slot, value in enumerate(
            (row.views, row.likes, row.comments, row.shares, row.interactions)
        ):
            if value is not None:
                sums[slot] = (sums[slot] or 0) + value
    weights = [math.exp(-day / 12) for day in range(DAYS)]
    scale = sum(weights)
    first = now.date() - timedelta(days=DAYS - 1)
    for (campaign, platform), sums in sorted(totals.items()):
        spent: list[int] = [0] * len(sums)
        for day in range(DAYS):
            cells: list[str] = []
            for slot, total in enumerate(sums):
                if total is None:
                    cells.append("\\N")
                    continue
                share = (
                    total - spent[slot]
                    if day == DAYS - 1
                    else math.floor(total * weights[day] / scale)
                )
                spent[slot] += share
                cells.append(str(share))
            yield (
                f"{campaign}\t{platform}\t{(first + timedelta(days=day)).isoformat()}\t"
                + "\t".join(cells)
                + f"\t{_ts(now)}\n"
            )


def _snapshots(latest: list[Latest], *, shape: Shape, now: datetime) -> Iterator[str]:
    """Hourly rounds, oldest first (rounds outer, posts inner: the heap is in time order)."""
    rounds = max(1, shape.snapshots // shape.deliveries)
    extra = shape.snapshots - rounds * shape.deliveries
    for r in range(rounds + (1 if extra > 0 else 0)):
        moment = _ts(now - timedelta(hours=rounds - r))
        fraction = min(1.0, (r + 1) / rounds)
        count = shape.deliveries if r < rounds else extra
        for i in range(count):
            row = latest[i]
            views = "\\N" if row.views is None else str(int(row.views * fraction))
            yield (
                f"{i + 1}\t{moment}\t{views}\t{int(row.likes * fraction)}\t"
                f"{int(row.comments * fraction)}\t{int(row.shares * fraction)}\t{{}}\t{{}}\n"
            )


def table_sizes(url: str) -> dict[str, str]:
    with psycopg.connect(_libpq(url)) as connection:
        rows = connection.execute(
            "SELECT relname, pg_size_pretty(pg_total_relation_size(oid)), "
            "(SELECT reltuples::bigint) FROM pg_class WHERE relname IN "
            "('metric_snapshots', 'delivery_metrics', 'metric_daily_rollups', 'deliveries') "
            "ORDER BY relname"
        ).fetchall()
    return {name: f"{size} (~{count:,} rows)" for name, size, count in rows}


# -- measuring ----------------------------------------------------------------------------------


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[index]


def timed(what: str, call: Callable[[], object], *, repeat: int, warmup: int = 20) -> Timing:
    for _ in range(warmup):
        call()
    samples: list[float] = []
    for _ in range(repeat):
        started = time.perf_counter_ns()
        call()
        samples.append((time.perf_counter_ns() - started) / 1e6)
    return Timing(
        what=what,
        calls=repeat,
        p50_ms=round(_percentile(samples, 50), 3),
        p99_ms=round(_percentile(samples, 99), 3),
        mean_ms=round(statistics.fmean(samples), 3),
    )


def measure_direct(url: str, shape: Shape, *, repeat: int) -> list[Timing]:
    from campaigns.models import Account, Campaign
    from campaigns.queries import Windows, attention_counts, deliveries_needing_attention
    from metrics.reports import (
        account_report,
        campaign_report,
        campaign_summaries,
        campaign_totals,
        daily_series,
    )
    from publicist.core.database import make_engine, session_factory

    engine = make_engine(url)
    sessions = session_factory(engine)
    now = datetime.now(UTC)
    windows = Windows(late_start=timedelta(seconds=60), publishing=timedelta(seconds=90))
    typical = 2 if shape.campaigns > 1 else 1
    big_size = shape.big
    typical_size = (shape.deliveries - shape.big) // max(1, shape.campaigns - 1)

    def run(fn: Callable[[Session], object]) -> Callable[[], object]:
        def call() -> object:
            with sessions() as session:  # a fresh session per call, as per request
                return fn(session)

        return call

    with sessions() as session:
        big = session.get_one(Campaign, 1)
        small = session.get_one(Campaign, typical)
        account = session.get_one(Account, 1)
        session.expunge_all()
    per_account = shape.deliveries // shape.accounts
    timings = [
        timed(
            f"campaign totals, {big_size:,}-post campaign (campaign_totals)",
            run(lambda s: campaign_totals(s, campaign_id=big.id)),
            repeat=repeat,
        ),
        timed(
            f"campaign totals, {typical_size:,}-post campaign (campaign_totals)",
            run(lambda s: campaign_totals(s, campaign_id=small.id)),
            repeat=repeat,
        ),
        timed(
            f"per-day series, {big_size:,}-post campaign (daily_series, {DAYS} days × 4)",
            run(lambda s: daily_series(s, campaign_id=big.id)),
            repeat=repeat,
        ),
        timed(
            f"per-day series, {typical_size:,}-post campaign (daily_series)",
            run(lambda s: daily_series(s, campaign_id=small.id)),
            repeat=repeat,
        ),
        timed(
            f"full campaign report, {typical_size:,} posts (campaign_report, top 5)",
            run(lambda s: campaign_report(s, campaign=small, top=5)),
            repeat=repeat,
        ),
        timed(
            f"full campaign report, {big_size:,} posts (campaign_report, top 5)",
            run(lambda s: campaign_report(s, campaign=big, top=5)),
            repeat=max(50, repeat // 10),
        ),
        timed(
            f"account view, {per_account:,} posts (account_report)",
            run(lambda s: account_report(s, account=account, top=5)),
            repeat=max(50, repeat // 10),
        ),
        timed(
            f"campaign list, all {shape.campaigns} campaigns (campaign_summaries)",
            run(campaign_summaries),
            repeat=max(20, repeat // 50),
            warmup=3,
        ),
        timed(
            "needing attention, first 100 of every campaign (deliveries_needing_attention)",
            run(lambda s: deliveries_needing_attention(s, now=now, windows=windows)),
            repeat=repeat,
        ),
        timed(
            "attention counts per campaign (attention_counts)",
            run(lambda s: attention_counts(s, now=now, windows=windows, by="campaign")),
            repeat=repeat,
        ),
    ]
    engine.dispose()
    return timings


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _busiest_month(url: str, campaign_id: int) -> tuple[str, int]:
    """The first day of the month (Asia/Shanghai) holding most of the campaign's deliveries,
    and how many it holds: the calendar page's heaviest month."""
    with psycopg.connect(_libpq(url)) as connection:
        row = connection.execute(
            "SELECT date_trunc('month', d.due_at AT TIME ZONE 'Asia/Shanghai')::date, count(*) "
            "FROM deliveries d JOIN posts p ON p.id = d.post_id WHERE p.campaign_id = %s "
            "GROUP BY 1 ORDER BY 2 DESC LIMIT 1",
            (campaign_id,),
        ).fetchone()
    if row is None:
        return datetime.now(UTC).date().replace(day=1).isoformat(), 0
    return row[0].isoformat(), int(row[1])


def baseline(url: str, *, repeat: int) -> dict[str, Any]:
    """What this host does for nothing: a ``SELECT 1`` round trip on a kept connection, and
    the load average (read again after the reads; compare ratios across hosts, not ms)."""
    with psycopg.connect(_libpq(url), autocommit=True) as connection:
        select_one = timed(
            "SELECT 1 round trip (psycopg, kept connection)",
            lambda: connection.execute("SELECT 1").fetchone(),
            repeat=repeat,
        )
    return {
        "select_1": asdict(select_one),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }


def measure_api(url: str, shape: Shape, *, repeat: int) -> tuple[list[Timing], str]:
    try:
        import publicist.web.app  # noqa: F401
        from campaigns.people.services import add_person
        from publicist.web.tokens import Role, create_token
        from publicist.web.websessions import COOKIE, start_session
    except ImportError as error:
        return [], f"skipped: the HTTP API is not installed ({error})"
    from publicist.core.database import make_engine, session_scope

    engine = make_engine(url)
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        token = create_token(session, role=Role.VIEWER, name="benchmark", now=now).secret
        person = add_person(
            session,
            name="Benchmark viewer",
            email=f"bench-{uuid.uuid4().hex[:6]}@example.org",
            role=Role.VIEWER,
            password=uuid.uuid4().hex,
            now=now,
            language="en",
        )
        cookie, _ = start_session(session, person=person, now=now)
    engine.dispose()
    month, in_month = _busiest_month(url, 1)
    port = _free_port()
    env = {**os.environ, "PUBLICIST_DATABASE_URL": url, "PUBLICIST_SECRET_KEY": SECRET}
    log = tempfile.NamedTemporaryFile(prefix="bench-api-", suffix=".log", delete=False)  # noqa: SIM115
    server = subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", "--factory", "publicist.web.app:create_app",
            "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
            "--no-access-log",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    typical = 2 if shape.campaigns > 1 else 1
    typical_size = (shape.deliveries - shape.big) // max(1, shape.campaigns - 1)
    per_account = shape.deliveries // shape.accounts
    try:
        client = httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if client.get("/api/reports/campaigns/1/series").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                return [], f"skipped: the API did not start (log: {log.name})"
            time.sleep(0.2)

        def get(path: str, **options: Any) -> Callable[[], object]:
            def call() -> object:
                response = client.get(path, **options)
                response.raise_for_status()
                return response.content

            return call

        def page(path: str) -> Callable[[], object]:
            """A signed-in person's page: the session cookie, no token."""
            browser = httpx.Client(
                base_url=f"http://127.0.0.1:{port}", cookies={COOKIE: cookie}, timeout=30
            )

            def call() -> object:
                response = browser.get(path)
                response.raise_for_status()
                if "/signin" in str(response.url):
                    raise RuntimeError(f"{path}: not signed in")
                return response.content

            return call

        few = max(50, repeat // 10)
        timings = [
            timed("GET /health (the floor: one request, SELECT 1)", get("/health"), repeat=repeat),
            timed(
                f"GET campaign totals, {shape.big:,}-post campaign",
                get("/api/reports/campaigns/1/totals"),
                repeat=repeat,
            ),
            timed(
                f"GET campaign totals, {typical_size:,}-post campaign",
                get(f"/api/reports/campaigns/{typical}/totals"),
                repeat=repeat,
            ),
            timed(
                f"GET per-day series, {shape.big:,}-post campaign",
                get("/api/reports/campaigns/1/series"),
                repeat=repeat,
            ),
            timed(
                f"GET campaign report, {typical_size:,} posts (totals, platforms, days, top 5)",
                get(f"/api/reports/campaigns/{typical}"),
                repeat=repeat,
            ),
            timed(
                f"GET campaign report, {shape.big:,} posts",
                get("/api/reports/campaigns/1"),
                repeat=repeat,
            ),
            timed(
                f"GET account view, {per_account:,} posts (per campaign, top 5)",
                get("/api/reports/accounts/1"),
                repeat=repeat,
            ),
            timed(
                f"GET campaign list, {shape.campaigns} campaigns",
                get("/api/reports/campaigns"),
                repeat=few,
            ),
            timed(
                f"GET failures of the {shape.big:,}-post campaign (first 100)",
                get("/api/reports/campaigns/1/failures"),
                repeat=repeat,
            ),
            timed("GET failures of every campaign (first 100)", get("/api/reports/failures"),
                  repeat=repeat),
            timed(
                f"GET /calendar month {month[:7]}, {shape.big:,}-post campaign "
                f"({in_month:,} entries)",
                page(f"/calendar?view=month&start={month}&campaign=1"),
                repeat=few,
                warmup=5,
            ),
            # Reads beyond the list, measured so that what they cost is on record.
            timed(
                f"GET every account's report, {shape.accounts} accounts",
                get("/api/reports/accounts"),
                repeat=few,
            ),
            timed(
                f"GET posts of the {shape.big:,}-post campaign (first 100, with deliveries)",
                get("/api/posts", params={"campaign": "1"}),
                repeat=few,
            ),
            timed(
                f"GET /dashboard ({shape.campaigns} campaigns, {shape.accounts} accounts, charts)",
                page("/dashboard"),
                repeat=few,
                warmup=5,
            ),
        ]  # fmt: skip
        client.close()
        return timings, ""
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        log.close()


def explain(url: str) -> dict[str, str]:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of the reads' heaviest statements, as the API runs them."""
    statements = {
        "delivery counts of one campaign": (
            "SELECT c.campaign_id, a.platform, c.state, sum(c.n) FROM delivery_counts c "
            "JOIN accounts a ON a.id = c.account_id WHERE c.n <> 0 AND c.campaign_id = 1 "
            "GROUP BY 1, 2, 3"
        ),
        "delivery counts of every campaign": (
            "SELECT c.campaign_id, a.platform, c.state, sum(c.n) FROM delivery_counts c "
            "JOIN accounts a ON a.id = c.account_id WHERE c.n <> 0 GROUP BY 1, 2, 3"
        ),
        "campaign totals of every campaign (kept per platform)": (
            "SELECT campaign_id, platform, views, views_days, interactions, updated_at "
            "FROM campaign_platform_totals ORDER BY campaign_id, platform"
        ),
        "failures, first 100 that ended badly": (
            "SELECT d.id FROM deliveries d JOIN posts p ON p.id = d.post_id "
            "WHERE d.state IN ('failed', 'unknown', 'missed') "
            "ORDER BY d.due_at DESC, d.id DESC LIMIT 100"
        ),
        "failures of campaign 1, first 100 that ended badly": (
            "SELECT d.id FROM deliveries d JOIN posts p ON p.id = d.post_id "
            "WHERE d.state IN ('failed', 'unknown', 'missed') AND d.campaign_id = 1 "
            "ORDER BY d.due_at DESC, d.id DESC LIMIT 100"
        ),
        "expired reviews (the inbox count in every page's header)": (
            "SELECT count(*) FROM posts WHERE state = 'in_review' "
            "AND publish_at IS NOT NULL AND publish_at <= now()"
        ),
        "an account's first and last publish": (
            "SELECT min(published_at), max(published_at) FROM deliveries "
            "WHERE account_id = 1 AND state IN ('published')"
        ),
        "calendar month of campaign 1, ids and due times": (
            "SELECT id, due_at FROM deliveries WHERE campaign_id = 1 AND due_at >= "
            "(SELECT min(due_at) FROM deliveries) AND due_at < "
            "(SELECT min(due_at) FROM deliveries) + interval '31 days' ORDER BY due_at, id"
        ),
        "an account's top 5": (
            "SELECT delivery_id FROM delivery_metrics WHERE account_id = 1 "
            "ORDER BY interactions DESC, delivery_id LIMIT 5"
        ),
    }
    found: dict[str, str] = {}
    with psycopg.connect(_libpq(url), autocommit=True) as connection:
        for name, sql in statements.items():
            rows = connection.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}").fetchall()
            found[name] = "\n".join(str(row[0]) for row in rows)
    return found


# -- collection ---------------------------------------------------------------------------------


def collection(url: str, *, posts: int, accounts: int, workers: int) -> dict[str, Any]:
    """``posts`` published on the mock platform by ``accounts`` accounts; ticks until done."""
    from campaigns.accounts import create_account
    from campaigns.models import Campaign
    from connectors.base import Credentials, RateLimitPolicy
    from connectors.mock import MockConnector, MockPlatform
    from metrics import platforms
    from metrics.reports import campaign_totals
    from publicist.core.clock import FrozenClock
    from publicist.core.database import dispose_engines, make_engine, session_scope
    from publicist.core.settings import get_settings, reset_settings
    from scheduler.collecting import run_collect
    from scheduler.ratelimit import LocalRateLimiter, RateLimiter, RedisRateLimiter

    run = uuid.uuid4().hex[:6]  # names of its own, so a database can take several runs
    workdir = Path(tempfile.mkdtemp(prefix="bench-collect-"))
    store = str(workdir / "mock-platform.sqlite")
    MockPlatform.open(store).close()  # creates its schema
    published_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    engine = make_engine(url)
    with session_scope(engine) as session:
        campaign = Campaign(
            name=f"Collection benchmark {run}", timezone="Asia/Shanghai", hashtags=[],
            created_at=published_at,
        )  # fmt: skip
        session.add(campaign)
        ids: list[tuple[int, str]] = []
        for n in range(accounts):
            handle = f"collect-{run}-{n}"
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
                now=published_at,
            )
            ids.append((account.id, handle))
        session.flush()
        campaign_id = campaign.id
    with psycopg.connect(_libpq(url)) as connection:
        first_post = connection.execute("SELECT coalesce(max(id), 0) + 1 FROM posts").fetchone()
        assert first_post is not None
        base = int(first_post[0])
        stamp = _ts(published_at)
        _copy(
            connection,
            "posts",
            "id, campaign_id, text, media, state, publish_at, created_at",
            (
                f"{base + i}\t{campaign_id}\tcollect {i}\t[]\tscheduled\t{stamp}\t{stamp}\n"
                for i in range(posts)
            ),
        )
        _copy(
            connection,
            "deliveries",
            "id, post_id, account_id, state, due_at, next_attempt_at, ticket, attempts, "
            "published_at, remote_id, updated_at",
            (
                f"{base + i}\t{base + i}\t{ids[i % accounts][0]}\tpublished\t{stamp}\t{stamp}\t"
                f"1\t1\t{stamp}\tc{run}{i:07d}\t{stamp}\n"
                for i in range(posts)
            ),
        )
        connection.execute("SELECT setval('posts_id_seq', (SELECT max(id) FROM posts))")
        connection.execute("SELECT setval('deliveries_id_seq', (SELECT max(id) FROM deliveries))")
        connection.commit()
        connection.autocommit = True
        connection.execute("ANALYZE")
    mock = sqlite3.connect(store)
    mock.executemany(
        "INSERT INTO posts VALUES (?, ?, ?, ?, ?)",
        (
            (f"c{run}{i:07d}", ids[i % accounts][1], f"publicist-{base + i}", f"collect {i}",
             published_at.timestamp())
            for i in range(posts)
        ),
    )  # fmt: skip
    mock.commit()
    mock.close()

    os.environ["PUBLICIST_DATABASE_URL"] = url
    os.environ["PUBLICIST_SECRET_KEY"] = SECRET
    reset_settings()
    dispose_engines()
    settings = get_settings()
    # The mock platform declares no read quota; give it X's (GET /2/tweets, 5,000 requests per
    # 15 minutes per account) so every request goes through the rate limiter as in production.
    reads = RateLimitPolicy(requests=5_000, per_seconds=15 * 60)
    with_quota = replace(MockConnector.capabilities, metrics_rate_limit=reads)
    looked_up = platforms.capabilities_of
    platforms.capabilities_of = lambda name: with_quota if name == "mock" else looked_up(name)  # type: ignore[assignment]
    limiter: RateLimiter
    redis_client = redis.Redis.from_url(REDIS_URL)
    try:
        redis_client.ping()
        limiter = RedisRateLimiter(redis_client)
        limiter_name = "Redis (production limiter)"
    except redis.RedisError:
        limiter = LocalRateLimiter()
        limiter_name = "in-process (Redis unreachable)"
    clock = FrozenClock(published_at + timedelta(minutes=30))

    def tick(_: int = 0) -> int:
        return run_collect(settings=settings, clock=clock, limiter=limiter)

    def drain() -> tuple[int, float, int]:
        """Ticks (``workers`` at once, as on a multi-threaded metrics worker) until none
        finds anything due."""
        started = time.perf_counter()
        recorded = 0
        ticks = 0
        with ThreadPoolExecutor(max_workers=workers) as pool:
            while True:
                results = [tick()] if workers == 1 else list(pool.map(tick, range(workers)))
                ticks += workers
                recorded += sum(results)
                if not any(results):
                    break
        return recorded, time.perf_counter() - started, ticks

    try:
        first, first_s, first_ticks = drain()
        clock.advance(timedelta(minutes=6))  # five-minute cadence in the first hour: due again
        second, second_s, second_ticks = drain()
    finally:
        platforms.capabilities_of = looked_up
    with MockPlatform.open(store) as platform:
        truth = platform.totals(clock.now())
    with session_scope(engine) as session:
        totals = campaign_totals(session, campaign_id=campaign_id)
    engine.dispose()
    dispose_engines()
    for account_id, _ in ids:  # the limiter's keys of this run's accounts, whatever their suffix
        for key in redis_client.scan_iter(match=f"publicist:ratelimit:account:{account_id}:*"):
            redis_client.delete(key)
    redis_client.close()
    for leftover in workdir.iterdir():
        leftover.unlink()
    workdir.rmdir()
    return {
        "posts": posts,
        "accounts": accounts,
        "workers": workers,
        "rate limiter": f"{limiter_name}, {reads.requests} reads per {reads.per_seconds:.0f} s",
        "first measurement": {
            "recorded": first, "seconds": round(first_s, 2), "ticks": first_ticks,
            "posts_per_s": round(first / first_s),
        },
        "refresh": {
            "recorded": second, "seconds": round(second_s, 2), "ticks": second_ticks,
            "posts_per_s": round(second / second_s),
        },
        "totals equal the platform": (totals.views, totals.interactions)
        == (truth.views, truth.interactions),
    }  # fmt: skip


# -- main ---------------------------------------------------------------------------------------


def _print(results: Results) -> None:
    print(f"\nshape: {results.shape}")
    if results.baseline:
        print(f"baseline: {json.dumps(results.baseline)}")
    for what, seconds in results.load_seconds.items():
        print(f"  load: {what}: {seconds:.1f} s")
    for table, size in results.sizes.items():
        print(f"  size: {table}: {size}")
    for title, rows in (("direct (in the database, via the metrics functions)", results.direct),
                        ("through the HTTP API", results.api)):  # fmt: skip
        print(f"\n{title}")
        for row in rows:
            print(f"  {row.what:<78} p50 {row.p50_ms:8.3f} ms   p99 {row.p99_ms:8.3f} ms")
    if results.api_note:
        print(f"  {results.api_note}")
    for name, plan in results.plans.items():
        print(f"\nplan: {name}\n{plan}")
    print(f"\ncollection: {json.dumps(results.collection, indent=2)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=100_000)
    parser.add_argument("--snapshots", type=int, default=10_000_000)
    parser.add_argument("--campaigns", type=int, default=101)
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--big-share", type=float, default=0.10, help="share of campaign 1")
    parser.add_argument(
        "--repeat", type=int, default=1000, help="calls per read measured; 0: skip the reads"
    )
    parser.add_argument("--collect", type=int, default=100_000, help="posts to collect; 0: skip")
    parser.add_argument("--collect-accounts", type=int, default=100)
    parser.add_argument("--collect-workers", type=int, default=1, help="concurrent ticks")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    shape = Shape(args.deliveries, args.snapshots, args.campaigns, args.accounts, args.big_share)
    now = datetime.now(UTC).replace(microsecond=0)
    results = Results(shape=asdict(shape))
    with fresh_database() as url:
        from publicist.core.migrate import upgrade

        upgrade(url)
        print(f"loading {shape.deliveries:,} deliveries and {shape.snapshots:,} snapshots ...")
        results.load_seconds = load(url, shape, now=now)
        results.sizes = table_sizes(url)
        if args.repeat:
            print("measuring reads ...")
            results.baseline = baseline(url, repeat=args.repeat)
            results.direct = measure_direct(url, shape, repeat=args.repeat)
            results.api, results.api_note = measure_api(url, shape, repeat=args.repeat)
            results.baseline["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
            results.plans = explain(url)
        if args.collect:
            print(f"collecting {args.collect:,} posts ...")
            results.collection = collection(
                url,
                posts=args.collect,
                accounts=args.collect_accounts,
                workers=args.collect_workers,
            )
        from publicist.core.database import dispose_engines

        dispose_engines()
    _print(results)
    if args.json:
        args.json.write_text(json.dumps(asdict(results), indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
