"""Chaos benchmark: is every post published exactly once, and on time, while things break?

A bounded run of the production setup on 127.0.0.1 with its own private PostgreSQL and
Redis (started here, as tests/faults does, so they can be stopped and killed), one beat and
two publish workers (``publicist worker``), and the X simulator. Meanwhile:

* a random worker is killed with SIGKILL every 10-20 s and started again;
* Redis is killed (SIGKILL, no persistence: every queued message is lost) and restarted
  6 s before the burst;
* PostgreSQL stops for 20 s;
* the simulator answers 10 % of requests with a 5xx for 20 s, commits posts and drops the
  answer (10 % of creates) for 20 s, and sends a storm of 429s.

Workload: ``--spread`` deliveries (300) due at random times over three minutes and a burst of
``--burst`` (100) due at one instant, on ``--accounts`` X accounts (few posts each, inside
X's 100 per 15 minutes). At the end it prints lost (never settled), duplicated (on the
platform more than once), early (an attempt started before the due time), failed and unknown
counts, and lateness percentiles (first attempt's start minus the due time) for every
delivery a platform's pacing did not hold back (those of an account that met the 429 storm
are reported apart). The lease is short (30 s, creation margin 15 s; the simulator answers
in milliseconds) so that attempts killed mid-publish settle within the run.

    .venv/bin/python -m benchmarks.chaos                 # about six minutes
    .venv/bin/python -m benchmarks.chaos --json chaos.json --seed 7

Method and results: docs/benchmarks.md ("Chaos").
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError

from campaigns.accounts import create_account
from campaigns.models import Delivery, DeliveryAttempt
from campaigns.schemas import CampaignInput, PostInput
from campaigns.services import add_post, create_campaign
from campaigns.states import DeliveryState
from connectors.base import Credentials
from publicist.core.database import make_engine, session_scope
from publicist.core.migrate import upgrade
from simulators.control import SimulatorControl
from simulators.server import SimulatorServer
from tests.faults.services import PrivatePostgres, PrivateRedis

SECRET = "chaos-benchmark-secret-key"
CAMPAIGN = "Chaos week"
LEASE_SECONDS = 30.0
MARGIN_SECONDS = 15.0
FINAL = {DeliveryState.PUBLISHED, DeliveryState.FAILED, DeliveryState.UNKNOWN}


@dataclass
class Result:
    deliveries: int
    published: int
    lost: int
    duplicated: int
    early: int
    failed: int
    unknown: int
    paced: int
    """Deliveries of accounts that met the 429 storm: their lateness is the platform's."""
    db_held: int
    """Deliveries due while PostgreSQL was stopped: none can start before it is back."""
    p50_s: float
    p95_s: float
    p99_s: float
    max_s: float
    p99_all_s: float
    """p99 over every delivery, the paced ones included."""
    p99_outside_outage_s: float
    """p99 over the deliveries neither paced nor due during the database outage."""
    spread_p99_s: float
    """p99 of the spread deliveries alone (not paced)."""
    burst_p50_s: float
    burst_p99_s: float
    """The burst alone (not paced): 100 due at one instant, 6 s after Redis restarted empty."""
    over_10_s: list[int] = field(default_factory=list)
    """Delivery ids (not paced) that started more than 10 s late."""
    kills: int = 0
    wall_s: float = 0.0
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    cores: int = 0
    events: list[str] = field(default_factory=list)


