"""Timeliness benchmark: how late do deliveries start, and how fast does a burst drain?

Runs the production setup on this machine (PostgreSQL and Redis on 127.0.0.1, real
``publicist worker`` and ``publicist beat`` processes) against the X simulator served by
``publicist simulate`` in its own process (or the in-process ``mock`` platform), and in the
same run measures a bare Celery no-op task on the same broker and pool as the baseline.
Workloads, each on fresh accounts provisioned through the simulator's control plane, few
enough posts per account to stay inside X's 100 posts per 15 minutes:

* ``random``: N deliveries due at uniformly random times over a window (default 600 over 120 s);
* ``burst``: a campaign launch, B deliveries (default 2,000) due at the same instant.

Lateness is the start of a delivery's first attempt minus its due time, as the worker records
it. Everything runs on 127.0.0.1, stops by itself, and drops its database and Redis db.

    .venv/bin/python -m benchmarks.timeliness                  # both workloads, X simulator
    .venv/bin/python -m benchmarks.timeliness --workload burst --json burst.json
    .venv/bin/python -m benchmarks.timeliness --platform mock --random 100 --burst 200

Method and results: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import redis
import sqlalchemy as sa
from sqlalchemy import select

POSTGRES_ADMIN = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BROKER = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/12")
SECRET = "benchmark-secret-key"
MOCK_QUOTA = (1_000_000, 1.0)
"""The mock platform measures the pipeline alone: its quota is lifted."""


@dataclass
class Lateness:
    workload: str
    deliveries: int
    accounts: int
    published: int
    failed: int
    retried: int
    """Deliveries that needed more than one attempt (or were deferred by the rate limiter)."""
    duplicates: int
    """Markers the platform holds more than once (simulator only; must be 0)."""
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    drained_after_due_s: float
    """Last publish confirmed, minus the latest due time of the workload."""
    publishes_per_s: float
    """Published deliveries over the span from the first attempt's start to the last publish."""
    cpu_ms_per_publish: dict[str, float] = field(default_factory=dict)
    """CPU per published delivery of each part, from the first due time until all finished;
    ``cores_busy``: how many of the machine's cores were busy on average meanwhile."""
    load_before: float = 0.0
    """The host's 1-minute load average when the first delivery was due (other jobs too)."""
    load_after: float = 0.0
    """The same once every delivery had finished."""


