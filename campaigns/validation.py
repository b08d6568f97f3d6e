"""Checks made before anything is written: time zones, publish times, content per platform."""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from connectors import registry
from connectors.base import Capabilities, Connector, Content
from connectors.errors import Violation
from publicist.core.errors import InvalidInput
from publicist.core.zones import is_canonical_zone

MAX_RATE_LIMIT_REQUESTS = 1_000_000
"""Bounds of an account's own publishing quota: beyond them it is a typo, not a policy."""
MAX_RATE_LIMIT_SECONDS = 365 * 24 * 3600


def parse_timezone(name: str, *, field: str = "timezone") -> ZoneInfo:
    """A zone from IANA's list (see :mod:`publicist.core.zones`), never a host-only file."""
    if not is_canonical_zone(name):
        raise InvalidInput(field, name, "is not an IANA time zone name (e.g. Asia/Shanghai)")
    return ZoneInfo(name)


def parse_publish_time(
    value: str | datetime, *, zone: ZoneInfo | None, field: str = "at"
) -> datetime:
    """An aware UTC datetime; a naive value is read in ``zone`` and refused if there is none.

    A local time the clocks skip (spring forward) is refused with the last minute before the
    gap and the first after it; one they pass twice (fall back) is refused unless the value
    carries its offset, naming both choices. Nothing is shifted or picked silently.
    """
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
        if isinstance(moment.tzinfo, ZoneInfo):
            _refuse_gap_or_overlap(moment, moment.tzinfo, value=str(value), field=field)
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise InvalidInput(
            field, str(value), "is outside the range of dates that can be stored"
        ) from None


def _refuse_gap_or_overlap(moment: datetime, zone: ZoneInfo, *, value: str, field: str) -> None:
    """Raise if the wall time ``moment`` does not exist in ``zone`` or exists twice."""
    earlier = moment.replace(fold=0)
    later = moment.replace(fold=1)
    if earlier.utcoffset() == later.utcoffset():
        return
    wall = moment.replace(tzinfo=None, fold=0)
    if earlier.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall:
        raise InvalidInput(
            field,
            value,
            f"happens twice in {zone.key} (the clocks go back): add the offset of the one "
            f"you mean, {_choice(earlier)} or {_choice(later)}",
        )
    change = _transition(earlier.astimezone(UTC), later.astimezone(UTC), zone)
    before = (change - timedelta(seconds=1)).astimezone(zone).replace(second=0, microsecond=0)
    after = change.astimezone(zone)
    raise InvalidInput(
        field,
        value,
        f"does not exist in {zone.key} (the clocks skip from {before + timedelta(minutes=1):%H:%M}"
        f" to {after:%H:%M}): use {_choice(before)} or {_choice(after)}",
    )


def _transition(first: datetime, second: datetime, zone: ZoneInfo) -> datetime:
    """The UTC second between ``first`` and ``second`` at which ``zone``'s offset changes."""
    low, high = sorted((math.floor(first.timestamp()), math.ceil(second.timestamp())))
    before = datetime.fromtimestamp(low, UTC).astimezone(zone).utcoffset()
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, UTC).astimezone(zone).utcoffset() == before:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)


def _choice(moment: datetime) -> str:
    """A resolved local time as one can type it back, with its offset and abbreviation."""
    return f"{moment:%Y-%m-%d %H:%M}{_offset(moment)} ({moment.tzname()})"


def _offset(moment: datetime) -> str:
    offset = moment.strftime("%z")
    return f"{offset[:3]}:{offset[3:5]}" if offset else ""


def describe_time(moment: datetime, zone: ZoneInfo) -> str:
    """How a resolved publish time is shown back: local time, offset, abbreviation, zone."""
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M}{_offset(local)} ({local.tzname()}, {zone.key})"


def require_future(moment: datetime, *, now: datetime, field: str = "at") -> None:
    if moment <= now:
        raise InvalidInput(field, moment.isoformat(), f"is in the past (now is {now.isoformat()})")


def require_length(value: str | None, limit: int, field: str) -> None:
    """Columns have a size: say so by name rather than let the database refuse the row."""
    if value is not None and len(value) > limit:
        raise InvalidInput(field, value, f"is {len(value)} characters long; the limit is {limit}")