class Process:
    """One ``publicist`` process in its own process group, so a kill takes all of it."""

    def __init__(self, args: list[str], *, env: dict[str, str], root: Path, name: str) -> None:
        self.args, self.env, self.root, self.name = args, env, root, name
        self.starts = 0
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.starts += 1
        log = self.root / f"{self.name}-{self.starts}.log"
        with log.open("wb") as output:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "publicist", *self.args],
                env=self.env,
                cwd=self.root,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=20)

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def _env(database_url: str, broker_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLICIST_")}
    env.update(
        {
            "PUBLICIST_DATABASE_URL": database_url,
            "PUBLICIST_BROKER_URL": broker_url,
            "PUBLICIST_SECRET_KEY": SECRET,
            "PUBLICIST_PUBLISH_LEASE_SECONDS": str(LEASE_SECONDS),
            "PUBLICIST_PUBLISH_CREATION_MARGIN_SECONDS": str(MARGIN_SECONDS),
            "PUBLICIST_RECONCILE_TICK_SECONDS": "2",
            "PUBLICIST_RECONCILE_SETTLE_SECONDS": "2",
            "PUBLICIST_COLLECT_TICK_SECONDS": "3600",
        }
    )
    return env


def _schedule(
    engine: Engine,
    control: SimulatorControl,
    *,
    base_url: str,
    accounts: int,
    spread: int,
    burst: int,
    first_in: float,
    window: float,
    burst_in: float,
    rng: random.Random,
) -> dict[int, str]:
    """Writes the schedule; returns account id -> the account's id on the simulator."""
    run = uuid.uuid4().hex[:8]
    now = datetime.now(UTC)
    remote: dict[int, str] = {}
    labels: list[str] = []
    with session_scope(engine) as session:
        create_campaign(
            session,
            data=CampaignInput(name=CAMPAIGN, timezone="Asia/Shanghai"),
            default_timezone="Asia/Shanghai",
            now=now,
        )
        for index in range(accounts):
            handle = f"@chaos_{run}_{index}"
            granted = control.add_account(handle)
            account = create_account(
                session,
                platform="twitter",
                handle=handle,
                credentials=Credentials.from_dict(granted),
                secret=SECRET,
                now=now,
                api_base_url=base_url,
            )
            remote[account.id] = str(granted["account_id"])
            labels.append(f"twitter:{handle}")
        dues = [first_in + rng.uniform(0, window) for _ in range(spread)] + [burst_in] * burst
        for n, offset in enumerate(dues):
            add_post(
                session,
                data=PostInput(
                    campaign=CAMPAIGN,
                    text=f"Chaos notice {n} (run {run})",
                    accounts=[labels[n % accounts]],
                    at=(now + timedelta(seconds=offset)).isoformat(),
                ),
                now=now,
                approve=True,
            )
    return remote


def _chaos(
    *,
    start: float,
    until: float,
    workers: list[Process],
    redis_server: PrivateRedis,
    postgres: PrivatePostgres,
    control: SimulatorControl,
    burst_at: float,
    rng: random.Random,
    events: list[str],
    marks: dict[str, float],
) -> int:
    """Runs the faults on a timeline (seconds after ``start``); returns the worker kills."""
    plan: list[tuple[float, str, Callable[[], Any]]] = []
    t = 20.0
    while t < until:
        victim = rng.randrange(len(workers))

        def kill(w: Process = workers[victim]) -> None:
            w.kill()
            w.start()

        plan.append((t, f"kill -9 worker {victim + 1}", kill))
        t += rng.uniform(10, 20)
    plan += [
        (50.0, "PostgreSQL stops (20 s)", _marked(marks, "db_from", postgres.stop)),
        (70.0, "PostgreSQL starts", _marked(marks, "db_until", postgres.start)),
        (85.0, "simulator: 10 % 5xx", lambda: control.faults(error_rate=0.1)),
        (105.0, "simulator: 5xx off", lambda: control.faults(error_rate=0.0)),
        (burst_at - 8, "Redis killed", redis_server.kill),
        (burst_at - 6, "Redis restarts empty", redis_server.start),
        (150.0, "simulator: commit then drop 10 %", lambda: control.faults(drop_rate=0.1)),
        (170.0, "simulator: drops off", lambda: control.faults(drop_rate=0.0)),
        (180.0, "simulator: 429 storm (30 answers, reset in 20 s)", _storm(control, marks)),
    ]
    kills = 0
    for at, what, action in sorted(plan, key=lambda item: item[0]):
        time.sleep(max(0.0, start + at - time.monotonic()))
        events.append(f"{time.monotonic() - start:6.1f} s  {what}")
        print(events[-1], flush=True)
        action()
        kills += what.startswith("kill")
    return kills


def _marked(marks: dict[str, float], key: str, action: Callable[[], None]) -> Callable[[], None]:
    def run() -> None:
        marks[key] = time.time()
        action()

    return run


def _storm(control: SimulatorControl, marks: dict[str, float]) -> Callable[[], None]:
    def start() -> None:
        marks["storm_from"] = time.time()
        control.faults(rate_limit_next=30, rate_limit_seconds=20)
        marks["storm_until"] = time.time() + 20

    return start


def _settled(engine: Engine) -> bool:
    with session_scope(engine) as session:
        states = set(session.scalars(select(Delivery.state).distinct()))
    return states <= FINAL


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _measure(
    engine: Engine,
    control: SimulatorControl,
    *,
    remote: dict[int, str],
    marks: dict[str, float],
) -> Result:
    posts = control.posts()
    texts = Counter((str(p["account_id"]), str(p["text"])) for p in posts)
    states: Counter[DeliveryState] = Counter()
    late: dict[int, float] = {}
    paced: set[int] = set()
    held: set[int] = set()
    burst: set[int] = set()
    db_from = datetime.fromtimestamp(marks.get("db_from", 0), UTC)
    db_until = datetime.fromtimestamp(marks.get("db_until", 0), UTC)
    early = duplicated = 0
    storm_from = datetime.fromtimestamp(marks.get("storm_from", 0), UTC)
    storm_until = datetime.fromtimestamp(marks.get("storm_until", 0) + 30, UTC)
    with session_scope(engine) as session:
        limited = set(
            session.scalars(
                select(DeliveryAttempt.delivery_id).where(
                    DeliveryAttempt.message.like("%rate limited%")  # a 429 (connectors.twitter)
                )
            )
        )
        limited_accounts = set(
            session.scalars(select(Delivery.account_id).where(Delivery.id.in_(limited)))
        )
        # The burst: the one due time that many deliveries share.
        burst_due = Counter(session.scalars(select(Delivery.due_at))).most_common(1)[0][0]
        for delivery in session.scalars(select(Delivery)):
            states[delivery.state] += 1
            text = delivery.post.text
            copies = sum(
                n
                for (acc, body), n in texts.items()
                if acc == remote[delivery.account_id] and text in body
            )
            duplicated += copies > 1
            if delivery.started_at is not None and delivery.started_at < delivery.due_at:
                early += 1
            if delivery.started_at is None:
                continue
            late[delivery.id] = (delivery.started_at - delivery.due_at).total_seconds()
            if delivery.due_at == burst_due:
                burst.add(delivery.id)
            if db_from <= delivery.due_at <= db_until:
                held.add(delivery.id)
            if delivery.id in limited or (
                delivery.account_id in limited_accounts
                and storm_from <= delivery.due_at <= storm_until
            ):
                paced.add(delivery.id)
    kept = [v for k, v in late.items() if k not in paced]
    in_burst = [v for k, v in late.items() if k not in paced and k in burst]
    in_spread = [v for k, v in late.items() if k not in paced and k not in burst]
    outside = [v for k, v in late.items() if k not in paced and k not in held]
    return Result(
        deliveries=sum(states.values()),
        published=states[DeliveryState.PUBLISHED],
        lost=sum(n for s, n in states.items() if s not in FINAL),
        duplicated=duplicated,
        early=early,
        failed=states[DeliveryState.FAILED],
        unknown=states[DeliveryState.UNKNOWN],
        paced=len(paced),
        db_held=len(held),
        p50_s=round(statistics.median(kept), 2) if kept else 0.0,
        p95_s=round(_percentile(kept, 0.95), 2),
        p99_s=round(_percentile(kept, 0.99), 2),
        max_s=round(max(kept), 2) if kept else 0.0,
        p99_all_s=round(_percentile(list(late.values()), 0.99), 2),
        p99_outside_outage_s=round(_percentile(outside, 0.99), 2),
        spread_p99_s=round(_percentile(in_spread, 0.99), 2),
        burst_p50_s=round(_percentile(in_burst, 0.5), 2),
        burst_p99_s=round(_percentile(in_burst, 0.99), 2),
        over_10_s=sorted(k for k, v in late.items() if k not in paced and v > 10),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spread", type=int, default=300)
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--window", type=float, default=180.0, help="seconds of the spread")
    parser.add_argument("--settle", type=float, default=240.0, help="wait after the window")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    load_before = os.getloadavg()
    began = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="publicist-chaos-"))
    redis_server = PrivateRedis(root)
    postgres = PrivatePostgres()
    workers: list[Process] = []
    beat: Process | None = None
    try:
        redis_server.start()
        postgres.start()
        url = postgres.create_database("publicist")
        upgrade(url)
        engine = make_engine(url)
        with SimulatorServer(["twitter"]) as simulator:
            control = SimulatorControl(simulator.base_url("twitter"))
            first_in, burst_in = 30.0, 135.0
            start = time.monotonic()  # due times and the fault timeline count from here
            remote = _schedule(
                engine,
                control,
                base_url=simulator.base_url("twitter"),
                accounts=args.accounts,
                spread=args.spread,
                burst=args.burst,
                first_in=first_in,
                window=args.window,
                burst_in=burst_in,
                rng=rng,
            )
            env = _env(url, redis_server.url)
            workers = [
                Process(
                    ["worker", "--queues", "publish", "--concurrency", "4"],
                    env=env,
                    root=root,
                    name=f"worker{n + 1}",
                )
                for n in range(2)
            ]
            beat = Process(["beat"], env=env, root=root, name="beat")
            for process in (*workers, beat):
                process.start()
            events: list[str] = []
            marks: dict[str, float] = {}
            kills = _chaos(
                start=start,
                until=first_in + args.window,
                workers=workers,
                redis_server=redis_server,
                postgres=postgres,
                control=control,
                burst_at=burst_in,
                rng=rng,
                events=events,
                marks=marks,
            )
            deadline = time.monotonic() + args.settle
            while time.monotonic() < deadline:
                try:
                    if _settled(engine):
                        break
                except OperationalError:
                    print("database not answering; asking again", flush=True)
                time.sleep(2)
            control.clear_faults()
            result = _measure(engine, control, remote=remote, marks=marks)
            result.kills = kills
            result.events = events
            control.close()
        engine.dispose()
    finally:
        for process in (*workers, *([beat] if beat else [])):
            process.stop()
        redis_server.stop()
        postgres.remove()
    result.wall_s = round(time.monotonic() - began, 1)
    result.load_before = load_before
    result.load_after = os.getloadavg()
    result.cores = os.cpu_count() or 0
    report = asdict(result)
    print(json.dumps({k: v for k, v in report.items() if k != "events"}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    ok = result.lost == result.duplicated == result.early == 0
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
