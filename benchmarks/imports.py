"""CSV import benchmark: a 10,000-row schedule through the service and through the CLI.

For each engine (a SQLite file in a temporary folder, and a fresh PostgreSQL database that
it creates and drops) the script migrates an empty schema, adds two mock accounts and five
campaigns, writes a CSV of ``--rows`` rows (two accounts each, half with a per-platform
variant, every time in the future and in the campaign's zone), then measures:

* ``service``: ``campaigns.importing.import_schedule`` plus the commit, in this process
  (parse, validate, insert), as the API's request does;
* ``cli``: ``publicist schedule import FILE`` as a fresh process (interpreter start and
  imports included), on an emptied copy of the same schema;
* ``startup``: ``publicist --help``, the part of ``cli`` that is not the import.

Wall time depends on what else the host runs, so each line also gives the CPU seconds the
measured process used (its own for ``service``, the child's for ``cli`` and ``startup``).

Each run is checked: every row became a post with two scheduled deliveries.

    .venv/bin/python -m benchmarks.imports                  # 10,000 rows, both engines
    .venv/bin/python -m benchmarks.imports --rows 2000 --engines sqlite

Method and results: docs/benchmarks.md ("Imports"). ``BENCH_POSTGRES_URL`` names the server.
"""

from __future__ import annotations

import argparse
import csv
import functools
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from campaigns.accounts import create_account
from campaigns.importing import import_schedule
from campaigns.schemas import CampaignInput
from campaigns.services import create_campaign
from connectors.base import Credentials
from publicist.core.database import make_engine, session_scope
from publicist.core.migrate import upgrade

POSTGRES_ADMIN = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SECRET = "benchmark-secret-key"
ZONES = ("Asia/Shanghai", "Europe/Berlin", "America/New_York", "UTC", "Asia/Tokyo")
NOW = datetime(2026, 12, 1, tzinfo=UTC)
TABLES = ("deliveries", "post_targets", "post_variants", "posts")


@dataclass
class Result:
    engine: str
    path: str
    rows: int
    seconds: list[float]
    cpu_seconds: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def median_cpu(self) -> float:
        return statistics.median(self.cpu_seconds)


def schedule_csv(rows: int) -> str:
    """``rows`` posts over five campaigns, each to both accounts, half with a variant."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["campaign", "at", "accounts", "title", "text", "text@mock"])
    for index in range(rows):
        day, minute = divmod(index, 24 * 60)
        hour, minute = divmod(minute, 60)
        if hour in (1, 2):  # never inside a daylight-saving gap or overlap
            hour += 8
        writer.writerow(
            [
                f"Campaign {index % len(ZONES)}",
                f"2099-{1 + day // 28 % 12:02d}-{1 + day % 28:02d} {hour:02d}:{minute:02d}",
                "mock:@bench-a;mock:@bench-b",
                f"Title {index}",
                f"How patent {index} reaches your home #IP",
                f"专利 {index} 如何走进千家万户" if index % 2 else "",
            ]
        )
    return out.getvalue()


def seed(url: str) -> None:
    engine = make_engine(url)
    with session_scope(engine) as session:
        for handle in ("@bench-a", "@bench-b"):
            create_account(
                session,
                platform="mock",
                handle=handle,
                credentials=Credentials(access_token="unused"),  # noqa: S106 - the mock ignores it
                secret=SECRET,
                now=NOW,
            )
        for index, zone in enumerate(ZONES):
            create_campaign(
                session,
                data=CampaignInput(name=f"Campaign {index}", timezone=zone),
                default_timezone="UTC",
                now=NOW,
            )
    engine.dispose()


def empty(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        for table in TABLES:
            connection.execute(sa.text(f"DELETE FROM {table}"))  # noqa: S608 - constant names
    engine.dispose()


def check(url: str, rows: int) -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        posts = connection.execute(sa.text("SELECT count(*) FROM posts")).scalar_one()
        deliveries = connection.execute(
            sa.text("SELECT count(*) FROM deliveries WHERE state = 'scheduled'")
        ).scalar_one()
    engine.dispose()
    if (posts, deliveries) != (rows, 2 * rows):
        raise SystemExit(
            f"expected {rows} posts and {2 * rows} deliveries, got {posts}, {deliveries}"
        )


def time_service(url: str, text: str, rows: int) -> tuple[float, float]:
    engine = make_engine(url)
    started, cpu = time.perf_counter(), time.process_time()
    with session_scope(engine) as session:
        import_schedule(session, lines=io.StringIO(text, newline=""), now=NOW)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    engine.dispose()
    return elapsed, cpu


def time_cli(url: str, workdir: Path, *args: str) -> tuple[float, float]:
    env = {**os.environ, "PUBLICIST_DATABASE_URL": url, "PUBLICIST_SECRET_KEY": SECRET}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "publicist", *args],
        cwd=workdir,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


@contextmanager
def database(kind: str, workdir: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    admin = sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"bench_imports_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(kind: str, rows: int, repeat: int) -> list[Result]:
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        text = schedule_csv(rows)
        csv_path = workdir / "schedule.csv"
        csv_path.write_text(text, encoding="utf-8")
        with database(kind, workdir) as url:
            upgrade(url)
            seed(url)
            service = Result(kind, "service", rows, [], [])
            cli = Result(kind, "cli", rows, [], [])
            startup = Result(kind, "startup", 0, [], [])
            for _ in range(repeat):
                plan: list[tuple[Result, Callable[[], tuple[float, float]]]] = [
                    (service, functools.partial(time_service, url, text, rows)),
                    (
                        cli,
                        functools.partial(
                            time_cli, url, workdir, "schedule", "import", str(csv_path)
                        ),
                    ),
                    (startup, functools.partial(time_cli, url, workdir, "--help")),
                ]
                for result, measure in plan:
                    wall, cpu = measure()
                    if result.rows:
                        check(url, rows)
                        empty(url)
                    result.seconds.append(wall)
                    result.cpu_seconds.append(cpu)
            return [service, cli, startup]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"host: {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    results: list[Result] = []
    for kind in args.engines.split(","):
        for result in run(kind.strip(), args.rows, args.repeat):
            results.append(result)
            runs = ", ".join(f"{s:.2f}" for s in result.seconds)
            print(
                f"{result.engine:8} {result.path:8} {result.rows:6} rows: "
                f"median {result.median:.2f} s wall (best {min(result.seconds):.2f}; {runs}), "
                f"{result.median_cpu:.2f} s CPU"
            )
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    if args.json:
        args.json.write_text(
            json.dumps(
                [{**asdict(r), "median": r.median, "median_cpu": r.median_cpu} for r in results],
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
