"""Timeliness benchmark: how late do deliveries start, and how fast does a burst drain?

Runs the production setup on this machine (PostgreSQL and Redis on 127.0.0.1, real
``publicist worker`` and ``publicist beat`` processes) against a platform, and in the same run
measures a bare Celery no-op task on the same broker as the baseline. Workloads:

* ``random``: N deliveries due at uniformly random times over a window (default 600 over 120 s);
* ``burst``: a campaign launch, B deliveries (default 2,000) due at the same instant.

    .venv/bin/python -m benchmarks.timeliness            # both workloads
    .venv/bin/python -m benchmarks.timeliness --workload burst --burst 2000

Method and results: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis
import sqlalchemy as sa
from sqlalchemy import select

POSTGRES_ADMIN = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BROKER = "redis://127.0.0.1:6379/12"
SECRET = "benchmark-secret-key"


@dataclass
class Lateness:
    workload: str
    deliveries: int
    published: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    drained_after_due_s: float
    publishes_per_s: float


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


class Database:
    def __init__(self) -> None:
        self.admin = sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
        self.name = f"publicist_bench_{os.getpid()}"
        with self.admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.name}"'))
            connection.execute(sa.text(f'CREATE DATABASE "{self.name}"'))
        self.url = POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{self.name}"

    def drop(self) -> None:
        with self.admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            args,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=log.parent,
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _seed(
    url: str, *, due: list[datetime], accounts: int, platform: str, base_url: str | None, tag: str
) -> None:
    from campaigns.accounts import create_account
    from campaigns.schemas import CampaignInput, PostInput
    from campaigns.services import add_post, create_campaign
    from connectors.base import Credentials
    from publicist.core.database import make_engine, session_scope

    engine = make_engine(url)
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        handles = []
        for n in range(accounts):
            handle = f"{tag}-account-{n}"
            credentials = Credentials(
                access_token=f"bench-token-{n}", user_id=handle, extra={"store": "memory"}
            )
            create_account(
                session,
                platform=platform,
                handle=handle,
                credentials=credentials,
                secret=SECRET,
                now=now,
                api_base_url=base_url,
                rate_limit_requests=1_000_000,
                rate_limit_per_seconds=1.0,
            )
            handles.append(f"{platform}:{handle}")
        campaign = f"benchmark {tag}"
        create_campaign(session, data=CampaignInput(name=campaign), default_timezone="UTC", now=now)
        for index, moment in enumerate(due):
            add_post(
                session,
                data=PostInput(
                    campaign=campaign,
                    text=f"{tag} post {index}",
                    accounts=[handles[index % accounts]],
                    at=moment.isoformat(),
                ),
                now=now,
                approve=True,
            )
    engine.dispose()


def _wait_published(url: str, *, tag: str, count: int, deadline: float) -> None:
    from campaigns.models import Campaign, Delivery, Post
    from campaigns.states import DeliveryState

    engine = sa.create_engine(url)
    query = (
        select(sa.func.count())
        .select_from(Delivery)
        .join(Post, Post.id == Delivery.post_id)
        .join(Campaign)
        .where(
            Campaign.name == f"benchmark {tag}",
            Delivery.state.in_([DeliveryState.PUBLISHED, DeliveryState.FAILED]),
        )
    )
    try:
        while time.time() < deadline:
            with engine.connect() as connection:
                if connection.scalar(query) == count:
                    return
            time.sleep(0.5)
        raise SystemExit(f"{tag}: not every delivery finished before the deadline")
    finally:
        engine.dispose()


def _measure(url: str, *, tag: str) -> Lateness:
    from campaigns.models import Campaign, Delivery, Post
    from campaigns.states import DeliveryState

    engine = sa.create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                Delivery.state,
                Delivery.due_at,
                Delivery.started_at,
                Delivery.published_at,
                Delivery.lateness_ms,
            )
            .join(Post, Post.id == Delivery.post_id)
            .join(Campaign)
            .where(Campaign.name == f"benchmark {tag}")
        ).all()
    engine.dispose()
    published = [
        r
        for r in rows
        if r.state == DeliveryState.PUBLISHED.value or r.state is DeliveryState.PUBLISHED
    ]
    late = [float(r.lateness_ms) for r in published]
    first_start = min(r.started_at for r in published)
    last_done = max(r.published_at for r in published)
    last_due = max(r.due_at for r in published)
    span = (last_done - first_start).total_seconds()
    return Lateness(
        workload=tag,
        deliveries=len(rows),
        published=len(published),
        p50_ms=_percentile(late, 50),
        p95_ms=_percentile(late, 95),
        p99_ms=_percentile(late, 99),
        max_ms=max(late),
        drained_after_due_s=(last_done - last_due).total_seconds(),
        publishes_per_s=len(published) / span if span > 0 else float("inf"),
    )


def noop_baseline(total: int, concurrency: int, workdir: Path) -> float:
    """Tasks per second of a bare no-op Celery task on the same broker and pool."""
    from benchmarks.noop_app import app, noop

    client = redis.Redis.from_url(app.conf.broker_url)
    client.flushdb()
    with app.producer_or_acquire() as producer:
        for _ in range(total):
            noop.apply_async((total,), producer=producer)
    env = {**os.environ, "BENCH_BROKER_URL": app.conf.broker_url}
    worker = _start(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "benchmarks.noop_app",
            "worker",
            "--loglevel=WARNING",
            "--pool=threads",
            f"--concurrency={concurrency}",
            "--without-gossip",
            "--without-mingle",
        ],
        env,
        workdir / "noop.log",
    )
    try:
        deadline = time.time() + 300
        while client.get("bench:last") is None:
            if time.time() > deadline or worker.poll() is not None:
                raise SystemExit("no-op baseline did not finish; see noop.log")
            time.sleep(0.2)
    finally:
        _stop(worker)
    first = eval(client.get("bench:first") or b"(0, 0)")  # noqa: S307 - our own repr of TIME
    last = eval(client.get("bench:last") or b"(0, 0)")  # noqa: S307
    client.flushdb()
    client.close()
    seconds = (last[0] + last[1] / 1e6) - (first[0] + first[1] / 1e6)
    return total / seconds


def run(args: argparse.Namespace) -> dict[str, object]:
    from publicist.core.migrate import upgrade

    workdir = Path(tempfile.mkdtemp(prefix="publicist-bench-"))
    database = Database()
    broker = redis.Redis.from_url(BROKER)
    broker.flushdb()
    processes: list[subprocess.Popen[bytes]] = []
    results: dict[str, object] = {"platform": args.platform, "concurrency": args.concurrency}
    try:
        upgrade(database.url)
        base_url = None
        env = {
            **os.environ,
            "PUBLICIST_DATABASE_URL": database.url,
            "PUBLICIST_BROKER_URL": BROKER,
            "PUBLICIST_SECRET_KEY": SECRET,
            "PUBLICIST_DISPATCH_TICK_SECONDS": "1",
            "PUBLICIST_DISPATCH_LOOKAHEAD_SECONDS": str(args.lookahead),
            "PUBLICIST_COLLECT_TICK_SECONDS": "3600",
        }
        if args.platform != "mock":
            port = 18_000 + os.getpid() % 1000
            processes.append(
                _start(
                    [sys.executable, "-m", "publicist", "simulate", "--port", str(port)],
                    env,
                    workdir / "simulator.log",
                )
            )
            base_url = f"http://127.0.0.1:{port}/{args.platform}"
            time.sleep(2)
        rng = random.Random(args.seed)
        start = datetime.now(UTC) + timedelta(seconds=args.lead)
        plans: list[tuple[str, list[datetime]]] = []
        if args.workload in ("random", "both"):
            plans.append(
                (
                    "random",
                    [
                        start + timedelta(seconds=rng.uniform(0, args.window))
                        for _ in range(args.random)
                    ],
                )
            )
        if args.workload in ("burst", "both"):
            at = start + timedelta(seconds=(args.window + 15) if args.workload == "both" else 0)
            plans.append(("burst", [at] * args.burst))
        for tag, due in plans:
            _seed(
                database.url,
                due=due,
                accounts=args.accounts,
                platform=args.platform,
                base_url=base_url,
                tag=tag,
            )
        seeded_at = datetime.now(UTC)
        if seeded_at > start - timedelta(seconds=5):
            raise SystemExit(f"seeding took too long; raise --lead above {args.lead}")
        processes.append(
            _start(
                [
                    sys.executable,
                    "-m",
                    "publicist",
                    "worker",
                    "--queues",
                    "publish",
                    "--concurrency",
                    str(args.concurrency),
                ],
                env,
                workdir / "worker.log",
            )
        )
        processes.append(
            _start([sys.executable, "-m", "publicist", "beat"], env, workdir / "beat.log")
        )
        measured = []
        for tag, due in plans:
            _wait_published(
                database.url, tag=tag, count=len(due), deadline=max(due).timestamp() + 300
            )
            measured.append(asdict(_measure(database.url, tag=tag)))
        results["lateness"] = measured
    finally:
        for process in processes:
            _stop(process)
        broker.flushdb()
        broker.close()
        database.drop()
    results["noop_tasks_per_s"] = noop_baseline(args.noop, args.concurrency, workdir)
    results["workdir"] = str(workdir)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workload", choices=["random", "burst", "both"], default="both")
    parser.add_argument("--random", type=int, default=600, help="deliveries at random times")
    parser.add_argument("--window", type=float, default=120, help="seconds they spread over")
    parser.add_argument("--burst", type=int, default=2000, help="deliveries due at once")
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--platform", default="twitter", help="mock, or a simulated platform")
    parser.add_argument("--concurrency", type=int, default=32, help="worker threads")
    parser.add_argument("--lookahead", type=float, default=10.0)
    parser.add_argument("--lead", type=float, default=60.0, help="seconds before the first due")
    parser.add_argument("--noop", type=int, default=5000, help="no-op tasks for the baseline")
    parser.add_argument("--seed", type=int, default=7)
    results = run(parser.parse_args())
    print(json.dumps(results, indent=2))
    rows = results.get("lateness", [])
    assert isinstance(rows, list)
    for row in rows:
        print(
            f"{row['workload']:>7}: {row['published']}/{row['deliveries']} published; "
            f"lateness p50 {row['p50_ms']:.1f} ms, p95 {row['p95_ms']:.1f} ms, "
            f"p99 {row['p99_ms']:.1f} ms, max {row['max_ms']:.1f} ms; last published "
            f"{row['drained_after_due_s']:.2f} s after its due time; "
            f"{row['publishes_per_s']:.0f} publishes/s"
        )
    print(f"baseline: {results['noop_tasks_per_s']:.0f} no-op tasks/s")


if __name__ == "__main__":
    main()