def _percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation): a value that was actually observed."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Database:
    """A throwaway PostgreSQL database, dropped (with its connections) at the end."""

    def __init__(self) -> None:
        self.admin = sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
        self.name = f"publicist_bench_timeliness_{os.getpid()}"
        with self.admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
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
    """SIGTERM the process group (a worker's threads finish their task), SIGKILL after 20 s."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class Profiler:
    """py-spy attached to each process of the run, writing collapsed stacks (``--profile``).

    By default only the thread holding the GIL is sampled, so a process's file shows where its
    CPU time goes; ``idle=True`` samples every thread, to show where they wait.
    """

    def __init__(self, directory: Path | None, *, idle: bool = False) -> None:
        self.directory = directory
        self.idle = idle
        self._spies: list[subprocess.Popen[bytes]] = []
        beside = Path(sys.executable).with_name("py-spy")
        self._command = str(beside) if beside.exists() else shutil.which("py-spy")
        if directory is not None:
            if self._command is None:
                raise SystemExit("--profile needs py-spy: pip install py-spy")
            directory.mkdir(parents=True, exist_ok=True)

    def attach(self, process: subprocess.Popen[bytes], name: str) -> None:
        if self.directory is None or self._command is None:
            return
        command = [self._command, "record", "--pid", str(process.pid), "--format", "raw"]
        command += ["--rate", "100", "--nonblocking", "--idle" if self.idle else "--gil"]
        command += ["--output", str(self.directory / f"{name}.txt")]
        self._spies.append(
            subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )

    def finish(self) -> None:
        """Each spy writes its file once its process has exited; give it the time to."""
        for spy in self._spies:
            try:
                spy.wait(timeout=30)
            except subprocess.TimeoutExpired:
                spy.send_signal(signal.SIGINT)
                spy.wait(timeout=10)


_SERVERS = {"postgres": "postgres", "redis-server": "redis"}
OTHER_DATABASES = "postgres_other_databases"
"""Sessions of other databases on a shared server: reported, not counted in the total."""


def _title(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except (OSError, UnicodeDecodeError):
        return ""


class CpuMeter:
    """CPU seconds (user + system) each part of the run used between two marks (Linux /proc).

    Parts: the processes this run started, by name, and the shared PostgreSQL and Redis
    servers: every Redis process, PostgreSQL's background processes and the sessions (and
    their parallel workers) of the run's own database; other databases' sessions are kept
    apart. Still, measure when nothing else uses the servers.
    """

    def __init__(self, database: str | None = None) -> None:
        self.pids: dict[int, str] = {}
        self.database = database
        self.available = Path("/proc/stat").exists()
        self._ticks = os.sysconf("SC_CLK_TCK") if self.available else 100

    def track(self, process: subprocess.Popen[bytes], name: str) -> None:
        self.pids[process.pid] = name

    def _cpu(self, pid: str) -> float | None:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / self._ticks

    def mark(self) -> tuple[float, dict[str, float], float]:
        """(wall time, CPU seconds per part so far, busy seconds of all cores so far)."""
        parts: dict[str, float] = {}
        if not self.available:
            return time.time(), parts, 0.0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            name = self.pids.get(int(entry))
            if name is None:
                try:
                    comm = Path(f"/proc/{entry}/comm").read_text().strip()
                except OSError:
                    continue
                name = _SERVERS.get(comm)
                if name == "postgres" and self._other_database(entry):
                    name = OTHER_DATABASES
            cpu = self._cpu(entry) if name else None
            if name and cpu is not None:
                parts[name] = parts.get(name, 0.0) + cpu
        stat = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        busy = sum(int(v) for i, v in enumerate(stat) if i not in (3, 4)) / self._ticks
        return time.time(), parts, busy

    def _other_database(self, pid: str) -> bool:
        """Whether a PostgreSQL process works for another database (another job on a shared
        server): a session's title reads ``postgres: [cluster: ]user database host(port) ...``,
        a parallel worker's ``... parallel worker for PID n`` (n: the session it helps).
        Background processes (WAL writer, checkpointer) serve every database and count."""
        if self.database is None:
            return False
        words = _title(pid).rsplit(": ", 1)[-1].split()
        if words[:4] == ["parallel", "worker", "for", "PID"] and len(words) > 4:
            return self._other_database(words[4])
        return len(words) >= 3 and "(" in words[2] and words[1] != self.database

    @staticmethod
    def per_publish(
        before: tuple[float, dict[str, float], float],
        after: tuple[float, dict[str, float], float],
        published: int,
    ) -> dict[str, float]:
        """Milliseconds of CPU per published delivery for each part, and ``cores_busy``."""
        seconds = after[0] - before[0]
        usage = {
            name: round((after[1][name] - before[1].get(name, 0.0)) * 1000 / published, 2)
            for name in sorted(after[1])
        }
        if seconds > 0:
            usage["cores_busy"] = round((after[2] - before[2]) / seconds, 2)
        return usage


@contextmanager
def simulator(
    platform: str, env: dict[str, str], workdir: Path, profiler: Profiler, meter: CpuMeter
) -> Iterator[str]:
    """``publicist simulate`` on a free port; yields the platform's base URL once it answers."""
    port = _free_port()
    command = [sys.executable, "-m", "publicist", "simulate", "--port", str(port)]
    process = _start([*command, "--platform", platform], env, workdir / "simulator.log")
    profiler.attach(process, "simulator")
    meter.track(process, "simulator")
    root = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the simulator exited; see {workdir / 'simulator.log'}")
            try:
                if httpx.get(root + "/", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the simulator did not answer within 60 s")
            time.sleep(0.1)
        yield f"{root}/{platform}"
    finally:
        _stop(process)


def _seed(
    url: str,
    *,
    due: list[datetime],
    accounts: int,
    platform: str,
    base_url: str | None,
    tag: str,
) -> None:
    """One campaign per workload, its own accounts, one delivery per post, all approved."""
    from campaigns.accounts import create_account
    from campaigns.importing import import_schedule
    from campaigns.schemas import CampaignInput
    from campaigns.services import create_campaign
    from connectors.base import Credentials
    from publicist.core.database import make_engine, session_scope
    from simulators.control import SimulatorControl

    control = SimulatorControl(base_url) if base_url else None
    engine = make_engine(url)
    now = datetime.now(UTC)
    try:
        with session_scope(engine) as session:
            handles = []
            for n in range(accounts):
                handle = f"{tag}_{n}"
                if control is not None:
                    credentials = Credentials.from_dict(control.add_account(handle))
                    quota: tuple[int | None, float | None] = (None, None)
                else:
                    credentials = Credentials(
                        access_token=f"bench-token-{n}", user_id=handle, extra={"store": "memory"}
                    )
                    quota = MOCK_QUOTA
                create_account(
                    session,
                    platform=platform,
                    handle=handle,
                    credentials=credentials,
                    secret=SECRET,
                    now=now,
                    api_base_url=base_url,
                    rate_limit_requests=quota[0],
                    rate_limit_per_seconds=quota[1],
                )
                handles.append(f"{platform}:{handle}")
            campaign = f"benchmark {tag}"
            create_campaign(
                session, data=CampaignInput(name=campaign), default_timezone="UTC", now=now
            )
            # Through the CSV import (posts approved and scheduled by the same services'
            # rules, one statement per table): seeding 2,000 posts one service call at a
            # time took longer than the lead on a loaded host.
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(["campaign", "at", "accounts", "text"])
            for index, moment in enumerate(due):
                writer.writerow(
                    [
                        campaign,
                        moment.isoformat(),
                        handles[index % accounts],
                        f"Benchmark {tag} post {index}: on time, exactly once.",
                    ]
                )
            import_schedule(session, lines=out.getvalue().splitlines(), now=now)
    finally:
        engine.dispose()
        if control is not None:
            control.close()


_FINISHED = ("published", "failed", "unknown", "missed", "cancelled")


def _wait_finished(url: str, *, tag: str, count: int, deadline: float) -> None:
    from campaigns.models import Campaign, Delivery, Post

    engine = sa.create_engine(url)
    query = (
        select(sa.func.count())
        .select_from(Delivery)
        .join(Post, Post.id == Delivery.post_id)
        .join(Campaign)
        .where(
            Campaign.name == f"benchmark {tag}",
            sa.cast(Delivery.state, sa.String).in_(_FINISHED),
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


def _measure(url: str, *, tag: str, accounts: int, base_url: str | None) -> Lateness:
    from campaigns.models import Campaign, Delivery, DeliveryAttempt, Post
    from campaigns.states import DeliveryState

    engine = sa.create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                Delivery.id,
                Delivery.state,
                Delivery.due_at,
                Delivery.started_at,
                Delivery.lateness_ms,
                Delivery.attempts,
            )
            .join(Post, Post.id == Delivery.post_id)
            .join(Campaign)
            .where(Campaign.name == f"benchmark {tag}")
        ).all()
        # The worker's clock when the platform's answer was recorded.
        finished: dict[int, datetime | None] = dict(
            connection.execute(
                select(DeliveryAttempt.delivery_id, sa.func.max(DeliveryAttempt.finished_at))
                .where(DeliveryAttempt.delivery_id.in_([r.id for r in rows]))
                .group_by(DeliveryAttempt.delivery_id)
            ).all()
        )
    engine.dispose()
    published = [r for r in rows if DeliveryState(r.state) is DeliveryState.PUBLISHED]
    if not published:
        raise SystemExit(f"{tag}: nothing was published")
    late = [float(r.lateness_ms) for r in published]
    first_start = min(r.started_at for r in published)
    last_done = max(finished[r.id] or r.started_at for r in published)
    last_due = max(r.due_at for r in rows)
    span = (last_done - first_start).total_seconds()
    return Lateness(
        workload=tag,
        deliveries=len(rows),
        accounts=accounts,
        published=len(published),
        failed=len(rows) - len(published),
        retried=sum(1 for r in rows if r.attempts > 1),
        duplicates=_duplicates(base_url),
        p50_ms=_percentile(late, 50),
        p95_ms=_percentile(late, 95),
        p99_ms=_percentile(late, 99),
        max_ms=max(late),
        drained_after_due_s=(last_done - last_due).total_seconds(),
        publishes_per_s=len(published) / span if span > 0 else float("inf"),
    )


def _duplicates(base_url: str | None) -> int:
    if base_url is None:
        return 0
    from simulators.control import SimulatorControl

    control = SimulatorControl(base_url)
    try:
        return sum(1 for count in control.counts().values() if count > 1)
    finally:
        control.close()


def noop_baseline(total: int, workers: int, concurrency: int, workdir: Path) -> float:
    """Tasks per second of a bare no-op Celery task on the same broker, pool and processes.

    The queue is filled first; the workers start on an empty queue and, once every one
    answers a ping, are all told to consume it at the same moment. The rate is taken between
    the first and the last completion, so start-up is not counted (the method of the
    research's section 4, for several worker processes).
    """
    from benchmarks.noop_app import app, fill

    client = redis.Redis.from_url(BROKER)
    client.flushdb()
    fill(total)
    root = str(Path(__file__).resolve().parent.parent)
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "BENCH_BROKER_URL": BROKER, "PYTHONPATH": path}
    command = [sys.executable, "-m", "celery", "-A", "benchmarks.noop_app", "worker"]
    command += ["--loglevel=WARNING", "--pool=threads", f"--concurrency={concurrency}"]
    command += ["--without-gossip", "--without-mingle", "--queues=bench.idle"]
    processes = [
        _start([*command, f"--hostname=noop{n}@%h"], env, workdir / f"noop-{n}.log")
        for n in range(workers)
    ]
    try:
        deadline = time.time() + 120
        while len(app.control.ping(timeout=1.0) or []) < workers:
            if time.time() > deadline or any(p.poll() is not None for p in processes):
                raise SystemExit(f"no-op workers did not start; see {workdir}/noop-*.log")
        app.control.add_consumer(app.conf.task_default_queue, reply=True, timeout=5.0)
        deadline = time.time() + 300
        asked = time.time()
        while client.get("bench:last") is None:
            if time.time() > deadline or any(p.poll() is not None for p in processes):
                raise SystemExit(f"no-op baseline did not finish; see {workdir}/noop-*.log")
            if client.get("bench:first") is None and time.time() - asked > 10:
                # The broadcast is fire-and-forget (Redis pub/sub): a worker that missed it
                # on a loaded host is asked again; asking a consuming worker changes nothing.
                app.control.add_consumer(app.conf.task_default_queue, reply=True, timeout=5.0)
                asked = time.time()
            time.sleep(0.2)
    finally:
        for process in processes:
            _stop(process)
    first = float(client.get("bench:first") or 0)
    last = float(client.get("bench:last") or 0)
    client.flushdb()
    client.close()
    return (total - 1) / (last - first)