# Letters and symbols that draw nothing although Unicode does not class them as spaces or
# formatting: Hangul fillers, the braille blank, Khmer inherent vowels, the combining
# grapheme joiner, variation selectors, invisible math and musical formatting.
_BLANK_LOOKING = frozenset(
    "\u115f\u1160\u3164\uffa0\u2800\u17b4\u17b5\u034f\u180b\u180c\u180d\u180f"
    "\u2061\u2062\u2063\u2064\U0001d159\U0001d173\U0001d174\U0001d175\U0001d176"
    "\U0001d177\U0001d178\U0001d179\U0001d17a"
)
# Control, format (zero-width space, soft hyphen, word joiner, BOM, bidi marks, tags),
# separators, private use, unassigned, and marks that need a character to sit on.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp", "Mn", "Me"})


def is_visible(char: str) -> bool:
    if (
        char in _BLANK_LOOKING
        or "\ufe00" <= char <= "\ufe0f"
        or "\U000e0100" <= char <= "\U000e01ef"
    ):
        return False
    return unicodedata.category(char) not in _INVISIBLE_CATEGORIES


def require_text(value: str | None, field: str) -> str:
    """``value`` without surrounding white space; refused when nothing in it would show."""
    if value is None or not any(is_visible(char) for char in value):
        raise InvalidInput(field, value or "", "must not be empty (it has no visible character)")
    return value.strip()


def optional_text(value: str | None, field: str) -> str | None:
    """``None`` stays ``None``; given text must show something (a blank variant would
    otherwise replace the base text with nothing)."""
    return None if value is None else require_text(value, field)


_RATE_LIMIT = re.compile(r"([0-9]+)/([0-9]+(?:\.[0-9]+)?)")


def parse_rate_limit(value: str, *, field: str = "rate-limit") -> tuple[int, float]:
    """``REQUESTS/SECONDS`` (e.g. ``30/3600``) as numbers, checked like the API's fields."""
    match = _RATE_LIMIT.fullmatch(value.strip())
    if match is None:
        raise InvalidInput(
            field, value, "must look like REQUESTS/SECONDS with plain digits, e.g. 30/3600"
        )
    if len(match[1]) > 10:  # int() of a huge digit string is slow and the answer is no anyway
        raise InvalidInput(
            field, value, f"asks for more than {MAX_RATE_LIMIT_REQUESTS:,} requests per period"
        )
    requests, seconds = int(match[1]), float(match[2])
    check_rate_limit(requests, seconds, field=field, value=value)
    return requests, seconds


def check_rate_limit(
    requests: int | None, seconds: float | None, *, field: str = "rate_limit", value: object = None
) -> None:
    """An account's own quota: both numbers or neither, each finite, positive and bounded."""
    shown = value if value is not None else f"{requests}/{seconds}"
    if requests is None and seconds is None:
        return
    if requests is None or seconds is None:
        raise InvalidInput(field, shown, "needs both a request count and a period")
    if not 1 <= requests <= MAX_RATE_LIMIT_REQUESTS:
        raise InvalidInput(
            field, shown, f"must allow 1 to {MAX_RATE_LIMIT_REQUESTS:,} requests per period"
        )
    if not math.isfinite(seconds) or not 0 < seconds <= MAX_RATE_LIMIT_SECONDS:
        raise InvalidInput(
            field,
            shown,
            f"must have a period of more than 0 and at most {MAX_RATE_LIMIT_SECONDS:,} "
            "seconds (a year)",
        )


@functools.lru_cache(maxsize=64)
def _connector(platform: str) -> type[Connector]:
    # The registry scans the installed entry points on every call: once per platform is
    # enough (a 10,000-row import checks 20,000 contents).
    return registry.load(platform)


def platform_capabilities(platform: str) -> Capabilities:
    """What ``platform`` accepts (its limits, for the composer's counters)."""
    return _connector(platform).capabilities


def platform_violations(platform: str, content: Content) -> list[Violation]:
    """Every rule of ``platform`` that ``content`` breaks (the composer shows them as one
    types; :func:`check_content` refuses them when a post is written)."""
    return _connector(platform).validate(content)


def check_content(platform: str, content: Content, *, field_prefix: str = "") -> None:
    """Raise on the first platform whose rules ``content`` breaks, listing every violation."""
    violations = platform_violations(platform, content)
    if violations:
        details = "; ".join(f"{field_prefix}{v.field}: {v.value} {v.rule}" for v in violations)
        first = violations[0]
        raise InvalidInput(
            f"{field_prefix}{first.field}[{platform}]",
            first.value,
            f"{first.rule}" + (f" (all problems: {details})" if len(violations) > 1 else ""),
        )
