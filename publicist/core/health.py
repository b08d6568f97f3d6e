"""Readiness checks for operators and container health checks: database and broker reachable."""

from __future__ import annotations

import time
from dataclasses import dataclass

from kombu import Connection
from sqlalchemy import text

from publicist.core.database import get_engine
from publicist.core.settings import Settings


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    seconds: float


def _timed(name: str, probe: object) -> Check:
    started = time.perf_counter()
    try:
        detail = probe()  # type: ignore[operator]
        return Check(name, True, str(detail), time.perf_counter() - started)
    except Exception as exc:  # a health check reports every failure, it never raises
        return Check(name, False, f"{type(exc).__name__}: {exc}", time.perf_counter() - started)


def check_all(settings: Settings) -> list[Check]:
    def database() -> str:
        with get_engine(settings.database_url).connect() as connection:
            connection.execute(text("SELECT 1"))
        return "reachable"

    def broker() -> str:
        with Connection(settings.broker_url, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1, timeout=3)
        return "reachable"

    return [_timed("database", database), _timed("broker", broker)]
