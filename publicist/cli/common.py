"""What every command shares: settings, the database session, consistent errors and output."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

from rich.console import Console
from sqlalchemy.orm import Session

from publicist.core.clock import system_clock
from publicist.core.database import session_scope
from publicist.core.ids import parse_id
from publicist.core.migrate import ensure_schema
from publicist.core.settings import Settings, get_settings

console = Console()
err_console = Console(stderr=True)

EXIT_BAD_INPUT = 2


@contextmanager
def database() -> Iterator[Session]:
    """A unit of work on the configured database, creating the schema on first use."""
    settings = get_settings()
    if ensure_schema(settings.database_url):
        err_console.print(f"[dim]created the database schema at {_safe(settings.database_url)}[/]")
    with session_scope() as session:
        yield session


def settings() -> Settings:
    return get_settings()


def now() -> datetime:
    return system_clock.now()


def local(moment: datetime | None, zone: str) -> str:
    if moment is None:
        return "-"
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S %Z")


def parse_post_id(text: str) -> int:
    """Typer parser of a post id argument (click's ``int`` takes "١" as 1, "1_0" as 10)."""
    return parse_id(text, field="post")


def parse_token_id(text: str) -> int:
    """Typer parser of a token id argument."""
    return parse_id(text, field="token")


def fail(message: str) -> None:
    err_console.print(
        f"[bold red]error:[/] {message}", highlight=False, markup=True, soft_wrap=True
    )
    sys.exit(EXIT_BAD_INPUT)


def _safe(url: str) -> str:
    """A database URL without its password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in credentials else url
    return url
