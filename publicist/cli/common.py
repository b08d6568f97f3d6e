"""What every command shares: settings, the database session, consistent errors and output."""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import NoReturn
from zoneinfo import ZoneInfo

import rich.table
from rich.console import Console, RenderableType
from rich.markup import escape
from rich.style import StyleType
from rich.text import Text
from sqlalchemy.orm import Session

from campaigns.validation import describe_time
from publicist.core.clock import system_clock
from publicist.core.database import session_scope
from publicist.core.errors import InvalidInput
from publicist.core.ids import parse_id
from publicist.core.migrate import ensure_schema
from publicist.core.settings import Settings, get_settings

# No emoji codes: a stored ":flag_cn:" stays what its author typed.
console = Console(emoji=False)
err_console = Console(stderr=True, emoji=False)

EXIT_BAD_INPUT = 2


@contextmanager
def database() -> Iterator[Session]:
    """A unit of work on the configured database, creating the schema on first use."""
    settings = get_settings()
    if ensure_schema(settings.database_url):
        err_console.print(f"[dim]created the database schema at {_safe(settings.database_url)}[/]")
    with session_scope() as session:
        yield session


def id_parser(field: str) -> Callable[[str], int]:
    """A Typer ``parser`` for a row id: one-line error for anything the column cannot hold."""

    def parse(value: str) -> int:
        try:
            return parse_id(value, field=field)
        except InvalidInput as error:  # also when the Typer app runs without main()
            fail(str(error))

    return parse


def settings() -> Settings:
    return get_settings()


def now() -> datetime:
    return system_clock.now()


def local(moment: datetime | None, zone: str) -> str:
    if moment is None:
        return "-"
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S %Z")


# Terminal escape sequences (CSI, OSC, DCS/PM/APC strings, two-byte escapes) as wholes, so
# that no parameter bytes are left behind once the ESC itself is gone.
_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"  # CSI ... final byte (7- and 8-bit)
    r"|(?:\x1b[\]P^_X]|[\x90\x98\x9d\x9e\x9f]).*?(?:\x07|\x9c|\x1b\\|$)"  # OSC, DCS... to ST
    r"|\x1b[ -/]*[0-~]?",  # two-byte and nF escapes, or a lone ESC
    re.DOTALL,
)
# Marks that reorder what follows them on screen (Trojan Source, CVE-2021-42574).
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def clean(value: object, *, multiline: bool = False) -> str:
    """``value`` as text that can only print itself: no terminal escape sequences, no C0 or
    C1 control characters and no bidi overrides (line breaks kept only when ``multiline``;
    tabs and other breaks become spaces)."""
    text = _ESCAPE_SEQUENCE.sub("", str(value))
    kept = []
    for char in text:
        if char == "\n" and multiline:
            kept.append(char)
        elif char in "\t\n\r\v\f\x85\u2028\u2029":
            kept.append(" ")
        elif char in _BIDI_CONTROLS or unicodedata.category(char) == "Cc":
            continue
        else:
            kept.append(char)
    return "".join(kept)


def terminal_json(data: object) -> str:
    """JSON that keeps CJK readable but writes C1 controls and bidi overrides as ``\\uXXXX``
    (``json`` escapes only C0), so the same data reaches a program and never drives a
    terminal."""
    text = json.dumps(data, indent=2, ensure_ascii=False)
    return "".join(
        f"\\u{ord(char):04x}"
        if char in _BIDI_CONTROLS or "\x7f" <= char <= "\x9f" or char in "\u2028\u2029"
        else char
        for char in text
    )


def shorten(value: str, width: int) -> str:
    """``value`` cleaned and cut to ``width`` characters (cleaned first, so a cut never
    leaves half an escape sequence behind)."""
    text = clean(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def safe(value: object) -> str:
    """A stored or user-given value to put inside a Rich markup string: cleaned and escaped,
    so ``Spring [/] launch`` prints as written instead of breaking the message."""
    return escape(clean(value))


def cell(value: object, style: str = "") -> Text:
    """A table cell printed literally (never read as markup), optionally styled."""
    return Text(clean(value), style=style)


class Table(rich.table.Table):
    """A Rich table whose string cells are user data: cleaned and never read as markup."""

    def add_row(
        self,
        *renderables: RenderableType | None,
        style: StyleType | None = None,
        end_section: bool = False,
    ) -> None:
        cells = [cell(item) if isinstance(item, str) else item for item in renderables]
        super().add_row(*cells, style=style, end_section=end_section)


def resolved(moment: datetime | None, zone: str) -> str:
    """A publish time as resolved: local time with its offset, abbreviation and zone."""
    return "-" if moment is None else describe_time(moment, ZoneInfo(zone))


def fail(message: str) -> NoReturn:
    """Exit 2 with one line; ``message`` is plain text (markup in it is shown as written)."""
    err_console.print(
        f"[bold red]error:[/] {escape(clean(message, multiline=True))}",
        highlight=False,
        soft_wrap=True,
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