def _plans(args: argparse.Namespace, start: datetime) -> list[tuple[str, list[datetime]]]:
    rng = random.Random(args.seed)
    plans: list[tuple[str, list[datetime]]] = []
    if args.workload in ("random", "both"):
        due = [start + timedelta(seconds=rng.uniform(0, args.window)) for _ in range(args.random)]
        plans.append(("random", due))
    if args.workload in ("burst", "both"):
        # After the random window, with a gap so the two never overlap.
        offset = args.window + 15 if args.workload == "both" else 0
        plans.append(("burst", [start + timedelta(seconds=offset)] * args.burst))
    return plans


def _accounts_for(count: int, args: argparse.Namespace) -> int:
    fewest: int = args.accounts
    per_account: int = args.per_account
    return max(fewest, math.ceil(count / per_account))


def _run_workloads(
    args: argparse.Namespace,
    database: Database,
    env: dict[str, str],
    workdir: Path,
    profiler: Profiler,
) -> list[dict[str, Any]]:
    meter = CpuMeter(database.name)
    platform: AbstractContextManager[str | None] = (
        _no_simulator()
        if args.platform == "mock"
        else simulator(args.platform, env, workdir, profiler, meter)
    )
    with platform as base_url:
        start = datetime.now(UTC) + timedelta(seconds=args.lead)
        plans = _plans(args, start)
        sizes = {tag: _accounts_for(len(due), args) for tag, due in plans}
        for tag, due in plans:
            _seed(
                database.url,
                due=due,
                accounts=sizes[tag],
                platform=args.platform,
                base_url=base_url,
                tag=tag,
            )
        if datetime.now(UTC) > start - timedelta(seconds=args.lookahead + 5):
            raise SystemExit(f"seeding took too long; raise --lead above {args.lead}")
        worker_args = ["--queues", "publish", "--concurrency", str(args.concurrency)]
        processes = [
            _start(
                [sys.executable, "-m", "publicist", "worker", *worker_args],
                env,
                workdir / f"worker-{n}.log",
            )
            for n in range(args.workers)
        ]
        processes.append(
            _start([sys.executable, "-m", "publicist", "beat"], env, workdir / "beat.log")
        )
        for n, process in enumerate(processes[:-1]):
            profiler.attach(process, f"worker-{n}")
            meter.track(process, "workers")
        profiler.attach(processes[-1], "beat")
        meter.track(processes[-1], "beat")
        try:
            measured = []
            for tag, due in plans:
                time.sleep(max(0.0, min(due).timestamp() - time.time()))
                before = meter.mark()
                load_before = os.getloadavg()[0]
                deadline = max(due).timestamp() + args.timeout
                _wait_finished(database.url, tag=tag, count=len(due), deadline=deadline)
                after = meter.mark()
                result = _measure(database.url, tag=tag, accounts=sizes[tag], base_url=base_url)
                result.cpu_ms_per_publish = CpuMeter.per_publish(before, after, result.published)
                result.load_before, result.load_after = load_before, os.getloadavg()[0]
                measured.append(asdict(result))
            return measured
        finally:
            for process in processes:
                _stop(process)


