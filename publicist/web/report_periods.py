"""The Reports page's period presets and its choices read from a query string."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from publicist.core.errors import InvalidInput

PRESETS = ("this-month", "last-quarter", "this-year")


def preset_period(name: str, *, today: date) -> tuple[date, date]:
    """``this-month`` (to today), the last whole calendar quarter, or ``this-year`` (to today)."""
    if name == "this-month":
        return today.replace(day=1), today
    if name == "this-year":
        return today.replace(month=1, day=1), today
    if name == "last-quarter":
        first_of_this = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        end = first_of_this - timedelta(days=1)
        return date(end.year, end.month - 2, 1), end
    raise InvalidInput("preset", name, f"must be one of {', '.join(PRESETS)}")


def local_today(now: datetime, zone: str) -> date:
    return now.astimezone(ZoneInfo(zone)).date()


@dataclass(frozen=True)
class ReportChoice:
    """What the person asked for; ``None`` where nothing was chosen yet."""

    start: date | None
    end: date | None
    campaign_id: int | None
    account_id: int | None
    language: str
    format: str

    @property
    def complete(self) -> bool:
        return self.start is not None and self.end is not None


def parse_day(field: str, text: str | None) -> date | None:
    """``YYYY-MM-DD`` or nothing; anything else names the field and the value."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(field, text, "must be a date, YYYY-MM-DD") from exc


def parse_choice_id(field: str, text: str | None) -> int | None:
    if not text:
        return None
    if not text.isdigit() or len(text) > 12:
        raise InvalidInput(field, text, "must be chosen from the list")
    return int(text)
