"""Private Redis and PostgreSQL servers on free ports, so a test may stop and restart them.

The shared servers on 6379 and 5432 belong to every test run on the machine; a fault test
that takes its database or broker away must only ever do that to its own.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa

START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivateRedis:
    """``redis-server`` without persistence: a restart loses every queued message."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        self._binary = binary
        self._workdir = workdir
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._starts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self._starts += 1
        log = self._workdir / f"redis-{self._starts}.log"
        with log.open("wb") as output:
            self._process = subprocess.Popen(
                [
                    self._binary,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--daemonize",
                    "no",
                    "--dir",
                    str(self._workdir),
                ],
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + START_TIMEOUT
        try:
            while True:
                try:
                    if client.ping():
                        return
                except redis.ConnectionError:
                    pass
                if self._process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start:\n{log.read_text()[-2000:]}")
                time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)

    def kill(self) -> None:
        """SIGKILL: no shutdown, every message in memory gone."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=15)

    def restart(self, *, down_seconds: float = 0.0) -> None:
        """Stop, stay away ``down_seconds``, start again on the same port, empty."""
        self.stop()
        time.sleep(down_seconds)
        self.start()


def _postgres_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).resolve().parent if pg_ctl else None


class PrivatePostgres:
    """A throwaway cluster (trust authentication, no fsync) that a test may stop and start."""

    def __init__(self) -> None:
        bindir = _postgres_bindir()
        if bindir is None:
            pytest.skip("PostgreSQL server binaries are not installed")
        self._bindir = bindir
        # Not under pytest's tmp_path: as root the server runs as 'postgres', which must be
        # able to reach its data directory and socket.
        self.root = Path(tempfile.mkdtemp(prefix="publicist-faults-pg-"))
        self._as_owner: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.root, user="postgres")
            self._as_owner = ["runuser", "-u", "postgres", "--"]
        self.port = free_port()
        self._data = self.root / "data"
        self._log = self.root / "server.log"
        self._running = False
        self._run("initdb", "-D", str(self._data), "-U", "postgres", "--auth=trust", "-N")

    def _run(self, tool: str, *args: str) -> None:
        command = [*self._as_owner, str(self._bindir / tool), *args]
        result = subprocess.run(command, capture_output=True, timeout=120, check=False)
        if result.returncode != 0:
            output = (result.stdout + result.stderr).decode(errors="replace")[-2000:]
            raise RuntimeError(f"{tool} failed ({result.returncode}):\n{output}")

    def admin_url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl", "-D", str(self._data), "-o", options, "-l", str(self._log), "-w", "start"
        )
        self._running = True

    def stop(self) -> None:
        """A fast shutdown: every open connection is cut, as when the server goes away."""
        if self._running:
            self._run("pg_ctl", "-D", str(self._data), "-m", "fast", "-w", "stop")
            self._running = False

    def create_database(self, name: str) -> str:
        admin = sa.create_engine(self.admin_url(), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
        return self.admin_url(name)

    def remove(self) -> None:
        try:
            self.stop()
        except RuntimeError:
            # Never leave a server behind on a directory that is about to disappear.
            self._run("pg_ctl", "-D", str(self._data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