@contextmanager
def _no_simulator() -> Iterator[str | None]:
    yield None


def run(args: argparse.Namespace) -> dict[str, Any]:
    from publicist.core.migrate import upgrade

    workdir = Path(tempfile.mkdtemp(prefix="publicist-bench-"))
    database = Database()
    broker = redis.Redis.from_url(BROKER)
    if broker.dbsize():
        # Another run's workers on the same Redis database would take this run's messages
        # (and it would flush theirs): each concurrent run needs its own BENCH_BROKER_URL.
        raise SystemExit(
            f"{BROKER} is not empty: another benchmark may be using it; set BENCH_BROKER_URL "
            "to a free Redis database (or flush this one if it is left over from a crash)"
        )
    env = {
        **os.environ,
        "PUBLICIST_DATABASE_URL": database.url,
        "PUBLICIST_BROKER_URL": BROKER,
        "PUBLICIST_SECRET_KEY": SECRET,
        "PUBLICIST_DISPATCH_TICK_SECONDS": "1",
        "PUBLICIST_DISPATCH_LOOKAHEAD_SECONDS": str(args.lookahead),
        # Collection would compete for the same cores; this benchmark is about publishing.
        "PUBLICIST_COLLECT_TICK_SECONDS": "3600",
    }
    results: dict[str, Any] = {
        "platform": args.platform,
        "pool": "threads",
        "workers": args.workers,
        "concurrency": args.concurrency,
        "lookahead_s": args.lookahead,
    }
    ok = False
    try:
        upgrade(database.url)
        profiler = Profiler(args.profile, idle=args.profile_idle)
        try:
            results["lateness"] = _run_workloads(args, database, env, workdir, profiler)
        finally:
            profiler.finish()
        runs = [
            noop_baseline(args.noop, args.workers, args.concurrency, workdir)
            for _ in range(args.noop_runs)
        ]
        results["noop_runs_per_s"] = runs
        results["noop_tasks_per_s"] = statistics.median(runs)
        ok = True
    finally:
        broker.flushdb()
        broker.close()
        database.drop()
        if ok and not args.keep_logs:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            results["logs"] = str(workdir)
            print(f"logs kept in {workdir}", file=sys.stderr)
    return results


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workload", choices=["random", "burst", "both"], default="both")
    parser.add_argument("--random", type=int, default=600, help="deliveries at random times")
    parser.add_argument("--window", type=float, default=120, help="seconds they spread over")
    parser.add_argument("--burst", type=int, default=2000, help="deliveries due at once")
    parser.add_argument(
        "--per-account",
        type=int,
        default=80,
        help="most deliveries per account (X allows 100 posts per 15 minutes)",
    )
    parser.add_argument("--accounts", type=int, default=1, help="fewest accounts per workload")
    parser.add_argument("--platform", default="twitter", help="mock, or a simulated platform")
    parser.add_argument("--workers", type=int, default=2, help="publish worker processes")
    parser.add_argument("--concurrency", type=int, default=8, help="threads per worker")
    parser.add_argument("--lookahead", type=float, default=10.0, help="dispatcher look-ahead, s")
    parser.add_argument("--lead", type=float, default=60.0, help="seconds before the first due")
    parser.add_argument("--timeout", type=float, default=300.0, help="s after the last due")
    parser.add_argument("--noop", type=int, default=5000, help="no-op tasks per baseline run")
    parser.add_argument("--noop-runs", type=int, default=3, help="baseline runs (median)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--scale",
        type=lambda text: [int(n) for n in text.split(",")],
        help="burst only, once per worker count (e.g. 1,2,4), each with its own baseline",
    )
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--keep-logs", action="store_true", help="keep the process logs")
    parser.add_argument(
        "--profile", type=Path, help="py-spy each process; collapsed stacks into this directory"
    )
    parser.add_argument(
        "--profile-idle", action="store_true", help="sample waiting threads too (not only CPU)"
    )
    return parser


