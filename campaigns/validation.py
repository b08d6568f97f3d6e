"""Checks made before anything is written: time zones, publish times, content per platform."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from connectors import registry
from connectors.base import Content
from publicist.core.errors import InvalidInput


def parse_timezone(name: str, *, field: str = "timezone") -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except Exception:  # ZoneInfo raises assorted errors for odd strings such as '../x'
        raise InvalidInput(
            field, name, "is not an IANA time zone name (e.g. Asia/Shanghai)"
        ) from None


def parse_publish_time(
    value: str | datetime, *, zone: ZoneInfo | None, field: str = "at"
) -> datetime:
    """An aware UTC datetime; a naive value is read in ``zone`` and refused if there is none."""
    if isinstance(value, str):
        text = value.strip()
        try:
            moment = datetime.fromisoformat(text.replace(" ", "T", 1) if " " in text else text)
        except ValueError:
            raise InvalidInput(
                field, value, "is not a date and time (use YYYY-MM-DD HH:MM, optionally +08:00)"
            ) from None
    else:
        moment = value
    if moment.tzinfo is None:
        if zone is None:
            raise InvalidInput(
                field,
                str(value),
                "has no time zone and none applies here; add an offset such as +08:00",
            )
        moment = moment.replace(tzinfo=zone)
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise InvalidInput(
            field, str(value), "is outside the range of dates that can be stored"
        ) from None


def require_future(moment: datetime, *, now: datetime, field: str = "at") -> None:
    if moment <= now:
        raise InvalidInput(field, moment.isoformat(), f"is in the past (now is {now.isoformat()})")


def require_length(value: str | None, limit: int, field: str) -> None:
    """Columns have a size: say so by name rather than let the database refuse the row."""
    if value is not None and len(value) > limit:
        raise InvalidInput(field, value, f"is {len(value)} characters long; the limit is {limit}")


def require_text(value: str | None, field: str) -> str:
    if value is None or not value.strip():
        raise InvalidInput(field, value or "", "must not be empty")
    return value.strip()


def check_content(platform: str, content: Content, *, field_prefix: str = "") -> None:
    """Raise on the first platform whose rules ``content`` breaks, listing every violation."""
    connector = registry.load(platform)
    violations = connector.validate(content)
    if violations:
        details = "; ".join(f"{field_prefix}{v.field}: {v.value} {v.rule}" for v in violations)
        first = violations[0]
        raise InvalidInput(
            f"{field_prefix}{first.field}[{platform}]",
            first.value,
            f"{first.rule}" + (f" (all problems: {details})" if len(violations) > 1 else ""),
        )