def _report(results: dict[str, Any]) -> None:
    baseline = float(results["noop_tasks_per_s"])
    for row in results.get("lateness", []):
        print(
            f"{row['workload']:>6}: {row['published']}/{row['deliveries']} published on "
            f"{row['accounts']} accounts ({row['retried']} retried, {row['duplicates']} "
            f"duplicates); lateness p50 {row['p50_ms']:.0f} ms, p95 {row['p95_ms']:.0f} ms, "
            f"p99 {row['p99_ms']:.0f} ms, max {row['max_ms']:.0f} ms; last published "
            f"{row['drained_after_due_s']:.2f} s after its due time; "
            f"{row['publishes_per_s']:.0f} publishes/s ({row['publishes_per_s'] / baseline:.0%} "
            "of the baseline)"
        )
        cpu = row["cpu_ms_per_publish"]
        if cpu:
            parts = ", ".join(
                f"{k} {v:.2f}" for k, v in cpu.items() if k not in ("cores_busy", OTHER_DATABASES)
            )
            print(
                f"        CPU per publish (ms): {parts}; all {_cpu_total(cpu):.2f}; "
                f"cores busy: {cpu.get('cores_busy', 0):.2f}; other jobs' PostgreSQL sessions "
                f"{cpu.get(OTHER_DATABASES, 0):.2f} (not ours, not in the total)"
            )
        print(
            f"        host load (1 min) {row['load_before']:.2f} at the due time, "
            f"{row['load_after']:.2f} when drained"
        )
    runs = ", ".join(f"{r:.0f}" for r in results["noop_runs_per_s"])
    print(
        f"baseline: {baseline:.0f} no-op tasks/s ({results['workers']} workers x "
        f"{results['concurrency']} threads; runs: {runs})"
    )


def _cpu_total(cpu: dict[str, float]) -> float:
    return sum(v for k, v in cpu.items() if k not in ("cores_busy", OTHER_DATABASES))


def _capacity(rows: list[dict[str, Any]]) -> None:
    """The scale-out table: what each layout published, and what a core of each role does."""
    print(
        "\nworkers  drained  publishes/s  no-op/s  share  CPU ms/publish (workers, postgres+redis,"
        " simulator, all)  per worker core/min  per db core/min  load"
    )
    for row in rows:
        burst = row["lateness"][0]
        cpu = burst["cpu_ms_per_publish"]
        workers_ms = cpu.get("workers", 0.0) + cpu.get("beat", 0.0)
        central_ms = cpu.get("postgres", 0.0) + cpu.get("redis", 0.0)
        print(
            f"{row['workers']:>7}  {burst['drained_after_due_s']:>6.1f}s  "
            f"{burst['publishes_per_s']:>11.0f}  {row['noop_tasks_per_s']:>7.0f}  "
            f"{burst['publishes_per_s'] / row['noop_tasks_per_s']:>5.0%}  "
            f"{workers_ms:>6.2f}, {central_ms:.2f}, {cpu.get('simulator', 0.0):.2f}, "
            f"{_cpu_total(cpu):.2f}  "
            f"{60_000 / workers_ms if workers_ms else 0:>19,.0f}  "
            f"{60_000 / central_ms if central_ms else 0:>15,.0f}  "
            f"{burst['load_before']:.1f}/{burst['load_after']:.1f}"
        )


def main() -> None:
    args = _parser().parse_args()
    if args.scale:
        rows = []
        for workers in args.scale:
            layout = argparse.Namespace(**{**vars(args), "workers": workers, "workload": "burst"})
            print(f"burst with {workers} worker process(es) of {args.concurrency} threads")
            results = run(layout)
            _report(results)
            rows.append(results)
        _capacity(rows)
        if args.json:
            args.json.write_text(json.dumps({"scale": rows}, indent=2) + "\n")
        return
    results = run(args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    _report(results)


if __name__ == "__main__":
    main()
